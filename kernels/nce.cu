// NCE loss forward and backward (TensorFlow's tf.nn.nce_loss, num_true = 1, subtract_log_q,
// no accidental-hit removal), float32. The math, with one set of S sampled classes shared by
// the batch (reference and spec: include/curnn/ref/nce.hpp):
//   true_b = x_b.w_y + bias_y - logQ_y          sampled_bs = x_b.w_s + bias_s - logQ_s
//   loss_b = xent(true_b, 1) + sum_s xent(sampled_bs, 0)
//   g_true_b = scale (sigmoid(true_b) - 1)      g_bs = scale sigmoid(sampled_bs)
//   dx_b = g_true_b w_y + sum_s g_bs w_s;  dw_true_b = g_true_b x_b;  db_true_b = g_true_b
//   dw_sampled_s = sum_b g_bs x_b;  db_sampled_s = sum_b g_bs
//
// At the book's sizes (B 128, E 128, S 64) everything touched is ~300 KB and ~3 MFMA: the op
// is latency-bound (a few dependent memory round trips), so both kernels are laid out for short
// dependency chains and many warps, not for data reuse:
//   1. nce_example_kernel: one block per example b, 9 warps. Warps 0-7 take the sampled
//      classes, G at a time: G = min(8, 32 / R) rows in flight per warp, where R = kMaxE / 32
//      registers hold one row per lane, i.e. 8 rows for E <= 128, 4 for E <= 256, 2 for E <= 512,
//      1 for E <= 1024 (32 floats per lane in every case); the rows go straight from global
//      memory (L2) into registers, lane-strided (lane <-> columns e, e+32, ...), the G dot
//      products with x_b are reduced together by a butterfly that leaves each row's sum in 32 / G
//      lanes, so the sigmoid / cross-entropy of the G rows run in parallel across lanes; g is
//      shuffled back and the same registers give the warp's share of dx_b. Warp 8 takes the true
//      class (logit, dw_true_b, db_true_b, its dx_b term). The 9 partial dx_b rows and loss terms
//      meet in shared memory and are added in warp order. g_bs goes to a [B, S] workspace.
//      Versions (H100, book sizes, ncu gpu__time_duration): v1, one warp per example with rows
//      staged through shared memory: 18.2 us; v2, this layout with 8 separate warp sums and the
//      nonlinearities on every lane: 11.6 us (both with ncu's flushed caches and base clocks;
//      v2 with warm caches and boost clocks: 9.3 us, ~1,200 instructions per warp, stalled on
//      dependent latencies); v3 (this one): the butterfly multi-row reduction, which computes
//      each nonlinearity once instead of 32 times (predicted to about halve the instructions
//      per warp; not yet measured on a device). Until issue 10, v3 chose G = 8 / R (2 rows in
//      flight at E = 128 instead of the 8 described above); rows_in_flight() below is the fix.
//   2. nce_sampled_grad_kernel (backward only): block (s, 32 columns); warp w sums the examples
//      b = w, w+16, ... and the 16 partial sums are combined in warp order. It is launched with
//      programmatic dependent launch (sm_90): its blocks start while kernel 1 runs and wait in
//      griddepcontrol.wait for kernel 1's results, which hides the second launch's latency.
// Deterministic: every sum has a fixed order for given shapes; no atomics (there is no
// non-deterministic variant: atomics would not make this latency-bound op faster).
// An id outside [0, V) is never dereferenced; it makes the logits that use it NaN, and lowers the
// caller's id-error slot of its tensor (labels or sampled; report_bad_id: the lowest position
// wins), which the op turns into the CPU's ArgumentError at the context's next synchronisation.
// Tests: tests/nce_cuda_test.cpp (kernel vs reference). Bench: bench/nce_cuda_bench.cpp.
#include <cuda_runtime.h>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/nce.hpp"
#include "curnn/math.hpp"

