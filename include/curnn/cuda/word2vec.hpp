// CUDA launchers of the word2vec family (kernels/word2vec.cu). Float32, raw device pointers.
// Semantics: ref::sgns_step (curnn/ref/word2vec.hpp), with Hogwild parallelism across items.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace curnn::cuda {

// The largest embedding width sgns_step keeps in registers (16 floats per lane).
inline constexpr int kSgnsMaxEmbedding = 512;

// One word2vec negative-sampling SGD step over N work items, one warp per item, items in
// parallel without locks (Hogwild, as word2vec.c's threads): the result equals
// ref::sgns_step's sequential one (up to float rounding of the dot products) when no two items
// touch the same syn0 or syn1neg row; otherwise concurrent updates of a row may interleave or
// be lost. Within an item everything is sequential as in the reference, repeated rows included.
// Ids must lie in [0, V) and input_count[n] in [0, C]: an item with a bad one is skipped (its
// loss NaN) and lowers `bad_id` (a Context::id_error_slot device word, or nullptr) to
// (index << 32 | uint32(value)) of the reference's first failing check, index = n * (C + K + 2)
// + j with j = 0 (input_count), 1..C (input_ids[n, j - 1]), C + 1 (target_ids[n]), C + 2..
// (negative_ids[n, j - C - 2]); N * (C + K + 2) <= 2^32 - 1.
// 1 <= E <= kSgnsMaxEmbedding, K >= 1, C >= 1, N >= 0, V >= 1; loss may be nullptr.
void sgns_step(int E, int K, int C, int N, std::int32_t V,
               const std::int32_t* input_ids,     // [N, C]
               const std::int32_t* input_count,   // [N]
               const std::int32_t* target_ids,    // [N]
               const std::int32_t* negative_ids,  // [N, K]
               float alpha,
               float* syn0,     // [V, E], updated
               float* syn1neg,  // [V, E], updated
               float* loss,     // [N] or nullptr
               unsigned long long* bad_id, cudaStream_t stream);

}  // namespace curnn::cuda
