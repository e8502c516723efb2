// Persistent LSTM loop: all T steps of one LSTM layer's recurrence (or of two independent
// directions of the same shape) in one launch, forward and backward, with the recurrent weights
// Wh [H, 4H] held on chip in the shared memory of a Hopper thread-block cluster for all steps.
//
// Math (TensorFlow BasicLSTMCell, gate order [i, j, f, o]; include/curnn/ref/lstm_cell.hpp):
//   forward, per step t:  a = (pre_t + h_prev Wh) + bias, pre_t = x_t Wx given in the tape;
//     (gates, c_t, h_t) = cell(a, c_prev, forget_bias);  y_t = h_t * mask_t (with a mask; a copy
//     of h_t when y is given without one); the last step also writes h_final, c_final
//   backward, per step t in reverse order of the forward:
//     dPre_t, dc_prev = cell_backward(gates, c_t, c_prev, dh + mask_t * dy_t, dc)
//     dh_prev = dPre_t Wh^T
// The tape and its state slots are nn::LstmTape's (include/curnn/nn/lstm.hpp); this kernel writes
// exactly what nn::GemmPerStepLoop writes (gates, the step slots of c and h, y with a mask, the
// final state straight from the last step into h_final/c_final; dPre into pre, and the gradients
// reaching the initial state straight into dh_first/dc_first), so the weight-gradient GEMMs of
// nn::LstmLayer are unchanged. The per-unit cell math is kernels/lstm_cell_math.cuh, shared with
// kernels/lstm_cell.cu. The partition and the launch plan are
// include/curnn/cuda/lstm_persistent_plan.hpp (CPU-tested).
// Tests: tests/lstm_persistent_cuda_test.cpp (against GemmPerStepLoop on the CPU and on CUDA,
// both directions, masks, initial states, odd shapes, every cluster size, determinism; to run
// under compute-sanitizer racecheck and memcheck), tests/persistent_loop_test.cpp (the plan, on
// the CPU). Benchmark: bench/lstm_persistent_cuda_bench.cpp.
//
// ---- Partition --------------------------------------------------------------------------------
// Grid = directions x batch_clusters x C blocks, cluster = C blocks (16 where the device runs
// such clusters: non-portable size, else 8, 4, 2, 1). A cluster runs one direction for a slice of
// `rows` batch rows (rows are independent in an LSTM, so clusters never talk to each other and
// need not be co-resident: more clusters than fit at once run in waves, correctly). Block `rank`
// owns hidden units [u0, u0 + nu) (H / C, balanced) and all four gate columns of them, so its
// cell update is block-local. Threads work on tiles of 4 rows x 1 unit x 4 gates.
//
// ---- What lives where ------------------------------------------------------------------------
// Shared memory (per block; sizes at the plan's limits in lstm_persistent_plan.hpp):
//   w_s   [H][units][4 gates] the block's Wh columns, loaded once per launch (H x 4 nu floats;
//         H 200 / C 16: 41 KB, H 256 / C 16: 70 KB with padding). Row stride padded to an odd
//         number of 16-byte chunks (conflict-free 16-byte reads at consecutive k in backward).
//   forward:  h_s [2][H][rows] h_{t-1} of the cluster's rows, k-major, double-buffered;
//             red [k_splits-1][4][tiles][4] the partial dot products of the split-K threads.
//   backward: recv [2][C][units][rows] every block's partial dh_prev for this block's units,
//             double-buffered; dp_s [4][tiles][4] the block's dPre_t; owner_s [H] the block
//             owning each k.
// Registers: each cell owner keeps c (forward) or dc (backward) of its 4 rows x 1 unit for all
//   T steps, its 4 bias values, and the step's 4x4 accumulators.
// DSMEM: the only traffic between blocks: forward, each block pushes its new h slice
//   [nu][rows] into h_s of all C blocks (16-byte remote stores); backward, each block pushes its
//   partial dh_prev [H][rows] over its own 4 nu columns, split by owner, into the owners' recv.
// Global memory (L2-resident at these sizes): the tape, read and written once per step by the
//   cell owners (pre, gates, c, h, y, mask, dy), coalesced across lanes (consecutive units).
//
// ---- Synchronisation per step (every barrier, and what it orders) ------------------------------
// B0 (cluster.sync, once, before step 0): every block of the cluster has started, so its shared
//    memory may be written remotely, and each block's w_s and initial h_s / registers are set.
// Forward step s (cur = s & 1):
//   1. every thread: partial acc over its k-slice from h_s[cur] and w_s; splits >= 1 -> red.
//   B1 (__syncthreads): red complete for the cell owners.
//   2. cell owners: acc += red (splits 1.. in order), cell, push h_t to h_s[cur ^ 1] of every
//      block of the cluster (not after the last step).
//   B2 (barrier.cluster.arrive.release ... wait.acquire): after it, h_s[cur ^ 1] holds all of
//      h_t in every block (release/acquire orders the remote stores), and no block still reads
//      h_s[cur] or red of step s, so step s + 1 may overwrite them. Between arrive and wait the
//      owners store the step's tape (global only, nothing other blocks read), and after the
//      last step the final state into h_final/c_final (they may be the layer's h0/c0: the
//      kernel reads the initial state only from the tape's slot, before B0).
//   h_s[cur ^ 1] is free to overwrite in step s because its last readers (step s - 1) all
//   arrived at B2 of step s - 1 before anyone passed it.
// Backward step s = T-1 .. 0 (recv buffer written in step s: s & 1):
//   1. cell owners: dh = sum over blocks j = 0..C-1 in order of recv[(s+1) & 1][j] (dh_last at
//      s = T-1), cell backward with dc in registers -> dPre_t into dp_s.
//   B1 (__syncthreads): dp_s complete.
//   2. every thread: partial dh_prev[b][k] = sum over own units u, gates q of dPre * Wh[k][q,u]
//      for all k, pushed to recv[s & 1][rank] of the block owning k.
//   B2 (cluster arrive/wait as above): recv[s & 1] complete in every block; no block still reads
//      dp_s or recv[(s+1) & 1]. Between arrive and wait the owners store dPre_t to the tape.
//   After step 0: owners sum recv[0] into dh_first (local reads only: blocks may then exit).
// Determinism: every sum has a fixed order (k in a slice, slices 0.., blocks 0..C-1), so the
// results are bitwise identical run to run for a given plan (a function of B, H and the device).
//
// ---- Expected step latency (first principles, H100/H200 SXM: 132 SMs, ~1.75 GHz under load) ---
// Shared-memory reads per warp and k in the forward dot products: one 16-byte weight load per
// lane (distinct units: 16 * min(32, units) bytes, 2 wavefronts at 13-16 units) and one
// broadcast h load (1 wavefront), against 16 FMA instructions: 3 wavefronts per 4 SM-clocks of
// FMA issue, so FMA-bound. Backward, per warp and unit: 4 distinct weight loads (4 wavefronts)
// and 4 broadcast dPre loads (4) per 16 FMA: smem-bound at ~2x the FMA time.
// PTB small (B 20, H 200), plan C 16, 3 batch clusters of 8 rows (48 SMs), split-K 16:
//   forward FLOPs per step per block: 2 * 8 rows * 200 k * 52 columns = 166 kFLOP; an SM's FP32
//   rate is 128 FMA/clk -> 650 clk = 0.37 us at peak (13 warps: latency-bound nearer 0.5 us).
//   Then one warp of owners: 15 partial sums of 4 float4 each, the cell (2 tanh + 3 sigmoid
//   with accurate expf, 4 rows), 16 remote float4 stores: ~0.3-0.5 us. DSMEM: each block
//   receives 8 rows x 200 x 4 B = 6.4 KB per step (400 remote stores, ~200-cycle latency,
//   overlapped). Cluster barrier: ~0.2-0.5 us. Forward step: ~1-1.5 us.
//   Backward: the cell of one warp of owners after a 16-way dh sum (~0.3 us), then 400
//   (4 rows, k) items over 416 threads of 13 units x 4 gates each (~0.5 us, latency-bound), the
//   DSMEM push and the barrier: ~1.5-2 us.
//   A layer's window of T 20: ~25 us forward + ~35 us backward, against ~20 x 25 us = 500 us
//   forward and about as much backward for the per-step GEMM + cell launches quoted in
//   docs/PERFORMANCE.md (H100): ~15x on the recurrent chain.
// BiLSTM (B 128, H 256, both directions): plan C 16, 4 batch clusters of 32 rows per direction
//   (128 SMs), split-K 4. Forward per block per step: 2 * 32 * 256 * 64 = 1.05 MFLOP -> 4100
//   clk = 2.3 us at FP32 peak; DSMEM in: 32 x 256 x 4 B = 32 KB per block per step (2048
//   remote float4 stores sent and received), ~0.5-1 us if the SM-to-SM network gives ~32-64
//   B/clk per SM (to be measured), partly overlapped: ~3-3.5 us per step. Backward: the same
//   FLOPs, smem-bound at ~2x: ~4.5 us, ~5-5.5 us per step. 28 steps of both directions at once:
//   ~95 us forward + ~150 us backward, against 2 x 28 x (19 + 5..8 us) = 1.4-1.5 ms each way
//   per-step: ~10x.
// These are predictions, not measurements: bench/lstm_persistent_cuda_bench.cpp measures them.
// Next steps once measured: tiles of 8 rows x 2 k in the backward (FMA-bound), the owners'
// cell work spread over the split-K threads, the next step's loads between arrive and wait,
// bulk (TMA) copies for the DSMEM pushes.
#include <cooperative_groups.h>

