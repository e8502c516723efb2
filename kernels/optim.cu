// Optimizer kernels: SGD (dense and sparse rows), TensorFlow's clip_by_global_norm, TensorFlow's
// Adam.
//
//   sgd_update:          p -= lr * g                                         (per element)
//                        (lr, and sgd_update_rows' lr, may be read from device memory instead of
//                        the launch arguments: the variant a captured CUDA Graph replays)
//   sgd_update_rows:     table[r, :] -= lr * sum_{i: rows[i] == r, in order} row_grads[i, :]
//   clip_by_global_norm: norm = sqrt(sum_k sum_i t_k[i]^2);  t_k *= clip / max(norm, clip)
//                        (NaN-filled tensors when the norm is NaN or Inf, as TensorFlow)
//   adam_update:         m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); p -= lr_t m / (sqrt(v) +
//   eps)
//
// The spec is include/curnn/ref/optim.hpp (the per-element formulas sgd_element/adam_element are
// shared with it); tests: tests/optim_test.cpp (reference semantics) and
// tests/optim_cuda_test.cpp (these kernels against the reference); bench/optim_cuda_bench.cpp.
//
// Versions and design:
// - Dense SGD and Adam are memory-bound elementwise kernels (12 and 28 bytes per element): a
//   grid-stride loop over 128-bit packs when every pointer is 16-byte aligned (scalar tail),
//   else over single floats.
// - Sparse-row SGD is deterministic with duplicate rows: a stable cub radix sort of (row, i)
//   groups equal rows with their positions i in increasing order; one warp per sorted position,
//   and the warp at the head of each group of equal rows sums the group's gradient rows in that
//   order (lanes over columns) and applies them once. No atomics. Out-of-range rows are skipped
//   and reported through the caller's id-error slot (report_bad_id, by their lowest position i).
// - clip_by_global_norm runs entirely on the device, with no host round trip: (1) one block per
//   fixed chunk of kClipChunk elements of each tensor writes the sum of squares of its chunk to
//   a partial in the workspace (double accumulation); (2) one block sums the partials in a fixed
//   order (double), writes the norm and the scale; (3) a kernel reads the scale from device
//   memory and multiplies every element (it returns at once when the scale is exactly 1, i.e.
//   norm <= clip_norm, since t * 1 == t). The chunking depends only on the tensor sizes, so the
//   norm is bitwise reproducible. Accumulating in double also means the sum of squares cannot
//   overflow where TensorFlow's float32 sum would (the one intended difference).
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>
#include <cstdint>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/optim.hpp"
#include "curnn/ref/optim.hpp"

