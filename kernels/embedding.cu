// Embedding lookup and its gradient on the GPU, float32, row-major.
//     gather:      out[n, :] = table[ids[n], :]                         n = 0..N-1
//     scatter_add: dtable[ids[n], :] += dout[n, :]   (repeated ids summed)
//
// Versions:
// - embedding_gather_kernel: one warp per row (8 rows per 256-thread block, grid-stride),
//   copying with the widest vector the row length and the pointers allow (float4 when E % 4 == 0
//   and both matrices are 16-byte aligned, float2 when E % 2 == 0 and 8-byte aligned, else float).
// - scatter-add, deterministic (the default): keys[n] = ids[n], positions[n] = n are sorted by
//   key with cub::DeviceRadixSort (stable, so equal ids keep increasing positions; only the
//   bits needed for V are sorted), then embedding_scatter_add_runs_kernel gives each run of
//   equal ids to one warp, which adds the run's dout rows into dtable in position order:
//   dtable[id] = ((dtable[id] + dout[p0]) + dout[p1]) + ...  No atomics, and exactly the order
//   of ref::embedding_scatter_add<float>, so the result is bitwise identical to it and to itself
//   run to run. A very frequent id serialises its run on one warp; with the experiments' batches
//   (N <= 700 ids per step) that is at most a few hundred rows.
// - scatter-add, atomic (ctx.deterministic() == false): one warp per position, atomicAdd into
//   dtable (vector atomicAdd of float2/float4 on sm_90+); the summation order of repeated ids
//   varies run to run.
// Ids outside [0, V) are reported through the caller's id-error slot (report_bad_id: the lowest
// position wins; the op turns it into the CPU's message at the context's next synchronisation),
// and never read or written out of bounds: gather writes a zero row, scatter-add skips them (the
// sort maps them to the sentinel key V, whose run is skipped).
// Reference: include/curnn/ref/embedding.hpp. Tests: tests/embedding_cuda_test.cpp.
#include <cub/device/device_radix_sort.cuh>

#include <cstdint>
#include <initializer_list>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/embedding.hpp"

namespace curnn::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;  // rows (or runs) handled by one block at a time

// ---- float / float2 / float4 rows -----------------------------------------------------------
template <class Vec>
constexpr int kVecFloats = sizeof(Vec) / sizeof(float);

__device__ __forceinline__ void add_to(float& a, float b) {
  a += b;
}
__device__ __forceinline__ void add_to(float2& a, float2 b) {
  a.x += b.x;
  a.y += b.y;
}
__device__ __forceinline__ void add_to(float4& a, float4 b) {
  a.x += b.x;
  a.y += b.y;
  a.z += b.z;
  a.w += b.w;
}

template <class Vec>
__device__ __forceinline__ Vec zero_vec() {
  Vec v;
  float* f = reinterpret_cast<float*>(&v);
#pragma unroll
  for (int i = 0; i < kVecFloats<Vec>; ++i) f[i] = 0.f;
  return v;
}

__device__ __forceinline__ void atomic_add_vec(float* p, float v) {
  atomicAdd(p, v);
}
__device__ __forceinline__ void atomic_add_vec(float2* p, float2 v) {
#if __CUDA_ARCH__ >= 900
  atomicAdd(p, v);
#else
  atomicAdd(&p->x, v.x);
  atomicAdd(&p->y, v.y);
#endif
}
__device__ __forceinline__ void atomic_add_vec(float4* p, float4 v) {
#if __CUDA_ARCH__ >= 900
  atomicAdd(p, v);
#else
  atomicAdd(&p->x, v.x);
  atomicAdd(&p->y, v.y);
  atomicAdd(&p->z, v.z);
  atomicAdd(&p->w, v.w);
#endif
}

// The widest vector (4, 2 or 1 floats) dividing E with every pointer aligned to it.
int vector_floats(int E, std::initializer_list<const void*> pointers) {
  for (int w : {4, 2}) {
    bool ok = E % w == 0;
    for (const void* p : pointers) ok = ok && reinterpret_cast<std::uintptr_t>(p) % (4 * w) == 0;
    if (ok) return w;
  }
  return 1;
}

// Calls fn(Vec{}) with Vec = float4, float2 or float, as vector_floats decides.
template <class Fn>
void with_vector_type(int E, std::initializer_list<const void*> pointers, Fn&& fn) {
  switch (vector_floats(E, pointers)) {
    case 4:
      fn(float4{});
      break;
    case 2:
      fn(float2{});
      break;
    default:
      fn(float{});
      break;
  }
}

__device__ __forceinline__ bool valid_id(std::int64_t id, int V) {
  return id >= 0 && id < V;
}

