// Column concatenation and its adjoint (the bidirectional LSTM's join of its two directions):
//
//   concat_columns  out[n, :] = [a[n, :], b[n, :]]     a [N, Ca], b [N, Cb], out [N, Ca+Cb]
//   split_columns   a[n, :] = in[n, :Ca], b[n, :] = in[n, Ca:]
//
// One version each: a grid-stride loop over the N*(Ca+Cb) elements of the wide side; thread i
// handles element (n, c) = (i / C, i % C), so consecutive threads touch consecutive addresses of
// the wide array and of a or b (coalesced except at the seam of each row). Pure copies: the
// results equal the reference bit for bit. Memory-bound; at the BiLSTM's shapes ([28*128, 256]
// each side) it moves 7 MB, a few microseconds on an H100.
// Reference: include/curnn/ref/concat.hpp. Tests: tests/concat_cuda_test.cpp.
#include <cstdint>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/concat.hpp"

namespace curnn::cuda {
namespace {

constexpr int kThreads = 256;

// kSplit false: wide = out, written from a and b; kSplit true: wide = in, read into a and b.
template <bool kSplit>
__global__ void __launch_bounds__(kThreads)
    concat_split_kernel(std::int64_t N, std::int64_t Ca, std::int64_t Cb,
                        float* __restrict__ wide,  // [N, Ca+Cb]
                        float* __restrict__ a,     // [N, Ca]
                        float* __restrict__ b) {   // [N, Cb]
  const std::int64_t C = Ca + Cb, total = N * C;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const std::int64_t n = i / C, c = i - n * C;
    float* narrow = c < Ca ? a + n * Ca + c : b + n * Cb + (c - Ca);
    if (kSplit) {
      *narrow = wide[i];
    } else {
      wide[i] = *narrow;
    }
  }
}

template <bool kSplit>
void launch(const char* op, std::int64_t N, std::int64_t Ca, std::int64_t Cb, float* wide, float* a,
            float* b, cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0 && Ca >= 1 && Cb >= 1,
                  op << ": bad sizes N=" << N << " Ca=" << Ca << " Cb=" << Cb);
  if (N == 0) return;
  CURNN_CHECK_ARG(wide && a && b, op << ": null pointer");
  concat_split_kernel<kSplit>
      <<<detail::grid_for(N * (Ca + Cb), kThreads), kThreads, 0, stream>>>(N, Ca, Cb, wide, a, b);
  CURNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

void concat_columns(std::int64_t N, std::int64_t Ca, std::int64_t Cb, const float* a,
                    const float* b, float* out, cudaStream_t stream) {
  // The kernel only reads a and b in this instantiation.
  launch<false>("concat_columns", N, Ca, Cb, out, const_cast<float*>(a), const_cast<float*>(b),
                stream);
}

void split_columns(std::int64_t N, std::int64_t Ca, std::int64_t Cb, const float* in, float* a,
                   float* b, cudaStream_t stream) {
  // The kernel only reads `in` in this instantiation.
  launch<true>("split_columns", N, Ca, Cb, const_cast<float*>(in), a, b, stream);
}

}  // namespace curnn::cuda