namespace curnn::cuda {
namespace {

constexpr int kThreads = 256;

// ---- elementwise: SGD and Adam ------------------------------------------------------------------

// W consecutive floats, one 128-bit access when W == 4.
template <int W>
struct alignas(4 * W) Pack {
  float v[W];
};
template <int W>
__device__ __forceinline__ Pack<W> load(const float* p) {
  return *reinterpret_cast<const Pack<W>*>(p);
}
template <int W>
__device__ __forceinline__ void store(float* p, const Pack<W>& x) {
  *reinterpret_cast<Pack<W>*>(p) = x;
}

bool aligned16(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

// The learning rate is lr_device[0] when lr_device is given (read by the kernel: a captured CUDA
// Graph replays with the value there), else lr.
struct SgdOp {
  float lr;
  const float* __restrict__ lr_device;
  const float* __restrict__ grad;
  float* __restrict__ param;
  template <int W>
  __device__ __forceinline__ void apply(std::int64_t i) const {
    const float rate = lr_device ? *lr_device : lr;
    const Pack<W> g = load<W>(grad + i);
    Pack<W> p = load<W>(param + i);
#pragma unroll
    for (int w = 0; w < W; ++w) p.v[w] = ref::sgd_element(rate, g.v[w], p.v[w]);
    store<W>(param + i, p);
  }
  bool aligned() const {
    return aligned16(grad) && aligned16(param);
  }
};

// alpha_device: as SgdOp's lr_device, for alpha (the bias-corrected step size lr_t).
struct AdamOp {
  float alpha, one_minus_beta1, one_minus_beta2, epsilon;
  const float* __restrict__ alpha_device;
  const float* __restrict__ grad;
  float* __restrict__ param;
  float* __restrict__ m;
  float* __restrict__ v;
  template <int W>
  __device__ __forceinline__ void apply(std::int64_t i) const {
    const Pack<W> g = load<W>(grad + i);
    Pack<W> p = load<W>(param + i), mm = load<W>(m + i), vv = load<W>(v + i);
    const float step_size = alpha_device ? *alpha_device : alpha;
#pragma unroll
    for (int w = 0; w < W; ++w) {
      ref::adam_element(step_size, one_minus_beta1, one_minus_beta2, epsilon, g.v[w], p.v[w],
                        mm.v[w], vv.v[w]);
    }
    store<W>(param + i, p);
    store<W>(m + i, mm);
    store<W>(v + i, vv);
  }
  bool aligned() const {
    return aligned16(grad) && aligned16(param) && aligned16(m) && aligned16(v);
  }
};

// Grid-stride loop over packs of W elements [i, i + W), then the n % W tail one by one.
template <int W, class Op>
__global__ void __launch_bounds__(kThreads) elementwise_kernel(Op op, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t packs = n / W;
  for (std::int64_t p = tid; p < packs; p += stride) op.template apply<W>(p * W);
  for (std::int64_t i = packs * W + tid; i < n; i += stride) op.template apply<1>(i);
}

template <class Op>
void launch_elementwise(const Op& op, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  if (op.aligned()) {
    elementwise_kernel<4><<<detail::grid_for(n / 4 + 1, kThreads), kThreads, 0, stream>>>(op, n);
  } else {
    elementwise_kernel<1><<<detail::grid_for(n, kThreads), kThreads, 0, stream>>>(op, n);
  }
  CURNN_CUDA_CHECK_LAUNCH();
}

// ---- sparse-row SGD -----------------------------------------------------------------------------

__global__ void iota_kernel(std::int32_t* __restrict__ out /* [N] */, std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = static_cast<std::int32_t>(i);
}

// One warp per sorted position s; the warp at the head of a run of equal rows owns the run.
// lr_device: as SgdOp.
__global__ void __launch_bounds__(kThreads)
    sgd_rows_kernel(float lr, const float* __restrict__ lr_device,
                    const std::int32_t* __restrict__ sorted_rows /* [N] */,
                    const std::int32_t* __restrict__ order /* [N] */,
                    const float* __restrict__ row_grads /* [N, E] */,
                    float* __restrict__ table /* [V, E] */, std::int64_t n, std::int64_t e,
                    std::int64_t v, unsigned long long* bad_id) {
  const std::int64_t s = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (s >= n) return;
  const std::int32_t r = sorted_rows[s];
  if (s > 0 && sorted_rows[s - 1] == r) return;  // not the head of its run
  if (r < 0 || r >= v) {  // out of range: skipped; order[s] is the run's lowest position
    if (lane == 0) detail::report_bad_id(bad_id, order[s], r);
    return;
  }
  const float rate = lr_device ? *lr_device : lr;
  std::int64_t end = s + 1;
  while (end < n && sorted_rows[end] == r) ++end;
  float* __restrict__ dst = table + static_cast<std::int64_t>(r) * e;
  for (std::int64_t c = lane; c < e; c += 32) {
    float sum = 0.f;
    for (std::int64_t j = s; j < end; ++j)
      sum += row_grads[static_cast<std::int64_t>(order[j]) * e + c];
    dst[c] = ref::sgd_element(rate, sum, dst[c]);
  }
}

// Workspace layout of sgd_update_rows: iota [N], sorted rows [N], order [N], cub scratch.
std::size_t round_up(std::size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

std::size_t radix_sort_temp_bytes(std::int64_t n) {
  std::size_t bytes = 0;
  CURNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, bytes, static_cast<const std::int32_t*>(nullptr),
      static_cast<std::int32_t*>(nullptr), static_cast<const std::int32_t*>(nullptr),
      static_cast<std::int32_t*>(nullptr), static_cast<int>(n)));
  return bytes;
}

// ---- clip_by_global_norm ------------------------------------------------------------------------

constexpr int kClipPerThread = 16;
constexpr std::int64_t kClipChunk = kThreads * kClipPerThread;  // elements per block
constexpr int kMaxTensorsPerLaunch = 64;                        // kernel-parameter table

// Up to kMaxTensorsPerLaunch tensors, passed by value as a kernel parameter (1.6 KB).
// Block b works on chunk b - first_block[k] of the tensor k with first_block[k] <= b <
// first_block[k + 1].
struct TensorTable {
  float* ptr[kMaxTensorsPerLaunch];
  std::int64_t size[kMaxTensorsPerLaunch];
  std::int64_t first_block[kMaxTensorsPerLaunch + 1];
  int count;
};

struct Chunk {
  float* data;
  std::int64_t begin, end;  // element range in data
};

__device__ __forceinline__ Chunk chunk_of_block(const TensorTable& t) {
  const std::int64_t b = blockIdx.x;
  int k = 0;
  while (k + 1 < t.count && b >= t.first_block[k + 1]) ++k;
  const std::int64_t begin = (b - t.first_block[k]) * kClipChunk;
  return {t.ptr[k], begin, begin + kClipChunk < t.size[k] ? begin + kClipChunk : t.size[k]};
}

// partials[b] = sum of squares of block b's chunk, in double.
__global__ void __launch_bounds__(kThreads)
    sum_squares_kernel(TensorTable table, double* __restrict__ partials) {
  const Chunk c = chunk_of_block(table);
  float x[kClipPerThread];
#pragma unroll
  for (int k = 0; k < kClipPerThread; ++k) {  // all loads in flight before the FMAs
    const std::int64_t i = c.begin + k * kThreads + threadIdx.x;
    x[k] = i < c.end ? c.data[i] : 0.f;
  }
  double s = 0.0;
#pragma unroll
  for (int k = 0; k < kClipPerThread; ++k) s = fma(static_cast<double>(x[k]), x[k], s);
  __shared__ double scratch[32];
  s = detail::block_sum(s, scratch);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

constexpr int kFinishThreads = 1024;

// One block: norm = sqrt(sum of partials [P]) -> norm_out[0]; scale -> scale_out[0].
__global__ void __launch_bounds__(kFinishThreads)
    finish_norm_kernel(const double* __restrict__ partials, std::int64_t p, double clip_norm,
                       float* __restrict__ norm_out, float* __restrict__ scale_out) {
  double s = 0.0;
  for (std::int64_t i = threadIdx.x; i < p; i += blockDim.x) s += partials[i];
  __shared__ double scratch[32];
  s = detail::block_sum(s, scratch);
  if (threadIdx.x == 0) {
    const double norm = sqrt(s);
    *norm_out = static_cast<float>(norm);
    *scale_out = static_cast<float>(ref::clip_scale(norm, clip_norm));
  }
}

__global__ void __launch_bounds__(kThreads)
    scale_tensors_kernel(TensorTable table, const float* __restrict__ scale_in) {
  const float scale = *scale_in;
  if (scale == 1.f) return;  // norm <= clip_norm: t * 1 == t, nothing to write
  const Chunk c = chunk_of_block(table);
#pragma unroll
  for (int k = 0; k < kClipPerThread; ++k) {
    const std::int64_t i = c.begin + k * kThreads + threadIdx.x;
    if (i < c.end) c.data[i] *= scale;
  }
}

// Splits the tensor list into launches of at most kMaxTensorsPerLaunch non-empty tensors and
// calls f(table, first_partial) for each; returns the total number of blocks (partials).
template <class F>
std::int64_t for_each_table(float* const* tensors, const std::int64_t* sizes, int count, F f) {
  TensorTable table{};
  std::int64_t total = 0;
  auto flush = [&] {
    if (table.count == 0) return;
    const std::int64_t blocks = table.first_block[table.count];
    f(table, total);
    total += blocks;
    table = TensorTable{};
  };
  for (int k = 0; k < count; ++k) {
    if (sizes[k] == 0) continue;
    const int j = table.count++;
    table.ptr[j] = tensors ? tensors[k] : nullptr;
    table.size[j] = sizes[k];
    table.first_block[j + 1] = table.first_block[j] + math::ceil_div(sizes[k], kClipChunk);
    if (table.count == kMaxTensorsPerLaunch) flush();
  }
  flush();
  return total;
}

}  // namespace

// ---- launchers ----------------------------------------------------------------------------------

void sgd_update(float lr, const float* grad, float* param, std::int64_t N, cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0, "N = " << N);
  CURNN_CHECK_ARG(N == 0 || (grad && param), "null grad or param");
  launch_elementwise(SgdOp{lr, nullptr, grad, param}, N, stream);
}

void sgd_update(const float* lr_device, const float* grad, float* param, std::int64_t N,
                cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0, "N = " << N);
  CURNN_CHECK_ARG(lr_device, "null lr_device");
  CURNN_CHECK_ARG(N == 0 || (grad && param), "null grad or param");
  launch_elementwise(SgdOp{0.f, lr_device, grad, param}, N, stream);
}

