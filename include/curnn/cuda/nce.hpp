// CUDA launchers of the NCE loss (kernels/nce.cu); semantics in curnn/ref/nce.hpp.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace curnn::cuda {

// The largest embedding size E the kernels take (each lane keeps E/32 dx accumulators).
constexpr int kNceMaxEmbedding = 1024;

// Workspace the backward needs: the [B, S] sampled-logit gradients.
std::size_t nce_loss_workspace_bytes(int B, int S);

// Forward only when dx == nullptr (the other gradient pointers and workspace must then be
// nullptr too); otherwise all gradient outputs are written and `workspace` holds
// nce_loss_workspace_bytes(B, S) bytes. Deterministic: fixed-order reductions, no atomics.
// An id outside [0, V) is never dereferenced: it makes the affected logits NaN, and lowers
// bad_label / bad_sampled (Context::id_error_slot device words, or nullptr) to
// (i << 32 | uint32(id)) of the lowest such position i of labels / sampled.
void nce_loss(int B, int E, int S, int V,
              const float* x,               // [B, E]
              const float* weights,         // [V, E]
              const float* biases,          // [V]
              const std::int32_t* labels,   // [B]
              const std::int32_t* sampled,  // [S]
              const float* log_q_true,      // [B]
              const float* log_q_sampled,   // [S]
              float* loss,                  // [B]
              float grad_scale,             //
              float* dx,                    // [B, E] or nullptr
              float* dw_true,               // [B, E]
              float* db_true,               // [B]
              float* dw_sampled,            // [S, E]
              float* db_sampled,            // [S]
              void* workspace,              // nce_loss_workspace_bytes(B, S)
              unsigned long long* bad_label, unsigned long long* bad_sampled, cudaStream_t stream);

}  // namespace curnn::cuda
