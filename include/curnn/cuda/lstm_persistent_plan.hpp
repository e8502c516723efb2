// The partition and launch plan of the persistent LSTM loop (kernels/lstm_persistent.cu, design
// notes there): which hidden units each block of a cluster owns, how a block's threads split the
// work, and how much shared memory that takes; and the per-direction arguments of its launchers
// (include/curnn/cuda/lstm_persistent.hpp). Pure integer arithmetic with no CUDA headers, so
// that the kernel (device code) and the host planner share one definition and the CPU tests
// (tests/persistent_loop_test.cpp) check it without a GPU.
#pragma once

#include <cstddef>
#include <cstdint>

#include "curnn/math.hpp"

namespace curnn::cuda::persistent {

constexpr int kRowsPerTile = 4;        // batch rows of a thread's tile: one float4 of a state row
constexpr int kMaxThreads = 512;       // threads per block (the kernels' __launch_bounds__)
constexpr int kMaxClusterSize = 16;    // Hopper's non-portable maximum
constexpr int kMaxKSplits = 16;        // forward split of the H-long recurrent dot products
constexpr int kMinSliceLength = 8;     // ... into slices of at least this many k
constexpr int kMinRowsPerCluster = 8;  // below this, more clusters would mostly add padding

// The smallest multiple of 4 that is >= n4 (a multiple of 4) and an odd multiple of 4. Row
// strides of the shared buffers read as 16-byte vectors at consecutive rows by consecutive lanes:
// an odd number of 16-byte chunks per row puts 8 such lanes on 8 distinct 4-bank groups.
CURNN_HD int conflict_free_stride(int n4) {
  return ((n4 / 4) | 1) * 4;
}

// Block `rank` of a C-block cluster owns hidden units [unit_begin(rank), unit_begin(rank + 1)):
// H / C units, rounded down or up (sizes differ by at most one; none is empty when C <= H).
CURNN_HD int unit_begin(int H, int C, int rank) {
  return static_cast<int>(static_cast<std::int64_t>(rank) * H / C);
}
// The block whose range holds unit k: the largest j with unit_begin(j) <= k.
CURNN_HD int unit_owner(int H, int C, int k) {
  return static_cast<int>((static_cast<std::int64_t>(k + 1) * C - 1) / H);
}
// Forward split-K: slice s of KS covers k in [slice_begin(s), slice_begin(s + 1)).
CURNN_HD int slice_begin(int H, int KS, int s) {
  return static_cast<int>(static_cast<std::int64_t>(s) * H / KS);
}

struct Plan {
  int cluster_size = 0;    // C blocks per cluster (0: no plan)
  int batch_clusters = 0;  // clusters per direction; cluster i runs rows [i * rows, ...)
  int rows = 0;            // batch rows per cluster, a multiple of 4 (the last may have fewer)
  int units = 0;           // hidden units of the largest block, ceil(H / C)
  int w_stride = 0;        // floats per k-row of a block's weight slice [H][units][4 gates]
  int state_stride = 0;    // floats per k-row of the k-major state buffers [H][rows]
  int tiles = 0;           // (rows / 4) * units: the cell tiles of a block (4 rows x 1 unit)
  int k_splits = 0;        // forward: threads per tile, each summing one slice of k
  int forward_threads = 0, backward_threads = 0;
  std::size_t forward_smem = 0, backward_smem = 0;  // dynamic shared memory, bytes
  explicit operator bool() const { return cluster_size > 0; }
};

// Shared memory of one block, in floats (layouts in kernels/lstm_persistent.cu):
// forward: weights [H][w_stride], h double buffer [2][H][state_stride], partial sums of splits
// 1..KS-1 [KS-1][4 rows][tiles][4 gates];
// backward: weights, dh_prev partials from every block [2][C][units][state_stride], dPre of the
// block's tiles [4 gates][tiles][4 rows], and the owner of every k [H] (ints).
inline std::size_t forward_smem_floats(int H, const Plan& p) {
  return static_cast<std::size_t>(H) * p.w_stride +
         2 * static_cast<std::size_t>(H) * p.state_stride +
         static_cast<std::size_t>(p.k_splits - 1) * 16 * p.tiles;
}
inline std::size_t backward_smem_floats(int H, const Plan& p) {
  return static_cast<std::size_t>(H) * p.w_stride +
         2 * static_cast<std::size_t>(p.cluster_size) * p.units * p.state_stride +
         16 * static_cast<std::size_t>(p.tiles) + static_cast<std::size_t>(H);
}

// The bytes of Wh [H, 4H] that each block of a C-block cluster holds (for messages).
inline std::size_t weight_bytes_per_block(int H, int C) {
  const int units = math::ceil_div(H, C);
  return static_cast<std::size_t>(H) * conflict_free_stride(4 * units) * sizeof(float);
}

// The plan for B rows and H units with clusters of C blocks on a device that gives a block
// `max_smem` bytes of dynamic shared memory and runs `max_active_clusters` such clusters at once
// (1 when unknown), for `directions` independent directions in one launch. Rows per cluster: as
// few as spreads the batch over the clusters that run at once (at least kMinRowsPerCluster), and
// never more than fit the shared memory and kMaxThreads tiles. Returns a plan whose
// cluster_size is 0 when C > H or not even 4 rows fit.
inline Plan plan_for_cluster(int B, int H, int C, int directions, std::size_t max_smem,
                             int max_active_clusters) {
  Plan p;
  if (B < 1 || H < 1 || C < 1 || C > kMaxClusterSize || C > H || directions < 1) return p;
  p.cluster_size = C;
  p.units = math::ceil_div(H, C);
  p.w_stride = conflict_free_stride(4 * p.units);
  const auto set_rows = [&](int rows) {
    p.rows = rows;
    p.state_stride = conflict_free_stride(rows);
    p.tiles = rows / kRowsPerTile * p.units;
  };
  const auto fits = [&](int k_splits) {
    p.k_splits = k_splits;
    return p.tiles <= kMaxThreads && forward_smem_floats(H, p) * sizeof(float) <= max_smem &&
           backward_smem_floats(H, p) * sizeof(float) <= max_smem;
  };
  // The most rows that fit (shared memory grows with rows), then the parallel target.
  const int all_rows = math::ceil_div(B, kRowsPerTile) * kRowsPerTile;
  int most = all_rows;
  for (; most >= kRowsPerTile; most -= kRowsPerTile) {
    set_rows(most);
    if (fits(1)) break;
  }
  if (most < kRowsPerTile) return Plan{};
  const int concurrent =
      max_active_clusters / directions > 1 ? max_active_clusters / directions : 1;
  int target = math::ceil_div(math::ceil_div(B, concurrent), kRowsPerTile) * kRowsPerTile;
  if (target < kMinRowsPerCluster)
    target = all_rows < kMinRowsPerCluster ? all_rows : kMinRowsPerCluster;
  // As few clusters as that allows, with the rows spread evenly over them.
  p.batch_clusters = math::ceil_div(B, target < most ? target : most);
  set_rows(math::ceil_div(math::ceil_div(B, p.batch_clusters), kRowsPerTile) * kRowsPerTile);
  // Forward split-K: as many slices as fill kMaxThreads, each at least kMinSliceLength long,
  // fewer if their partial sums do not fit.
  int k_splits = kMaxThreads / p.tiles;
  if (k_splits > kMaxKSplits) k_splits = kMaxKSplits;
  if (k_splits > H / kMinSliceLength) k_splits = H / kMinSliceLength;
  if (k_splits < 1) k_splits = 1;
  while (k_splits > 1 && !fits(k_splits)) --k_splits;
  fits(k_splits);
  const auto warps = [](int n) { return math::ceil_div(n, 32) * 32; };
  p.forward_threads = warps(p.k_splits * p.tiles);
  const int backward_work = p.rows / kRowsPerTile * H;  // phase B tiles (4 rows x 1 k)
  p.backward_threads = warps(backward_work < kMaxThreads ? backward_work : kMaxThreads);
  if (p.backward_threads < warps(p.tiles)) p.backward_threads = warps(p.tiles);
  p.forward_smem = forward_smem_floats(H, p) * sizeof(float);
  p.backward_smem = backward_smem_floats(H, p) * sizeof(float);
  return p;
}

}  // namespace curnn::cuda::persistent