#include <cstdint>
#include <string>
#include <utility>

#include "curnn/cuda/check.hpp"
#include "curnn/cuda/lstm_persistent.hpp"
#include "lstm_cell_math.cuh"

namespace curnn::cuda {
namespace {

namespace cg = cooperative_groups;
using persistent::kRowsPerTile;
using persistent::Plan;

static_assert(kRowsPerTile == 4, "tiles are one float4 of rows");

// The uniform parameters of one launch (from the plan).
struct LaunchShape {
  int T, B, H;
  int C, batch_clusters, rows, units, w_stride, state_stride, tiles, k_splits;
  float forget_bias;
};

struct DirectionPair {
  PersistentLstmDirection d[2];
};

// Tape slots (nn::LstmTape): step t writes slot t + 1 and reads slot t (Forward) or t + 2
// (Reverse); the initial state sits in slot 0 (Forward) or T + 1 (Reverse).
__device__ __forceinline__ int time_of_step(bool reverse, int T, int s) {
  return reverse ? T - 1 - s : s;
}
__device__ __forceinline__ int prev_slot(bool reverse, int t) {
  return reverse ? t + 2 : t;
}
__device__ __forceinline__ int initial_slot(bool reverse, int T) {
  return reverse ? T + 1 : 0;
}

// Where a block sits: its direction, its rows [b0, b0 + nrows) of the batch, its units
// [u0, u0 + nu), and its rank in the cluster.
struct BlockPlace {
  int rank, dir, b0, nrows, u0, nu;
};

__device__ __forceinline__ BlockPlace block_place(const LaunchShape& s,
                                                  const cg::cluster_group& cluster) {
  BlockPlace p;
  p.rank = static_cast<int>(cluster.block_rank());
  const int cluster_id = static_cast<int>(blockIdx.x) / s.C;
  p.dir = cluster_id / s.batch_clusters;
  p.b0 = (cluster_id % s.batch_clusters) * s.rows;
  p.nrows = min(s.rows, s.B - p.b0);
  p.u0 = persistent::unit_begin(s.H, s.C, p.rank);
  p.nu = persistent::unit_begin(s.H, s.C, p.rank + 1) - p.u0;
  return p;
}

// Element (slot_or_t, b, col) of a [*, B, width] tensor.
__device__ __forceinline__ std::int64_t at(int slot_or_t, int B, int b, int width, int col) {
  return (static_cast<std::int64_t>(slot_or_t) * B + b) * width + col;
}

// The block's Wh columns into w_s[k][u][q] = Wh[k][q * H + u0 + u] (row stride w_stride).
__device__ void load_weight_slice(const float* wh, int H, int u0, int nu, int w_stride,
                                  float* w_s) {
  const int per_k = 4 * nu;
  for (int i = threadIdx.x; i < H * per_k; i += blockDim.x) {
    const int k = i / per_k, rest = i - k * per_k, q = rest / nu, u = rest - q * nu;
    w_s[k * w_stride + u * 4 + q] = wh[static_cast<std::int64_t>(k) * 4 * H + q * H + u0 + u];
  }
}

__device__ __forceinline__ float4 load4(const float* p) {
  return *reinterpret_cast<const float4*>(p);
}
__device__ __forceinline__ void store4(float* p, float4 v) {
  *reinterpret_cast<float4*>(p) = v;
}

// The sum, in order j = 0 .. C-1, of the float4s at src + j * stride (the C blocks' partials).
__device__ __forceinline__ float4 sum_in_order(const float* src, int C, int stride) {
  float4 sum = load4(src);
  for (int j = 1; j < C; ++j) {
    const float4 p = load4(src + j * stride);
    sum.x += p.x, sum.y += p.y, sum.z += p.z, sum.w += p.w;
  }
  return sum;
}

__global__ void __launch_bounds__(persistent::kMaxThreads, 1)
    lstm_persistent_forward_kernel(const LaunchShape s, const DirectionPair pair) {
  extern __shared__ float4 smem4[];
  const cg::cluster_group cluster = cg::this_cluster();
  const BlockPlace pl = block_place(s, cluster);
  const PersistentLstmDirection d = pl.dir == 0 ? pair.d[0] : pair.d[1];
  const int T = s.T, B = s.B, H = s.H, P = s.state_stride;
  float* const w_s = reinterpret_cast<float*>(smem4);  // [H][w_stride]
  float* const h_s = w_s + H * s.w_stride;             // [2][H][P]
  float* const red = h_s + 2 * H * P;                  // [k_splits - 1][4][tiles][4]

  // Roles: thread = split * tiles + tile; tile = rg * units + u (rows rg*4 .. +4, unit u0 + u).
  const int split = static_cast<int>(threadIdx.x) / s.tiles;
  const int tile = static_cast<int>(threadIdx.x) - split * s.tiles;
  const int rg = tile / s.units, u = tile - rg * s.units, row0 = rg * kRowsPerTile;
  const int unit = pl.u0 + u;
  const bool computes = split < s.k_splits && u < pl.nu;  // has a slice of a tile's sums
  const bool owns_cell = split == 0 && u < pl.nu;         // and the tile's cell, c and bias
  const int k_begin = computes ? persistent::slice_begin(H, s.k_splits, split) : 0;
  const int k_end = computes ? persistent::slice_begin(H, s.k_splits, split + 1) : 0;
  bool row_ok[4];
#pragma unroll
  for (int r = 0; r < 4; ++r) row_ok[r] = row0 + r < pl.nrows;

  load_weight_slice(d.wh, H, pl.u0, pl.nu, s.w_stride, w_s);
  // h_s[0]: the initial h of the cluster's rows, k-major; padded rows are zero.
  const int init = initial_slot(d.reverse, T);
  for (int i = threadIdx.x; i < s.rows * H; i += blockDim.x) {
    const int r = i / H, k = i - r * H;
    h_s[k * P + r] = r < pl.nrows ? d.h[at(init, B, pl.b0 + r, H, k)] : 0.f;
  }
  float c[4] = {0.f, 0.f, 0.f, 0.f}, bias[4] = {0.f, 0.f, 0.f, 0.f};
  if (owns_cell) {
#pragma unroll
    for (int q = 0; q < 4; ++q) bias[q] = d.bias[q * H + unit];
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      if (row_ok[r]) c[r] = d.c[at(init, B, pl.b0 + row0 + r, H, unit)];
    }
  }
  cluster.sync();  // B0

