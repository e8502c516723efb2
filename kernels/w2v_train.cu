// The fast word2vec trainer on the GPU: word2vec.c's skip-gram / CBOW with negative sampling over
// whole sentence chunks, one warp per chunk.
//
// Math (the specification is ref::train_sentence, include/curnn/ref/w2v_train.hpp): for each
// position p of a chunk, a window shrunk by b = draw % W; skip-gram trains one pair per context
// c (input x = syn0[ids[c]], targets: the centre word's syn1neg row with label 1 and K negatives
// with label 0), CBOW one pair per position (x = mean of the context rows); per target
//   f = x . syn1neg[t];  g = (label - sigmoid(f)) * alpha, clamped at |f| > 6 (word2vec.c)
//   neu1e += g syn1neg[t];  syn1neg[t] += g x
// then syn0 += neu1e for the input row(s); loss += -log sigmoid(+-f).
//
// Bytes per word (skip-gram, E = 128 floats = 512 B rows, W = 5, K = 5; the mean shrink leaves
// 2 * (W - 2) = 6 contexts per word):
//   without reuse (ops::sgns_step, one item per pair): per pair the input row (read + write,
//   1 KB) and K + 1 output rows (read + write, 6 KB): 7 KB x 6 pairs = about 43 KB per word
//   (PERFORMANCE.md), about 78M words/s at 3.35 TB/s.
//   this kernel:
//     - syn0: the chunk's rows pass through a shared-memory ring of 2W + 1 rows: each row is
//       read once when it enters the window and its change added back once when it leaves,
//       instead of once per pair: 1 KB per word instead of 6 KB;
//     - the centre word's syn1neg row, the positive target of all the window's pairs, stays in
//       registers for the whole window: 1 KB per word instead of 6 KB;
//     - the negatives: K rows read + added per pair: 5 KB x 6 = 30 KB per word.
//   About 32 KB per word: about 100M words/s at 3.35 TB/s. The negatives dominate; sharing one
//   set of negatives across a window (BlazingText, FULL-W2V) brings it to about 7 KB but
//   changes word2vec.c's sampling: that is the opt-in window kernel (W2vTrainKernel::kWindow,
//   kernels/w2v_train_window.cu), not this one.
// Latency: per pair two dependent global round trips (all K negative rows are loaded together,
// then scored in one interleaved shuffle tree; the updates are fire-and-forget atomic adds), so
// a warp spends roughly 6 x 2 x ~1 us per word; 1024 warps in flight cover ~80M words/s.
//
// Concurrency and quality: the trainer launches at most gpu_concurrent_chunks (default 1024)
// chunks at once, i.e. 1024 sentences in flight: about 8 warps per SM on an H100, which the
// latency estimate above says is enough for the 20M words/s goal, and far fewer concurrent
// writers than the 8192 independent pairs per launch with which plain Hogwild stores were seen
// to lose most updates of frequent words (bench/RESULTS.md, sgns_step). In addition no update is
// lost: syn1neg rows and the syn0 ring's changes are written with atomicAdd (red.global.add), so
// concurrent chunks only see each other's updates late (staleness), never overwrite them.
// Within a chunk everything is sequential, as in word2vec.c's thread.
//
// Layout: a warp holds an E-row lane-strided, element j * 32 + lane in register j of lane
// `lane` (E <= 512: up to 16 registers per row), so every row access is 128-byte coalesced.
// Shared memory per warp: the ring of 2W + 1 syn0 rows and the rows' values when they entered
// (their change = current - entered is what is added back): 2 (2W + 1) E floats, 11 KB for
// W = 5, E = 128. One warp per block. ptxas (sm_90, CUDA 13): 148 registers for E <= 128
// (96-178 for the other widths), no spills but 24 bytes at E <= 64; so at most 13 warps fit an
// SM by registers, and the default 1024 chunks (7.8 per SM on 132 SMs) run in one wave. Asking
// for 14 or 16 warps per SM (__launch_bounds__(32, 14 or 16)) gives 128 registers with 124 bytes
// of spill stores and 240 of spill loads per thread, so it is not done: more warps in flight
// come with the window kernel (kernels/w2v_train_window.cu: 115 registers, no spills).
//
// Random draws: by default a counter-based hash of (launch key, word position in the batch,
// slot): b = h % W, a negative = table[(h >> 16) % table_size], a draw of id 0 ("</s>") becomes
// h % (V - 1) + 1, as word2vec.c. Tests inject b and the negatives instead (W2vTrainDraws).
//
// Exactness: one chunk alone with injected draws gives ref::train_sentence's result up to float
// rounding (dot products summed in another order) when no word occurs twice within 2W + 1
// positions; a repeated word has one ring copy per occurrence, whose changes are both added
// back (the reference updates one row in place, so the copies see each other's updates later).
// Negatives repeating inside a pair re-read their row after the earlier update, as the reference.
//
// Tests: tests/w2v_train_cuda_test.cpp (single chunks vs the reference, skip-gram and CBOW, E 128
// and odd sizes; a full training run's quality), tests/w2v_train_test.cpp (the reference and the
// CPU trainer). Benchmark: bench/w2v_train_cuda_bench.cpp; words/s with analogy accuracy:
// bench/w2v_gpu_quality.cpp. The random draws are in kernels/w2v_train_common.cuh, shared with
// the window kernel (W2vTrainKernel::kWindow, kernels/w2v_train_window.cu).
#include <cstdint>
#include <type_traits>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/w2v_train.hpp"
#include "curnn/ref/word2vec.hpp"
#include "w2v_train_common.cuh"

