// CUDA launchers of the embedding lookup and its gradient (kernels/embedding.cu); the contract
// is ref::embedding_gather / ref::embedding_scatter_add (curnn/ref/embedding.hpp), except for
// ids outside [0, V): the kernels lower `bad_id` (a Context::id_error_slot device word, or
// nullptr) to (n << 32 | uint32(ids[n])) of the lowest such position n, and never touch memory
// out of bounds for them: gather writes a zero row, scatter-add skips them.
// Float32, raw device pointers, row-major. Included only when CURNN_HAVE_CUDA.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace curnn::cuda {

void embedding_gather(int N, int V, int E,
                      const std::int32_t* ids,  // [N]
                      const float* table,       // [V, E]
                      float* out,               // [N, E]
                      unsigned long long* bad_id, cudaStream_t stream);

// Scratch bytes embedding_scatter_add_sorted needs for N ids over a vocabulary of V.
std::size_t embedding_scatter_add_workspace_bytes(int N, int V);

// Deterministic: sorts (id, position) pairs by id (stable radix sort), then one warp per run of
// equal ids adds that run's dout rows into dtable in position order. No atomics; the result is
// bitwise identical to ref::embedding_scatter_add<float>. `workspace` is device memory of at
// least embedding_scatter_add_workspace_bytes(N, V) bytes, used only on `stream`.
void embedding_scatter_add_sorted(int N, int V, int E,
                                  const std::int32_t* ids,  // [N]
                                  const float* dout,        // [N, E]
                                  float* dtable,            // [V, E], added to
                                  void* workspace, std::size_t workspace_bytes,
                                  unsigned long long* bad_id, cudaStream_t stream);

// Non-deterministic: one warp per position, float atomicAdd into dtable (the order of the sums
// of repeated ids varies run to run).
void embedding_scatter_add_atomic(int N, int V, int E,
                                  const std::int32_t* ids,  // [N]
                                  const float* dout,        // [N, E]
                                  float* dtable,            // [V, E], added to
                                  unsigned long long* bad_id, cudaStream_t stream);

}  // namespace curnn::cuda
