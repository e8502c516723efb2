// Fused softmax cross-entropy, row argmax and the count of correct predictions (float32).
//
// Math (reference: include/curnn/ref/softmax_xent.hpp), per row n of logits x [N, V], t = target:
//   (m, s) = (max_v x[v], sum_v exp(x[v] - m))     online: one read of the row
//   loss[n] = (m - x[t]) + log(s)
//   dlogits[n, v] = grad_scale * (exp(x[v] - m) / s - [v == t])   (optional, may alias x)
//   probs[n, v]   = exp(x[v] - m) / s                            (optional)
// Each thread keeps a running (max, sum) pair over its elements, rescaling the sum when the max
// grows; pairs combine as (m, s) + (m', s') = (M, s e^(m-M) + s' e^(m'-M)), M = max(m, m'),
// first across the warp (butterfly shuffles) and, for block rows, across the warps through shared
// memory. A second sweep over the row (usually still in L1/L2) writes dlogits and probs; probs
// are never materialised unless asked for, and the forward-only call stops after the loss.
//
// Versions, chosen by the launcher from V (the same for any data, so results are deterministic:
// every reduction has a fixed order, and no atomics touch floats):
//   - warp rows  (V <= 1024, e.g. the 10 MNIST classes): one warp per row, 8 rows per block;
//   - block rows (V > 1024, e.g. the 10,000 PTB / 50,000 text8 words): one block per row, 128 to
//     1024 threads so that each has about 16 float4 of the row.
// Rows are read as 16-byte float4 after a scalar head that reaches a 16-byte boundary, with a
// scalar tail, whenever logits, dlogits and probs are congruent modulo 16 bytes (any V; cudaMalloc
// bases always are); otherwise element by element. Every element has the same owning thread in
// both sweeps, so the in-place write (dlogits == logits) only ever overwrites what the writing
// thread itself has read; x[t] is read by its owner before the reduction barrier.
// A target outside [0, V) gives loss NaN and dlogits = grad_scale * softmax for its row (the
// one-hot term is skipped), nothing outside the rows is read or written, and it is reported
// through the caller's id-error slot (report_bad_id: the lowest row wins), which the op turns
// into the CPU's ArgumentError at the context's next synchronisation; so is a label of
// count_correct outside [0, C) (which counts as wrong).
//
// argmax_rows / count_correct use the same row split and groups, with the (value, index) order
// ref::argmax_better (ties to the lowest index, NaN first). count_correct counts per block with
// __syncthreads_count and adds one integer per block to the counter (exact, order-free).
//
// Tests: tests/softmax_xent_cuda_test.cpp (against the reference); benchmarks:
// bench/softmax_xent_cuda_bench.cpp.
#include <climits>
#include <cstdint>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/softmax_xent.hpp"
#include "curnn/ref/softmax_xent.hpp"

namespace curnn::cuda {
namespace {

using detail::kFullMask;

constexpr int kWarpRowsMaxV = 1024;    // above this, a block per row
constexpr int kWarpRowsThreads = 256;  // 8 rows per block
constexpr int kQuadsPerThread = 16;    // block rows: threads ~ quads / 16
constexpr int kMinBlockThreads = 128;  // block rows: at least this many threads
constexpr int kUnroll = 4;             // float4 loads in flight per thread and batch

// ---- who works on a row ------------------------------------------------------------------------
struct WarpRows {  // one warp per row
  static constexpr bool kWholeBlock = false;
  __device__ static int lane() { return threadIdx.x & 31; }
  __device__ static int size() { return 32; }
  __device__ static int row() { return blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); }
};
struct BlockRows {  // one block per row; blockDim.x is a multiple of 32
  static constexpr bool kWholeBlock = true;
  __device__ static int lane() { return threadIdx.x; }
  __device__ static int size() { return blockDim.x; }
  __device__ static int row() { return blockIdx.x; }
};

// ---- reductions of pairs -----------------------------------------------------------------------
struct MaxSum {  // running max and sum of exp(x - max)
  float m, s;
};
struct ArgMax {  // best value so far and its index
  float v;
  int i;
};

__device__ __forceinline__ MaxSum shfl_xor(MaxSum p, int o) {
  return {__shfl_xor_sync(kFullMask, p.m, o), __shfl_xor_sync(kFullMask, p.s, o)};
}
__device__ __forceinline__ ArgMax shfl_xor(ArgMax p, int o) {
  return {__shfl_xor_sync(kFullMask, p.v, o), __shfl_xor_sync(kFullMask, p.i, o)};
}

// Symmetric in its arguments, bit for bit (__fmul_rn keeps the compiler from contracting one of
// the products into an FMA), so both lanes of a butterfly step compute the same pair.
struct MergeMaxSum {
  __device__ MaxSum operator()(MaxSum a, MaxSum b) const {
    const float m = fmaxf(a.m, b.m);
    if (m == -INFINITY) return {m, 0.f};  // nothing finite seen yet on either side
    return {m, __fadd_rn(__fmul_rn(a.s, __expf(a.m - m)), __fmul_rn(b.s, __expf(b.m - m)))};
  }
};
struct MergeArgMax {
  __device__ ArgMax operator()(ArgMax a, ArgMax b) const {
    return ref::argmax_better(b.v, b.i, a.v, a.i) ? b : a;
  }
};

template <class P, class Merge>
__device__ __forceinline__ P warp_allreduce(P v, Merge merge) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = merge(v, shfl_xor(v, o));
  return v;
}

