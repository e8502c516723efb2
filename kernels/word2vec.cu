// word2vec.c's negative-sampling SGD step (skip-gram and CBOW) on the GPU.
//
// Math (the specification is ref::sgns_step, include/curnn/ref/word2vec.hpp): for work item n
//   neu1 = mean of syn0[input_ids[n, 0..m)]                         (m = input_count[n])
//   for t in (target, negatives != target), label 1 then 0:
//     f = neu1 . syn1neg[t];  g = (label - sigmoid(f)) * alpha, word2vec.c's clamp at |f| > 6
//     neu1e += g * syn1neg[t];  syn1neg[t] += g * neu1;  loss[n] += -log sigmoid(+-f)
//   syn0[c] += neu1e for every input c
// with the exact sigmoid (word2vec.c uses a 1000-entry table; see the reference).
//
// Version: one warp per item (grid-stride over items), the E-vectors in registers, lane-strided:
// element (j * 32 + lane) * kVec + k of a row lives in lane `lane`, register j * kVec + k, so a
// warp moves 128 contiguous bytes (kVec = 1) or 512 (kVec = 4, float4, when E % 4 == 0 and the
// tables are 16-byte aligned) per instruction; E <= 512. Dot products: a lane-local sequential
// sum, then the warp's xor-shuffle tree (every lane ends with the same f, hence the same g);
// fixed order, so a given launch is reproducible when items touch disjoint rows.
// Two schedules of an item's K + 1 target rows, the same arithmetic:
//   - up front (K <= 5 and rows of at most 4 floats per lane, i.e. E <= 128): all ids first,
//     then every distinct target row and the input rows loaded together, the K + 1 scores
//     reduced in one interleaved shuffle tree, then the updates in order; an item costs about
//     three dependent memory round trips (ids, rows, the syn0 read-modify-write);
//   - streamed (any K, any E): one row of prefetch, the next row loaded while the current one
//     is reduced and written; about K + 3 round trips.
// A target repeating an earlier row of the same item (a repeated negative) takes that row's
// updated registers (streamed, the row just before) or re-reads the row after its own lanes'
// store, so repeated rows inside an item see each other's updates exactly as in the sequential
// reference.
// Across items: Hogwild, no locks and no atomics, like word2vec.c's threads. Items that share a
// row race on it (updates may interleave or be lost), so the result equals the sequential
// reference only when the items of a launch touch disjoint rows; word2vec.c makes the same
// trade.
// Ids: before touching a row, each item's warp checks its count and ids in the reference's order
// (input_count, the first m input ids, the target, the negatives: key slot j = 0, 1..C, C + 1,
// C + 2..C + K + 1 of item n gives index n * (C + K + 2) + j); an item with a bad one is skipped
// (loss NaN) and reports it through the caller's id-error slot (report_bad_id: the lowest index
// wins, i.e. the reference's first failing check), which the op turns into the CPU's
// ArgumentError at the context's next synchronisation. No memory out of bounds is touched.
//
// Tests: tests/word2vec_cuda_test.cpp (vs the reference on disjoint-row batches, skip-gram E 128
// and CBOW E 300 at the experiments' sizes, every instantiation from E 1 to 512, unaligned
// tables; a Hogwild batch with conflicts), tests/word2vec_test.cpp (the reference).
// Benchmark: bench/word2vec_cuda_bench.cpp.
#include <cstdint>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/word2vec.hpp"
#include "curnn/ref/word2vec.hpp"

namespace curnn::cuda {
namespace {

using detail::warp_sum;

constexpr int kThreads = 256;  // 8 warps = 8 items per block

// One E-row held by a warp: this lane's kChunks * kVec elements.
template <int kVec, int kChunks>
struct LaneRow {
  static constexpr int kN = kVec * kChunks;
  float v[kN];

  __device__ __forceinline__ static int index(int j, int lane) { return (j * 32 + lane) * kVec; }

  // Elements past E read as 0 (they then stay 0 through the updates and are never stored).
  __device__ __forceinline__ void load(const float* row, int E, int lane) {
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int i = index(j, lane);
      if constexpr (kVec == 4) {
        float4 x = make_float4(0.f, 0.f, 0.f, 0.f);
        if (i < E) x = *reinterpret_cast<const float4*>(row + i);
        v[4 * j] = x.x, v[4 * j + 1] = x.y, v[4 * j + 2] = x.z, v[4 * j + 3] = x.w;
      } else {
        v[j] = i < E ? row[i] : 0.f;
      }
    }
  }
  __device__ __forceinline__ void store(float* row, int E, int lane) const {
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int i = index(j, lane);
      if (i >= E) continue;
      if constexpr (kVec == 4) {
        *reinterpret_cast<float4*>(row + i) =
            make_float4(v[4 * j], v[4 * j + 1], v[4 * j + 2], v[4 * j + 3]);
      } else {
        row[i] = v[j];
      }
    }
  }
  __device__ __forceinline__ void fill(float x) {
#pragma unroll
    for (int k = 0; k < kN; ++k) v[k] = x;
  }
  // This lane's share of a dot product, and the full dot product (identical in every lane).
  __device__ __forceinline__ float partial_dot(const LaneRow& o) const {
    float s = 0.f;
#pragma unroll
    for (int k = 0; k < kN; ++k) s += v[k] * o.v[k];
    return s;
  }
  __device__ __forceinline__ float dot(const LaneRow& o) const {
    return warp_sum(partial_dot(o));
  }
};