  for (int step = 0; step < T; ++step) {
    const int t = time_of_step(d.reverse, T, step);
    const float* const h_cur = h_s + (step & 1) * H * P;
    float* const h_next = h_s + ((step + 1) & 1) * H * P;
    // The owner's inputs of this step, issued before the dot products so that their latency
    // hides behind them: a[r][q] = (x_t Wx)[b][q * H + unit], and the mask (1 without one).
    float a[4][4], m[4];
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const bool load = owns_cell && row_ok[r];
      const int b = pl.b0 + row0 + r;
#pragma unroll
      for (int q = 0; q < 4; ++q) a[r][q] = load ? d.pre[at(t, B, b, 4 * H, q * H + unit)] : 0.f;
      m[r] = load && d.mask ? d.mask[at(t, B, b, H, unit)] : 1.f;
    }
    // 1. acc[r][q] = sum over this split's k of h_{t-1}[row0 + r][k] * Wh[k][q * H + unit].
    float acc[4][4];
#pragma unroll
    for (int r = 0; r < 4; ++r) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[r][q] = 0.f;
    }
    {
      const float* hp = h_cur + k_begin * P + row0;
      const float* wp = w_s + k_begin * s.w_stride + u * 4;
      for (int k = k_begin; k < k_end; ++k, hp += P, wp += s.w_stride) {
        const float4 h4 = load4(hp), w4 = load4(wp);
        const float hv[4] = {h4.x, h4.y, h4.z, h4.w}, wv[4] = {w4.x, w4.y, w4.z, w4.w};
#pragma unroll
        for (int r = 0; r < 4; ++r) {
#pragma unroll
          for (int q = 0; q < 4; ++q) acc[r][q] = fmaf(hv[r], wv[q], acc[r][q]);
        }
      }
    }
    if (computes && split > 0) {
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        store4(red + ((((split - 1) * 4 + r) * s.tiles) + tile) * 4,
               make_float4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
      }
    }
    __syncthreads();  // B1
    // 2. The cell of the tile: sums of the other splits in order, then the cell update.
    float g[4][4], hv[4];
    if (owns_cell) {
      for (int sp = 1; sp < s.k_splits; ++sp) {
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const float4 p = load4(red + ((((sp - 1) * 4 + r) * s.tiles) + tile) * 4);
          acc[r][0] += p.x, acc[r][1] += p.y, acc[r][2] += p.z, acc[r][3] += p.w;
        }
      }
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        float av[4];
#pragma unroll
        for (int q = 0; q < 4; ++q) av[q] = a[r][q] + acc[r][q] + bias[q];
        float c_new;
        detail::lstm_cell_unit_forward(av, c[r], s.forget_bias, g[r], &c_new, &hv[r]);
        c[r] = c_new;
      }
      if (step + 1 < T) {  // h_t into h_next of every block of the cluster (this one too)
        const float4 h4 = make_float4(hv[0], hv[1], hv[2], hv[3]);
        float* const dst = h_next + unit * P + row0;
        for (int j = 0; j < s.C; ++j) store4(cluster.map_shared_rank(dst, j), h4);
      }
    }
    auto arrived = cluster.barrier_arrive();  // B2 (release)
    if (owns_cell) {  // the step's tape: nothing in this launch reads it back
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        if (!row_ok[r]) continue;
        const int b = pl.b0 + row0 + r;
#pragma unroll
        for (int q = 0; q < 4; ++q) d.gates[at(t, B, b, 4 * H, q * H + unit)] = g[r][q];
        d.c[at(t + 1, B, b, H, unit)] = c[r];
        d.h[at(t + 1, B, b, H, unit)] = hv[r];
        if (d.y) d.y[at(t, B, b, H, unit)] = d.mask ? hv[r] * m[r] : hv[r];
        if (step == T - 1) {  // the final state, straight from the last step's registers
          if (d.h_final) d.h_final[at(0, B, b, H, unit)] = hv[r];
          if (d.c_final) d.c_final[at(0, B, b, H, unit)] = c[r];
        }
      }
    }
    cluster.barrier_wait(std::move(arrived));  // B2 (acquire)
  }
}