// Every thread of the group gets the merged pair. For block rows this contains __syncthreads():
// call it from all threads of the block.
template <class Group, class P, class Merge>
__device__ __forceinline__ P group_allreduce(P v, Merge merge, P identity) {
  v = warp_allreduce(v, merge);
  if constexpr (Group::kWholeBlock) {
    __shared__ P partial[32];  // [warps]
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();  // no thread is still reading partial from an earlier call
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = warp_allreduce(lane < (blockDim.x >> 5) ? partial[lane] : identity, merge);
  }
  return v;
}

// ---- how a row is split between the threads of its group ---------------------------------------
// A scalar head up to the first 16-byte boundary, a body of float4 quads, a scalar tail. Thread
// `lane` of `size` owns head elements lane, lane + size, ...; quads lane, lane + size, ...; and
// tail elements likewise. The split depends only on the row's address and V, so it is the same
// in every sweep over the row (and for every array congruent with it modulo 16 bytes).
struct RowSplit {
  int V;
  int head;        // scalar elements before the first aligned quad; V when vector access is off
  int quads;       // float4 quads after the head
  int tail_begin;  // head + 4 * quads

  __device__ RowSplit(const float* row, int V_, bool vector) : V(V_) {
    const int to_boundary =
        static_cast<int>((0u - reinterpret_cast<std::uintptr_t>(row)) & 15u) >> 2;
    head = vector ? min(V, to_boundary) : V;
    quads = (V - head) >> 2;
    tail_begin = head + 4 * quads;
  }
  // The lane that owns element v.
  __device__ int owner(int v, int size) const {
    if (v < head) return v % size;
    if (v < tail_begin) return ((v - head) >> 2) % size;
    return (v - tail_begin) % size;
  }
  // The first element of quad q.
  __device__ int quad_begin(int q) const { return head + 4 * q; }
};

// Calls scalar(v, x[v]) for every head and tail element `lane` owns, and batch(x4, q) for its
// quads kUnroll at a time: x4[u] is quad q + u * size, loaded before any is used (memory-level
// parallelism); quads past the end of the row read as `pad` and must be skipped by writers.
template <class Scalar, class Batch>
__device__ __forceinline__ void visit_row(const RowSplit& sp, const float* x, int lane, int size,
                                          float pad, Scalar&& scalar, Batch&& batch) {
#pragma unroll 4
  for (int v = lane; v < sp.head; v += size) scalar(v, x[v]);
  const float4* body = reinterpret_cast<const float4*>(x + sp.head);
  for (int q = lane; q < sp.quads; q += kUnroll * size) {
    float4 x4[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int qu = q + u * size;
      x4[u] = qu < sp.quads ? body[qu] : make_float4(pad, pad, pad, pad);
    }
    batch(x4, q);
  }
  for (int v = sp.tail_begin + lane; v < sp.V; v += size) scalar(v, x[v]);
}

__device__ __forceinline__ float max4(float4 a) {
  return fmaxf(fmaxf(a.x, a.y), fmaxf(a.z, a.w));
}