namespace curnn::cuda {
namespace {

using detail::kFullMask;
using detail::warp_sum;
using detail::warp_sum_each;
using w2v_detail::Chunk;
using w2v_detail::DeviceDraws;

// Negative rows loaded and scored together.
template <int kChunks>
constexpr int kNegativeGroup = kChunks <= 4 ? 8 : (kChunks == 8 ? 4 : 2);

// One E-row held by a warp: element j * 32 + lane in v[j].
template <int kChunks>
struct WarpRow {
  float v[kChunks];

  __device__ __forceinline__ void load(const float* row, int E, int lane) {
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int e = j * 32 + lane;
      v[j] = e < E ? row[e] : 0.f;
    }
  }
  __device__ __forceinline__ void fill(float x) {
#pragma unroll
    for (int j = 0; j < kChunks; ++j) v[j] = x;
  }
  // row[e] += scale * x[e] with atomic adds (no update is lost to a concurrent chunk).
  __device__ __forceinline__ static void add_scaled(float* row, float scale, const WarpRow& x,
                                                    int E, int lane) {
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int e = j * 32 + lane;
      if (e < E) atomicAdd(row + e, scale * x.v[j]);
    }
  }
  __device__ __forceinline__ float partial_dot(const WarpRow& o) const {
    float s = 0.f;
#pragma unroll
    for (int j = 0; j < kChunks; ++j) s += v[j] * o.v[j];
    return s;
  }
};

// The shared-memory ring of a chunk's syn0 rows: position q in slot q % R, R = 2W + 1.
template <int kChunks>
struct SynRing {
  float* value;    // [R, E] current
  float* entered;  // [R, E] as loaded
  int R, E;

  __device__ __forceinline__ float* row(int q) { return value + (q % R) * E; }
  __device__ __forceinline__ void enter(int q, const float* syn0_row, int lane) {
    float* v = row(q);
    float* e0 = entered + (q % R) * E;
    for (int e = lane; e < E; e += 32) v[e] = e0[e] = syn0_row[e];
    __syncwarp();
  }
  // Adds the change of position q's copy back to syn0.
  __device__ __forceinline__ void leave(int q, float* syn0_row, int lane) {
    const float* v = row(q);
    const float* e0 = entered + (q % R) * E;
    for (int e = lane; e < E; e += 32) atomicAdd(syn0_row + e, v[e] - e0[e]);
    __syncwarp();
  }
  __device__ __forceinline__ void load(int q, WarpRow<kChunks>& x, int lane) {
    x.load(row(q), E, lane);
  }
  __device__ __forceinline__ void add(int q, const WarpRow<kChunks>& d, int lane) {
    float* v = row(q);
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int e = j * 32 + lane;
      if (e < E) v[e] += d.v[j];
    }
    __syncwarp();
  }
};