__global__ void __launch_bounds__(persistent::kMaxThreads, 1)
    lstm_persistent_backward_kernel(const LaunchShape s, const DirectionPair pair) {
  extern __shared__ float4 smem4[];
  const cg::cluster_group cluster = cg::this_cluster();
  const BlockPlace pl = block_place(s, cluster);
  const PersistentLstmDirection d = pl.dir == 0 ? pair.d[0] : pair.d[1];
  const int T = s.T, B = s.B, H = s.H, P = s.state_stride;
  const int recv_size = s.C * s.units * P;                           // one buffer of recv
  float* const w_s = reinterpret_cast<float*>(smem4);                // [H][w_stride]
  float* const recv = w_s + H * s.w_stride;                          // [2][C][units][P]
  float* const dp_s = recv + 2 * recv_size;                          // [4 gates][tiles][4 rows]
  int* const owner_s = reinterpret_cast<int*>(dp_s + 16 * s.tiles);  // [H] owner << 16 | unit

  // Roles: threads below `tiles` own tile = rg * units + u (rows rg*4 .. +4, unit u0 + u).
  const int tile = static_cast<int>(threadIdx.x);
  const int rg = tile / s.units, u = tile - rg * s.units, row0 = rg * kRowsPerTile;
  const int unit = pl.u0 + u;
  const bool owns_cell = tile < s.tiles && u < pl.nu;
  bool row_ok[4];
#pragma unroll
  for (int r = 0; r < 4; ++r) row_ok[r] = owns_cell && row0 + r < pl.nrows;

  load_weight_slice(d.wh, H, pl.u0, pl.nu, s.w_stride, w_s);
  for (int k = threadIdx.x; k < H; k += blockDim.x) {
    const int j = persistent::unit_owner(H, s.C, k);
    owner_s[k] = j << 16 | (k - persistent::unit_begin(H, s.C, j));
  }
  // dh and dc reaching the state after the last step processed (the forward's final state).
  float dh[4], dc[4];
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const std::int64_t i = at(0, B, pl.b0 + row0 + r, H, unit);
    dh[r] = row_ok[r] && d.dh_last ? d.dh_last[i] : 0.f;
    dc[r] = row_ok[r] && d.dc_last ? d.dc_last[i] : 0.f;
  }
  cluster.sync();  // B0

  for (int step = T - 1; step >= 0; --step) {
    const int t = time_of_step(d.reverse, T, step), prev = prev_slot(d.reverse, t);
    // 1. The cell backward of the tile (padded rows: zero gates give zero gradients).
    float da[4][4];
    if (owns_cell) {
      if (step + 1 < T) {  // dh_prev of step + 1: the blocks' partials in order 0..C-1
        const float4 sum =
            sum_in_order(recv + ((step + 1) & 1) * recv_size + u * P + row0, s.C, s.units * P);
        dh[0] = sum.x, dh[1] = sum.y, dh[2] = sum.z, dh[3] = sum.w;
      }
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int b = pl.b0 + row0 + r;
        float g[4] = {0.f, 0.f, 0.f, 0.f}, c_t = 0.f, c_prev = 0.f, dy = 0.f, m = 1.f;
        if (row_ok[r]) {
#pragma unroll
          for (int q = 0; q < 4; ++q) g[q] = d.gates[at(t, B, b, 4 * H, q * H + unit)];
          c_t = d.c[at(t + 1, B, b, H, unit)];
          c_prev = d.c[at(prev, B, b, H, unit)];
          dy = d.dy[at(t, B, b, H, unit)];
          if (d.mask) m = d.mask[at(t, B, b, H, unit)];
        }
        detail::lstm_cell_unit_backward(g, c_t, c_prev, dh[r] + m * dy, dc[r], da[r], &dc[r]);
      }
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        store4(dp_s + (q * s.tiles + tile) * 4,
               make_float4(da[0][q], da[1][q], da[2][q], da[3][q]));
      }
    }
    __syncthreads();  // B1
    // 2. Partial dh_prev over this block's columns, for every k, to the block owning k.
    if (step > 0 || d.dh_first) {
      float* const out = recv + (step & 1) * recv_size;
      const int work = s.rows / kRowsPerTile * H;
      for (int i = threadIdx.x; i < work; i += blockDim.x) {
        const int g_rows = i / H, k = i - g_rows * H;
        float acc[4] = {0.f, 0.f, 0.f, 0.f};
        const float* wp = w_s + k * s.w_stride;
        const float* dp = dp_s + g_rows * s.units * 4;
        for (int uu = 0; uu < pl.nu; ++uu, wp += 4, dp += 4) {
          const float4 w4 = load4(wp);
          const float wv[4] = {w4.x, w4.y, w4.z, w4.w};
#pragma unroll
          for (int q = 0; q < 4; ++q) {
            const float4 d4 = load4(dp + q * s.tiles * 4);
            acc[0] = fmaf(d4.x, wv[q], acc[0]);
            acc[1] = fmaf(d4.y, wv[q], acc[1]);
            acc[2] = fmaf(d4.z, wv[q], acc[2]);
            acc[3] = fmaf(d4.w, wv[q], acc[3]);
          }
        }
        const int owner = owner_s[k];
        float* const dst = out + (pl.rank * s.units + (owner & 0xffff)) * P + g_rows * kRowsPerTile;
        store4(cluster.map_shared_rank(dst, owner >> 16),
               make_float4(acc[0], acc[1], acc[2], acc[3]));
      }
    }
    auto arrived = cluster.barrier_arrive();  // B2 (release)
    if (owns_cell) {                          // dPre_t into the tape (pre)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        if (!row_ok[r]) continue;
        const int b = pl.b0 + row0 + r;
#pragma unroll
        for (int q = 0; q < 4; ++q) d.pre[at(t, B, b, 4 * H, q * H + unit)] = da[r][q];
      }
    }
    cluster.barrier_wait(std::move(arrived));  // B2 (acquire)
  }
  // The gradients reaching the initial state (recv[0] was filled in step 0).
  if (owns_cell && d.dh_first) {
    const float4 sum = sum_in_order(recv + u * P + row0, s.C, s.units * P);
    const float v[4] = {sum.x, sum.y, sum.z, sum.w};
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      if (row_ok[r]) d.dh_first[at(0, B, pl.b0 + row0 + r, H, unit)] = v[r];
    }
  }
  if (owns_cell && d.dc_first) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      if (row_ok[r]) d.dc_first[at(0, B, pl.b0 + row0 + r, H, unit)] = dc[r];
    }
  }
}

