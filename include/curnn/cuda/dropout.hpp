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

}  // namespace curnn::cuda