// ---- softmax cross-entropy ---------------------------------------------------------------------
template <class Group>
__global__ void __launch_bounds__(1024)
    softmax_xent_kernel(int N, int V, const float* logits /*[N, V]*/,
                        const std::int32_t* targets /*[N]*/, float* loss /*[N]*/,
                        float* dlogits /*[N, V] or null, may be logits*/, float grad_scale,
                        float* probs /*[N, V] or null*/, bool vector, unsigned long long* bad_id) {
  const int row = Group::row();
  if (row >= N) return;  // a whole warp at once (warp rows); never for block rows
  const int lane = Group::lane(), size = Group::size();
  const std::int64_t offset = static_cast<std::int64_t>(row) * V;
  const float* x = logits + offset;  // [V]
  const RowSplit sp(x, V, vector);

  // Sweep 1: the online (max, sum) of this thread's elements.
  MaxSum ms{-INFINITY, 0.f};
  visit_row(
      sp, x, lane, size, -INFINITY,
      [&](int, float xv) {
        ms = MergeMaxSum()(ms, {xv, 1.f});
      },
      [&](const float4(&x4)[kUnroll], int) {
        float mx = ms.m;
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) mx = fmaxf(mx, max4(x4[u]));
        if (mx == -INFINITY) return;  // all padding (or -inf) so far
        float sum = ms.s * __expf(ms.m - mx);
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          sum += (__expf(x4[u].x - mx) + __expf(x4[u].y - mx)) +
                 (__expf(x4[u].z - mx) + __expf(x4[u].w - mx));
        }
        ms = {mx, sum};
      });

  // x[t] is read by the thread that owns it, before the barrier and before any write to the row.
  const int t = targets[row];
  const bool t_valid = 0 <= t && t < V;
  const bool writes_loss = t_valid ? sp.owner(t, size) == lane : lane == 0;
  const float xt = writes_loss && t_valid ? x[t] : 0.f;
  ms = group_allreduce<Group>(ms, MergeMaxSum(), MaxSum{-INFINITY, 0.f});
  if (writes_loss) loss[row] = t_valid ? (ms.m - xt) + logf(ms.s) : __int_as_float(0x7fc00000);
  if (writes_loss && !t_valid) detail::report_bad_id(bad_id, row, t);
  if (!dlogits && !probs) return;

  // Sweep 2: p = exp(x - m) / s; dlogits = grad_scale * p - grad_scale * [v == t].
  const float inv_s = 1.f / ms.s, d_scale = grad_scale * inv_s;
  float* d = dlogits ? dlogits + offset : nullptr;  // [V]
  float* p = probs ? probs + offset : nullptr;      // [V]
  visit_row(
      sp, x, lane, size, 0.f,
      [&](int v, float xv) {
        const float e = __expf(xv - ms.m);
        if (p) p[v] = e * inv_s;
        if (d) d[v] = v == t ? e * d_scale - grad_scale : e * d_scale;
      },
      [&](const float4(&x4)[kUnroll], int q) {
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          const int qu = q + u * size;
          if (qu >= sp.quads) break;
          const float4 e = make_float4(__expf(x4[u].x - ms.m), __expf(x4[u].y - ms.m),
                                       __expf(x4[u].z - ms.m), __expf(x4[u].w - ms.m));
          if (p) {
            reinterpret_cast<float4*>(p + sp.head)[qu] =
                make_float4(e.x * inv_s, e.y * inv_s, e.z * inv_s, e.w * inv_s);
          }
          if (d) {
            float4 g = make_float4(e.x * d_scale, e.y * d_scale, e.z * d_scale, e.w * d_scale);
            const unsigned k = static_cast<unsigned>(t) - static_cast<unsigned>(sp.quad_begin(qu));
            if (k < 4u) {  // the target is in this quad (never for an invalid target)
              g.x = k == 0 ? e.x * d_scale - grad_scale : g.x;
              g.y = k == 1 ? e.y * d_scale - grad_scale : g.y;
              g.z = k == 2 ? e.z * d_scale - grad_scale : g.z;
              g.w = k == 3 ? e.w * d_scale - grad_scale : g.w;
            }
            reinterpret_cast<float4*>(d + sp.head)[qu] = g;
          }
        }
      });
}

// ---- argmax and accuracy -----------------------------------------------------------------------
// out (if not null) [N] = the argmax of each row; count (if not null) += the rows whose argmax
// equals labels[row].
template <class Group>
__global__ void __launch_bounds__(1024)
    argmax_rows_kernel(int N, int C, const float* x /*[N, C]*/, std::int32_t* out /*[N] or null*/,
                       const std::int32_t* labels /*[N] or null*/,
                       unsigned long long* count /*[1] or null*/, unsigned long long* bad_id) {
  const int row = Group::row();
  bool correct = false;
  if (row < N) {  // uniform over the group: a whole warp (warp rows) or the whole block
    const int lane = Group::lane(), size = Group::size();
    const float* xr = x + static_cast<std::int64_t>(row) * C;  // [C]
    const RowSplit sp(xr, C, true);
    ArgMax best{-INFINITY, INT_MAX};
    const auto consider = [&](int i, float v) {  // the visitor's scalar signature
      if (ref::argmax_better(v, i, best.v, best.i)) best = {v, i};
    };
    visit_row(sp, xr, lane, size, 0.f, consider, [&](const float4(&x4)[kUnroll], int q) {
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int qu = q + u * size;
        if (qu >= sp.quads) break;
        const int i = sp.quad_begin(qu);
        consider(i, x4[u].x);
        consider(i + 1, x4[u].y);
        consider(i + 2, x4[u].z);
        consider(i + 3, x4[u].w);
      }
    });
    best = group_allreduce<Group>(best, MergeArgMax(), ArgMax{-INFINITY, INT_MAX});
    if (lane == 0) {
      if (out) out[row] = best.i;
      if (labels) {
        const std::int32_t label = labels[row];
        correct = label == best.i;
        if (label < 0 || label >= C) detail::report_bad_id(bad_id, row, label);
      }
    }
  }
  if (count) {  // uniform over the grid
    const int block_correct = __syncthreads_count(correct);
    if (threadIdx.x == 0 && block_correct > 0) {
      atomicAdd(count, static_cast<unsigned long long>(block_correct));
    }
  }
}

