// Optimizer ops on a Context: SGD (dense and sparse rows), TensorFlow's clip_by_global_norm and
// TensorFlow's Adam. Math: include/curnn/ref/optim.hpp. Kernels: kernels/optim.cu.
// All updates are in place; updated tensors must not alias the gradients.
#pragma once

#include <cstdint>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/types.hpp"
#include "curnn/ref/optim.hpp"  // AdamParams
#include "curnn/tensor.hpp"

namespace curnn::ops {

// param -= lr * grad; grad has param's shape (any rank).
void sgd_update(Context& ctx, float lr, ConstTensor grad, Tensor param);

// Sparse-row SGD for embeddings: rows [N], row_grads [N, E], table [V, E]:
//   table[r, :] -= lr * (sum of row_grads[i, :] over i with rows[i] == r, in increasing i).
// Deterministic with duplicate rows. Rows outside [0, V) are an ArgumentError naming the first:
// on the CPU before anything is written; on CUDA they are skipped and the context throws at its
// next synchronisation point (Context::id_error_slot).
void sgd_update_rows(Context& ctx, float lr, ConstIds rows, ConstTensor row_grads, Tensor table);

// The same two updates with lr = lr[0] read from memory on ctx's device when the kernel runs (for
// a step captured into a CUDA Graph; on the CPU, read now): bitwise the update with that value.
// The caller keeps it finite (checked here on the CPU only).
void sgd_update(Context& ctx, DeviceScalar<float> lr, ConstTensor grad, Tensor param);
void sgd_update_rows(Context& ctx, DeviceScalar<float> lr, ConstIds rows, ConstTensor row_grads,
                     Tensor table);

// tf.clip_by_global_norm(grads, clip_norm) in place:
//   norm = sqrt(sum over all grads of sum t^2);  t *= clip_norm / max(norm, clip_norm).
// norm_out [1] (on ctx's device) receives the norm. If the norm is NaN or Inf every gradient
// becomes NaN, as in TensorFlow; callers detect it through norm_out. On CUDA the norm is reduced
// on the device in a fixed order (bitwise reproducible) and applied without a host round trip;
// the sum of squares is accumulated in double on both backends. clip_norm > 0. Tensors with
// zero elements (rank >= 1, data may be null) are allowed; an empty list gives norm 0.
void clip_by_global_norm(Context& ctx, const std::vector<Tensor>& grads, float clip_norm,
                         Tensor norm_out);

// One step of tf.train.AdamOptimizer; `step` is t, 1-based (the engine increments it once per
// update of the parameter set). grad, m, v have param's shape; m and v start at zero.
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  param -= lr_t m / (sqrt(v) + eps)
void adam_update(Context& ctx, const AdamParams& params, std::int64_t step, ConstTensor grad,
                 Tensor param, Tensor m, Tensor v);

// The same update with the bias-corrected step size lr_t read from memory on ctx's device when
// the kernel runs (for a step captured into a CUDA Graph; on the CPU, read now): step_size[0] =
// adam_step_size_f32(params, t) gives bitwise the update of adam_update(ctx, params, t, ...).
// Adam's step counter thus lives in device memory as the step size it determines (computed on
// the host in double, as the variant above does, so both give the same bits).
void adam_update(Context& ctx, const AdamParams& params, DeviceScalar<float> step_size,
                 ConstTensor grad, Tensor param, Tensor m, Tensor v);
// lr_t for the 1-based step t, as the float the updates use.
inline float adam_step_size_f32(const AdamParams& params, std::int64_t step) {
  return static_cast<float>(ref::adam_step_size(params, step));
}

}  // namespace curnn::ops