std::size_t sgd_update_rows_workspace_bytes(std::int64_t N) {
  CURNN_CHECK_ARG(N >= 0 && N <= INT32_MAX, "N = " << N);
  if (N == 0) return 0;
  return 3 * round_up(static_cast<std::size_t>(N) * sizeof(std::int32_t)) +
         radix_sort_temp_bytes(N);
}

namespace {

void launch_sgd_update_rows(float lr, const float* lr_device, const std::int32_t* rows,
                            const float* row_grads, float* table, std::int64_t N, std::int64_t E,
                            std::int64_t V, void* workspace, std::size_t workspace_bytes,
                            unsigned long long* bad_id, cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0 && N <= INT32_MAX && E >= 0 && V >= 0,
                  "N = " << N << ", E = " << E << ", V = " << V);
  if (N == 0 || E == 0) return;
  CURNN_CHECK_ARG(rows && row_grads && table, "null rows, row_grads or table");
  CURNN_CHECK_ARG(
      workspace && workspace_bytes >= sgd_update_rows_workspace_bytes(N),
      "workspace of " << workspace_bytes << " bytes, need " << sgd_update_rows_workspace_bytes(N));
  const std::size_t ids_bytes = round_up(static_cast<std::size_t>(N) * sizeof(std::int32_t));
  auto* base = static_cast<unsigned char*>(workspace);
  auto* positions = reinterpret_cast<std::int32_t*>(base);                // [N]: 0..N-1
  auto* sorted_rows = reinterpret_cast<std::int32_t*>(base + ids_bytes);  // [N]
  auto* order = reinterpret_cast<std::int32_t*>(base + 2 * ids_bytes);    // [N]
  void* sort_temp = base + 3 * ids_bytes;
  std::size_t sort_bytes = workspace_bytes - 3 * ids_bytes;