// warp_sum of each of n values, the n shuffle trees interleaved (the same order as warp_sum).
template <int n>
__device__ __forceinline__ void warp_sum_each(float (&v)[n]) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
#pragma unroll
    for (int d = 0; d < n; ++d) v[d] += __shfl_xor_sync(detail::kFullMask, v[d], o);
  }
}

// neu1 = (syn0[in[0]] + ... + syn0[in[m-1]]) / m, summed in input order as the reference.
template <class Row>
__device__ __forceinline__ void mean_of_inputs(const float* syn0, const std::int32_t* in, int m,
                                               int E, int lane, Row& neu1) {
  Row x;
  neu1.fill(0.f);
#pragma unroll 2
  for (int c = 0; c < m; ++c) {
    x.load(syn0 + static_cast<std::int64_t>(__ldg(in + c)) * E, E, lane);
#pragma unroll
    for (int k = 0; k < Row::kN; ++k) neu1.v[k] += x.v[k];
  }
  const float count = static_cast<float>(m);
#pragma unroll
  for (int k = 0; k < Row::kN; ++k) neu1.v[k] /= count;  // a division, as word2vec.c
}

// One target row w with score f = neu1 . w: neu1e += g w, w += g neu1; returns the loss term.
template <class Row>
__device__ __forceinline__ float apply_target(float f, float label, float alpha, const Row& neu1,
                                              Row& neu1e, Row& w) {
  const float g = ref::sgns_gradient_scale(f, label, alpha);
#pragma unroll
  for (int k = 0; k < Row::kN; ++k) {
    neu1e.v[k] += g * w.v[k];
    w.v[k] += g * neu1.v[k];
  }
  return math::sigmoid_cross_entropy(f, label);
}

// syn0[c] += neu1e for every input, in order (re-read, as word2vec.c: a repeated input reads its
// own update, and a concurrent item's update to the row survives unless it lands in between).
template <class Row>
__device__ __forceinline__ void add_to_inputs(float* syn0, const std::int32_t* in, int m, int E,
                                              int lane, const Row& neu1e) {
  Row x;
  for (int c = 0; c < m; ++c) {
    float* row = syn0 + static_cast<std::int64_t>(__ldg(in + c)) * E;
    x.load(row, E, lane);
#pragma unroll
    for (int k = 0; k < Row::kN; ++k) x.v[k] += neu1e.v[k];
    x.store(row, E, lane);
  }
}

// The targets of one item with all rows loaded up front (K + 1 <= kT): ids, then every distinct
// row together with the inputs, the scores of all rows not repeated in one interleaved reduction,
// then the updates in order. A target repeating an earlier row re-reads it after that target's
// update and is scored afresh, as in the sequential reference.
template <int kT, class Row>
__device__ __forceinline__ float targets_up_front(int K, int E, int lane, std::int32_t target,
                                                  const std::int32_t* neg, float alpha,
                                                  float* syn1neg, const float* syn0,
                                                  const std::int32_t* in, int m, Row& neu1,
                                                  Row& neu1e) {
  std::int32_t t[kT];
  bool active[kT];
  bool repeat[kT];  // the row of an earlier target of this item
#pragma unroll
  for (int d = 0; d < kT; ++d) {
    t[d] = d == 0 ? target : (d <= K ? __ldg(neg + d - 1) : target);
    active[d] = d == 0 || (d <= K && t[d] != target);
    repeat[d] = false;
#pragma unroll
    for (int e = 0; e < d; ++e) repeat[d] = repeat[d] || (active[e] && t[e] == t[d]);
  }
  Row w[kT];
#pragma unroll
  for (int d = 0; d < kT; ++d) {
    if (active[d] && !repeat[d]) w[d].load(syn1neg + static_cast<std::int64_t>(t[d]) * E, E, lane);
  }
  mean_of_inputs(syn0, in, m, E, lane, neu1);
  float f[kT];
#pragma unroll
  for (int d = 0; d < kT; ++d) f[d] = active[d] && !repeat[d] ? neu1.partial_dot(w[d]) : 0.f;
  warp_sum_each(f);
  float item_loss = 0.f;
#pragma unroll
  for (int d = 0; d < kT; ++d) {
    if (!active[d]) continue;
    if (repeat[d]) {
      // Re-read the row after the earlier target's store by these same lanes (copying the
      // registers instead would need a runtime register index, which sends w to local memory).
      w[d].load(syn1neg + static_cast<std::int64_t>(t[d]) * E, E, lane);
      f[d] = neu1.dot(w[d]);
    }
    item_loss += apply_target(f[d], d == 0 ? 1.f : 0.f, alpha, neu1, neu1e, w[d]);
    w[d].store(syn1neg + static_cast<std::int64_t>(t[d]) * E, E, lane);
  }
  return item_loss;
}

