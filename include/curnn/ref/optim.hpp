// CPU reference optimizers: the specification of SGD (dense and sparse rows), TensorFlow's
// clip_by_global_norm and TensorFlow's Adam. Plain loops, templated on T (float and double).
// Kernels: kernels/optim.cu. Ops: include/curnn/ops/optim.hpp. Tests: tests/optim_test.cpp
// (hand-computed cases), tests/optim_cuda_test.cpp (kernels against these loops).
//
// The per-element formulas (sgd_element, adam_element) are shared with the CUDA kernels so that
// both backends evaluate exactly the same expressions.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "curnn/error.hpp"
#include "curnn/math.hpp"

namespace curnn {

// Adam hyperparameters (tf.train.AdamOptimizer defaults, except lr which has none).
struct AdamParams {
  float lr = 0.001f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;  // TensorFlow's "epsilon hat": added to sqrt(v), outside the correction
};

namespace ref {

// ---- per-element formulas, shared with kernels/optim.cu ---------------------------------------

// p - lr * g (tf.train.GradientDescentOptimizer / ApplyGradientDescent).
template <class T>
CURNN_HD T sgd_element(T lr, T g, T p) {
  return p - lr * g;
}

// One Adam step of one element, in TensorFlow's ApplyAdam arithmetic:
//   m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2);  p -= alpha * m / (sqrt(v) + eps)
// with alpha = adam_step_size(...) (the bias-corrected learning rate lr_t).
template <class T>
CURNN_HD void adam_element(T alpha, T one_minus_beta1, T one_minus_beta2, T epsilon, T g, T& p,
                           T& m, T& v) {
  using std::sqrt;
  m += (g - m) * one_minus_beta1;
  v += (g * g - v) * one_minus_beta2;
  p -= alpha * m / (sqrt(v) + epsilon);
}

// lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t) for the 1-based step t, in double. (TensorFlow
// keeps beta^t as float variables multiplied once per step; the powers here are exact doubles.)
inline double adam_step_size(const AdamParams& p, std::int64_t step) {
  const double t = static_cast<double>(step);
  return static_cast<double>(p.lr) * std::sqrt(1.0 - std::pow(static_cast<double>(p.beta2), t)) /
         (1.0 - std::pow(static_cast<double>(p.beta1), t));
}

// ---- SGD ------------------------------------------------------------------------------------

// param[N] -= lr * grad[N]
template <class T>
void sgd_update(T lr, const T* grad /* [N] */, T* param /* [N] */, std::int64_t N) {
  for (std::int64_t i = 0; i < N; ++i) param[i] = sgd_element(lr, grad[i], param[i]);
}

// Sparse-row SGD (an embedding update from IndexedSlices): for every distinct row r in rows,
//   table[r, :] -= lr * s,  s = sum of row_grads[i, :] over the i with rows[i] == r,
// the sum taken in increasing i (so duplicates are added first, then applied once). Rows
// outside [0, V) are an ArgumentError.
// The message of rows[i] = r outside [0, V) (the CUDA path reports the same text).
inline std::string row_id_message(std::int64_t i, std::int32_t r, std::int64_t V) {
  std::ostringstream s;
  s << "rows[" << i << "] = " << r << " outside [0, " << V << ")";
  return s.str();
}

template <class T>
void sgd_update_rows(T lr, const std::int32_t* rows /* [N] */, const T* row_grads /* [N, E] */,
                     T* table /* [V, E] */, std::int64_t N, std::int64_t E, std::int64_t V) {
  for (std::int64_t i = 0; i < N; ++i) {
    CURNN_CHECK_ARG(rows[i] >= 0 && rows[i] < V, row_id_message(i, rows[i], V));
  }
  std::vector<T> sum(static_cast<std::size_t>(E));
  std::vector<bool> done(static_cast<std::size_t>(N), false);
  for (std::int64_t i = 0; i < N; ++i) {
    if (done[i]) continue;
    const std::int32_t r = rows[i];
    for (std::int64_t e = 0; e < E; ++e) sum[e] = row_grads[i * E + e];
    for (std::int64_t j = i + 1; j < N; ++j) {
      if (rows[j] != r) continue;
      done[j] = true;
      for (std::int64_t e = 0; e < E; ++e) sum[e] += row_grads[j * E + e];
    }
    for (std::int64_t e = 0; e < E; ++e)
      table[r * E + e] = sgd_element(lr, sum[e], table[r * E + e]);
  }
}

// ---- clipping -------------------------------------------------------------------------------

// The scale of tf.clip_by_global_norm: clip_norm / max(norm, clip_norm); exactly 1 when
// norm <= clip_norm, and NaN when the norm is NaN or infinite (TensorFlow then returns
// NaN-filled tensors, and so do we). TensorFlow writes it clip_norm * min(1/norm, 1/clip_norm),
// which is the same number up to one rounding.
CURNN_HD double clip_scale(double norm, double clip_norm) {
  using std::isfinite;
  if (!isfinite(norm)) return std::numeric_limits<double>::quiet_NaN();
  return clip_norm / (norm > clip_norm ? norm : clip_norm);
}

// The global norm sqrt(sum_k sum_i tensors[k][i]^2), summed in double in this order.
template <class T>
double global_norm(const T* const* tensors, const std::int64_t* sizes, int count) {
  double sum = 0.0;
  for (int k = 0; k < count; ++k) {
    for (std::int64_t i = 0; i < sizes[k]; ++i) {
      const double x = static_cast<double>(tensors[k][i]);
      sum += x * x;
    }
  }
  return std::sqrt(sum);
}

// t[N] = t * scale, in double.
template <class T>
void scale_by(T* t /* [N] */, std::int64_t N, double scale) {
  for (std::int64_t i = 0; i < N; ++i) t[i] = static_cast<T>(static_cast<double>(t[i]) * scale);
}

// tf.clip_by_global_norm(t_list, clip_norm) in place over `count` tensors tensors[k] of
// sizes[k] elements: norm = sqrt(sum_k sum_i tensors[k][i]^2) accumulated in double; every
// element is multiplied by clip_scale(norm, clip_norm). Returns the global norm.
template <class T>
double clip_by_global_norm(T* const* tensors, const std::int64_t* sizes, int count, T clip_norm) {
  const double norm = global_norm<T>(tensors, sizes, count);
  const double scale = clip_scale(norm, static_cast<double>(clip_norm));
  if (scale == 1.0) return norm;  // t * 1 == t: nothing to write
  for (int k = 0; k < count; ++k) scale_by<T>(tensors[k], sizes[k], scale);
  return norm;
}

// ---- Adam -----------------------------------------------------------------------------------

// One step of tf.train.AdamOptimizer on param/m/v [N] with gradient [N], given the step size
// alpha = lr_t (static_cast<T>(adam_step_size(params, t)) for the 1-based step t).
template <class T>
void adam_update_with_step_size(const AdamParams& params, T alpha, const T* grad /* [N] */,
                                T* param /* [N] */, T* m /* [N] */, T* v /* [N] */,
                                std::int64_t N) {
  const T omb1 = T(1) - static_cast<T>(params.beta1), omb2 = T(1) - static_cast<T>(params.beta2);
  const T eps = static_cast<T>(params.epsilon);
  for (std::int64_t i = 0; i < N; ++i)
    adam_element(alpha, omb1, omb2, eps, grad[i], param[i], m[i], v[i]);
}

// One step (1-based `step` = t) of tf.train.AdamOptimizer on param/m/v [N] with gradient [N].
template <class T>
void adam_update(const AdamParams& params, std::int64_t step, const T* grad /* [N] */,
                 T* param /* [N] */, T* m /* [N] */, T* v /* [N] */, std::int64_t N) {
  adam_update_with_step_size(params, static_cast<T>(adam_step_size(params, step)), grad, param, m,
                             v, N);
}

}  // namespace ref
}  // namespace curnn
