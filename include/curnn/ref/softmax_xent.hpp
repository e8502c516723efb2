// CPU reference (the specification) of the softmax cross-entropy family: fused softmax
// cross-entropy with its logits gradient, row argmax, and the count of correct predictions.
//
// For each row n of logits x [N, V] with target t = targets[n]:
//   m        = max_v x[v]
//   s        = sum_v exp(x[v] - m)
//   p[v]     = exp(x[v] - m) / s                              (softmax, the optional probs)
//   loss[n]  = -log p[t] = (m - x[t]) + log(s)
//   dlogits  = grad_scale * (p - onehot(t))          = grad_scale * d loss[n] / d x  (optional)
// The CUDA version is kernels/softmax_xent.cu; tests in tests/softmax_xent_test.cpp (gradient
// checks, semantics) and tests/softmax_xent_cuda_test.cpp (kernels against this reference).
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include "curnn/error.hpp"
#include "curnn/math.hpp"

namespace curnn::ref {

// The order argmax uses, shared with the CUDA kernels: is (a, ia) a better maximum than (b, ib)?
// Larger values win; NaN beats every number (numpy's argmax returns the first NaN); equal
// values (or two NaNs) go to the lower index. A strict total order on (value, index) pairs, so
// any reduction order gives the same winner.
template <class T>
CURNN_HD bool argmax_better(T a, int ia, T b, int ib) {
  const bool a_nan = a != a, b_nan = b != b;
  if (a_nan || b_nan) return a_nan && (!b_nan || ia < ib);
  return a > b || (a == b && ia < ib);
}

// The message of ids[n] = id outside [0, V) (the CUDA path reports the same text).
inline std::string class_id_message(const char* what, std::int64_t n, std::int32_t id,
                                    std::int64_t V) {
  std::ostringstream s;
  s << what << "[" << n << "] = " << id << " is not a class id in [0, " << V << ")";
  return s.str();
}

// Every id in [0, V), or ArgumentError naming the first that is not.
inline void check_class_ids(int N, int V, const std::int32_t* ids /*[N]*/, const char* what) {
  for (int n = 0; n < N; ++n) {
    CURNN_CHECK_ARG(0 <= ids[n] && ids[n] < V, class_id_message(what, n, ids[n], V));
  }
}

// loss [N]; dlogits [N, V] or nullptr (may be the logits themselves: in place); probs [N, V] or
// nullptr (must not overlap logits or dlogits). Throws ArgumentError, before writing anything,
// when a target is outside [0, V).
template <class T>
void softmax_xent(int N, int V, const T* logits /*[N, V]*/, const std::int32_t* targets /*[N]*/,
                  T* loss /*[N]*/, T* dlogits /*[N, V] or nullptr*/, T grad_scale,
                  T* probs /*[N, V] or nullptr*/ = nullptr) {
  using std::exp;
  using std::log;
  CURNN_CHECK_ARG(N >= 0 && V >= 1, "softmax_xent over [" << N << ", " << V << "]");
  check_class_ids(N, V, targets, "targets");
  for (int n = 0; n < N; ++n) {
    const T* x = logits + static_cast<std::int64_t>(n) * V;  // [V]
    const int t = targets[n];
    T m = x[0];
    for (int v = 1; v < V; ++v) m = x[v] > m ? x[v] : m;
    const T x_t = x[t];  // read before d (which may alias x) is written
    T* d = dlogits ? dlogits + static_cast<std::int64_t>(n) * V : nullptr;  // [V]
    T* p = probs ? probs + static_cast<std::int64_t>(n) * V : nullptr;      // [V]
    // One exp per element: e[v] = exp(x[v] - m) is kept in an output row (p, else d) for the
    // normalisation pass; without outputs only the sum is needed.
    T* e = p ? p : d;
    T s = 0;
    for (int v = 0; v < V; ++v) {
      const T ev = exp(x[v] - m);
      if (e) e[v] = ev;
      s += ev;
    }
    loss[n] = (m - x_t) + log(s);
    if (!e) continue;
    for (int v = 0; v < V; ++v) {
      const T pv = e[v] / s;
      if (p) p[v] = pv;
      if (d) d[v] = grad_scale * (pv - (v == t ? T(1) : T(0)));
    }
  }
}

// out[n] = argmax_c x[n, c], ties to the lowest index, NaN first (argmax_better).
template <class T>
void argmax_rows(int N, int C, const T* x /*[N, C]*/, std::int32_t* out /*[N]*/) {
  CURNN_CHECK_ARG(N >= 0 && C >= 1, "argmax_rows over [" << N << ", " << C << "]");
  for (int n = 0; n < N; ++n) {
    const T* row = x + static_cast<std::int64_t>(n) * C;  // [C]
    int best = 0;
    for (int c = 1; c < C; ++c) {
      if (argmax_better(row[c], c, row[best], best)) best = c;
    }
    out[n] = best;
  }
}

// The number of rows whose argmax equals the label. Throws ArgumentError when a label is outside
// [0, C).
template <class T>
std::int64_t count_correct(int N, int C, const T* logits /*[N, C]*/,
                           const std::int32_t* labels /*[N]*/) {
  check_class_ids(N, C, labels, "labels");
  std::int64_t correct = 0;
  for (int n = 0; n < N; ++n) {
    std::int32_t predicted = 0;
    argmax_rows(1, C, logits + static_cast<std::int64_t>(n) * C, &predicted);
    correct += predicted == labels[n];
  }
  return correct;
}

}  // namespace curnn::ref