using Kernel = void (*)(LaunchShape, DirectionPair);

// Raises the kernel's dynamic shared memory limit and, for clusters over 8 blocks, allows the
// non-portable cluster size; both are needed before occupancy queries and launches.
void prepare_kernel(Kernel kernel, int cluster_size, std::size_t smem) {
  CURNN_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(smem)));
  if (cluster_size > 8) {
    CURNN_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1));
  }
}

// A launch configuration of `clusters` clusters of C blocks.
struct ClusterLaunch {
  ClusterLaunch(int clusters, int C, int threads, std::size_t smem, cudaStream_t stream) {
    attribute.id = cudaLaunchAttributeClusterDimension;
    attribute.val.clusterDim.x = static_cast<unsigned>(C);
    attribute.val.clusterDim.y = 1;
    attribute.val.clusterDim.z = 1;
    config.gridDim = dim3(static_cast<unsigned>(clusters * C));
    config.blockDim = dim3(static_cast<unsigned>(threads));
    config.dynamicSmemBytes = smem;
    config.stream = stream;
    config.attrs = &attribute;
    config.numAttrs = 1;
  }
  cudaLaunchConfig_t config = {};
  cudaLaunchAttribute attribute = {};
};

// How many clusters of the kernel at this size can run at once (0 when none can, or when the
// query fails: the error is cleared so that it does not surface at a later check).
int max_active_clusters(Kernel kernel, int C, int threads, std::size_t smem) {
  if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           static_cast<int>(smem)) != cudaSuccess ||
      (C > 8 && cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) !=
                    cudaSuccess)) {
    (void)cudaGetLastError();
    return 0;
  }
  const ClusterLaunch launch(1, C, threads, smem, nullptr);
  int clusters = 0;
  if (cudaOccupancyMaxActiveClusters(&clusters, reinterpret_cast<const void*>(kernel),
                                     &launch.config) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return clusters;
}

