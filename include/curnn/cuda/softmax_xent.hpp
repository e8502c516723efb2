// CUDA launchers of the softmax cross-entropy family (float32, device pointers, on `stream`).
// Semantics: include/curnn/ref/softmax_xent.hpp; kernels: kernels/softmax_xent.cu.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace curnn::cuda {

// Per-row loss [N] = -log softmax(logits)[target]; when dlogits is not null,
// dlogits [N, V] = grad_scale * (softmax - onehot(target)), which may be logits itself (in
// place); when probs is not null, probs [N, V] = softmax (must not overlap logits or dlogits).
// A target outside [0, V) gives its row loss NaN, dlogits = grad_scale * softmax (no one-hot
// term) and probs as usual, no memory outside the rows is read or written, and `bad_id` (a
// Context::id_error_slot device word, or nullptr) is lowered to (n << 32 | uint32(targets[n]))
// of the lowest such row n.
void softmax_xent(int N, int V, const float* logits /*[N, V]*/, const std::int32_t* targets /*[N]*/,
                  float* loss /*[N]*/, float* dlogits /*[N, V] or nullptr*/, float grad_scale,
                  float* probs /*[N, V] or nullptr*/, unsigned long long* bad_id,
                  cudaStream_t stream);

// out [N] = argmax over each row of x [N, C]; ties to the lowest index, NaN first.
void argmax_rows(int N, int C, const float* x /*[N, C]*/, std::int32_t* out /*[N]*/,
                 cudaStream_t stream);

// *count (device memory, set, not added to) = the number of rows whose argmax equals the label.
// A label outside [0, C) counts as wrong and lowers `bad_id` (or nullptr) as above.
void count_correct(int N, int C, const float* logits /*[N, C]*/, const std::int32_t* labels /*[N]*/,
                   unsigned long long* count /*[1]*/, unsigned long long* bad_id,
                   cudaStream_t stream);

}  // namespace curnn::cuda
