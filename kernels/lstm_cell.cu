// LSTM cell pointwise kernels (TensorFlow BasicLSTMCell, gate order [i, j, f, o]).
//
// Forward, per unit (b, k), with a = preact[b] + bias:
//   i = sigmoid(a_i), j = tanh(a_j), f = sigmoid(a_f + forget_bias), o = sigmoid(a_o)
//   c = c_prev * f + i * j,  h = tanh(c) * o,  h_dropped = h * mask (when a mask is given),
//   and optional second copies of c and h (an LSTM layer's last step writes its final state into
//   the caller's buffers in the same pass instead of a separate copy)
// Backward, with dh_total = dh + mask * dh_out and tc = tanh(c):
//   dc_total = dc + dh_total * o * (1 - tc^2),  dc_prev = dc_total * f
//   da_i = dc_total * j * i(1-i),  da_j = dc_total * i * (1-j^2),
//   da_f = dc_total * c_prev * f(1-f),  da_o = dh_total * tc * o(1-o)
// The per-unit math is kernels/lstm_cell_math.cuh (shared with the persistent loop,
// kernels/lstm_persistent.cu). The spec is include/curnn/ref/lstm_cell.hpp; tests:
// tests/lstm_cell_test.cpp (reference gradient checks) and tests/lstm_cell_cuda_test.cpp (these
// kernels against the reference).
//
// Versions: one thread per V consecutive units of a row, computing all four gates, so each of
// the four gate loads of a warp is a contiguous (coalesced) span of the [B, 4H] row. V = 4
// (128-bit loads and stores) when H % 4 == 0 and every pointer is 16-byte aligned, else V = 1.
// The ops are memory-bound (about 11 floats per unit forward, 11 backward), so the math uses the
// accurate expf/tanhf shared with the reference (curnn/math.hpp), not fast intrinsics. There is
// no reduction, so results are deterministic. Null dh / dh_out / dc / mask pointers are read as
// zero (or a mask of ones); the branches are uniform across the grid. Outputs must not alias
// inputs (the pointers are __restrict__). Against the double reference the worst element uses
// under 2% of the float tolerance budget.
// Measured on an H100 SXM (cold L2, bench/lstm_cell_cuda_bench.cpp): at B 1024, H 1500 the
// forward moves 2.8 TB/s and the backward 3.1 TB/s; the scalar path (H 1499) is within 2% of
// float4. At the experiments' B 20 each call is 5-8 us of launch latency, whatever H.
#include <climits>
#include <cstdint>
#include <initializer_list>

#include "common.cuh"
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/lstm_cell.hpp"
#include "curnn/math.hpp"
#include "lstm_cell_math.cuh"

