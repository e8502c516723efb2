// The bidirectional LSTM layer. Design notes: include/curnn/nn/bilstm.hpp.
#include "curnn/nn/bilstm.hpp"

#include "curnn/ops/concat.hpp"
#include "curnn/ops/reduce.hpp"

namespace curnn::nn {

template <class Scalar>
BiLstmLayer<Scalar>::BiLstmLayer(int input_size, int hidden_size, float forget_bias,
                                 RecurrentMode recurrent)
    : fw_(input_size, hidden_size, forget_bias, Direction::Forward,
          make_recurrent_loop<Scalar>(recurrent)),
      bw_(input_size, hidden_size, forget_bias, Direction::Reverse,
          make_recurrent_loop<Scalar>(recurrent)) {}

template <class Scalar>
void BiLstmLayer<Scalar>::forward(Context& ctx, const BiLstmWeights<Scalar>& w, ConstView x, View y,
                                  View fw_final_h, View bw_final_h) {
  const Device d = ctx.device();
  const int E = input_size(), H = hidden_size();
  CURNN_CHECK_ARG(x.rank() == 3 && x.dim(2) == E,
                  "BiLSTM input must be [T, B, " << E << "], got " << x.shape_string());
  const std::int64_t T = x.dim(0), B = x.dim(1);
  CURNN_CHECK_ARG(T > 0 && B > 0, "empty BiLSTM input " << x.shape_string());
  CURNN_CHECK_TENSOR(y, d, {T, B, 2 * H});
  T_ = static_cast<int>(T), B_ = static_cast<int>(B);
  // The two directions are independent until the concat, which reads their outputs straight
  // from their tapes.
  fw_.forward(ctx, w.fw, x, {}, {}, {}, fw_final_h, {});
  bw_.forward(ctx, w.bw, x, {}, {}, {}, bw_final_h, {});
  ops::concat_columns(ctx, fw_.output().reshape({T * B, H}), bw_.output().reshape({T * B, H}),
                      y.reshape({T * B, 2 * H}));
}

template <class Scalar>
void BiLstmLayer<Scalar>::backward(Context& ctx, const BiLstmWeights<Scalar>& w,
                                   const BiLstmWeights<Scalar>& grads, Write grad_mode, ConstView x,
                                   ConstView dy, ConstView d_fw_final_h, ConstView d_bw_final_h,
                                   View dx) {
  const Device d = ctx.device();
  const std::int64_t T = T_, B = B_, E = input_size(), H = hidden_size();
  CURNN_CHECK_ARG(T > 0, "BiLstmLayer::backward before forward");
  CURNN_CHECK_TENSOR(x, d, {T, B, E});
  if (dy) CURNN_CHECK_TENSOR(dy, d, {T, B, 2 * H});
  if (dx) CURNN_CHECK_TENSOR(dx, d, {T, B, E});
  const std::size_t TBH = static_cast<std::size_t>(T * B) * H;
  reserve_buffer(fw_dy_, d, TBH);
  reserve_buffer(bw_dy_, d, TBH);
  const View fw_dy = fw_dy_.prefix({T, B, H}), bw_dy = bw_dy_.prefix({T, B, H});
  if (dy) {
    ops::split_columns(ctx, dy.reshape({T * B, 2 * H}), fw_dy.reshape({T * B, H}),
                       bw_dy.reshape({T * B, H}));
  } else {
    ops::fill(ctx, fw_dy, Scalar(0));
    ops::fill(ctx, bw_dy, Scalar(0));
  }
  View bw_dx;
  if (dx) {
    reserve_buffer(bw_dx_, d, static_cast<std::size_t>(T * B * E));
    bw_dx = bw_dx_.prefix({T, B, E});
  }
  fw_.backward(ctx, w.fw, grads.fw, grad_mode, x, fw_dy, d_fw_final_h, {}, dx, {}, {});
  bw_.backward(ctx, w.bw, grads.bw, grad_mode, x, bw_dy, d_bw_final_h, {}, bw_dx, {}, {});
  if (dx) ops::axpy(ctx, Scalar(1), ConstView(bw_dx), dx);
}

template class BiLstmLayer<float>;
template class BiLstmLayer<double>;

}  // namespace curnn::nn