// The targets of one item streamed (any K): one row of prefetch. The next target's row is
// loaded before the current one is reduced and written, unless it is this very row (then the
// updated registers carry over); an earlier row is re-read after its store, which the same
// lanes made.
template <class Row>
__device__ __forceinline__ float targets_streamed(int K, int E, int lane, std::int32_t target,
                                                  const std::int32_t* neg, float alpha,
                                                  float* syn1neg, const float* syn0,
                                                  const std::int32_t* in, int m, Row& neu1,
                                                  Row& neu1e) {
  Row w, w_next;
  std::int32_t t = target;
  int d = 0;  // 0: the target (label 1); d >= 1: negative d-1 (label 0)
  w.load(syn1neg + static_cast<std::int64_t>(t) * E, E, lane);
  mean_of_inputs(syn0, in, m, E, lane, neu1);
  float item_loss = 0.f;
  for (;;) {
    int d_next = d + 1;
    std::int32_t t_next = 0;
    for (; d_next <= K; ++d_next) {
      t_next = __ldg(neg + d_next - 1);
      if (t_next != target) break;
    }
    const bool has_next = d_next <= K;
    if (has_next && t_next != t) {
      w_next.load(syn1neg + static_cast<std::int64_t>(t_next) * E, E, lane);
    }
    item_loss += apply_target(neu1.dot(w), d == 0 ? 1.f : 0.f, alpha, neu1, neu1e, w);
    w.store(syn1neg + static_cast<std::int64_t>(t) * E, E, lane);
    if (!has_next) break;
    if (t_next != t) w = w_next;
    t = t_next;
    d = d_next;
  }
  return item_loss;
}

// All rows up front when the item's K + 1 rows fit in registers next to the rest (K <= 5 and
// at most 4 floats per lane a row, i.e. E <= 128: 64 registers, 4 blocks of 8 warps per SM;
// wider rows spill at that occupancy); streamed otherwise.
constexpr int kUpFrontTargets = 6;
constexpr int kUpFrontMaxPerLane = 4;
constexpr int kUpFrontMinBlocks = 4;

// kT > 0: targets_up_front (needs K + 1 <= kT); kT == 0: targets_streamed.
// Checks item n's input count and ids (see the header); reports the first bad one and returns
// false when there is one. Warp-uniform result.
__device__ __forceinline__ bool item_ids_valid(int n, int m, int C, int K, std::int32_t V,
                                               const std::int32_t* in, std::int32_t target,
                                               const std::int32_t* neg, int lane,
                                               unsigned long long* bad_id) {
  const std::int64_t base = static_cast<std::int64_t>(n) * (C + K + 2);
  if (m < 0 || m > C) {
    if (lane == 0) detail::report_bad_id(bad_id, base, m);
    return false;
  }
  bool bad = false;
  for (int j = 1 + lane; j < C + K + 2; j += 32) {
    if (j <= C && j > m) continue;  // an unused input slot
    const std::int32_t id =
        j <= C ? __ldg(in + j - 1) : (j == C + 1 ? target : __ldg(neg + j - C - 2));
    if (id < 0 || id >= V) {
      detail::report_bad_id(bad_id, base + j, id);
      bad = true;
    }
  }
  return !__any_sync(detail::kFullMask, bad);
}

