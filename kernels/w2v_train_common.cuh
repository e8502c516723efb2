// Pieces shared by the fast word2vec trainer's two kernels (kernels/w2v_train.cu, one set of
// negatives per pair; kernels/w2v_train_window.cu, one set per window): the counter-based random
// draws, the arguments of a launch and the launch itself, and the window kernel's host entry
// called by w2v_train_chunks' dispatch.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "curnn/cuda/check.hpp"
#include "curnn/cuda/w2v_train.hpp"

namespace curnn::cuda {
namespace w2v_detail {

// 64-bit mix (splitmix64's finaliser): the counter-based draws.
__device__ __forceinline__ std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The draws of one launch: injected arrays (tests) or a hash of (key, word position n, slot).
// P is the number of pair slots with their own negatives per word: 2W for the pair kernel's
// skip-gram, 1 for CBOW and for the window kernel.
struct DeviceDraws {
  W2vTrainDraws d;
  int W, K, P;
  std::int32_t V;

  __device__ __forceinline__ std::uint64_t hash(std::int64_t n, std::int64_t slot) const {
    return mix64(d.key ^ mix64(static_cast<std::uint64_t>(n) * 0x9E3779B97F4A7C15ull +
                               static_cast<std::uint64_t>(slot)));
  }
  // b for the word at batch position n.
  __device__ __forceinline__ int shrink(std::int64_t n) const {
    if (d.shrink) return __ldg(d.shrink + n);
    return static_cast<int>(hash(n, 0) % static_cast<std::uint64_t>(W));
  }
  // Negative k of pair slot s of the word at batch position n; a draw of id 0 ("</s>") becomes
  // h % (V - 1) + 1, as word2vec.c.
  __device__ __forceinline__ std::int32_t negative(std::int64_t n, int s, int k) const {
    if (d.negatives) return __ldg(d.negatives + (n * P + s) * K + k);
    const std::uint64_t h = hash(n, 1 + static_cast<std::int64_t>(s) * K + k);
    const std::int32_t t = __ldg(d.table + (h >> 16) % static_cast<std::uint64_t>(d.table_size));
    return t != 0 ? t : static_cast<std::int32_t>(h % static_cast<std::uint64_t>(V - 1) + 1);
  }
};

// Chunk s of a launch: its words (batch positions begin ... begin + length - 1) and learning rate.
struct Chunk {
  std::int64_t begin;         // its first word's position n in the batch (the draws' counter)
  int length;                 // L
  const std::int32_t* words;  // [L]
  float alpha;

  __device__ __forceinline__ Chunk(int s, const std::int32_t* ids,
                                   const std::int64_t* chunk_offsets, const float* chunk_alpha)
      : begin(chunk_offsets[s]),
        length(static_cast<int>(chunk_offsets[s + 1] - begin)),
        words(ids + begin),
        alpha(chunk_alpha[s]) {}
};

// The arguments of one w2v_train_chunks call (see include/curnn/cuda/w2v_train.hpp).
struct ChunkBatch {
  int E, K, W;
  bool cbow;
  std::int32_t V;
  int S;
  const std::int32_t* ids;            // [n_words]
  const std::int64_t* chunk_offsets;  // [S + 1]
  const float* chunk_alpha;           // [S]
  W2vTrainDraws draws;
  float* syn0;                // [V, E]
  float* syn1neg;             // [V, E]
  float* chunk_loss;          // [S] or nullptr
  std::int32_t* chunk_pairs;  // [S] or nullptr
  cudaStream_t stream;
};

// Both kernels' signature: one warp (block) per chunk.
using ChunkKernel = void (*)(int E, int W, bool cbow, const std::int32_t* ids,
                             const std::int64_t* chunk_offsets, const float* chunk_alpha,
                             DeviceDraws draws, float* syn0, float* syn1neg, float* chunk_loss,
                             std::int32_t* chunk_pairs);

// Launches `kernel` on the batch with `shared` bytes of dynamic shared memory per chunk and P
// pair slots with their own negatives per word (DeviceDraws::P).
inline void launch_chunk_kernel(ChunkKernel kernel, const ChunkBatch& b, std::size_t shared,
                                int P) {
  CURNN_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(shared)));
  const DeviceDraws draws{b.draws, b.W, b.K, P, b.V};
  kernel<<<b.S, 32, shared, b.stream>>>(b.E, b.W, b.cbow, b.ids, b.chunk_offsets, b.chunk_alpha,
                                        draws, b.syn0, b.syn1neg, b.chunk_loss, b.chunk_pairs);
  CURNN_CUDA_CHECK_LAUNCH();
}

// The window kernel's launch (kernels/w2v_train_window.cu); arguments checked by the caller:
// E % 4 == 0, K <= kW2vWindowMaxNegatives, S >= 1, syn0 and syn1neg 16-byte aligned.
void launch_window_kernel(const ChunkBatch& batch);

}  // namespace w2v_detail
}  // namespace curnn::cuda
