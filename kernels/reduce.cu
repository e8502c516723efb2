// Reductions and elementwise utilities.
//
//   column_sum   out[c] (+)= sum_n x[n, c]     x [N, C]    (bias gradients over B*T rows)
//   sum          out[0] (+)= sum_i x[i]        x [N]
//   sum_squares  out[0] (+)= sum_i x[i]^2      x [N]       (global-norm clipping)
//   all_finite   no NaN/Inf in x: the same reduction over (isfinite(x[i]) ? 0 : 1)
//   fill, scale, axpy (y += alpha x), mul (out = a * b): elementwise
//   add_row_vector x[n, c] += v[c]            x [N, C]    (the bias of a dense layer)
// The spec is include/curnn/ref/reduce.hpp; tests: tests/reduce_test.cpp (reference) and
// tests/reduce_cuda_test.cpp (these kernels against it, bitwise reproducibility).
//
// Versions (one each, all deterministic, no atomics):
// - column_sum: a block of 32 columns x 8 row lanes sums one row chunk of a 32-column tile
//   (each warp reads 128 contiguous bytes of a row), the 8 lanes are combined in shared memory in
//   a fixed order; with one chunk the block writes out directly, otherwise it writes partials
//   [chunks, C] to the workspace and a second kernel sums them in chunk order. The chunk count
//   depends only on (N, C), so results are bitwise reproducible.
// - sum / sum_squares / all_finite: pass 1 has a grid of G <= 1024 blocks (G depends only on N)
//   striding over 4-element groups; each thread accumulates its groups in order, a block tree
//   (common.cuh's block_sum, in double) gives G partials; pass 2 (one block) sums them in a fixed
//   order. With G == 1, pass 1 writes the result itself. A group is loaded as one float4 when x is
//   16-byte aligned and as four floats otherwise, in the same order, so the result does not depend
//   on alignment either.
// - elementwise: grid-stride over float4 groups when every pointer is 16-byte aligned, scalars
//   otherwise; a tail of N % 4 elements is handled by the first threads of block 0.
// Accumulation is in double everywhere (per thread, in the trees and in the partials), rounded to
// float once at the end: the result is within about one float rounding of the exact sum however
// much the terms cancel, as the reference (which also sums in double). FP64 adds cost nothing
// next to the loads in these memory-bound kernels.
// Measured on an H100 SXM (cold L2, bench/reduce_cuda_bench.cpp): sum of 64M floats 2.8 TB/s,
// of 10M 1.8 TB/s (22 us); column_sum [8192, 8192] 2.7 TB/s, the bias-gradient shapes
// [700, 2600..10000] 12-19 us (two launches: latency, not bandwidth).
#include <cstdint>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/reduce.hpp"

