// CUDA launcher of the fast word2vec trainer's kernel (kernels/w2v_train.cu). Float32, raw
// device pointers. Semantics: ref::train_sentence (curnn/ref/w2v_train.hpp) per chunk, chunks
// in parallel (Hogwild with atomic adds); see the kernel's header comment.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace curnn::cuda {

// The largest embedding width the trainer kernel keeps in registers (16 floats per lane).
inline constexpr int kW2vTrainMaxEmbedding = 512;

// Random draws of the kernel: either injected (tests) or from the counter-based hash.
struct W2vTrainDraws {
  std::uint64_t key = 0;                // hash key: the seed mixed with a per-launch counter
  const std::int32_t* table = nullptr;  // [table_size] unigram^0.75 table
  std::int64_t table_size = 0;
  // Injected draws (both or neither), indexed by the word's position n in `ids`:
  const std::int32_t* shrink = nullptr;     // [n_words] window shrink b in [0, W)
  const std::int32_t* negatives = nullptr;  // [n_words, P, K], P = cbow ? 1 : 2W
};

// Dynamic shared memory one chunk needs: two (2W + 1)-row rings of E floats.
inline std::size_t w2v_train_shared_bytes(int E, int W) {
  return 2 * static_cast<std::size_t>(2 * W + 1) * static_cast<std::size_t>(E) * sizeof(float);
}

// Trains S sentence chunks, chunk s = ids[chunk_offsets[s], chunk_offsets[s+1]) with learning
// rate chunk_alpha[s], one warp each, all at once. chunk_loss[s] / chunk_pairs[s] receive the
// sum of the chunk's pair losses and its number of pairs (either may be nullptr).
// 1 <= E <= kW2vTrainMaxEmbedding, K >= 1, W >= 1, V >= 2, S >= 0; ids in [1, V) are trusted.
void w2v_train_chunks(int E, int K, int W, bool cbow, std::int32_t V, int S,
                      const std::int32_t* ids,            // [n_words]
                      const std::int64_t* chunk_offsets,  // [S + 1]
                      const float* chunk_alpha,           // [S]
                      const W2vTrainDraws& draws,
                      float* syn0,                // [V, E], updated
                      float* syn1neg,             // [V, E], updated
                      float* chunk_loss,          // [S] or nullptr
                      std::int32_t* chunk_pairs,  // [S] or nullptr
                      cudaStream_t stream);

}  // namespace curnn::cuda
