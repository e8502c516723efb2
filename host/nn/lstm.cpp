// LSTM layer with BPTT on the op interface. Design notes: include/curnn/nn/lstm.hpp.
#include "curnn/nn/lstm.hpp"

#include <utility>

#include "curnn/ops/gemm.hpp"
#include "curnn/ops/lstm_cell.hpp"
#include "curnn/ops/reduce.hpp"

namespace curnn::nn {

namespace {

// Slot of the state that step t reads, and of the initial state (see LstmTape).
int prev_slot(Direction dir, int t) {
  return dir == Direction::Forward ? t : t + 2;
}
int initial_slot(Direction dir, int T) {
  return dir == Direction::Forward ? 0 : T + 1;
}
// Input time of the s-th step processed.
int time_of_step(Direction dir, int T, int s) {
  return dir == Direction::Forward ? s : T - 1 - s;
}

template <class U>
TensorView<U> step_of(TensorView<U> seq, int t) {  // seq [T, B, W] -> [B, W]
  const std::int64_t B = seq.dim(1), W = seq.dim(2);
  return TensorView<U>(seq.data() + t * B * W, {B, W}, seq.device());
}

// The initial state into its tape slot (a copy: the slot must sit next to the others, for the
// dWh GEMM over all steps' previous states).
template <class Scalar>
void set_state(Context& ctx, TensorView<const Scalar> from, TensorView<Scalar> to) {
  if (from) {
    copy(ctx, from, to);
  } else {
    ops::fill(ctx, to, Scalar(0));
  }
}

}  // namespace

template <class Scalar>
void LstmTape<Scalar>::reserve(Device device, int steps, int batch, int hidden) {
  T = steps, B = batch, H = hidden;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  reserve_buffer(pre, device, T * 4 * BH);
  reserve_buffer(gates, device, T * 4 * BH);
  reserve_buffer(c, device, (T + 2) * BH);
  reserve_buffer(h, device, (T + 2) * BH);
}

// ---- the per-step loop ----------------------------------------------------------------------

template <class Scalar>
void GemmPerStepLoop<Scalar>::forward(Context& ctx, const LstmWeights<Scalar>& w, float forget_bias,
                                      Direction dir, LstmTape<Scalar>& tape, TensorView<Scalar> y,
                                      TensorView<Scalar> h_final, TensorView<Scalar> c_final) {
  const int T = tape.T, H = tape.H;
  const bool dropout = static_cast<bool>(tape.mask);
  for (int s = 0; s < T; ++s) {
    const int t = time_of_step(dir, T, s), prev = prev_slot(dir, t);
    const bool last = s == T - 1;
    TensorView<Scalar> pre_t = tape.step(tape.pre, t, 4 * H);
    ops::gemm(ctx, Transpose::No, Transpose::No, tape.state_slot(tape.h, prev), w.wh, pre_t,
              Write::Accumulate);
    ops::lstm_cell_forward(ctx, pre_t, w.bias, tape.state_slot(tape.c, prev), forget_bias,
                           tape.step(tape.gates, t, 4 * H), tape.state_slot(tape.c, t + 1),
                           tape.state_slot(tape.h, t + 1), tape.mask_step(t),
                           dropout ? step_of(y, t) : TensorView<Scalar>(),
                           last ? c_final : TensorView<Scalar>(),
                           last ? h_final : TensorView<Scalar>());
  }
}

template <class Scalar>
void GemmPerStepLoop<Scalar>::backward(Context& ctx, const LstmWeights<Scalar>& w, Direction dir,
                                       LstmTape<Scalar>& tape, TensorView<const Scalar> dy,
                                       TensorView<const Scalar> dh_last,
                                       TensorView<const Scalar> dc_last,
                                       TensorView<Scalar> dh_first, TensorView<Scalar> dc_first) {
  const int T = tape.T, B = tape.B, H = tape.H;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  reserve_buffer(dh_, ctx.device(), BH);
  reserve_buffer(dc_[0], ctx.device(), BH);
  reserve_buffer(dc_[1], ctx.device(), BH);
  TensorView<const Scalar> dh = dh_last,
                           dc = dc_last;  // gradients reaching the state of the step after
  int ping = 0;
  for (int s = T - 1; s >= 0; --s) {
    const int t = time_of_step(dir, T, s), prev = prev_slot(dir, t);
    // The first step's gradients reaching the initial state go straight to the caller.
    const bool first = s == 0;
    TensorView<Scalar> dpre_t = tape.step(tape.pre, t, 4 * H);
    TensorView<Scalar> dc_prev = first && dc_first ? dc_first : dc_[ping].prefix({B, H});
    TensorView<Scalar> dh_prev = first && dh_first ? dh_first : dh_.prefix({B, H});
    ops::lstm_cell_backward(ctx, tape.step(tape.gates, t, 4 * H), tape.state_slot(tape.c, t + 1),
                            tape.state_slot(tape.c, prev), dh, step_of(dy, t), tape.mask_step(t),
                            dc, dpre_t, dc_prev);
    // dh_prev = dPre_t Wh^T (the cell backward above has consumed the previous dh on the stream).
    ops::gemm(ctx, Transpose::No, Transpose::Yes, dpre_t, w.wh, dh_prev, Write::Overwrite);
    dh = dh_prev;
    dc = dc_prev;
    ping ^= 1;
  }
}

// ---- the layer -------------------------------------------------------------------------------

template <class Scalar>
LstmLayer<Scalar>::LstmLayer(int input_size, int hidden_size, float forget_bias,
                             Direction direction, std::unique_ptr<RecurrentLoop<Scalar>> loop)
    : E_(input_size),
      H_(hidden_size),
      forget_bias_(forget_bias),
      dir_(direction),
      loop_(std::move(loop)) {
  CURNN_CHECK_ARG(E_ > 0 && H_ > 0, "LSTM sizes must be positive: E=" << E_ << " H=" << H_);
  CURNN_CHECK_ARG(loop_ != nullptr, "LstmLayer needs a recurrent loop");
}

template <class Scalar>
void LstmLayer<Scalar>::forward(Context& ctx, const LstmWeights<Scalar>& w,
                                TensorView<const Scalar> x, TensorView<const Scalar> h0,
                                TensorView<const Scalar> c0, TensorView<Scalar> y,
                                TensorView<Scalar> hT, TensorView<Scalar> cT,
                                TensorView<const Scalar> dropout_mask) {
  const Device d = ctx.device();
  CURNN_CHECK_ARG(x.rank() == 3 && x.dim(2) == E_,
                  "LSTM input must be [T, B, " << E_ << "], got " << x.shape_string());
  const int T = static_cast<int>(x.dim(0)), B = static_cast<int>(x.dim(1)), H = H_;
  CURNN_CHECK_ARG(T > 0 && B > 0, "empty LSTM input " << x.shape_string());
  CURNN_CHECK_TENSOR(w.wx, d, {E_, 4 * H});
  CURNN_CHECK_TENSOR(w.wh, d, {H, 4 * H});
  CURNN_CHECK_TENSOR(w.bias, d, {4 * H});
  CURNN_CHECK_ARG(y || !dropout_mask, "LSTM forward with a dropout mask needs y");
  if (y) CURNN_CHECK_TENSOR(y, d, {T, B, H});
  if (h0) CURNN_CHECK_TENSOR(h0, d, {B, H});
  if (c0) CURNN_CHECK_TENSOR(c0, d, {B, H});
  if (hT) CURNN_CHECK_TENSOR(hT, d, {B, H});
  if (cT) CURNN_CHECK_TENSOR(cT, d, {B, H});
  if (dropout_mask) CURNN_CHECK_TENSOR(dropout_mask, d, {T, B, H});

  tape_.reserve(d, T, B, H);
  tape_.mask = dropout_mask;
  const int init = initial_slot(dir_, T);
  set_state(ctx, h0, tape_.state_slot(tape_.h, init));
  set_state(ctx, c0, tape_.state_slot(tape_.c, init));
  // The input projections of all T steps in one GEMM.
  ops::gemm(ctx, Transpose::No, Transpose::No, x.reshape({T * B, E_}), w.wx,
            tape_.pre.prefix({T * B, 4 * H}), Write::Overwrite);
  loop_->forward(ctx, w, forget_bias_, dir_, tape_, dropout_mask ? y : TensorView<Scalar>(), hT,
                 cT);
  output_ = tape_.outputs();
  if (y) {
    if (!dropout_mask) copy(ctx, output_, y);  // asked for: the outputs are the tape's slots
    output_ = y;
  }
}

template <class Scalar>
void LstmLayer<Scalar>::backward(Context& ctx, const LstmWeights<Scalar>& w,
                                 const LstmWeights<Scalar>& grads, Write grad_mode,
                                 TensorView<const Scalar> x, TensorView<const Scalar> dy,
                                 TensorView<const Scalar> dhT, TensorView<const Scalar> dcT,
                                 TensorView<Scalar> dx, TensorView<Scalar> dh0,
                                 TensorView<Scalar> dc0) {
  const Device d = ctx.device();
  const int T = tape_.T, B = tape_.B, H = H_;
  CURNN_CHECK_ARG(T > 0, "LstmLayer::backward before forward");
  CURNN_CHECK_TENSOR(x, d, {T, B, E_});
  CURNN_CHECK_TENSOR(dy, d, {T, B, H});
  CURNN_CHECK_TENSOR(grads.wx, d, {E_, 4 * H});
  CURNN_CHECK_TENSOR(grads.wh, d, {H, 4 * H});
  CURNN_CHECK_TENSOR(grads.bias, d, {4 * H});
  if (dx) CURNN_CHECK_TENSOR(dx, d, {T, B, E_});
  if (dh0) CURNN_CHECK_TENSOR(dh0, d, {B, H});
  if (dc0) CURNN_CHECK_TENSOR(dc0, d, {B, H});

  loop_->backward(ctx, w, dir_, tape_, dy, dhT, dcT, dh0, dc0);

  // Weight gradients as GEMMs over all T*B rows.
  const TensorView<Scalar> dpre = tape_.pre.prefix({T * B, 4 * H});
  const std::int64_t first_prev = prev_slot(dir_, 0);  // slot 0 or 2: T contiguous slots
  const TensorView<const Scalar> h_prev(tape_.h.data() + first_prev * B * H, {T * B, H}, d);
  ops::gemm(ctx, Transpose::Yes, Transpose::No, x.reshape({T * B, E_}), dpre, grads.wx, grad_mode);
  ops::gemm(ctx, Transpose::Yes, Transpose::No, h_prev, dpre, grads.wh, grad_mode);
  ops::column_sum(ctx, dpre, grads.bias, grad_mode == Write::Accumulate);
  if (dx) {
    ops::gemm(ctx, Transpose::No, Transpose::Yes, dpre, w.wx, dx.reshape({T * B, E_}),
              Write::Overwrite);
  }
}

template class LstmTape<float>;
template class LstmTape<double>;
template class GemmPerStepLoop<float>;
template class GemmPerStepLoop<double>;
template class LstmLayer<float>;
template class LstmLayer<double>;

}  // namespace curnn::nn
