// Reference reductions and elementwise utilities, the specification of kernels/reduce.cu.
//   column_sum:  out[c] (+)= sum_n x[n, c]           (bias gradients over B*T rows)
//   sum:         out[0] (+)= sum_i x[i]
//   sum_squares: out[0] (+)= sum_i x[i]^2            (global-norm gradient clipping)
//   fill: x[i] = value;  scale: x[i] *= alpha;  axpy: y[i] += alpha * x[i];
//   mul: out[i] = a[i] * b[i];  all_finite: no NaN or Inf in x.
//   add_row_vector: x[n, c] += v[c]                  (the bias of a dense layer)
// The reductions accumulate in double, whatever T, so the CPU backend is at least as accurate as
// the kernels. Tests: tests/reduce_test.cpp (gradient checks, semantics),
// tests/reduce_cuda_test.cpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace curnn::ref {

// x [N, C] -> out [C]; with accumulate, out[c] += the sum, else out[c] = the sum.
// (Each column is summed over n in increasing order; the loops run row by row for memory order.)
// ldx: the distance between x's rows (C unless x is a block of columns of a wider matrix).
template <class T>
void column_sum(int N, int C, const T* x, T* out, bool accumulate, std::int64_t ldx = -1) {
  if (ldx < 0) ldx = C;
  std::vector<double> s(static_cast<std::size_t>(C), 0.0);
  for (int n = 0; n < N; ++n) {
    const T* row = x + static_cast<std::int64_t>(n) * ldx;  // [C]
    for (int col = 0; col < C; ++col) s[col] += static_cast<double>(row[col]);
  }
  for (int col = 0; col < C; ++col) {
    out[col] = static_cast<T>(accumulate ? static_cast<double>(out[col]) + s[col] : s[col]);
  }
}

// x [N] -> out [1].
template <class T>
void sum(std::int64_t N, const T* x, T* out, bool accumulate) {
  double s = 0;
  for (std::int64_t i = 0; i < N; ++i) s += static_cast<double>(x[i]);
  out[0] = static_cast<T>(accumulate ? static_cast<double>(out[0]) + s : s);
}

// x [N] -> out [1] = sum of squares.
template <class T>
void sum_squares(std::int64_t N, const T* x, T* out, bool accumulate) {
  double s = 0;
  for (std::int64_t i = 0; i < N; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  out[0] = static_cast<T>(accumulate ? static_cast<double>(out[0]) + s : s);
}

// x [N] = value.
template <class T>
void fill(std::int64_t N, T* x, T value) {
  for (std::int64_t i = 0; i < N; ++i) x[i] = value;
}

// x [N] *= alpha.
template <class T>
void scale(std::int64_t N, T* x, T alpha) {
  for (std::int64_t i = 0; i < N; ++i) x[i] *= alpha;
}

// y [N] += alpha * x [N].
template <class T>
void axpy(std::int64_t N, T alpha, const T* x, T* y) {
  for (std::int64_t i = 0; i < N; ++i) y[i] += alpha * x[i];
}

// out [N] = a [N] * b [N] (out may be a or b).
template <class T>
void mul(std::int64_t N, const T* a, const T* b, T* out) {
  for (std::int64_t i = 0; i < N; ++i) out[i] = a[i] * b[i];
}

// True when no element of x [N] is NaN or +-Inf.
template <class T>
bool all_finite(std::int64_t N, const T* x) {
  for (std::int64_t i = 0; i < N; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

// x [N, C] += v [C] on every row.
template <class T>
void add_row_vector(int N, int C, const T* v, T* x) {
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) x[static_cast<std::int64_t>(n) * C + c] += v[c];
}

}  // namespace curnn::ref
