// The fast word2vec trainer's window kernel (W2vTrainKernel::kWindow): skip-gram / CBOW with
// negative sampling over whole sentence chunks, one warp per chunk, with ONE set of K negatives
// per centre word shared by all the pairs of its window.
//
// Math: as kernels/w2v_train.cu (ref::train_sentence, include/curnn/ref/w2v_train.hpp), pair by
// pair and target by target in word2vec.c's order,
//   f = x . syn1neg[t];  g = (label - sigmoid(f)) * alpha, clamped at |f| > 6
//   neu1e += g syn1neg[t];  syn1neg[t] += g x;  after the pair: the input row(s) += neu1e,
// except for the draws: the negatives of the window's pairs are the same K words (drawn once
// per centre word from the unigram^0.75 table), where word2vec.c draws K for every pair. That is
// the reference fed with injected negatives that repeat across the window's pair slots; the
// tests do exactly that. CBOW has one pair per window, so there it is word2vec.c's sampling.
//
// Why (E = 128, W = 5, K = 5; the mean shrink leaves 6 pairs per word):
//   - bytes: the K negative rows are read once per window and their change added back once:
//     K x 1 KB = 5 KB per word instead of 30 KB for the pair kernel; with the syn0 ring (1 KB)
//     and the centre's row (1 KB) about 7 KB per word: ~480M words/s at 3.35 TB/s;
//   - hot rows: a frequent word drawn as a negative (the table is unigram^0.75: "the" is about
//     2% of the draws) takes one atomic add per window instead of one per pair, 6x fewer on the
//     rows where concurrent chunks collide most;
//   - latency: the window's pairs touch only registers and shared memory. Per word two dependent
//     global round trips (the table slots, then the K + 1 rows) instead of two per pair.
//
// Layout: every row access is float4: a warp holds an E-row as kVecs float4 per lane, float4
// i * 32 + lane in v[i] (E <= 128 kVecs; E % 4 == 0), and the shared-memory rows use the same
// mapping, so each lane only ever touches its own elements of a shared row (no __syncwarp
// between a store and a load). Loads from global use ld.global.cg (L2, not L1: the rows are
// updated by other SMs' atomics); the changes go back with 128-bit atomic adds (sm_90+, one
// red.global.add.v4.f32 per float4; four scalar atomics elsewhere).
// Shared memory per warp: the syn0 ring of 2W + 1 rows (current and as entered, as the pair
// kernel) and the K negative rows (current and as loaded): 2 (2W + 1 + K) E floats, 16 KB for
// E = 128, W = 5, K = 5 (14 warps per SM on an H100/H200's 228 KB).
// Registers: x, the centre's row (current and as loaded), neu1e and a group of 8 / kVecs negative
// rows: about 12 kVecs + 8 float4; __launch_bounds__ asks for kMinWarpsPerSm warps' worth (ptxas -v
// at sm_90, CUDA 13: see kMinWarpsPerSm).
//
// Negatives inside a window: a draw equal to the centre word is skipped (word2vec.c); a word
// drawn twice uses one shared row, its second draw trained after the first (the reference's
// in-place update of the same row), so repeats stay exact.
//
// Exactness: one chunk alone with injected draws gives the reference's result up to float
// rounding (dot products summed in another order) when no word occurs twice within 2W + 1
// positions (see kernels/w2v_train.cu).
//
// Tests: tests/w2v_train_cuda_test.cpp (W2vTrainWindowCuda.*: single chunks and disjoint chunks
// vs the reference with per-window negatives, skip-gram and CBOW, every float4 width, repeated
// and centre-word negatives; a full training run's quality). Benchmark:
// bench/w2v_train_cuda_bench.cpp; words/s with analogy accuracy: bench/w2v_gpu_quality.cpp.
#include <cstdint>
#include <type_traits>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/ref/word2vec.hpp"
#include "w2v_train_common.cuh"

namespace curnn::cuda::w2v_detail {
namespace {

using detail::kFullMask;
using detail::warp_sum;
using detail::warp_sum_each;

// Negative rows scored together (one interleaved shuffle tree): 8 float4 registers per lane.
template <int kVecs>
constexpr int kGroupOf = 8 / kVecs;

// Warps per SM that __launch_bounds__ asks registers for (65536 / (32 x 16) = 128 registers).
template <int kVecs>
constexpr int kMinWarpsPerSm = kVecs == 1 ? 16 : (kVecs == 2 ? 8 : 4);

// One E-row held by a warp as float4s: float4 i * 32 + lane of the row in v[i].
template <int kVecs>
struct Row4 {
  float4 v[kVecs];

