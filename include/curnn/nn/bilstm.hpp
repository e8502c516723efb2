// A bidirectional LSTM layer (TensorFlow's static_bidirectional_rnn over two BasicLSTMCells):
// two LstmLayers with separate weights, one running t = 0 .. T-1 (Direction::Forward) and one
// t = T-1 .. 0 (Direction::Reverse), both from zero states, with outputs aligned to input time:
//
//   x [T, B, E] -> y [T, B, 2H],  y[t] = concat(fw_h[t], bw_h[t])
//
// fw_h[t] has seen rows 0..t, bw_h[t] rows t..T-1 (so bw_h[T-1] has seen row T-1 only). Each
// direction's final state is also available: forward after row T-1 (= fw_h[T-1]) and backward
// after row 0 (= bw_h[0]).
// Backward: dy [T, B, 2H] is split into the two directions' dy (ops::split_columns), each
// direction runs its own BPTT, and dx is the sum of both directions' dx.
// Concurrency: the two directions share nothing but the input x and the join (concat / split and
// the dx sum); each has its own output, gradient and tape buffers. They run one after the other
// on the one Context today; a CUDA version can queue them on two streams (an event join before the
// concat and before the dx sum) without changing this interface.
// Templated on the element type: float on every backend, double on the CPU reference backend.
// Tests: tests/bilstm_test.cpp (gradient checks per direction, alignment), bilstm_cuda_test.cpp.
#pragma once

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/nn/lstm.hpp"
#include "curnn/nn/persistent_loop.hpp"

namespace curnn::nn {

template <class Scalar>
struct BiLstmWeights {
  LstmWeights<Scalar> fw;  // the forward direction's wx [E, 4H], wh [H, 4H], bias [4H]
  LstmWeights<Scalar> bw;  // the backward (reverse) direction's, same shapes
};

template <class Scalar>
class BiLstmLayer {
 public:
  using View = TensorView<Scalar>;
  using ConstView = TensorView<const Scalar>;

  // `recurrent` chooses both directions' recurrent loop (include/curnn/nn/persistent_loop.hpp).
  BiLstmLayer(int input_size, int hidden_size, float forget_bias,
              RecurrentMode recurrent = RecurrentMode::Auto);

  int input_size() const noexcept { return fw_.input_size(); }
  int hidden_size() const noexcept { return fw_.hidden_size(); }

  // x [T, B, E] -> y [T, B, 2H] (both directions from zero states). fw_final_h and bw_final_h
  // [B, H] (may be empty) receive the forward direction's h after row T-1 and the backward
  // direction's h after row 0.
  void forward(Context& ctx, const BiLstmWeights<Scalar>& w, ConstView x, View y,
               View fw_final_h = {}, View bw_final_h = {});

  // Consumes the tapes of the last forward. dy [T, B, 2H] (empty = zero); d_fw_final_h and
  // d_bw_final_h [B, H] (empty = zero) are gradients reaching the final states. Writes (or adds,
  // with Write::Accumulate) both directions' weight gradients into grads; dx [T, B, E] (empty =
  // not wanted) is overwritten with the sum of both directions' input gradients.
  void backward(Context& ctx, const BiLstmWeights<Scalar>& w, const BiLstmWeights<Scalar>& grads,
                Write grad_mode, ConstView x, ConstView dy, ConstView d_fw_final_h,
                ConstView d_bw_final_h, View dx);

  const LstmLayer<Scalar>& forward_direction() const noexcept { return fw_; }
  const LstmLayer<Scalar>& backward_direction() const noexcept { return bw_; }

 private:
  LstmLayer<Scalar> fw_, bw_;  // their tapes hold each direction's outputs [T, B, H]
  int T_ = 0, B_ = 0;
  // Grow-only scratch (reserve_buffer), used through prefix views:
  Buffer<Scalar> fw_dy_, bw_dy_;  // [T, B, H] each direction's share of dy
  Buffer<Scalar> bw_dx_;          // [T, B, E] the backward direction's dx, added to dx
};

extern template class BiLstmLayer<float>;
extern template class BiLstmLayer<double>;

}  // namespace curnn::nn