namespace curnn::cuda {
namespace {

constexpr int kThreads = 128;

// V consecutive floats, loaded and stored as one 128-bit access when V == 4.
template <int V>
struct alignas(4 * V) Pack {
  float v[V];
};

template <int V>
__device__ __forceinline__ Pack<V> load(const float* __restrict__ p) {
  return *reinterpret_cast<const Pack<V>*>(p);
}
template <int V>
__device__ __forceinline__ void store(float* __restrict__ p, const Pack<V>& x) {
  *reinterpret_cast<Pack<V>*>(p) = x;
}
// p[i .. i+V) from an optional input; V copies of `absent` where p is null.
template <int V>
__device__ __forceinline__ Pack<V> load_or(const float* __restrict__ p, int i, float absent) {
  if (p) return load<V>(p + i);
  Pack<V> x;
#pragma unroll
  for (int v = 0; v < V; ++v) x.v[v] = absent;
  return x;
}

// Thread t handles units [k, k + V) of row b, where t = b * (H / V) + k / V.
template <int V>
__device__ __forceinline__ bool unit_of_thread(int B, int H, int* b, int* k) {
  const int groups = H / V;
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= B * groups) return false;
  *b = t / groups;
  *k = (t - *b * groups) * V;
  return true;
}

template <int V>
__global__ void __launch_bounds__(kThreads)
    lstm_cell_forward_kernel(int B, int H, const float* __restrict__ preact,  // [B, 4H]
                             const float* __restrict__ bias,                  // [4H]
                             const float* __restrict__ c_prev,                // [B, H]
                             float forget_bias,
                             float* __restrict__ gates,               // [B, 4H]
                             float* __restrict__ c,                   // [B, H]
                             float* __restrict__ h,                   // [B, H]
                             const float* __restrict__ dropout_mask,  // [B, H] or null
                             float* __restrict__ h_dropped,           // [B, H] or null
                             float* __restrict__ c_copy,              // [B, H] or null
                             float* __restrict__ h_copy) {            // [B, H] or null
  int b, k;
  if (!unit_of_thread<V>(B, H, &b, &k)) return;
  const int row = b * 4 * H + k, u = b * H + k;
  Pack<V> a[4], g[4];
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    a[q] = load<V>(preact + row + q * H);
    const Pack<V> bq = load<V>(bias + k + q * H);
#pragma unroll
    for (int v = 0; v < V; ++v) a[q].v[v] += bq.v[v];
  }
  const Pack<V> cp = load<V>(c_prev + u);
  Pack<V> cn, hn;
#pragma unroll
  for (int v = 0; v < V; ++v) {
    const float av[4] = {a[0].v[v], a[1].v[v], a[2].v[v], a[3].v[v]};
    float gv[4];
    detail::lstm_cell_unit_forward(av, cp.v[v], forget_bias, gv, &cn.v[v], &hn.v[v]);
#pragma unroll
    for (int q = 0; q < 4; ++q) g[q].v[v] = gv[q];
  }
#pragma unroll
  for (int q = 0; q < 4; ++q) store<V>(gates + row + q * H, g[q]);
  store<V>(c + u, cn);
  store<V>(h + u, hn);
  if (c_copy) store<V>(c_copy + u, cn);
  if (h_copy) store<V>(h_copy + u, hn);
  if (dropout_mask) {
    const Pack<V> m = load<V>(dropout_mask + u);
#pragma unroll
    for (int v = 0; v < V; ++v) hn.v[v] *= m.v[v];
    store<V>(h_dropped + u, hn);
  }
}

template <int V>
__global__ void __launch_bounds__(kThreads)
    lstm_cell_backward_kernel(int B, int H, const float* __restrict__ gates,  // [B, 4H]
                              const float* __restrict__ c,                    // [B, H]
                              const float* __restrict__ c_prev,               // [B, H]
                              const float* __restrict__ dh,                   // [B, H] or null
                              const float* __restrict__ dh_out,               // [B, H] or null
                              const float* __restrict__ dropout_mask,         // [B, H] or null
                              const float* __restrict__ dc,                   // [B, H] or null
                              float* __restrict__ dpreact,                    // [B, 4H]
                              float* __restrict__ dc_prev) {                  // [B, H]
  int b, k;
  if (!unit_of_thread<V>(B, H, &b, &k)) return;
  const int row = b * 4 * H + k, u = b * H + k;
  Pack<V> g[4], da[4];
#pragma unroll
  for (int q = 0; q < 4; ++q) g[q] = load<V>(gates + row + q * H);
  const Pack<V> cc = load<V>(c + u), cp = load<V>(c_prev + u);
  const Pack<V> dhr = load_or<V>(dh, u, 0.f), dho = load_or<V>(dh_out, u, 0.f);
  const Pack<V> m = load_or<V>(dropout_mask, u, 1.f), dcn = load_or<V>(dc, u, 0.f);
  Pack<V> dcp;
#pragma unroll
  for (int v = 0; v < V; ++v) {
    const float gv[4] = {g[0].v[v], g[1].v[v], g[2].v[v], g[3].v[v]};
    const float dh_total = dhr.v[v] + m.v[v] * dho.v[v];
    float dav[4];
    detail::lstm_cell_unit_backward(gv, cc.v[v], cp.v[v], dh_total, dcn.v[v], dav, &dcp.v[v]);
#pragma unroll
    for (int q = 0; q < 4; ++q) da[q].v[v] = dav[q];
  }
#pragma unroll
  for (int q = 0; q < 4; ++q) store<V>(dpreact + row + q * H, da[q]);
  store<V>(dc_prev + u, dcp);
}