namespace curnn::cuda {
namespace {

using detail::kFullMask;

// out = s, or out += s, rounded to float once.
__device__ __forceinline__ void write_result(float* out, double s, bool accumulate) {
  *out = static_cast<float>(accumulate ? static_cast<double>(*out) + s : s);
}

bool aligned16(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

// ---- column_sum ---------------------------------------------------------------------------------

constexpr int kColTile = 32;          // columns per block (one warp wide)
constexpr int kRowLanes = 8;          // warps per block, each on its own rows
constexpr int kMinRowsPerChunk = 64;  // at least 8 rows per thread before splitting rows further
constexpr int kTargetBlocks = 1024;   // enough to fill 132 SMs several times over

struct ColumnSumPlan {
  int tiles;           // ceil(C / 32)
  int chunks;          // row chunks (gridDim.y)
  int rows_per_chunk;  // ceil(N / chunks)
};

ColumnSumPlan plan_column_sum(int N, int C) {
  ColumnSumPlan p{};
  p.tiles = math::ceil_div(C, kColTile);
  const int by_blocks = math::ceil_div(kTargetBlocks, p.tiles > 0 ? p.tiles : 1);
  const int by_rows = math::ceil_div(N, kMinRowsPerChunk);
  p.chunks = by_blocks < by_rows ? by_blocks : by_rows;
  if (p.chunks < 1) p.chunks = 1;
  if (p.chunks > 65535) p.chunks = 65535;
  p.rows_per_chunk = math::ceil_div(N, p.chunks);
  return p;
}

// x [N, C]. Block (tile, chunk) sums rows [chunk * rows_per_chunk, ...) of columns
// [tile * 32, tile * 32 + 32). With one chunk it writes out [C] (accumulate or not); else it
// writes double partials [chunks, C].
__global__ void __launch_bounds__(kColTile* kRowLanes)
    column_sum_kernel(int N, int C, int rows_per_chunk, const float* __restrict__ x,
                      float* __restrict__ out, double* __restrict__ partials, bool accumulate) {
  __shared__ double lanes[kRowLanes][kColTile + 1];
  const int col = blockIdx.x * kColTile + threadIdx.x;
  const int begin = blockIdx.y * rows_per_chunk;
  const int end = min(N, begin + rows_per_chunk);
  double acc = 0.0;
  if (col < C) {
    // Rows begin + threadIdx.y, + 8, + 16, ...: four loads in flight, then one at a time.
    const std::int64_t stride = static_cast<std::int64_t>(kRowLanes) * C;
    const float* p = x + static_cast<std::int64_t>(begin + threadIdx.y) * C + col;
    int r = begin + threadIdx.y;
    for (; r + 3 * kRowLanes < end; r += 4 * kRowLanes, p += 4 * stride) {
      float v[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) v[k] = p[k * stride];
#pragma unroll
      for (int k = 0; k < 4; ++k) acc += v[k];
    }
    for (; r < end; r += kRowLanes, p += stride) acc += *p;
  }
  lanes[threadIdx.y][threadIdx.x] = acc;  // every lane writes, so every slot read is initialised
  __syncthreads();
  if (threadIdx.y != 0 || col >= C) return;
  double s = 0.0;
#pragma unroll
  for (int l = 0; l < kRowLanes; ++l) s += lanes[l][threadIdx.x];
  if (gridDim.y == 1) {
    write_result(out + col, s, accumulate);
  } else {
    partials[static_cast<std::int64_t>(blockIdx.y) * C + col] = s;
  }
}

// partials [chunks, C] -> out [C], summed in chunk order.
__global__ void column_sum_finalize_kernel(int chunks, int C, const double* __restrict__ partials,
                                           float* __restrict__ out, bool accumulate) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= C) return;
  double s = 0.0;
  for (int k = 0; k < chunks; ++k) s += partials[static_cast<std::int64_t>(k) * C + col];
  write_result(out + col, s, accumulate);
}

// ---- sum, sum_squares, all_finite
// -----------------------------------------------------------------

constexpr int kSumThreads = 256;
constexpr int kMaxSumBlocks = 1024;
constexpr std::int64_t kMinGroupsPerThread = 4;  // 16 elements per thread before adding blocks

struct Identity {
  __device__ __forceinline__ double operator()(float v) const { return v; }
};
struct Square {
  __device__ __forceinline__ double operator()(float v) const {
    return static_cast<double>(v) * v;  // exact in double
  }
};
struct NonFinite {
  __device__ __forceinline__ double operator()(float v) const { return isfinite(v) ? 0.0 : 1.0; }
};

int sum_blocks(std::int64_t N) {
  const std::int64_t groups = (N + 3) / 4;
  const std::int64_t b = math::ceil_div<std::int64_t>(groups, kSumThreads * kMinGroupsPerThread);
  return static_cast<int>(b < 1 ? 1 : (b > kMaxSumBlocks ? kMaxSumBlocks : b));
}

// Group q = x[4q .. 4q+3]: one 128-bit load when x is 16-byte aligned, else four 32-bit loads.
template <bool kAligned>
__device__ __forceinline__ float4 load_group(const float* __restrict__ x, std::int64_t q) {
  if constexpr (kAligned) {
    return reinterpret_cast<const float4*>(x)[q];
  } else {
    return make_float4(x[4 * q], x[4 * q + 1], x[4 * q + 2], x[4 * q + 3]);
  }
}

// Pass 1 over x [N] as groups of 4 elements (group q = x[4q .. 4q+3]) plus a tail of N % 4.
// With one block it writes out[0] (accumulate or not); otherwise partials[blockIdx.x], this block's
// double partial.
template <class Transform, bool kAligned>
__global__ void __launch_bounds__(kSumThreads)
    sum_kernel(std::int64_t N, const float* __restrict__ x, float* __restrict__ out,
               double* __restrict__ partials, bool accumulate) {
  __shared__ double scratch[32];
  const Transform t;
  const std::int64_t groups = N / 4;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  std::int64_t q = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  double acc = 0.0;
  // Groups q, q + stride, ...: four loads in flight per thread, then the rest one at a time.
  for (; q + 3 * stride < groups; q += 4 * stride) {
    float4 v[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) v[k] = load_group<kAligned>(x, q + k * stride);
#pragma unroll
    for (int k = 0; k < 4; ++k) acc += t(v[k].x) + t(v[k].y) + t(v[k].z) + t(v[k].w);
  }
  for (; q < groups; q += stride) {
    const float4 v = load_group<kAligned>(x, q);
    acc += t(v.x) + t(v.y) + t(v.z) + t(v.w);
  }
  if (blockIdx.x == 0 && threadIdx.x < N - 4 * groups) acc += t(x[4 * groups + threadIdx.x]);
  const double s = detail::block_sum(acc, scratch);
  if (threadIdx.x != 0) return;
  if (gridDim.x == 1) {
    write_result(out, s, accumulate);
  } else {
    partials[blockIdx.x] = s;
  }
}

// Pass 2: partials [G] -> out[0], one block, fixed order.
__global__ void __launch_bounds__(kSumThreads)
    sum_partials_kernel(int G, const double* __restrict__ partials, float* __restrict__ out,
                        bool accumulate) {
  __shared__ double scratch[32];
  double acc = 0.0;
  for (int i = threadIdx.x; i < G; i += blockDim.x) acc += partials[i];
  const double s = detail::block_sum(acc, scratch);
  if (threadIdx.x == 0) write_result(out, s, accumulate);
}

template <class Transform>
void reduce_all(std::int64_t N, const float* x, float* out, bool accumulate, void* workspace,
                cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0, "N=" << N);
  CURNN_CHECK_ARG(out, "null out");
  CURNN_CHECK_ARG(N == 0 || x, "null x");
  if (N == 0) {
    if (!accumulate) CURNN_CUDA_CHECK(cudaMemsetAsync(out, 0, sizeof(float), stream));
    return;
  }
  const int G = sum_blocks(N);
  double* partials = static_cast<double*>(workspace);
  CURNN_CHECK_ARG(G == 1 || partials, "null workspace");
  if (aligned16(x)) {
    sum_kernel<Transform, true><<<G, kSumThreads, 0, stream>>>(N, x, out, partials, accumulate);
  } else {
    sum_kernel<Transform, false><<<G, kSumThreads, 0, stream>>>(N, x, out, partials, accumulate);
  }
  CURNN_CUDA_CHECK_LAUNCH();
  if (G > 1) {
    sum_partials_kernel<<<1, kSumThreads, 0, stream>>>(G, partials, out, accumulate);
    CURNN_CUDA_CHECK_LAUNCH();
  }
}