// The K + 1 targets of one pair with input x: the positive row `positive` (registers, updated in
// place) then the negatives in groups loaded together. Returns the pair's loss.
template <int kChunks>
__device__ float train_pair(const DeviceDraws& draws, std::int64_t n, int slot, std::int32_t word,
                            float alpha, const WarpRow<kChunks>& x, WarpRow<kChunks>& positive,
                            WarpRow<kChunks>& neu1e, float* syn1neg, int E, int lane) {
  constexpr int kGroup = kNegativeGroup<kChunks>;
  const int K = draws.K;
  neu1e.fill(0.f);
  float loss;
  {  // the centre word, label 1
    const float f = warp_sum(x.partial_dot(positive));
    const float g = ref::sgns_gradient_scale(f, 1.f, alpha);
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      neu1e.v[j] += g * positive.v[j];
      positive.v[j] += g * x.v[j];
    }
    loss = math::sigmoid_cross_entropy(f, 1.f);
  }
  for (int k0 = 0; k0 < K; k0 += kGroup) {
    std::int32_t t[kGroup];
    bool active[kGroup], repeat[kGroup];
    WarpRow<kChunks> w[kGroup];
    float f[kGroup];
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      active[i] = k0 + i < K;
      t[i] = active[i] ? draws.negative(n, slot, k0 + i) : word;
      active[i] = active[i] && t[i] != word;
      repeat[i] = false;
#pragma unroll
      for (int h = 0; h < i; ++h) repeat[i] = repeat[i] || (active[h] && t[h] == t[i]);
    }
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      if (active[i] && !repeat[i])
        w[i].load(syn1neg + static_cast<std::int64_t>(t[i]) * E, E, lane);
    }
#pragma unroll
    for (int i = 0; i < kGroup; ++i) f[i] = active[i] && !repeat[i] ? x.partial_dot(w[i]) : 0.f;
    warp_sum_each(f);
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      if (!active[i]) continue;
      float* row = syn1neg + static_cast<std::int64_t>(t[i]) * E;
      if (repeat[i]) {  // re-read after the earlier atomic adds of these same lanes
        w[i].load(row, E, lane);
        f[i] = warp_sum(x.partial_dot(w[i]));
      }
      const float g = ref::sgns_gradient_scale(f[i], 0.f, alpha);
#pragma unroll
      for (int j = 0; j < kChunks; ++j) neu1e.v[j] += g * w[i].v[j];
      WarpRow<kChunks>::add_scaled(row, g, x, E, lane);
      loss += math::sigmoid_cross_entropy(f[i], 0.f);
    }
  }
  return loss;
}

template <int kChunks>
__global__ void __launch_bounds__(32)
    w2v_train_chunks_kernel(int E, int W, bool cbow, const std::int32_t* __restrict__ ids,
                            const std::int64_t* __restrict__ chunk_offsets,
                            const float* __restrict__ chunk_alpha, DeviceDraws draws, float* syn0,
                            float* syn1neg, float* chunk_loss, std::int32_t* chunk_pairs) {
  extern __shared__ float shared[];
  const int lane = threadIdx.x;
  const int s = blockIdx.x;
  const Chunk chunk(s, ids, chunk_offsets, chunk_alpha);
  const int L = chunk.length;
  const float alpha = chunk.alpha;
  const int R = 2 * W + 1;
  SynRing<kChunks> ring{shared, shared + R * E, R, E};
  const auto syn0_row = [&](int q) { return syn0 + static_cast<std::int64_t>(chunk.words[q]) * E; };

  for (int q = 0; q < W && q < L; ++q) ring.enter(q, syn0_row(q), lane);
  float loss = 0.f;
  int pairs = 0;
  WarpRow<kChunks> x, positive, neu1e;
  for (int p = 0; p < L; ++p) {
    if (p + W < L) {  // slide the window: position p + W enters, p - W - 1 leaves its slot
      if (p - W - 1 >= 0) ring.leave(p - W - 1, syn0_row(p - W - 1), lane);
      ring.enter(p + W, syn0_row(p + W), lane);
    }
    const std::int32_t word = chunk.words[p];
    const std::int64_t n = chunk.begin + p;
    const int b = draws.shrink(n);
    const int first = max(p - W + b, 0), last = min(p + W - b, L - 1);
    float* positive_row = syn1neg + static_cast<std::int64_t>(word) * E;
    positive.load(positive_row, E, lane);
    WarpRow<kChunks> positive_entered = positive;
    if (cbow) {
      x.fill(0.f);
      int m = 0;
      for (int c = first; c <= last; ++c) {
        if (c == p) continue;
        WarpRow<kChunks> y;
        ring.load(c, y, lane);
#pragma unroll
        for (int j = 0; j < kChunks; ++j) x.v[j] += y.v[j];
        ++m;
      }
      if (m > 0) {
#pragma unroll
        for (int j = 0; j < kChunks; ++j) x.v[j] /= static_cast<float>(m);
        loss += train_pair(draws, n, 0, word, alpha, x, positive, neu1e, syn1neg, E, lane);
        ++pairs;
        for (int c = first; c <= last; ++c) {
          if (c != p) ring.add(c, neu1e, lane);
        }
      }
    } else {
      for (int c = first; c <= last; ++c) {
        if (c == p) continue;
        const int slot = c < p ? c - p + W : c - p + W - 1;
        ring.load(c, x, lane);
        loss += train_pair(draws, n, slot, word, alpha, x, positive, neu1e, syn1neg, E, lane);
        ++pairs;
        ring.add(c, neu1e, lane);
      }
    }
    // The centre's output row: its change over the window, added once.
#pragma unroll
    for (int j = 0; j < kChunks; ++j) positive_entered.v[j] = positive.v[j] - positive_entered.v[j];
    WarpRow<kChunks>::add_scaled(positive_row, 1.f, positive_entered, E, lane);
  }
  for (int q = max(L - R, 0); q < L; ++q) ring.leave(q, syn0_row(q), lane);
  if (lane == 0) {
    if (chunk_loss) chunk_loss[s] = loss;
    if (chunk_pairs) chunk_pairs[s] = pairs;
  }
}

}  // namespace

