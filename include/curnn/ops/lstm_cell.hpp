// LSTM cell pointwise ops (TensorFlow BasicLSTMCell, gate order [i, j, f, o]) on a Context.
// Math and tape: include/curnn/ref/lstm_cell.hpp. Kernels: kernels/lstm_cell.cu.
// Optional tensors are passed as empty views (ConstTensor{} / Tensor{}). Outputs must not alias
// inputs.
#pragma once

#include "curnn/context.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

// preact [B, 4H] (x W_x + h W_h, no bias), bias [4H], c_prev [B, H]
//   -> gates [B, 4H] (activated i, j, f, o: the tape), c [B, H], h [B, H].
// dropout_mask [B, H] (0 or 1/keep_prob) and h_dropped [B, H] = h * mask: both or neither.
// c_copy, h_copy [B, H] (each optional): second copies of c and h written by the same pass (an
// LSTM layer's final state into the caller's buffers); they must not overlap the other tensors.
void lstm_cell_forward(Context& ctx, ConstTensor preact, ConstTensor bias, ConstTensor c_prev,
                       float forget_bias, Tensor gates, Tensor c, Tensor h,
                       ConstTensor dropout_mask = {}, Tensor h_dropped = {}, Tensor c_copy = {},
                       Tensor h_copy = {});

// The tape gates [B, 4H], c [B, H], c_prev [B, H]; optional gradients dh [B, H] (recurrent, from
// step t+1), dh_out [B, H] (from above, reaching h_dropped when a mask is given, else h), dc
// [B, H] (from step t+1); optional dropout_mask [B, H]
//   -> dpreact [B, 4H] (bias gradient = its column sum), dc_prev [B, H] (both overwritten).
void lstm_cell_backward(Context& ctx, ConstTensor gates, ConstTensor c, ConstTensor c_prev,
                        ConstTensor dh, ConstTensor dh_out, ConstTensor dropout_mask,
                        ConstTensor dc, Tensor dpreact, Tensor dc_prev);

// float64, on the CPU backend only (gradient checks of engines).
void lstm_cell_forward(Context& ctx, TensorView<const double> preact, TensorView<const double> bias,
                       TensorView<const double> c_prev, double forget_bias,
                       TensorView<double> gates, TensorView<double> c, TensorView<double> h,
                       TensorView<const double> dropout_mask = {},
                       TensorView<double> h_dropped = {}, TensorView<double> c_copy = {},
                       TensorView<double> h_copy = {});
void lstm_cell_backward(Context& ctx, TensorView<const double> gates, TensorView<const double> c,
                        TensorView<const double> c_prev, TensorView<const double> dh,
                        TensorView<const double> dh_out, TensorView<const double> dropout_mask,
                        TensorView<const double> dc, TensorView<double> dpreact,
                        TensorView<double> dc_prev);

}  // namespace curnn::ops