// ---- kernels ----------------------------------------------------------------------------------
// One warp per row n; EV = E / kVecFloats<Vec> vectors per row.
template <class Vec>
__global__ void __launch_bounds__(kThreads)
    embedding_gather_kernel(int N, int V, int EV, const std::int32_t* __restrict__ ids,  // [N]
                            const Vec* __restrict__ table,                               // [V, EV]
                            Vec* __restrict__ out,                                       // [N, EV]
                            unsigned long long* bad_id) {
  const int lane = threadIdx.x & 31;
  for (int n = blockIdx.x * kWarps + (threadIdx.x >> 5); n < N; n += gridDim.x * kWarps) {
    const std::int32_t id = ids[n];
    Vec* dst = out + static_cast<std::int64_t>(n) * EV;
    if (valid_id(id, V)) {
      const Vec* src = table + static_cast<std::int64_t>(id) * EV;
      for (int c = lane; c < EV; c += 32) dst[c] = src[c];
    } else {
      if (lane == 0) detail::report_bad_id(bad_id, n, id);
      for (int c = lane; c < EV; c += 32) dst[c] = zero_vec<Vec>();
    }
  }
}

// keys[n] = ids[n] (or the sentinel V when out of range), positions[n] = n.
__global__ void embedding_sort_input_kernel(int N, int V, const std::int32_t* __restrict__ ids,
                                            std::uint32_t* __restrict__ keys,      // [N]
                                            std::int32_t* __restrict__ positions,  // [N]
                                            unsigned long long* bad_id) {
  for (int n = blockIdx.x * blockDim.x + threadIdx.x; n < N; n += gridDim.x * blockDim.x) {
    const std::int32_t id = ids[n];
    const bool ok = valid_id(id, V);
    if (!ok) detail::report_bad_id(bad_id, n, id);
    keys[n] = ok ? static_cast<std::uint32_t>(id) : static_cast<std::uint32_t>(V);
    positions[n] = n;
  }
}

// One warp per run of equal sorted keys: the warp whose index i starts a run finds the run's end
// and adds dout[positions[i..end)] into dtable[key] in that order; other warps move on.
template <class Vec>
__global__ void __launch_bounds__(kThreads) embedding_scatter_add_runs_kernel(
    int N, int V, int EV, const std::uint32_t* __restrict__ keys,  // [N], sorted
    const std::int32_t* __restrict__ positions,                    // [N], sorted by key
    const Vec* __restrict__ dout,                                  // [N, EV]
    Vec* __restrict__ dtable) {                                    // [V, EV]
  const int lane = threadIdx.x & 31;
  for (int i = blockIdx.x * kWarps + (threadIdx.x >> 5); i < N; i += gridDim.x * kWarps) {
    // i, key and end are the same in all lanes, so every branch below is warp-uniform.
    const std::uint32_t key = keys[i];
    if (key >= static_cast<std::uint32_t>(V)) continue;  // invalid ids (sorted last)
    if (i > 0 && keys[i - 1] == key) continue;           // inside a run, not its start
    int end = i + 1;
    for (;;) {  // keys are sorted: the lanes still in the run form a prefix of the warp
      const int j = end + lane;
      const unsigned same = __ballot_sync(detail::kFullMask, j < N && keys[j] == key);
      if (same != detail::kFullMask) {
        end += __ffs(~same) - 1;
        break;
      }
      end += 32;
    }
    Vec* row = dtable + static_cast<std::int64_t>(key) * EV;
    for (int c = lane; c < EV; c += 32) {
      Vec acc = row[c];
      for (int j = i; j < end; ++j)
        add_to(acc, dout[static_cast<std::int64_t>(positions[j]) * EV + c]);
      row[c] = acc;
    }
  }
}

template <class Vec>
__global__ void __launch_bounds__(kThreads)
    embedding_scatter_add_atomic_kernel(int N, int V, int EV,
                                        const std::int32_t* __restrict__ ids,  // [N]
                                        const Vec* __restrict__ dout,          // [N, EV]
                                        Vec* __restrict__ dtable,              // [V, EV]
                                        unsigned long long* bad_id) {
  const int lane = threadIdx.x & 31;
  for (int n = blockIdx.x * kWarps + (threadIdx.x >> 5); n < N; n += gridDim.x * kWarps) {
    const std::int32_t id = ids[n];
    if (!valid_id(id, V)) {
      if (lane == 0) detail::report_bad_id(bad_id, n, id);
      continue;
    }
    const Vec* src = dout + static_cast<std::int64_t>(n) * EV;
    Vec* dst = dtable + static_cast<std::int64_t>(id) * EV;
    for (int c = lane; c < EV; c += 32) atomic_add_vec(dst + c, src[c]);
  }
}

// ---- the deterministic path's scratch: sort input and output, then CUB's temporary storage --
constexpr std::size_t kAlign = 256;
std::size_t align_up(std::size_t bytes) {
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

// Bits that hold every key 0..V (V is the sentinel of invalid ids).
int key_bits(int V) {
  int bits = 1;
  while (bits < 32 && (std::int64_t{1} << bits) <= V) ++bits;
  return bits;
}

std::size_t sort_temp_bytes(int N, int V) {
  std::size_t bytes = 0;
  CURNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, bytes, static_cast<const std::uint32_t*>(nullptr),
      static_cast<std::uint32_t*>(nullptr), static_cast<const std::int32_t*>(nullptr),
      static_cast<std::int32_t*>(nullptr), N, 0, key_bits(V)));
  return bytes;
}