// ---- launch configurations ---------------------------------------------------------------------
bool congruent16(const void* a, const void* b) {
  return b == nullptr ||
         (reinterpret_cast<std::uintptr_t>(a) & 15u) == (reinterpret_cast<std::uintptr_t>(b) & 15u);
}

// Block rows: about kQuadsPerThread float4 per thread, a multiple of 32 in
// [kMinBlockThreads, 1024].
int block_rows_threads(int V) {
  const int quads = V / 4;
  const int threads = math::ceil_div(math::ceil_div(quads, kQuadsPerThread), 32) * 32;
  return threads < kMinBlockThreads ? kMinBlockThreads : (threads > 1024 ? 1024 : threads);
}

unsigned warp_rows_blocks(int N) {
  return static_cast<unsigned>(math::ceil_div(N, kWarpRowsThreads / 32));
}

void launch_argmax(int N, int C, const float* x, std::int32_t* out, const std::int32_t* labels,
                   unsigned long long* count, unsigned long long* bad_id, cudaStream_t stream) {
  if (C <= kWarpRowsMaxV) {
    argmax_rows_kernel<WarpRows>
        <<<warp_rows_blocks(N), kWarpRowsThreads, 0, stream>>>(N, C, x, out, labels, count, bad_id);
  } else {
    argmax_rows_kernel<BlockRows>
        <<<N, block_rows_threads(C), 0, stream>>>(N, C, x, out, labels, count, bad_id);
  }
  CURNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

void softmax_xent(int N, int V, const float* logits, const std::int32_t* targets, float* loss,
                  float* dlogits, float grad_scale, float* probs, unsigned long long* bad_id,
                  cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0 && V >= 1, "softmax_xent over [" << N << ", " << V << "]");
  if (N == 0) return;
  CURNN_CHECK_ARG(logits && targets && loss, "softmax_xent: null logits, targets or loss");
  CURNN_CHECK_ARG(!probs || (probs != logits && probs != dlogits),
                  "softmax_xent: probs must not alias logits or dlogits");
  const bool vector = congruent16(logits, dlogits) && congruent16(logits, probs);
  if (V <= kWarpRowsMaxV) {
    softmax_xent_kernel<WarpRows><<<warp_rows_blocks(N), kWarpRowsThreads, 0, stream>>>(
        N, V, logits, targets, loss, dlogits, grad_scale, probs, vector, bad_id);
  } else {
    softmax_xent_kernel<BlockRows><<<N, block_rows_threads(V), 0, stream>>>(
        N, V, logits, targets, loss, dlogits, grad_scale, probs, vector, bad_id);
  }
  CURNN_CUDA_CHECK_LAUNCH();
}

void argmax_rows(int N, int C, const float* x, std::int32_t* out, cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0 && C >= 1, "argmax_rows over [" << N << ", " << C << "]");
  if (N == 0) return;
  CURNN_CHECK_ARG(x && out, "argmax_rows: null x or out");
  launch_argmax(N, C, x, out, nullptr, nullptr, nullptr, stream);
}

void count_correct(int N, int C, const float* logits, const std::int32_t* labels,
                   unsigned long long* count, unsigned long long* bad_id, cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0 && C >= 1, "count_correct over [" << N << ", " << C << "]");
  CURNN_CHECK_ARG(count, "count_correct: null count");
  CURNN_CUDA_CHECK(cudaMemsetAsync(count, 0, sizeof *count, stream));
  if (N == 0) return;
  CURNN_CHECK_ARG(logits && labels, "count_correct: null logits or labels");
  launch_argmax(N, C, logits, nullptr, labels, count, bad_id, stream);
}

}  // namespace curnn::cuda
