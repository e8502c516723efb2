// CUDA launchers of the column concatenation and split (kernels/concat.cu). Float32, raw device
// pointers, row-major, queued on `stream`. Semantics: include/curnn/ref/concat.hpp.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace curnn::cuda {

// out [N, Ca+Cb] = [a [N, Ca], b [N, Cb]] row by row.
void concat_columns(std::int64_t N, std::int64_t Ca, std::int64_t Cb, const float* a,
                    const float* b, float* out, cudaStream_t stream);

// a [N, Ca] = in[:, 0:Ca]; b [N, Cb] = in[:, Ca:Ca+Cb].
void split_columns(std::int64_t N, std::int64_t Ca, std::int64_t Cb, const float* in, float* a,
                   float* b, cudaStream_t stream);

}  // namespace curnn::cuda
