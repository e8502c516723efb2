// Dropout masks: mask[i] = 1/keep_prob if u_i < keep_prob else 0, with u_i uniform on (0, 1]
// from cuRAND's device API, Philox4_32_10 (counter-based, Salmon et al. 2011).
//
// Element i belongs to the group g = i / 4; the group's 4 uniforms are curand_uniform4 of the
// Philox state curand_init(seed, subsequence = g, offset = 4 * offset): Philox counter
// (offset, g), key seed. So a mask depends on (seed, offset, N) only, never on the grid size or
// the pointer's alignment, and distinct offsets use disjoint counters (independent masks).
// curand_uniform returns (0, 1] (1.0 included), so keep_prob == 1 uses an infinite threshold to
// keep everything. There is no reduction: deterministic.
//
// Versions: 128-bit stores of whole groups when the mask is 16-byte aligned, else scalar stores
// (same values). The kernel is write-bound (4 bytes per element); Philox's 10 rounds per group
// are cheap next to that. Reference generator (a different one, mt19937_64):
// include/curnn/ref/dropout.hpp; tests: tests/dropout_test.cpp, tests/dropout_cuda_test.cpp;
// bench/dropout_cuda_bench.cpp.
#include <curand_kernel.h>

#include <cmath>
#include <cstdint>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/dropout.hpp"

namespace curnn::cuda {
namespace {

constexpr int kThreads = 256;

// The mask's offset is offset_device[0] + offset when offset_device is given (the variant a
// captured CUDA Graph replays with a new offset), else offset.
template <bool kVector>
__global__ void __launch_bounds__(kThreads)
    dropout_mask_kernel(std::uint64_t seed, const std::uint64_t* __restrict__ offset_device,
                        std::uint64_t offset_add, float threshold, float kept,
                        float* __restrict__ mask /* [N] */, std::int64_t n) {
  const std::uint64_t offset = offset_device ? *offset_device + offset_add : offset_add;
  const std::int64_t groups = (n + 3) / 4;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t g = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       g < groups; g += stride) {
    curandStatePhilox4_32_10_t state;
    curand_init(seed, static_cast<unsigned long long>(g), 4 * offset, &state);
    const float4 u = curand_uniform4(&state);
    const float4 out = make_float4(u.x < threshold ? kept : 0.f, u.y < threshold ? kept : 0.f,
                                   u.z < threshold ? kept : 0.f, u.w < threshold ? kept : 0.f);
    const std::int64_t i = 4 * g;
    if (kVector && i + 4 <= n) {
      *reinterpret_cast<float4*>(mask + i) = out;
    } else {
      const float v[4] = {out.x, out.y, out.z, out.w};
      for (int k = 0; k < 4 && i + k < n; ++k) mask[i + k] = v[k];
    }
  }
}

}  // namespace

namespace {

void launch_dropout_mask(std::uint64_t seed, const std::uint64_t* offset_device,
                         std::uint64_t offset, float keep_prob, float* mask, std::int64_t N,
                         cudaStream_t stream) {
  CURNN_CHECK_ARG(keep_prob > 0.f && keep_prob <= 1.f, "keep_prob = " << keep_prob);
  CURNN_CHECK_ARG(offset < (std::uint64_t(1) << 62), "offset = " << offset << " >= 2^62");
  CURNN_CHECK_ARG(N >= 0, "N = " << N);
  if (N == 0) return;
  CURNN_CHECK_ARG(mask, "null mask");
  const float threshold = keep_prob < 1.f ? keep_prob : INFINITY;
  const float kept = 1.f / keep_prob;
  const unsigned blocks = detail::grid_for((N + 3) / 4, kThreads);
  if (reinterpret_cast<std::uintptr_t>(mask) % 16 == 0) {
    dropout_mask_kernel<true>
        <<<blocks, kThreads, 0, stream>>>(seed, offset_device, offset, threshold, kept, mask, N);
  } else {
    dropout_mask_kernel<false>
        <<<blocks, kThreads, 0, stream>>>(seed, offset_device, offset, threshold, kept, mask, N);
  }
  CURNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

void dropout_mask(std::uint64_t seed, std::uint64_t offset, float keep_prob, float* mask,
                  std::int64_t N, cudaStream_t stream) {
  launch_dropout_mask(seed, nullptr, offset, keep_prob, mask, N, stream);
}

void dropout_mask(std::uint64_t seed, const std::uint64_t* offset_device, std::uint64_t offset_add,
                  float keep_prob, float* mask, std::int64_t N, cudaStream_t stream) {
  CURNN_CHECK_ARG(offset_device != nullptr, "null offset_device");
  launch_dropout_mask(seed, offset_device, offset_add, keep_prob, mask, N, stream);
}

}  // namespace curnn::cuda