namespace curnn::cuda {

// One direction's tensors (nn::LstmTape and the loop's arguments), indexed by input time t.
struct PersistentLstmDirection {
  const float* wh = nullptr;       // [H, 4H]
  const float* bias = nullptr;     // [4H]
  bool reverse = false;            // steps t = T-1 .. 0 (state slots as in nn::LstmTape)
  float* pre = nullptr;            // [T, B, 4H]: x_t Wx on entry to forward; dPre after backward
  float* gates = nullptr;          // [T, B, 4H] activated gates (written by forward)
  float* c = nullptr;              // [T+2, B, H] cell state slots (initial slot read, step slots
  float* h = nullptr;              // [T+2, B, H] hidden state slots      written by forward)
  const float* mask = nullptr;     // [T, B, H] output dropout mask, or null
  float* y = nullptr;              // [T, B, H] forward output h * mask (required with a mask;
                                   // else null, or a copy of h)
  float* h_final = nullptr;        // [B, H] the final h (the last step's), or null
  float* c_final = nullptr;        // [B, H] the final c, or null
  const float* dy = nullptr;       // [T, B, H] gradient reaching y (backward)
  const float* dh_last = nullptr;  // [B, H] gradient reaching the final h, or null (zero)
  const float* dc_last = nullptr;  // [B, H] gradient reaching the final c, or null (zero)
  float* dh_first = nullptr;       // [B, H] gradient reaching the initial h, or null
  float* dc_first = nullptr;       // [B, H] gradient reaching the initial c, or null
};

}  // namespace curnn::cuda