  iota_kernel<<<math::ceil_div<std::int64_t>(N, kThreads), kThreads, 0, stream>>>(positions, N);
  CURNN_CUDA_CHECK_LAUNCH();
  // All 32 key bits: sorting fewer would let out-of-range (e.g. negative) rows interleave with
  // a valid row's run and split it. Radix sort is stable: equal rows keep increasing i.
  CURNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(sort_temp, sort_bytes, rows, sorted_rows,
                                                   positions, order, static_cast<int>(N), 0, 32,
                                                   stream));
  const std::int64_t threads = N * 32;
  sgd_rows_kernel<<<math::ceil_div<std::int64_t>(threads, kThreads), kThreads, 0, stream>>>(
      lr, lr_device, sorted_rows, order, row_grads, table, N, E, V, bad_id);
  CURNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

void sgd_update_rows(float lr, const std::int32_t* rows, const float* row_grads, float* table,
                     std::int64_t N, std::int64_t E, std::int64_t V, void* workspace,
                     std::size_t workspace_bytes, unsigned long long* bad_id, cudaStream_t stream) {
  launch_sgd_update_rows(lr, nullptr, rows, row_grads, table, N, E, V, workspace, workspace_bytes,
                         bad_id, stream);
}

void sgd_update_rows(const float* lr_device, const std::int32_t* rows, const float* row_grads,
                     float* table, std::int64_t N, std::int64_t E, std::int64_t V, void* workspace,
                     std::size_t workspace_bytes, unsigned long long* bad_id, cudaStream_t stream) {
  CURNN_CHECK_ARG(lr_device, "null lr_device");
  launch_sgd_update_rows(0.f, lr_device, rows, row_grads, table, N, E, V, workspace,
                         workspace_bytes, bad_id, stream);
}