void check_sizes(const char* op, int N, int V, int E) {
  CURNN_CHECK_ARG(N >= 0 && V > 0 && E > 0,
                  op << ": bad sizes N=" << N << " V=" << V << " E=" << E);
}

}  // namespace

// ---- launchers --------------------------------------------------------------------------------
void embedding_gather(int N, int V, int E, const std::int32_t* ids, const float* table, float* out,
                      unsigned long long* bad_id, cudaStream_t stream) {
  check_sizes("embedding_gather", N, V, E);
  if (N == 0) return;
  CURNN_CHECK_ARG(ids && table && out, "embedding_gather: null pointer");
  with_vector_type(E, {table, out}, [&](auto tag) {
    using Vec = decltype(tag);
    embedding_gather_kernel<Vec><<<detail::grid_for(N, kWarps), kThreads, 0, stream>>>(
        N, V, E / kVecFloats<Vec>, ids, reinterpret_cast<const Vec*>(table),
        reinterpret_cast<Vec*>(out), bad_id);
    CURNN_CUDA_CHECK_LAUNCH();
  });
}

std::size_t embedding_scatter_add_workspace_bytes(int N, int V) {
  CURNN_CHECK_ARG(N >= 0 && V > 0, "embedding_scatter_add: bad sizes N=" << N << " V=" << V);
  if (N == 0) return 0;
  const std::size_t keys = align_up(sizeof(std::uint32_t) * N);
  const std::size_t positions = align_up(sizeof(std::int32_t) * N);
  return 2 * keys + 2 * positions + align_up(sort_temp_bytes(N, V));
}

void embedding_scatter_add_sorted(int N, int V, int E, const std::int32_t* ids, const float* dout,
                                  float* dtable, void* workspace, std::size_t workspace_bytes,
                                  unsigned long long* bad_id, cudaStream_t stream) {
  check_sizes("embedding_scatter_add", N, V, E);
  if (N == 0) return;
  CURNN_CHECK_ARG(ids && dout && dtable && workspace, "embedding_scatter_add: null pointer");
  const std::size_t need = embedding_scatter_add_workspace_bytes(N, V);
  CURNN_CHECK_ARG(workspace_bytes >= need, "embedding_scatter_add: workspace of "
                                               << workspace_bytes << " bytes, " << need
                                               << " needed");
  CURNN_CHECK_ARG(reinterpret_cast<std::uintptr_t>(workspace) % kAlign == 0,
                  "embedding_scatter_add: workspace not " << kAlign << "-byte aligned");
  // Workspace layout: keys_in [N] | keys_out [N] | positions_in [N] | positions_out [N] | CUB.
  char* w = static_cast<char*>(workspace);
  const std::size_t key_bytes = align_up(sizeof(std::uint32_t) * N);
  const std::size_t position_bytes = align_up(sizeof(std::int32_t) * N);
  auto* keys_in = reinterpret_cast<std::uint32_t*>(w);
  auto* keys_out = reinterpret_cast<std::uint32_t*>(w + key_bytes);
  auto* positions_in = reinterpret_cast<std::int32_t*>(w + 2 * key_bytes);
  auto* positions_out = reinterpret_cast<std::int32_t*>(w + 2 * key_bytes + position_bytes);
  void* temp = w + 2 * key_bytes + 2 * position_bytes;
  std::size_t temp_bytes = workspace_bytes - 2 * key_bytes - 2 * position_bytes;

  embedding_sort_input_kernel<<<detail::grid_for(N, kThreads), kThreads, 0, stream>>>(
      N, V, ids, keys_in, positions_in, bad_id);
  CURNN_CUDA_CHECK_LAUNCH();
  CURNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      temp, temp_bytes, keys_in, keys_out, positions_in, positions_out, N, 0, key_bits(V), stream));
  with_vector_type(E, {dout, dtable}, [&](auto tag) {
    using Vec = decltype(tag);
    embedding_scatter_add_runs_kernel<Vec><<<detail::grid_for(N, kWarps), kThreads, 0, stream>>>(
        N, V, E / kVecFloats<Vec>, keys_out, positions_out, reinterpret_cast<const Vec*>(dout),
        reinterpret_cast<Vec*>(dtable));
    CURNN_CUDA_CHECK_LAUNCH();
  });
}

void embedding_scatter_add_atomic(int N, int V, int E, const std::int32_t* ids, const float* dout,
                                  float* dtable, unsigned long long* bad_id, cudaStream_t stream) {
  check_sizes("embedding_scatter_add", N, V, E);
  if (N == 0) return;
  CURNN_CHECK_ARG(ids && dout && dtable, "embedding_scatter_add: null pointer");
  with_vector_type(E, {dout, dtable}, [&](auto tag) {
    using Vec = decltype(tag);
    embedding_scatter_add_atomic_kernel<Vec><<<detail::grid_for(N, kWarps), kThreads, 0, stream>>>(
        N, V, E / kVecFloats<Vec>, ids, reinterpret_cast<const Vec*>(dout),
        reinterpret_cast<Vec*>(dtable), bad_id);
    CURNN_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace curnn::cuda
