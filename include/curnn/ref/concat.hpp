// Reference column concatenation and its adjoint, the specification of kernels/concat.cu:
//   concat_columns: out[n, :] = [a[n, :], b[n, :]]       a [N, Ca], b [N, Cb], out [N, Ca+Cb]
//   split_columns:  a[n, :] = in[n, 0:Ca]; b[n, :] = in[n, Ca:Ca+Cb]
// split_columns is the gradient of concat_columns (and concat_columns that of split_columns).
// The bidirectional LSTM uses them to join its two directions' outputs, y[t] = [fw_h[t], bw_h[t]],
// and to split dy back. Outputs must not overlap inputs. Tests: tests/concat_test.cpp,
// tests/concat_cuda_test.cpp.
#pragma once

#include <cstdint>

namespace curnn::ref {

template <class T>
void concat_columns(std::int64_t N, std::int64_t Ca, std::int64_t Cb, const T* a /*[N, Ca]*/,
                    const T* b /*[N, Cb]*/, T* out /*[N, Ca + Cb]*/) {
  const std::int64_t C = Ca + Cb;
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t c = 0; c < Ca; ++c) out[n * C + c] = a[n * Ca + c];
    for (std::int64_t c = 0; c < Cb; ++c) out[n * C + Ca + c] = b[n * Cb + c];
  }
}

template <class T>
void split_columns(std::int64_t N, std::int64_t Ca, std::int64_t Cb, const T* in /*[N, Ca + Cb]*/,
                   T* a /*[N, Ca]*/, T* b /*[N, Cb]*/) {
  const std::int64_t C = Ca + Cb;
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t c = 0; c < Ca; ++c) a[n * Ca + c] = in[n * C + c];
    for (std::int64_t c = 0; c < Cb; ++c) b[n * Cb + c] = in[n * C + Ca + c];
  }
}

}  // namespace curnn::ref