int max_active_clusters(const Plan& p) {
  const int f = max_active_clusters(lstm_persistent_forward_kernel, p.cluster_size,
                                    p.forward_threads, p.forward_smem);
  const int b = max_active_clusters(lstm_persistent_backward_kernel, p.cluster_size,
                                    p.backward_threads, p.backward_smem);
  return f < b ? f : b;
}

void check_launch(const Plan& p, int T, int B, int H, const PersistentLstmDirection* dirs,
                  int directions) {
  CURNN_CHECK_ARG(p, "no persistent LSTM plan for B=" << B << " H=" << H);
  CURNN_CHECK_ARG(T >= 1 && B >= 1 && H >= 1, "T=" << T << " B=" << B << " H=" << H);
  CURNN_CHECK_ARG(directions == 1 || directions == 2, "directions " << directions);
  CURNN_CHECK_ARG(dirs != nullptr, "null directions");
  CURNN_CHECK_ARG(p.units == math::ceil_div(H, p.cluster_size) && p.cluster_size <= H &&
                      p.rows % kRowsPerTile == 0 &&
                      static_cast<std::int64_t>(p.batch_clusters) * p.rows >= B,
                  "the plan (C=" << p.cluster_size << ", rows " << p.rows << " x "
                                 << p.batch_clusters << ") is not one for B=" << B << " H=" << H);
  CURNN_CHECK_ARG(static_cast<std::int64_t>(T + 2) * B * 4 * H < (std::int64_t{1} << 62),
                  "tape too large");
}

