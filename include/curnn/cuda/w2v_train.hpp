// CUDA launcher of the fast word2vec trainer's kernels (kernels/w2v_train.cu and
// kernels/w2v_train_window.cu). Float32, raw device pointers. Semantics: ref::train_sentence
// (curnn/ref/w2v_train.hpp) per chunk, chunks in parallel (Hogwild with atomic adds); see the
// kernels' header comments.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace curnn::cuda {

// The largest embedding width the trainer kernel keeps in registers (16 floats per lane).
inline constexpr int kW2vTrainMaxEmbedding = 512;

// The window kernel keeps a centre word's negatives in shared memory (at most this many) and
// moves rows as float4 (E a multiple of 4).
inline constexpr int kW2vWindowMaxNegatives = 32;
inline constexpr int kW2vWindowSizeMultiple = 4;

// Which kernel trains the chunks.
enum class W2vTrainKernel {
  // word2vec.c's sampling: K fresh negatives for every (context, centre) pair, their rows read
  // from and added to global memory per pair (kernels/w2v_train.cu). The default.
  kPairs,
  // One set of K negatives per centre word, shared by all the pairs of its window (as
  // BlazingText and Ji et al.'s minibatched SGNS): the rows stay in shared memory for the window
  // and are added back once, so a hot negative row takes one atomic add per window instead of
  // one per pair (kernels/w2v_train_window.cu). Needs E % 4 == 0 and K <= kW2vWindowMaxNegatives.
  // Same results as kPairs for CBOW (one pair per window); for skip-gram the negatives of a
  // window's pairs are no longer independent.
  kWindow,
};

// Random draws of the kernel: either injected (tests) or from the counter-based hash.
struct W2vTrainDraws {
  std::uint64_t key = 0;                // hash key: the seed mixed with a per-launch counter
  const std::int32_t* table = nullptr;  // [table_size] unigram^0.75 table
  std::int64_t table_size = 0;
  // Injected draws (both or neither), indexed by the word's position n in `ids`:
  const std::int32_t* shrink = nullptr;  // [n_words] window shrink b in [0, W)
  // [n_words, P, K]: P = 2W for kPairs' skip-gram, 1 for CBOW and for kWindow
  const std::int32_t* negatives = nullptr;
};

// Dynamic shared memory one chunk needs: two (2W + 1)-row rings of E floats, and for kWindow
// two K-row blocks (the negatives' rows as trained and as loaded).
inline std::size_t w2v_train_shared_bytes(int E, int W, int K,
                                          W2vTrainKernel kernel = W2vTrainKernel::kPairs) {
  const std::size_t rows =
      2 * static_cast<std::size_t>(2 * W + 1) +
      (kernel == W2vTrainKernel::kWindow ? 2 * static_cast<std::size_t>(K) : 0);
  return rows * static_cast<std::size_t>(E) * sizeof(float);
}

// Trains S sentence chunks, chunk s = ids[chunk_offsets[s], chunk_offsets[s+1]) with learning
// rate chunk_alpha[s], one warp each, all at once. chunk_loss[s] / chunk_pairs[s] receive the
// sum of the chunk's pair losses and its number of pairs (either may be nullptr).
// 1 <= E <= kW2vTrainMaxEmbedding, K >= 1, W >= 1, V >= 2, S >= 0; ids in [1, V) are trusted.
// Throws ArgumentError when the kernel cannot take the shape (see W2vTrainKernel) or the
// chunk's shared memory exceeds the GPU's.
void w2v_train_chunks(int E, int K, int W, bool cbow, std::int32_t V, int S,
                      const std::int32_t* ids,            // [n_words]
                      const std::int64_t* chunk_offsets,  // [S + 1]
                      const float* chunk_alpha,           // [S]
                      const W2vTrainDraws& draws,
                      float* syn0,                // [V, E], updated
                      float* syn1neg,             // [V, E], updated
                      float* chunk_loss,          // [S] or nullptr
                      std::int32_t* chunk_pairs,  // [S] or nullptr
                      cudaStream_t stream, W2vTrainKernel kernel = W2vTrainKernel::kPairs);

}  // namespace curnn::cuda