namespace curnn::cuda {
namespace {

constexpr int kSampledRowWarps = 8;                  // kernel 1: warps on sampled rows
constexpr int kExampleWarps = kSampledRowWarps + 1;  // + the true-class warp
constexpr int kExampleThreads = 32 * kExampleWarps;
constexpr int kSampledWarps = 16;  // kernel 2: warps splitting the batch sum

struct NceArgs {
  int B, E, S, V;
  const float* __restrict__ x;               // [B, E]
  const float* __restrict__ weights;         // [V, E]
  const float* __restrict__ biases;          // [V]
  const std::int32_t* __restrict__ labels;   // [B]
  const std::int32_t* __restrict__ sampled;  // [S]
  const float* __restrict__ log_q_true;      // [B]
  const float* __restrict__ log_q_sampled;   // [S]
  float* loss;                               // [B]
  float grad_scale;
  float* dx;                        // [B, E] or nullptr (forward only)
  float* dw_true;                   // [B, E]
  float* db_true;                   // [B]
  float* dw_sampled;                // [S, E]
  float* db_sampled;                // [S]
  float* g;                         // [B, S] workspace: g_bs
  unsigned long long* bad_label;    // id-error slots (or nullptr)
  unsigned long long* bad_sampled;  //
};

// Sampled rows in flight per warp when each lane holds R = kMaxE / 32 floats of a row: as many
// as fit 32 registers per lane, at most 8 (one per warp of the butterfly's depth); a power of
// two dividing 32, as multi_warp_sum<G> and lane_of_row<G> need.
constexpr int rows_in_flight(int R) {
  return 32 / R < 8 ? 32 / R : 8;
}
static_assert(rows_in_flight(128 / 32) == 8 && rows_in_flight(256 / 32) == 4 &&
                  rows_in_flight(512 / 32) == 2 && rows_in_flight(1024 / 32) == 1,
              "the header's table of rows in flight");

__device__ __forceinline__ float quiet_nan() {
  return __int_as_float(0x7fc00000);
}
__device__ __forceinline__ bool id_ok(int id, int V) {
  return 0 <= id && id < V;
}

// Programmatic dependent launch (sm_90): let the next kernel's blocks start / wait for the
// previous kernel's completion and memory. No-ops on older architectures.
__device__ __forceinline__ void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void wait_for_previous_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// Row `id` of weights, lane-strided: r[k] = w[id][lane + 32k]; 0 past E or when !present (no
// such row), NaN when !ok (an id outside [0, V), never dereferenced).
template <int R>
__device__ __forceinline__ void load_row(const NceArgs& a, int id, bool ok, bool present, int lane,
                                         float (&r)[R]) {
  const float* row = a.weights + static_cast<std::size_t>(ok && present ? id : 0) * a.E;
#pragma unroll
  for (int k = 0; k < R; ++k) {
    const int e = lane + 32 * k;
    r[k] = e < a.E && present ? (ok ? row[e] : quiet_nan()) : 0.f;
  }
}

template <int R>
__device__ __forceinline__ float lane_dot(const float (&u)[R], const float (&v)[R]) {
  float s = 0.f;
#pragma unroll
  for (int k = 0; k < R; ++k) s += u[k] * v[k];
  return s;
}

// Sums v[j] over the warp for G rows at once (G a power of two <= 32) with a butterfly that
// halves the rows at each step: G - 1 + log2(32 / G) shuffles instead of 5 G. Returns the sum of
// row `row` = row_of_lane(lane) (every lane of the same row gets it).
template <int G>
__device__ __forceinline__ float multi_warp_sum(float (&v)[G], int lane, int& row) {
  row = 0;
#pragma unroll
  for (int n = G, off = 16; n > 1; n >>= 1, off >>= 1) {
    const bool upper = (lane & off) != 0;  // upper lanes keep rows [n/2, n), lower [0, n/2)
#pragma unroll
    for (int i = 0; i < n / 2; ++i) {
      const float keep = upper ? v[i + n / 2] : v[i];
      const float send = upper ? v[i] : v[i + n / 2];
      v[i] = keep + __shfl_xor_sync(detail::kFullMask, send, off);
    }
    if (upper) row += n / 2;
  }
#pragma unroll
  for (int off = 16 / G; off > 0; off >>= 1) v[0] += __shfl_xor_sync(detail::kFullMask, v[0], off);
  return v[0];
}
// The lowest lane that multi_warp_sum<G> gives row j.
template <int G>
__device__ __forceinline__ int lane_of_row(int j) {
  int lane = 0;
#pragma unroll
  for (int n = G, off = 16; n > 1; n >>= 1, off >>= 1) {
    if (j >= n / 2) lane |= off, j -= n / 2;
  }
  return lane;
}

// Kernel 1: one block per example. Dynamic shared memory: dx_part [kExampleWarps, E] and
// loss_part [kExampleWarps]. kMaxE >= E sizes the per-lane register rows (kMaxE / 32 each).
template <int kMaxE>
__global__ void __launch_bounds__(kExampleThreads) nce_example_kernel(const NceArgs a) {
  constexpr int R = kMaxE / 32;
  constexpr int G = rows_in_flight(R);  // sampled rows in flight per warp
  static_assert(G >= 1 && G <= 8 && 32 % G == 0 && G * R <= 32, "register rows per lane");
  extern __shared__ float smem[];
  const int E = a.E, S = a.S;
  float* dx_part = smem;                        // [kExampleWarps, E]
  float* loss_part = smem + kExampleWarps * E;  // [kExampleWarps]
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int b = blockIdx.x;
  const bool backward = a.dx != nullptr;
  allow_dependent_launch();  // kernel 2 may start its blocks; they wait for our completion

  float xr[R];  // x_b, lane-strided
  {
    const float* xrow = a.x + static_cast<std::size_t>(b) * E;
#pragma unroll
    for (int k = 0; k < R; ++k) xr[k] = lane + 32 * k < E ? xrow[lane + 32 * k] : 0.f;
  }
  float dxp[R];  // this warp's share of dx_b
  float loss_w = 0.f;

  if (warp == kSampledRowWarps) {  // the true class
    const int label = a.labels[b];
    const bool ok = id_ok(label, a.V);
    if (!ok && lane == 0) detail::report_bad_id(a.bad_label, b, label);
    float wy[R];
    load_row<R>(a, label, ok, true, lane, wy);
    const float offset = (ok ? a.biases[label] : quiet_nan()) - a.log_q_true[b];
    const float logit = detail::warp_sum(lane_dot<R>(xr, wy)) + offset;
    const float g_true = a.grad_scale * (math::sigmoid(logit) - 1.f);
    if (lane == 0) loss_w = math::sigmoid_cross_entropy(logit, 1.f);
#pragma unroll
    for (int k = 0; k < R; ++k) dxp[k] = g_true * wy[k];
    if (backward) {
      const std::size_t row = static_cast<std::size_t>(b) * E;
#pragma unroll
      for (int k = 0; k < R; ++k) {
        if (lane + 32 * k < E) a.dw_true[row + lane + 32 * k] = g_true * xr[k];
      }
      if (lane == 0) a.db_true[b] = g_true;
    }
  } else {  // sampled classes s = round * 8G + warp * G + j, j < G
#pragma unroll
    for (int k = 0; k < R; ++k) dxp[k] = 0.f;
    for (int s0 = warp * G; s0 < S; s0 += kSampledRowWarps * G) {
      // Ids, offsets and rows of this warp's G classes: all loads issued before any use.
      const int s_lane = s0 + lane;
      const bool lane_has = lane < G && s_lane < S;
      const int id_lane = lane_has ? a.sampled[s_lane] : 0;
      if (lane_has && !id_ok(id_lane, a.V)) detail::report_bad_id(a.bad_sampled, s_lane, id_lane);
      const float offset_lane = lane_has ? (id_ok(id_lane, a.V) ? a.biases[id_lane] : quiet_nan()) -
                                               a.log_q_sampled[s_lane]
                                         : 0.f;
      float w[G][R];
      float dot[G];
#pragma unroll
      for (int j = 0; j < G; ++j) {
        const int id = __shfl_sync(detail::kFullMask, id_lane, j);
        load_row<R>(a, id, id_ok(id, a.V), s0 + j < S, lane, w[j]);
        dot[j] = lane_dot<R>(xr, w[j]);
      }
      // Row sums: lane -> row j; each row's nonlinearity is computed once per 32/G lanes, in
      // parallel over the rows, and g is broadcast back for dx.
      int j_lane = 0;
      const float logit = multi_warp_sum<G>(dot, lane, j_lane) +
                          __shfl_sync(detail::kFullMask, offset_lane, j_lane);
      const bool row_valid = s0 + j_lane < S;
      const float g = row_valid ? a.grad_scale * math::sigmoid(logit) : 0.f;
      if (row_valid && lane == lane_of_row<G>(j_lane)) {
        loss_w += math::sigmoid_cross_entropy(logit, 0.f);
        if (backward) a.g[static_cast<std::size_t>(b) * S + s0 + j_lane] = g;
      }
#pragma unroll
      for (int j = 0; j < G; ++j) {
        const float gj = __shfl_sync(detail::kFullMask, g, lane_of_row<G>(j));
#pragma unroll
        for (int k = 0; k < R; ++k) dxp[k] += gj * w[j][k];
      }
    }
  }

  // Combine the warps in fixed order: loss_b and dx_b.
#pragma unroll
  for (int k = 0; k < R; ++k) {
    if (lane + 32 * k < E) dx_part[warp * E + lane + 32 * k] = dxp[k];
  }
  loss_w = detail::warp_sum(loss_w);  // one lane per row holds each term
  if (lane == 0) loss_part[warp] = loss_w;
  __syncthreads();
  if (threadIdx.x == 0) {
    float l = loss_part[kSampledRowWarps];  // the true class's term first, as the reference
    for (int w = 0; w < kSampledRowWarps; ++w) l += loss_part[w];
    a.loss[b] = l;
  }
  if (backward) {
    for (int e = threadIdx.x; e < E; e += kExampleThreads) {
      float d = dx_part[kSampledRowWarps * E + e];
#pragma unroll
      for (int w = 0; w < kSampledRowWarps; ++w) d += dx_part[w * E + e];
      a.dx[static_cast<std::size_t>(b) * E + e] = d;
    }
  }
}

// Kernel 2. Block (s, column chunk): dw_sampled[s][e] = sum_b g[b][s] x[b][e] for 32 columns,
// and db_sampled[s] = sum_b g[b][s] (column chunk 0). Warp w sums b = w, w + 16, ...; the warps'
// partial sums are added in warp order.
__global__ void __launch_bounds__(32 * kSampledWarps) nce_sampled_grad_kernel(const NceArgs a) {
  __shared__ float part[kSampledWarps][33];  // [warp][column], [warp][32] = sum of g
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int s = blockIdx.x;
  const int e = blockIdx.y * 32 + lane;
  const bool has_e = e < a.E;
  wait_for_previous_grid();  // g is written by kernel 1
  const float* g = a.g;
  float acc = 0.f, g_sum = 0.f;
#pragma unroll 8
  for (int b = warp; b < a.B; b += kSampledWarps) {
    const float gb = g[static_cast<std::size_t>(b) * a.S + s];
    g_sum += gb;
    if (has_e) acc += gb * a.x[static_cast<std::size_t>(b) * a.E + e];
  }
  part[warp][lane] = acc;
  if (lane == 0) part[warp][32] = g_sum;
  __syncthreads();
  if (warp == 0) {
    float t = 0.f;
#pragma unroll
    for (int w = 0; w < kSampledWarps; ++w) t += part[w][lane];
    if (has_e) a.dw_sampled[static_cast<std::size_t>(s) * a.E + e] = t;
    if (blockIdx.y == 0 && lane == 0) {
      float d = 0.f;
#pragma unroll
      for (int w = 0; w < kSampledWarps; ++w) d += part[w][32];
      a.db_sampled[s] = d;
    }
  }
}

template <int kMaxE>
void launch_examples(const NceArgs& a, cudaStream_t stream) {
  const std::size_t smem = sizeof(float) * (static_cast<std::size_t>(kExampleWarps) * a.E +
                                            kExampleWarps);  // < 48 KB for E <= 1024
  nce_example_kernel<kMaxE><<<static_cast<unsigned>(a.B), kExampleThreads, smem, stream>>>(a);
  CURNN_CUDA_CHECK_LAUNCH();
}

void launch_sampled_grad(const NceArgs& a, cudaStream_t stream) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(static_cast<unsigned>(a.S), static_cast<unsigned>(math::ceil_div(a.E, 32)));
  config.blockDim = dim3(32 * kSampledWarps);
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attribute;
  config.numAttrs = 1;
  CURNN_CUDA_CHECK(cudaLaunchKernelEx(&config, nce_sampled_grad_kernel, a));
  CURNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

std::size_t nce_loss_workspace_bytes(int B, int S) {
  return sizeof(float) * static_cast<std::size_t>(B) * static_cast<std::size_t>(S);
}

void nce_loss(int B, int E, int S, int V, const float* x, const float* weights, const float* biases,
              const std::int32_t* labels, const std::int32_t* sampled, const float* log_q_true,
              const float* log_q_sampled, float* loss, float grad_scale, float* dx, float* dw_true,
              float* db_true, float* dw_sampled, float* db_sampled, void* workspace,
              unsigned long long* bad_label, unsigned long long* bad_sampled, cudaStream_t stream) {
  CURNN_CHECK_ARG(B >= 1 && S >= 1 && V >= 1 && E >= 1 && E <= kNceMaxEmbedding,
                  "nce_loss: B=" << B << " E=" << E << " S=" << S << " V=" << V
                                 << " (need >= 1, E <= " << kNceMaxEmbedding << ")");
  CURNN_CHECK_ARG(
      x && weights && biases && labels && sampled && log_q_true && log_q_sampled && loss,
      "nce_loss: null input or loss pointer");
  const bool backward = dx != nullptr;
  if (backward) {
    CURNN_CHECK_ARG(dw_true && db_true && dw_sampled && db_sampled && workspace,
                    "nce_loss: backward needs every gradient pointer and the workspace");
  } else {
    CURNN_CHECK_ARG(!dw_true && !db_true && !dw_sampled && !db_sampled,
                    "nce_loss: forward only (dx == nullptr) but other gradients given");
  }
  NceArgs a{};
  a.B = B, a.E = E, a.S = S, a.V = V;
  a.x = x, a.weights = weights, a.biases = biases, a.labels = labels, a.sampled = sampled;
  a.log_q_true = log_q_true, a.log_q_sampled = log_q_sampled;
  a.loss = loss, a.grad_scale = grad_scale;
  a.dx = dx, a.dw_true = dw_true, a.db_true = db_true;
  a.dw_sampled = dw_sampled, a.db_sampled = db_sampled;
  a.g = backward ? static_cast<float*>(workspace) : nullptr;
  a.bad_label = bad_label, a.bad_sampled = bad_sampled;
  if (E <= 128) {
    launch_examples<128>(a, stream);
  } else if (E <= 256) {
    launch_examples<256>(a, stream);
  } else if (E <= 512) {
    launch_examples<512>(a, stream);
  } else {
    launch_examples<1024>(a, stream);
  }
  if (backward) launch_sampled_grad(a, stream);
}

}  // namespace curnn::cuda