// ---- elementwise
// ----------------------------------------------------------------------------------

constexpr int kMapThreads = 256;

// out[i] = op(in0[i], in1[i]); Op::kInputs says how many inputs are read (the others may be null).
// Pointers may alias (in-place ops), so they are not __restrict__.
template <class Op, int V>
__global__ void __launch_bounds__(kMapThreads)
    map_kernel(std::int64_t N, const float* in0, const float* in1, float* out, Op op) {
  const std::int64_t groups = N / V;
  for (std::int64_t q = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       q < groups; q += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    if constexpr (V == 4) {
      float4 a = make_float4(0.f, 0.f, 0.f, 0.f), b = a;
      if constexpr (Op::kInputs >= 1) a = reinterpret_cast<const float4*>(in0)[q];
      if constexpr (Op::kInputs >= 2) b = reinterpret_cast<const float4*>(in1)[q];
      reinterpret_cast<float4*>(out)[q] =
          make_float4(op(a.x, b.x), op(a.y, b.y), op(a.z, b.z), op(a.w, b.w));
    } else {
      out[q] = op(Op::kInputs >= 1 ? in0[q] : 0.f, Op::kInputs >= 2 ? in1[q] : 0.f);
    }
  }
  const std::int64_t i = groups * V + threadIdx.x;
  if (blockIdx.x == 0 && i < N) {
    out[i] = op(Op::kInputs >= 1 ? in0[i] : 0.f, Op::kInputs >= 2 ? in1[i] : 0.f);
  }
}

struct FillOp {
  static constexpr int kInputs = 0;
  float value;
  __device__ __forceinline__ float operator()(float, float) const { return value; }
};
struct ScaleOp {
  static constexpr int kInputs = 1;
  float alpha;
  __device__ __forceinline__ float operator()(float x, float) const { return alpha * x; }
};
struct AxpyOp {  // in0 = x, in1 = y
  static constexpr int kInputs = 2;
  float alpha;
  __device__ __forceinline__ float operator()(float x, float y) const { return y + alpha * x; }
};
struct MulOp {
  static constexpr int kInputs = 2;
  __device__ __forceinline__ float operator()(float a, float b) const { return a * b; }
};

template <class Op>
void map(std::int64_t N, const float* in0, const float* in1, float* out, Op op,
         cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0, "N=" << N);
  if (N == 0) return;
  CURNN_CHECK_ARG(out && (Op::kInputs < 1 || in0) && (Op::kInputs < 2 || in1), "null pointer");
  const bool vec =
      aligned16(out) && (Op::kInputs < 1 || aligned16(in0)) && (Op::kInputs < 2 || aligned16(in1));
  if (vec) {
    map_kernel<Op, 4><<<detail::grid_for((N + 3) / 4, kMapThreads), kMapThreads, 0, stream>>>(
        N, in0, in1, out, op);
  } else {
    map_kernel<Op, 1>
        <<<detail::grid_for(N, kMapThreads), kMapThreads, 0, stream>>>(N, in0, in1, out, op);
  }
  CURNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