void w2v_train_chunks(int E, int K, int W, bool cbow, std::int32_t V, int S,
                      const std::int32_t* ids, const std::int64_t* chunk_offsets,
                      const float* chunk_alpha, const W2vTrainDraws& draws, float* syn0,
                      float* syn1neg, float* chunk_loss, std::int32_t* chunk_pairs,
                      cudaStream_t stream, W2vTrainKernel kernel) {
  CURNN_CHECK_ARG(
      E >= 1 && E <= kW2vTrainMaxEmbedding && K >= 1 && W >= 1 && V >= 2 && S >= 0,
      "w2v_train_chunks: E " << E << ", K " << K << ", W " << W << ", V " << V << ", S " << S);
  CURNN_CHECK_ARG((draws.shrink == nullptr) == (draws.negatives == nullptr),
                  "w2v_train_chunks: inject both the window shrinks and the negatives, or none");
  CURNN_CHECK_ARG(draws.negatives || (draws.table && draws.table_size >= 1),
                  "w2v_train_chunks: no unigram table");
  const bool window = kernel == W2vTrainKernel::kWindow;
  CURNN_CHECK_ARG(!window || (E % kW2vWindowSizeMultiple == 0 && K <= kW2vWindowMaxNegatives),
                  "w2v_train_chunks: the window kernel needs a size that is a multiple of "
                      << kW2vWindowSizeMultiple << " and at most " << kW2vWindowMaxNegatives
                      << " negatives, got size " << E << ", negative " << K
                      << " (use the pair kernel)");
  const std::size_t shared = w2v_train_shared_bytes(E, W, K, kernel);
  int max_shared = 0, device = 0;
  CURNN_CUDA_CHECK(cudaGetDevice(&device));
  CURNN_CUDA_CHECK(
      cudaDeviceGetAttribute(&max_shared, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  CURNN_CHECK_ARG(shared <= static_cast<std::size_t>(max_shared),
                  "w2v_train_chunks: window "
                      << W << " x size " << E << (window ? " with the window kernel" : "")
                      << " needs " << shared << " bytes of shared memory, the GPU has "
                      << max_shared);
  if (S == 0) return;
  const w2v_detail::ChunkBatch batch{
      E,           K,     W,    cbow,    V,          S,           ids,   chunk_offsets,
      chunk_alpha, draws, syn0, syn1neg, chunk_loss, chunk_pairs, stream};
  if (window) {
    const auto aligned = [](const float* p) {
      return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
    };
    CURNN_CHECK_ARG(aligned(syn0) && aligned(syn1neg),
                    "w2v_train_chunks: the window kernel needs syn0 and syn1neg 16-byte aligned");
    w2v_detail::launch_window_kernel(batch);
    return;
  }
  const auto run = [&](auto chunks) {
    w2v_detail::launch_chunk_kernel(w2v_train_chunks_kernel<decltype(chunks)::value>, batch, shared,
                                    cbow ? 1 : 2 * W);
  };
  if (E <= 32) {
    run(std::integral_constant<int, 1>());
  } else if (E <= 64) {
    run(std::integral_constant<int, 2>());
  } else if (E <= 128) {
    run(std::integral_constant<int, 4>());
  } else if (E <= 256) {
    run(std::integral_constant<int, 8>());
  } else {
    run(std::integral_constant<int, 16>());
  }
}

}  // namespace curnn::cuda
