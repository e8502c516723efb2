// The LSTM cell's math for one unit (TensorFlow BasicLSTMCell, gate order [i, j, f, o]), shared
// by the pointwise kernels (kernels/lstm_cell.cu) and the persistent loop
// (kernels/lstm_persistent.cu) so that both compute exactly the formulas of the reference,
// include/curnn/ref/lstm_cell.hpp, with the same accurate expf/tanhf (curnn/math.hpp).
#pragma once

#include "curnn/math.hpp"

namespace curnn::cuda::detail {

// a = [a_i, a_j, a_f, a_o], the pre-activations with the bias added. Writes the activated
// gates g, the new cell state *c and the output *h = tanh(c) * o.
__device__ __forceinline__ void lstm_cell_unit_forward(const float a[4], float c_prev,
                                                       float forget_bias, float g[4], float* c,
                                                       float* h) {
  g[0] = math::sigmoid(a[0]);
  g[1] = tanhf(a[1]);
  g[2] = math::sigmoid(a[2] + forget_bias);
  g[3] = math::sigmoid(a[3]);
  *c = c_prev * g[2] + g[0] * g[1];
  *h = tanhf(*c) * g[3];
}

// g: the activated gates of the forward; c and c_prev its new and previous cell state;
// dh_total the whole gradient reaching h (recurrent + from above, through the dropout mask);
// dc the gradient reaching c from the next step. Writes the pre-activation gradients da and
// *dc_prev.
__device__ __forceinline__ void lstm_cell_unit_backward(const float g[4], float c, float c_prev,
                                                        float dh_total, float dc, float da[4],
                                                        float* dc_prev) {
  const float i = g[0], j = g[1], f = g[2], o = g[3];
  const float tc = tanhf(c);
  const float dc_total = dc + dh_total * o * (1.f - tc * tc);
  da[0] = dc_total * j * i * (1.f - i);
  da[1] = dc_total * i * (1.f - j * j);
  da[2] = dc_total * c_prev * f * (1.f - f);
  da[3] = dh_total * tc * o * (1.f - o);
  *dc_prev = dc_total * f;
}

}  // namespace curnn::cuda::detail