  __device__ __forceinline__ static bool in_row(int i, int E, int lane) {
    return (i * 32 + lane) * 4 < E;
  }
  __device__ __forceinline__ void load_global(const float* row, int E, int lane) {
    const float4* r = reinterpret_cast<const float4*>(row);
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      v[i] = in_row(i, E, lane) ? __ldcg(r + i * 32 + lane) : make_float4(0.f, 0.f, 0.f, 0.f);
    }
  }
  __device__ __forceinline__ void load_shared(const float* row, int E, int lane) {
    const float4* r = reinterpret_cast<const float4*>(row);
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      v[i] = in_row(i, E, lane) ? r[i * 32 + lane] : make_float4(0.f, 0.f, 0.f, 0.f);
    }
  }
  __device__ __forceinline__ void store_shared(float* row, int E, int lane) const {
    float4* r = reinterpret_cast<float4*>(row);
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      if (in_row(i, E, lane)) r[i * 32 + lane] = v[i];
    }
  }
  __device__ __forceinline__ void fill(float x) {
#pragma unroll
    for (int i = 0; i < kVecs; ++i) v[i] = make_float4(x, x, x, x);
  }
  // this += a * x
  __device__ __forceinline__ void add_scaled(float a, const Row4& x) {
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      v[i].x += a * x.v[i].x, v[i].y += a * x.v[i].y;
      v[i].z += a * x.v[i].z, v[i].w += a * x.v[i].w;
    }
  }
  // this /= m
  __device__ __forceinline__ void divide(float m) {
#pragma unroll
    for (int i = 0; i < kVecs; ++i) v[i].x /= m, v[i].y /= m, v[i].z /= m, v[i].w /= m;
  }
  // this -= x
  __device__ __forceinline__ void subtract(const Row4& x) {
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      v[i].x -= x.v[i].x, v[i].y -= x.v[i].y, v[i].z -= x.v[i].z, v[i].w -= x.v[i].w;
    }
  }
  __device__ __forceinline__ float partial_dot(const Row4& o) const {
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      s += v[i].x * o.v[i].x + v[i].y * o.v[i].y + v[i].z * o.v[i].z + v[i].w * o.v[i].w;
    }
    return s;
  }
  // row += this, with atomic adds (no update is lost to a concurrent chunk).
  __device__ __forceinline__ void atomic_add_to(float* row, int E, int lane) const {
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      if (!in_row(i, E, lane)) continue;
      float4* r = reinterpret_cast<float4*>(row) + i * 32 + lane;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
      atomicAdd(r, v[i]);
#else
      atomicAdd(&r->x, v[i].x), atomicAdd(&r->y, v[i].y);
      atomicAdd(&r->z, v[i].z), atomicAdd(&r->w, v[i].w);
#endif
    }
  }
};

// A block of `rows` shared-memory rows kept twice, as trained (`value`) and as loaded from
// global (`entered`): the change value - entered is what goes back to global.
template <int kVecs>
struct TwinRows {
  float* value;    // [rows, E]
  float* entered;  // [rows, E]
  int E;

  __device__ __forceinline__ float* row(int r) { return value + r * E; }
  __device__ __forceinline__ void enter(int r, const Row4<kVecs>& x, int lane) {
    x.store_shared(value + r * E, E, lane);
    x.store_shared(entered + r * E, E, lane);
  }
  // Adds row r's change to `global_row`.
  __device__ __forceinline__ void leave(int r, float* global_row, int lane) {
    Row4<kVecs> now, then;
    now.load_shared(value + r * E, E, lane);
    then.load_shared(entered + r * E, E, lane);
    now.subtract(then);
    now.atomic_add_to(global_row, E, lane);
  }
};

// One window's K negatives. Lane k < K holds draw k: its word `target` and `source`, the slot
// whose shared row it trains (itself for a first draw, the first draw of the same word for a
// repeat), or -1 when it is skipped (the centre word).
struct WindowNegatives {
  std::int32_t target;
  int source;
  unsigned owners;  // slots that own a shared row (first draws of their word)

  __device__ __forceinline__ std::int32_t target_of(int k) const {
    return __shfl_sync(kFullMask, target, k);
  }
  __device__ __forceinline__ int source_of(int k) const {
    return __shfl_sync(kFullMask, source, k);
  }
};

