// Reference LSTM cell pointwise ops (TensorFlow BasicLSTMCell), the specification of
// kernels/lstm_cell.cu. Gate order in the pre-activations is [i, j, f, o]:
//   i = columns [0,H), j = [H,2H), f = [2H,3H), o = [3H,4H) of a [B, 4H] row.
// Forward:
//   i = sigmoid(a_i + b_i), j = tanh(a_j + b_j), f = sigmoid(a_f + b_f + forget_bias),
//   o = sigmoid(a_o + b_o)
//   c = c_prev * f + i * j,  h = tanh(c) * o,  h_dropped = h * mask (optional output dropout)
// The tape kept for backward is (gates = [i, j, f, o] activated, c, c_prev) and the mask.
// Backward, with dh_total = dh + mask * dh_out (mask = 1 without dropout) and tc = tanh(c):
//   dc_total = dc + dh_total * o * (1 - tc^2)
//   da_i = dc_total * j * i (1 - i),     da_j = dc_total * i * (1 - j^2),
//   da_f = dc_total * c_prev * f (1 - f), da_o = dh_total * tc * o (1 - o),
//   dc_prev = dc_total * f.
// The bias gradient is the column sum of dpreact over all rows (ops::column_sum).
// Tests: tests/lstm_cell_test.cpp (gradient checks in double), tests/lstm_cell_cuda_test.cpp.
#pragma once

#include <cmath>

#include "curnn/math.hpp"

namespace curnn::ref {

// preact [B, 4H] = x W_x + h W_h (no bias); bias [4H]; c_prev [B, H].
// Outputs: gates [B, 4H] (activated), c [B, H], h [B, H].
// dropout_mask [B, H] (0 or 1/keep_prob) or nullptr; h_dropped [B, H] = h * mask, required iff
// dropout_mask is given (ignored otherwise). c_copy, h_copy [B, H] or nullptr: second copies of c
// and h written by the same pass (an LSTM layer's final state into the caller's buffers).
template <class T>
void lstm_cell_forward(int B, int H, const T* preact, const T* bias, const T* c_prev, T forget_bias,
                       T* gates, T* c, T* h, const T* dropout_mask, T* h_dropped,
                       T* c_copy = nullptr, T* h_copy = nullptr) {
  using std::tanh;
  for (int b = 0; b < B; ++b) {
    const T* a = preact + static_cast<long long>(b) * 4 * H;  // [4H]
    T* g = gates + static_cast<long long>(b) * 4 * H;         // [4H]
    for (int k = 0; k < H; ++k) {
      const long long u = static_cast<long long>(b) * H + k;  // index into [B, H]
      const T i = math::sigmoid(a[k] + bias[k]);
      const T j = tanh(a[H + k] + bias[H + k]);
      const T f = math::sigmoid(a[2 * H + k] + bias[2 * H + k] + forget_bias);
      const T o = math::sigmoid(a[3 * H + k] + bias[3 * H + k]);
      g[k] = i;
      g[H + k] = j;
      g[2 * H + k] = f;
      g[3 * H + k] = o;
      c[u] = c_prev[u] * f + i * j;
      h[u] = tanh(c[u]) * o;
      if (dropout_mask) h_dropped[u] = h[u] * dropout_mask[u];
      if (c_copy) c_copy[u] = c[u];
      if (h_copy) h_copy[u] = h[u];
    }
  }
}

// gates [B, 4H], c [B, H], c_prev [B, H]: the forward's tape.
// dh [B, H]: gradient reaching h through the recurrent path (from step t+1), or nullptr (zero).
// dh_out [B, H]: gradient reaching the cell's output (h_dropped with a mask, else h) from above,
// or nullptr. dropout_mask [B, H] or nullptr. dc [B, H]: gradient reaching c from step t+1, or
// nullptr. Outputs: dpreact [B, 4H], dc_prev [B, H] (both overwritten).
template <class T>
void lstm_cell_backward(int B, int H, const T* gates, const T* c, const T* c_prev, const T* dh,
                        const T* dh_out, const T* dropout_mask, const T* dc, T* dpreact,
                        T* dc_prev) {
  using std::tanh;
  for (int b = 0; b < B; ++b) {
    const T* g = gates + static_cast<long long>(b) * 4 * H;  // [4H]
    T* da = dpreact + static_cast<long long>(b) * 4 * H;     // [4H]
    for (int k = 0; k < H; ++k) {
      const long long u = static_cast<long long>(b) * H + k;
      const T i = g[k], j = g[H + k], f = g[2 * H + k], o = g[3 * H + k];
      T dh_total = dh ? dh[u] : T(0);
      if (dh_out) dh_total += dropout_mask ? dropout_mask[u] * dh_out[u] : dh_out[u];
      const T tc = tanh(c[u]);
      const T dc_total = (dc ? dc[u] : T(0)) + dh_total * o * (T(1) - tc * tc);
      da[k] = dc_total * j * i * (T(1) - i);
      da[H + k] = dc_total * i * (T(1) - j * j);
      da[2 * H + k] = dc_total * c_prev[u] * f * (T(1) - f);
      da[3 * H + k] = dh_total * tc * o * (T(1) - o);
      dc_prev[u] = dc_total * f;
    }
  }
}

}  // namespace curnn::ref
