// CUDA launchers of the reductions and elementwise utilities (kernels/reduce.cu). Float32, raw
// device pointers, queued on `stream`. Semantics: include/curnn/ref/reduce.hpp.
// The reductions are deterministic: a fixed partition that depends only on the sizes, block
// partials in a fixed order, then one final pass; no atomics. Scratch comes from the caller
// (`workspace`, device memory of at least the *_workspace_bytes size, 16-byte aligned).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace curnn::cuda {

// x [N, C] -> out [C]; out = column sums, or out += them with accumulate.
std::size_t column_sum_workspace_bytes(int N, int C);
void column_sum(int N, int C, const float* x, float* out, bool accumulate, void* workspace,
                cudaStream_t stream);

// x [N] -> out [1] (device memory): the sum, or the sum of squares; out += it with accumulate.
std::size_t sum_workspace_bytes(std::int64_t N);
void sum(std::int64_t N, const float* x, float* out, bool accumulate, void* workspace,
         cudaStream_t stream);
void sum_squares(std::int64_t N, const float* x, float* out, bool accumulate, void* workspace,
                 cudaStream_t stream);

// Elementwise over N elements (in-place and aliasing as the ref allows).
void fill(std::int64_t N, float* x, float value, cudaStream_t stream);
void scale(std::int64_t N, float* x, float alpha, cudaStream_t stream);
void axpy(std::int64_t N, float alpha, const float* x, float* y, cudaStream_t stream);
void mul(std::int64_t N, const float* a, const float* b, float* out, cudaStream_t stream);

// x [N, C] += v [C] on every row.
void add_row_vector(int N, int C, const float* v, float* x, cudaStream_t stream);

// True when x [N] holds no NaN or Inf. Synchronizes `stream` (the result goes to the host).
std::size_t all_finite_workspace_bytes(std::int64_t N);
bool all_finite(std::int64_t N, const float* x, void* workspace, cudaStream_t stream);

}  // namespace curnn::cuda