template <int kVec, int kChunks, int kT>
__global__ void __launch_bounds__(kThreads, kT > 0 ? kUpFrontMinBlocks : 1)
    sgns_step_kernel(int E, int K, int C, int N, std::int32_t V,
                     const std::int32_t* __restrict__ input_ids,
                     const std::int32_t* __restrict__ input_count,
                     const std::int32_t* __restrict__ target_ids,
                     const std::int32_t* __restrict__ negative_ids, float alpha, float* syn0,
                     float* syn1neg, float* loss, unsigned long long* bad_id) {
  using Row = LaneRow<kVec, kChunks>;
  constexpr int kWarps = kThreads / 32;
  const int lane = threadIdx.x & 31;
  const int stride = gridDim.x * kWarps;
  for (int n = blockIdx.x * kWarps + (threadIdx.x >> 5); n < N; n += stride) {
    const std::int32_t* in = input_ids + static_cast<std::int64_t>(n) * C;
    const std::int32_t* neg = negative_ids + static_cast<std::int64_t>(n) * K;
    const int m = __ldg(input_count + n);
    const std::int32_t target = __ldg(target_ids + n);
    if (!item_ids_valid(n, m, C, K, V, in, target, neg, lane, bad_id)) {
      if (loss != nullptr && lane == 0) loss[n] = __int_as_float(0x7fc00000);
      continue;
    }
    float item_loss = 0.f;
    if (m > 0) {
      Row neu1, neu1e;
      neu1e.fill(0.f);
      if constexpr (kT > 0) {
        item_loss =
            targets_up_front<kT>(K, E, lane, target, neg, alpha, syn1neg, syn0, in, m, neu1, neu1e);
      } else {
        item_loss =
            targets_streamed(K, E, lane, target, neg, alpha, syn1neg, syn0, in, m, neu1, neu1e);
      }
      add_to_inputs(syn0, in, m, E, lane, neu1e);
    }
    if (loss != nullptr && lane == 0) loss[n] = item_loss;
  }
}

template <int kVec, int kChunks>
void launch(int E, int K, int C, int N, std::int32_t V, const std::int32_t* input_ids,
            const std::int32_t* input_count, const std::int32_t* target_ids,
            const std::int32_t* negative_ids, float alpha, float* syn0, float* syn1neg, float* loss,
            unsigned long long* bad_id, cudaStream_t stream) {
  const unsigned blocks = detail::grid_for(static_cast<std::int64_t>(N) * 32, kThreads);
  constexpr bool kUpFrontFits = kVec * kChunks <= kUpFrontMaxPerLane;
  if (kUpFrontFits && K + 1 <= kUpFrontTargets) {
    sgns_step_kernel<kVec, kChunks, kUpFrontFits ? kUpFrontTargets : 0>
        <<<blocks, kThreads, 0, stream>>>(E, K, C, N, V, input_ids, input_count, target_ids,
                                          negative_ids, alpha, syn0, syn1neg, loss, bad_id);
  } else {
    sgns_step_kernel<kVec, kChunks, 0>
        <<<blocks, kThreads, 0, stream>>>(E, K, C, N, V, input_ids, input_count, target_ids,
                                          negative_ids, alpha, syn0, syn1neg, loss, bad_id);
  }
  CURNN_CUDA_CHECK_LAUNCH();
}

bool aligned16(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

}  // namespace

void sgns_step(int E, int K, int C, int N, std::int32_t V, const std::int32_t* input_ids,
               const std::int32_t* input_count, const std::int32_t* target_ids,
               const std::int32_t* negative_ids, float alpha, float* syn0, float* syn1neg,
               float* loss, unsigned long long* bad_id, cudaStream_t stream) {
  CURNN_CHECK_ARG(E >= 1 && E <= kSgnsMaxEmbedding,
                  "sgns_step: E " << E << " outside [1, " << kSgnsMaxEmbedding << "]");
  CURNN_CHECK_ARG(K >= 1 && C >= 1 && N >= 0 && V >= 1,
                  "sgns_step: K " << K << ", C " << C << ", N " << N << ", V " << V);
  CURNN_CHECK_ARG(static_cast<std::int64_t>(N) * (C + K + 2) <= 0xFFFFFFFFll,
                  "sgns_step: N * (C + K + 2) = " << static_cast<std::int64_t>(N) * (C + K + 2)
                                                  << " id slots exceed 2^32 (split the batch)");
  if (N == 0) return;
  CURNN_CHECK_ARG(input_ids && input_count && target_ids && negative_ids && syn0 && syn1neg,
                  "sgns_step: null pointer argument");
  const auto args = [&](auto launcher) {
    launcher(E, K, C, N, V, input_ids, input_count, target_ids, negative_ids, alpha, syn0, syn1neg,
             loss, bad_id, stream);
  };
  if (E % 4 == 0 && aligned16(syn0) && aligned16(syn1neg)) {
    switch (math::ceil_div(E, 128)) {
      case 1:
        return args(launch<4, 1>);
      case 2:
        return args(launch<4, 2>);
      case 3:
        return args(launch<4, 3>);
      default:
        return args(launch<4, 4>);
    }
  }
  const int chunks = math::ceil_div(E, 32);
  if (chunks <= 1) return args(launch<1, 1>);
  if (chunks <= 2) return args(launch<1, 2>);
  if (chunks <= 3) return args(launch<1, 3>);
  if (chunks <= 4) return args(launch<1, 4>);
  if (chunks <= 6) return args(launch<1, 6>);
  if (chunks <= 8) return args(launch<1, 8>);
  if (chunks <= 12) return args(launch<1, 12>);
  return args(launch<1, 16>);
}

}  // namespace curnn::cuda
