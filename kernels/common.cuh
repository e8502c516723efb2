// Device helpers shared by the kernel families: warp and block reductions, grid sizing.
// Reductions here have a fixed order (deterministic for a given launch configuration).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "curnn/math.hpp"

namespace curnn::cuda::detail {

constexpr unsigned kFullMask = 0xffffffffu;

// Sum over the warp (float or double); every lane gets it.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}

// Sums each of N values over the warp in one interleaved shuffle tree (N independent chains in
// flight instead of N trees one after another); every lane gets the sums.
template <int N>
__device__ __forceinline__ void warp_sum_each(float (&v)[N]) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
#pragma unroll
    for (int i = 0; i < N; ++i) v[i] += __shfl_xor_sync(kFullMask, v[i], o);
  }
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
  return v;
}

// Sum over the block (float or double); every thread gets the result. `scratch` holds >= 32
// values in shared memory. blockDim.x must be a multiple of 32. Contains __syncthreads(): call
// from all threads.
template <class T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(0);
  return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

// Reports an id outside its range to the host (Context::id_error_slot): lowers *slot to
// (index << 32 | uint32(id)), so that the lowest index wins whatever the thread order. No-op when
// slot is null (a launcher called without a slot); 0 <= index < 2^32.
__device__ __forceinline__ void report_bad_id(unsigned long long* slot, std::int64_t index,
                                              std::int32_t id) {
  if (slot) {
    atomicMin(slot, (static_cast<unsigned long long>(index) << 32) |
                        static_cast<unsigned long long>(static_cast<std::uint32_t>(id)));
  }
}

// Blocks for a grid-stride loop over n elements, capped so the grid stays resident-sized.
inline unsigned grid_for(std::int64_t n, int threads, unsigned max_blocks = 65535u * 4) {
  std::int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  return static_cast<unsigned>(b < max_blocks ? b : max_blocks);
}

}  // namespace curnn::cuda::detail