__device__ __forceinline__ WindowNegatives draw_negatives(const DeviceDraws& draws, std::int64_t n,
                                                          std::int32_t word, int lane) {
  const int K = draws.K;
  WindowNegatives w;
  w.target = lane < K ? draws.negative(n, 0, lane) : -1;
  const bool active = lane < K && w.target != word;
  w.source = active ? lane : -1;
  for (int h = 0; h < K; ++h) {
    const std::int32_t t = __shfl_sync(kFullMask, w.target, h);
    if (h < lane && t == w.target && w.source == lane) w.source = h;
  }
  w.owners = __ballot_sync(kFullMask, active && w.source == lane);
  return w;
}

// Loads the owned rows of the window's negatives into `rows` (kGroup global loads in flight).
template <int kVecs>
__device__ __forceinline__ void enter_negatives(const WindowNegatives& neg, TwinRows<kVecs>& rows,
                                                const float* syn1neg, int lane) {
  constexpr int kGroup = kGroupOf<kVecs>;
  const int E = rows.E;
  unsigned todo = neg.owners;
  while (todo) {
    int slot[kGroup];
    Row4<kVecs> r[kGroup];
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      slot[i] = todo ? __ffs(static_cast<int>(todo)) - 1 : -1;
      todo &= todo ? todo - 1 : 0u;
      const std::int32_t t = neg.target_of(slot[i] < 0 ? 0 : slot[i]);
      if (slot[i] >= 0) r[i].load_global(syn1neg + static_cast<std::int64_t>(t) * E, E, lane);
    }
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      if (slot[i] >= 0) rows.enter(slot[i], r[i], lane);
    }
  }
}

// Adds the change of the window's negative rows back to syn1neg.
template <int kVecs>
__device__ __forceinline__ void leave_negatives(const WindowNegatives& neg, TwinRows<kVecs>& rows,
                                                float* syn1neg, int lane) {
  for (unsigned todo = neg.owners; todo; todo &= todo - 1) {
    const int slot = __ffs(static_cast<int>(todo)) - 1;
    const std::int32_t t = neg.target_of(slot);
    rows.leave(slot, syn1neg + static_cast<std::int64_t>(t) * rows.E, lane);
  }
}

// Trains target row w (label) with input x: returns f's loss; neu1e and w are updated.
template <int kVecs>
__device__ __forceinline__ float train_target(float f, float label, float alpha,
                                              const Row4<kVecs>& x, Row4<kVecs>& w,
                                              Row4<kVecs>& neu1e) {
  const float g = ref::sgns_gradient_scale(f, label, alpha);
  neu1e.add_scaled(g, w);
  w.add_scaled(g, x);
  return math::sigmoid_cross_entropy(f, label);
}

// One pair with input x: the centre's row `positive` (registers, label 1), then the window's
// negatives (shared rows, label 0). Returns the pair's loss; neu1e receives the input's change.
template <int kVecs>
__device__ float train_pair(const WindowNegatives& neg, int K, float alpha, const Row4<kVecs>& x,
                            Row4<kVecs>& positive, TwinRows<kVecs>& rows, Row4<kVecs>& neu1e,
                            int lane) {
  constexpr int kGroup = kGroupOf<kVecs>;
  const int E = rows.E;
  neu1e.fill(0.f);
  float loss = train_target(warp_sum(x.partial_dot(positive)), 1.f, alpha, x, positive, neu1e);
  for (int k0 = 0; k0 < K; k0 += kGroup) {
    // The group's first draws of their words, scored together...
    int source[kGroup];
    Row4<kVecs> w[kGroup];
    float f[kGroup];
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      const int k = k0 + i;
      source[i] = k < K ? neg.source_of(k & 31) : -1;
      const bool owner = source[i] == k;
      if (owner) w[i].load_shared(rows.row(k), E, lane);
      f[i] = owner ? x.partial_dot(w[i]) : 0.f;
    }
    warp_sum_each(f);
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      if (source[i] != k0 + i) continue;
      loss += train_target(f[i], 0.f, alpha, x, w[i], neu1e);
      w[i].store_shared(rows.row(k0 + i), E, lane);
    }
    // ...then the repeats, in order, each on its row as trained so far.
#pragma unroll
    for (int i = 0; i < kGroup; ++i) {
      if (source[i] < 0 || source[i] == k0 + i) continue;
      Row4<kVecs> r;
      r.load_shared(rows.row(source[i]), E, lane);
      loss += train_target(warp_sum(x.partial_dot(r)), 0.f, alpha, x, r, neu1e);
      r.store_shared(rows.row(source[i]), E, lane);
    }
  }
  return loss;
}

