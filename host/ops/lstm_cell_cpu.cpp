// The CPU backend's LSTM cell, bit for bit ref::lstm_cell_forward / ref::lstm_cell_backward
// (include/curnn/ref/lstm_cell.hpp, TensorFlow's BasicLSTMCell):
//   i, f, o = sigmoid(a + b (+ forget_bias)), j = tanh(a + b), c = c_prev f + i j, h = tanh(c) o.
// What is faster than the reference: the transcendental functions of a block of up to kUnits
// units go through host::vec (libm's expf and tanhf, bit for bit, 8 lanes at a time) instead of
// one libm call each; everything else is the reference's own float expressions, element by
// element. The sigmoid is math::sigmoid's x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)):
// both branches take e = exp(x >= 0 ? -x : x), which is computed first for the whole block.
// Tests: tests/lstm_cell_cpu_test.cpp (against the reference, memcmp).
#include "lstm_cell_cpu.hpp"

#include <algorithm>
#include <cstdint>

#include "../vec_exp.hpp"
#include "../vec_tanh.hpp"

namespace curnn::ops::cpu {
namespace {

constexpr int kUnits = 256;  // units per block: the scratch rows below stay in L1

// The argument whose exp both branches of math::sigmoid(z) use.
inline float sigmoid_exp_argument(float z) {
  return z >= 0.0f ? -z : z;
}
// math::sigmoid(z), given e = exp(sigmoid_exp_argument(z)).
inline float sigmoid_from(float z, float e) {
  return z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

}  // namespace

// Both compiled for AVX-512 and AVX2 too, chosen when the program loads (GCC's target_clones):
// wider lanes for the element-wise expressions, the same operations (no FMA, -ffp-contract=off).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CURNN_CELL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CURNN_CELL_CLONES
#endif

CURNN_CELL_CLONES void lstm_cell_forward_rows(int B, int H, const float* preact, const float* bias,
                                              const float* c_prev, float forget_bias, float* gates,
                                              float* c, float* h, const float* dropout_mask,
                                              float* h_dropped, float* c_copy, float* h_copy) {
  alignas(32) float zi[kUnits], zj[kUnits], zf[kUnits], zo[kUnits];  // pre-activations
  alignas(32) float ei[kUnits], ef[kUnits], eo[kUnits], tj[kUnits], tc[kUnits];
  for (int b = 0; b < B; ++b) {
    const float* a = preact + static_cast<std::int64_t>(b) * 4 * H;  // [4H]
    float* g = gates + static_cast<std::int64_t>(b) * 4 * H;         // [4H]
    for (int k0 = 0; k0 < H; k0 += kUnits) {
      const int n = std::min(kUnits, H - k0);
      for (int q = 0; q < n; ++q) {
        const int k = k0 + q;
        zi[q] = a[k] + bias[k];
        zj[q] = a[H + k] + bias[H + k];
        zf[q] = a[2 * H + k] + bias[2 * H + k] + forget_bias;
        zo[q] = a[3 * H + k] + bias[3 * H + k];
        ei[q] = sigmoid_exp_argument(zi[q]);
        ef[q] = sigmoid_exp_argument(zf[q]);
        eo[q] = sigmoid_exp_argument(zo[q]);
      }
      host::vec::exp(n, ei, ei);
      host::vec::exp(n, ef, ef);
      host::vec::exp(n, eo, eo);
      host::vec::tanh(n, zj, tj);
      const std::int64_t row = static_cast<std::int64_t>(b) * H + k0;  // unit k0 of row b
      for (int q = 0; q < n; ++q) {
        const int k = k0 + q;
        const float i = sigmoid_from(zi[q], ei[q]), j = tj[q];
        const float f = sigmoid_from(zf[q], ef[q]), o = sigmoid_from(zo[q], eo[q]);
        g[k] = i;
        g[H + k] = j;
        g[2 * H + k] = f;
        g[3 * H + k] = o;
        c[row + q] = c_prev[row + q] * f + i * j;
      }
      host::vec::tanh(n, c + row, tc);
      for (int q = 0; q < n; ++q) {
        const std::int64_t u = row + q;
        h[u] = tc[q] * g[3 * H + k0 + q];
        if (dropout_mask) h_dropped[u] = h[u] * dropout_mask[u];
        if (c_copy) c_copy[u] = c[u];
        if (h_copy) h_copy[u] = h[u];
      }
    }
  }
}

CURNN_CELL_CLONES void lstm_cell_backward_rows(int B, int H, const float* gates, const float* c,
                                               const float* c_prev, const float* dh,
                                               const float* dh_out, const float* dropout_mask,
                                               const float* dc, float* dpreact, float* dc_prev) {
  alignas(32) float tanh_c[kUnits];
  for (int b = 0; b < B; ++b) {
    const float* g = gates + static_cast<std::int64_t>(b) * 4 * H;  // [4H]
    float* da = dpreact + static_cast<std::int64_t>(b) * 4 * H;     // [4H]
    for (int k0 = 0; k0 < H; k0 += kUnits) {
      const int n = std::min(kUnits, H - k0);
      const std::int64_t row = static_cast<std::int64_t>(b) * H + k0;
      host::vec::tanh(n, c + row, tanh_c);
      for (int q = 0; q < n; ++q) {
        const int k = k0 + q;
        const std::int64_t u = row + q;
        const float i = g[k], j = g[H + k], f = g[2 * H + k], o = g[3 * H + k];
        float dh_total = dh ? dh[u] : 0.0f;
        if (dh_out) dh_total += dropout_mask ? dropout_mask[u] * dh_out[u] : dh_out[u];
        const float tc = tanh_c[q];
        const float dc_total = (dc ? dc[u] : 0.0f) + dh_total * o * (1.0f - tc * tc);
        da[k] = dc_total * j * i * (1.0f - i);
        da[H + k] = dc_total * i * (1.0f - j * j);
        da[2 * H + k] = dc_total * c_prev[u] * f * (1.0f - f);
        da[3 * H + k] = dh_total * tc * o * (1.0f - o);
        dc_prev[u] = dc_total * f;
      }
    }
  }
}

}  // namespace curnn::ops::cpu