std::size_t clip_by_global_norm_workspace_bytes(const std::int64_t* sizes, int count) {
  CURNN_CHECK_ARG(count >= 0 && (count == 0 || sizes), "count = " << count);
  for (int k = 0; k < count; ++k) CURNN_CHECK_ARG(sizes[k] >= 0, "sizes[" << k << "] < 0");
  const std::int64_t partials =
      for_each_table(nullptr, sizes, count, [](const TensorTable&, std::int64_t) {});
  // partials [P] (double), then the scale (float)
  return round_up(static_cast<std::size_t>(partials) * sizeof(double)) + 256;
}

void clip_by_global_norm(float* const* tensors, const std::int64_t* sizes, int count,
                         float clip_norm, float* norm_out, void* workspace,
                         std::size_t workspace_bytes, cudaStream_t stream) {
  CURNN_CHECK_ARG(clip_norm > 0.f && std::isfinite(clip_norm), "clip_norm = " << clip_norm);
  CURNN_CHECK_ARG(norm_out, "null norm_out");
  CURNN_CHECK_ARG(count == 0 || tensors, "null tensor list");
  for (int k = 0; k < count; ++k) {
    CURNN_CHECK_ARG(sizes[k] == 0 || tensors[k], "tensors[" << k << "] is null");
  }
  const std::size_t need = clip_by_global_norm_workspace_bytes(sizes, count);
  CURNN_CHECK_ARG(workspace && workspace_bytes >= need,
                  "workspace of " << workspace_bytes << " bytes, need " << need);
  auto* partials = static_cast<double*>(workspace);
  auto* scale = reinterpret_cast<float*>(static_cast<unsigned char*>(workspace) + need - 256);

  const std::int64_t p =
      for_each_table(tensors, sizes, count, [&](const TensorTable& table, std::int64_t first) {
        const auto blocks = static_cast<unsigned>(table.first_block[table.count]);
        sum_squares_kernel<<<blocks, kThreads, 0, stream>>>(table, partials + first);
        CURNN_CUDA_CHECK_LAUNCH();
      });
  finish_norm_kernel<<<1, kFinishThreads, 0, stream>>>(partials, p, clip_norm, norm_out, scale);
  CURNN_CUDA_CHECK_LAUNCH();
  for_each_table(tensors, sizes, count, [&](const TensorTable& table, std::int64_t) {
    const auto blocks = static_cast<unsigned>(table.first_block[table.count]);
    scale_tensors_kernel<<<blocks, kThreads, 0, stream>>>(table, scale);
    CURNN_CUDA_CHECK_LAUNCH();
  });
}

void adam_update(float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon,
                 const float* grad, float* param, float* m, float* v, std::int64_t N,
                 cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0, "N = " << N);
  CURNN_CHECK_ARG(N == 0 || (grad && param && m && v), "null grad, param, m or v");
  launch_elementwise(
      AdamOp{alpha, one_minus_beta1, one_minus_beta2, epsilon, nullptr, grad, param, m, v}, N,
      stream);
}

void adam_update(const float* alpha_device, float one_minus_beta1, float one_minus_beta2,
                 float epsilon, const float* grad, float* param, float* m, float* v, std::int64_t N,
                 cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0, "N = " << N);
  CURNN_CHECK_ARG(alpha_device, "null alpha_device");
  CURNN_CHECK_ARG(N == 0 || (grad && param && m && v), "null grad, param, m or v");
  launch_elementwise(
      AdamOp{0.f, one_minus_beta1, one_minus_beta2, epsilon, alpha_device, grad, param, m, v}, N,
      stream);
}

}  // namespace curnn::cuda