LaunchShape launch_shape(const Plan& p, int T, int B, int H, float forget_bias) {
  return LaunchShape{T,          B,          H,          p.cluster_size, p.batch_clusters,
                     p.rows,     p.units,    p.w_stride, p.state_stride, p.tiles,
                     p.k_splits, forget_bias};
}

DirectionPair direction_pair(const PersistentLstmDirection* dirs, int directions) {
  DirectionPair pair;
  pair.d[0] = dirs[0];
  pair.d[1] = directions == 2 ? dirs[1] : dirs[0];
  return pair;
}

void launch(Kernel kernel, const Plan& p, int threads, std::size_t smem, const LaunchShape& shape,
            const DirectionPair& pair, int directions, cudaStream_t stream) {
  prepare_kernel(kernel, p.cluster_size, smem);
  const ClusterLaunch launch(directions * p.batch_clusters, p.cluster_size, threads, smem, stream);
  CURNN_CUDA_CHECK(cudaLaunchKernelEx(&launch.config, kernel, shape, pair));
  CURNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

Plan plan_persistent_lstm(int B, int H, int directions, std::string* why_not) {
  const auto fail = [&](const std::string& why) {
    if (why_not) *why_not = why;
    return Plan{};
  };
  if (B < 1 || H < 1) return fail("empty shape");
  int device = 0, major = 0, minor = 0, smem_optin = 0, cluster_launch = 0;
  CURNN_CUDA_CHECK(cudaGetDevice(&device));
  CURNN_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  CURNN_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  CURNN_CUDA_CHECK(
      cudaDeviceGetAttribute(&smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  CURNN_CUDA_CHECK(cudaDeviceGetAttribute(&cluster_launch, cudaDevAttrClusterLaunch, device));
  if (major < 9 || !cluster_launch) {
    return fail(
        "the persistent loop needs thread-block clusters (compute capability 9.0 or "
        "newer); this device is " +
        std::to_string(major) + "." + std::to_string(minor));
  }
  std::string why = "";
  for (const int C : {16, 8, 4, 2, 1}) {
    if (C > H) continue;
    // Fits at all (rows = as many as fit, the most shared memory)? Then how many run at once.
    const Plan largest =
        persistent::plan_for_cluster(B, H, C, directions, static_cast<std::size_t>(smem_optin), 1);
    if (!largest) {
      if (why.empty()) {
        why = "H=" + std::to_string(H) + " needs " +
              std::to_string(persistent::weight_bytes_per_block(H, C) / 1024) +
              " KB of Wh per block in clusters of " + std::to_string(C) + " (the device gives " +
              std::to_string(smem_optin / 1024) + " KB of shared memory per block)";
      }
      continue;
    }
    const int active = max_active_clusters(largest);
    if (active < 1) {
      why += (why.empty() ? "" : "; ") + std::string("the device cannot run clusters of ") +
             std::to_string(C) + " blocks with " + std::to_string(largest.forward_smem / 1024) +
             " KB of shared memory each";
      continue;
    }
    const Plan plan = persistent::plan_for_cluster(B, H, C, directions,
                                                   static_cast<std::size_t>(smem_optin), active);
    if (plan && max_active_clusters(plan) >= 1) return plan;
  }
  return fail(why.empty() ? "no cluster size fits" : why);
}

int persistent_lstm_max_active_clusters(const Plan& plan) {
  return plan ? max_active_clusters(plan) : 0;
}

void persistent_lstm_forward(const Plan& plan, int T, int B, int H, float forget_bias,
                             const PersistentLstmDirection* dirs, int directions,
                             cudaStream_t stream) {
  check_launch(plan, T, B, H, dirs, directions);
  for (int i = 0; i < directions; ++i) {
    const PersistentLstmDirection& d = dirs[i];
    CURNN_CHECK_ARG(d.wh && d.bias && d.pre && d.gates && d.c && d.h,
                    "null forward input or output (direction " << i << ")");
    CURNN_CHECK_ARG(!d.mask || d.y, "a dropout mask without y (direction " << i << ")");
  }
  launch(lstm_persistent_forward_kernel, plan, plan.forward_threads, plan.forward_smem,
         launch_shape(plan, T, B, H, forget_bias), direction_pair(dirs, directions), directions,
         stream);
}

void persistent_lstm_backward(const Plan& plan, int T, int B, int H,
                              const PersistentLstmDirection* dirs, int directions,
                              cudaStream_t stream) {
  check_launch(plan, T, B, H, dirs, directions);
  for (int i = 0; i < directions; ++i) {
    const PersistentLstmDirection& d = dirs[i];
    CURNN_CHECK_ARG(d.wh && d.pre && d.gates && d.c && d.dy,
                    "null backward input or output (direction " << i << ")");
  }
  launch(lstm_persistent_backward_kernel, plan, plan.backward_threads, plan.backward_smem,
         launch_shape(plan, T, B, H, 0.f), direction_pair(dirs, directions), directions, stream);
}

}  // namespace curnn::cuda