bool aligned16(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

// 128-bit accesses need H % 4 == 0 (every gate span starts on a multiple of 4 floats) and
// 16-byte aligned base pointers (null optional pointers don't count).
bool can_vectorize(int H, std::initializer_list<const void*> pointers) {
  if (H % 4 != 0) return false;
  for (const void* p : pointers)
    if (p && !aligned16(p)) return false;
  return true;
}

void check_shape(int B, int H) {
  CURNN_CHECK_ARG(B >= 0 && H >= 0, "B=" << B << " H=" << H);
  CURNN_CHECK_ARG(static_cast<long long>(B) * 4 * H <= INT_MAX,
                  "B*4H = " << static_cast<long long>(B) * 4 * H << " exceeds the int range");
}

unsigned blocks_for(int B, int H, int V) {
  return static_cast<unsigned>(math::ceil_div(B * (H / V), kThreads));
}

}  // namespace

void lstm_cell_forward(int B, int H, const float* preact, const float* bias, const float* c_prev,
                       float forget_bias, float* gates, float* c, float* h,
                       const float* dropout_mask, float* h_dropped, float* c_copy, float* h_copy,
                       cudaStream_t stream) {
  check_shape(B, H);
  if (B == 0 || H == 0) return;
  CURNN_CHECK_ARG(preact && bias && c_prev && gates && c && h, "null input or output");
  CURNN_CHECK_ARG(!dropout_mask || h_dropped, "dropout_mask given without h_dropped");
  if (can_vectorize(H,
                    {preact, bias, c_prev, gates, c, h, dropout_mask, h_dropped, c_copy, h_copy})) {
    lstm_cell_forward_kernel<4><<<blocks_for(B, H, 4), kThreads, 0, stream>>>(
        B, H, preact, bias, c_prev, forget_bias, gates, c, h, dropout_mask, h_dropped, c_copy,
        h_copy);
  } else {
    lstm_cell_forward_kernel<1><<<blocks_for(B, H, 1), kThreads, 0, stream>>>(
        B, H, preact, bias, c_prev, forget_bias, gates, c, h, dropout_mask, h_dropped, c_copy,
        h_copy);
  }
  CURNN_CUDA_CHECK_LAUNCH();
}

void lstm_cell_backward(int B, int H, const float* gates, const float* c, const float* c_prev,
                        const float* dh, const float* dh_out, const float* dropout_mask,
                        const float* dc, float* dpreact, float* dc_prev, cudaStream_t stream) {
  check_shape(B, H);
  if (B == 0 || H == 0) return;
  CURNN_CHECK_ARG(gates && c && c_prev && dpreact && dc_prev, "null input or output");
  if (can_vectorize(H, {gates, c, c_prev, dh, dh_out, dropout_mask, dc, dpreact, dc_prev})) {
    lstm_cell_backward_kernel<4><<<blocks_for(B, H, 4), kThreads, 0, stream>>>(
        B, H, gates, c, c_prev, dh, dh_out, dropout_mask, dc, dpreact, dc_prev);
  } else {
    lstm_cell_backward_kernel<1><<<blocks_for(B, H, 1), kThreads, 0, stream>>>(
        B, H, gates, c, c_prev, dh, dh_out, dropout_mask, dc, dpreact, dc_prev);
  }
  CURNN_CUDA_CHECK_LAUNCH();
}

}  // namespace curnn::cuda