std::size_t column_sum_workspace_bytes(int N, int C) {
  if (N <= 0 || C <= 0) return 0;
  const ColumnSumPlan p = plan_column_sum(N, C);
  return p.chunks > 1 ? static_cast<std::size_t>(p.chunks) * C * sizeof(double) : 0;
}

void column_sum(int N, int C, const float* x, float* out, bool accumulate, void* workspace,
                cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0 && C >= 0, "N=" << N << " C=" << C);
  if (C == 0) return;
  CURNN_CHECK_ARG(out, "null out");
  if (N == 0) {
    if (!accumulate) CURNN_CUDA_CHECK(cudaMemsetAsync(out, 0, sizeof(float) * C, stream));
    return;
  }
  CURNN_CHECK_ARG(x, "null x");
  const ColumnSumPlan p = plan_column_sum(N, C);
  double* partials = static_cast<double*>(workspace);
  CURNN_CHECK_ARG(p.chunks == 1 || partials, "null workspace");
  const dim3 grid(p.tiles, p.chunks), block(kColTile, kRowLanes);
  column_sum_kernel<<<grid, block, 0, stream>>>(N, C, p.rows_per_chunk, x, out, partials,
                                                accumulate);
  CURNN_CUDA_CHECK_LAUNCH();
  if (p.chunks > 1) {
    constexpr int kThreads = 256;
    column_sum_finalize_kernel<<<math::ceil_div(C, kThreads), kThreads, 0, stream>>>(
        p.chunks, C, partials, out, accumulate);
    CURNN_CUDA_CHECK_LAUNCH();
  }
}

std::size_t sum_workspace_bytes(std::int64_t N) {
  const int G = N > 0 ? sum_blocks(N) : 1;
  return G > 1 ? static_cast<std::size_t>(G) * sizeof(double) : 0;
}

void sum(std::int64_t N, const float* x, float* out, bool accumulate, void* workspace,
         cudaStream_t stream) {
  reduce_all<Identity>(N, x, out, accumulate, workspace, stream);
}

void sum_squares(std::int64_t N, const float* x, float* out, bool accumulate, void* workspace,
                 cudaStream_t stream) {
  reduce_all<Square>(N, x, out, accumulate, workspace, stream);
}

void fill(std::int64_t N, float* x, float value, cudaStream_t stream) {
  map(N, nullptr, nullptr, x, FillOp{value}, stream);
}

void scale(std::int64_t N, float* x, float alpha, cudaStream_t stream) {
  map(N, x, nullptr, x, ScaleOp{alpha}, stream);
}

void axpy(std::int64_t N, float alpha, const float* x, float* y, cudaStream_t stream) {
  map(N, x, y, y, AxpyOp{alpha}, stream);
}

void mul(std::int64_t N, const float* a, const float* b, float* out, cudaStream_t stream) {
  map(N, a, b, out, MulOp{}, stream);
}

// One thread per element of x [N, C], grid-stride; v [C] is read through the read-only path
// (it stays in L1/L2: C floats for N*C elements).
__global__ void add_row_vector_kernel(std::int64_t total, int C, const float* __restrict__ v,
                                      float* __restrict__ x) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    x[i] += __ldg(v + i % C);
  }
}

void add_row_vector(int N, int C, const float* v, float* x, cudaStream_t stream) {
  CURNN_CHECK_ARG(N >= 0 && C >= 0, "add_row_vector: N=" << N << " C=" << C);
  const std::int64_t total = static_cast<std::int64_t>(N) * C;
  if (total == 0) return;
  CURNN_CHECK_ARG(v && x, "add_row_vector: null pointer");
  constexpr int kThreads = 256;
  add_row_vector_kernel<<<detail::grid_for(total, kThreads), kThreads, 0, stream>>>(total, C, v, x);
  CURNN_CUDA_CHECK_LAUNCH();
}

// Workspace: the count at offset 0 (16 bytes), then the partials of the reduction.
std::size_t all_finite_workspace_bytes(std::int64_t N) {
  return 16 + sum_workspace_bytes(N);
}

bool all_finite(std::int64_t N, const float* x, void* workspace, cudaStream_t stream) {
  CURNN_CHECK_ARG(workspace, "null workspace");
  if (N == 0) return true;
  float* count = static_cast<float*>(workspace);
  reduce_all<NonFinite>(N, x, count, false, static_cast<char*>(workspace) + 16, stream);
  float host = 0.f;
  CURNN_CUDA_CHECK(cudaMemcpyAsync(&host, count, sizeof(float), cudaMemcpyDeviceToHost, stream));
  CURNN_CUDA_CHECK(cudaStreamSynchronize(stream));
  return host == 0.f;
}

}  // namespace curnn::cuda