template <int kVecs>
__global__ void __launch_bounds__(32, kMinWarpsPerSm<kVecs>)
    w2v_train_window_kernel(int E, int W, bool cbow, const std::int32_t* __restrict__ ids,
                            const std::int64_t* __restrict__ chunk_offsets,
                            const float* __restrict__ chunk_alpha, DeviceDraws draws, float* syn0,
                            float* syn1neg, float* chunk_loss, std::int32_t* chunk_pairs) {
  extern __shared__ float4 shared4[];
  float* shared = reinterpret_cast<float*>(shared4);
  const int lane = threadIdx.x;
  const int s = blockIdx.x;
  const Chunk chunk(s, ids, chunk_offsets, chunk_alpha);
  const int L = chunk.length;
  const float alpha = chunk.alpha;
  const int R = 2 * W + 1, K = draws.K;
  // The syn0 ring: position q in row q % R; then the negatives' rows, slot k in row k.
  TwinRows<kVecs> ring{shared, shared + R * E, E};
  TwinRows<kVecs> negative_rows{shared + 2 * R * E, shared + (2 * R + K) * E, E};
  const auto syn0_row = [&](int q) { return syn0 + static_cast<std::int64_t>(chunk.words[q]) * E; };
  const auto enter_ring = [&](int q) {
    Row4<kVecs> r;
    r.load_global(syn0_row(q), E, lane);
    ring.enter(q % R, r, lane);
  };

  for (int q = 0; q < W && q < L; ++q) enter_ring(q);
  float loss = 0.f;
  int pairs = 0;
  Row4<kVecs> x, positive, positive_entered, neu1e;
  for (int p = 0; p < L; ++p) {
    if (p + W < L) {  // slide the window: position p + W enters, p - W - 1 leaves its row
      if (p - W - 1 >= 0) ring.leave((p - W - 1) % R, syn0_row(p - W - 1), lane);
      enter_ring(p + W);
    }
    const std::int32_t word = chunk.words[p];
    const std::int64_t n = chunk.begin + p;
    const int b = draws.shrink(n);
    const int first = max(p - W + b, 0), last = min(p + W - b, L - 1);
    const WindowNegatives neg = draw_negatives(draws, n, word, lane);
    float* positive_row = syn1neg + static_cast<std::int64_t>(word) * E;
    positive.load_global(positive_row, E, lane);
    enter_negatives(neg, negative_rows, syn1neg, lane);
    positive_entered = positive;
    if (cbow) {
      x.fill(0.f);
      int m = 0;
      for (int c = first; c <= last; ++c) {
        if (c == p) continue;
        Row4<kVecs> y;
        y.load_shared(ring.row(c % R), E, lane);
        x.add_scaled(1.f, y);
        ++m;
      }
      if (m > 0) {
        x.divide(static_cast<float>(m));
        loss += train_pair(neg, K, alpha, x, positive, negative_rows, neu1e, lane);
        ++pairs;
        for (int c = first; c <= last; ++c) {
          if (c == p) continue;
          Row4<kVecs> y;
          y.load_shared(ring.row(c % R), E, lane);
          y.add_scaled(1.f, neu1e);
          y.store_shared(ring.row(c % R), E, lane);
        }
      }
    } else {
      for (int c = first; c <= last; ++c) {
        if (c == p) continue;
        x.load_shared(ring.row(c % R), E, lane);
        loss += train_pair(neg, K, alpha, x, positive, negative_rows, neu1e, lane);
        ++pairs;
        x.add_scaled(1.f, neu1e);
        x.store_shared(ring.row(c % R), E, lane);
      }
    }
    // The window's output rows: their changes over the window, added once.
    positive.subtract(positive_entered);
    positive.atomic_add_to(positive_row, E, lane);
    leave_negatives(neg, negative_rows, syn1neg, lane);
  }
  for (int q = max(L - R, 0); q < L; ++q) ring.leave(q % R, syn0_row(q), lane);
  if (lane == 0) {
    if (chunk_loss) chunk_loss[s] = loss;
    if (chunk_pairs) chunk_pairs[s] = pairs;
  }
}

}  // namespace

void launch_window_kernel(const ChunkBatch& b) {
  const std::size_t shared = w2v_train_shared_bytes(b.E, b.W, b.K, W2vTrainKernel::kWindow);
  const auto run = [&](auto vecs) {
    launch_chunk_kernel(w2v_train_window_kernel<decltype(vecs)::value>, b, shared, 1);
  };
  if (b.E <= 128) {
    run(std::integral_constant<int, 1>());
  } else if (b.E <= 256) {
    run(std::integral_constant<int, 2>());
  } else {
    run(std::integral_constant<int, 4>());
  }
}

}  // namespace curnn::cuda::w2v_detail
