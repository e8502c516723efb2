// CUDA launcher of the dropout-mask kernel (kernels/dropout.cu). Reference:
// include/curnn/ref/dropout.hpp; op: include/curnn/ops/dropout.hpp.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace curnn::cuda {

// mask[N] (device) = 1/keep_prob where a Philox4_32_10 uniform u in (0, 1] is < keep_prob, else
// 0; keep_prob in (0, 1] (1 keeps everything). Element i uses the 4 numbers of Philox
// (key = seed, subsequence = i / 4, position 4 * offset): a function of (seed, offset) alone,
// independent of the launch configuration and of the pointer's alignment. offset < 2^62.
void dropout_mask(std::uint64_t seed, std::uint64_t offset, float keep_prob, float* mask,
                  std::int64_t N, cudaStream_t stream);
// The same with the offset offset_device[0] + offset_add, read from device memory by the kernel
// (a captured CUDA Graph replays it with the value there at each replay); the caller keeps
// offset_device[0] + offset_add < 2^62.
void dropout_mask(std::uint64_t seed, const std::uint64_t* offset_device, std::uint64_t offset_add,
                  float keep_prob, float* mask, std::int64_t N, cudaStream_t stream);

}  // namespace curnn::cuda
