// One LSTM layer over a whole sequence, with backpropagation through time, written once against
// the op interface (curnn/ops/) so it runs on the CPU reference backend and on CUDA alike.
//
// Math per step (TensorFlow BasicLSTMCell, gate order [i, j, f, o]):
//   pre_t = x_t Wx + h_prev Wh            [B, 4H]   (bias and activations in the fused cell)
//   (gates_t, c_t, h_t) = lstm_cell(pre_t, bias, c_prev, forget_bias); y_t = h_t * mask_t
// Forward:  the input projections of all T steps in one GEMM ([T*B, E] x [E, 4H]), then per step
//           the recurrent GEMM (accumulated into pre_t) and the fused cell, recording a tape.
// Backward: back through time per step (the fused cell backward, then dh_prev = dpre_t Wh^T),
//           and the weight gradients as three large GEMMs over all steps (dWx = X^T dPre,
//           dWh = Hprev^T dPre, dbias = colsum dPre) plus dX = dPre Wx^T.
// Direction::Reverse runs t = T-1 .. 0 (the backward half of a bidirectional layer); outputs
// and tape stay indexed by input time t, so y_t is aligned with x_t for either direction.
// The per-step recurrent part sits behind RecurrentLoop: a persistent kernel or a CUDA Graph of
// the step loop can replace GemmPerStepLoop without touching callers.
// No copies on the way: without dropout the outputs are the tape's hidden-state slots (output(),
// no y copy); the dropout mask is kept as a view; the final state is written into hT/cT by the
// last step's cell launch, and the gradients reaching the initial state into dh0/dc0 by the last
// backward step.
// Templated on the element type: float on every backend, double on the CPU reference backend
// (for gradient checks of the whole BPTT in double).
// Tests: tests/lstm_lm_test.cpp (the layer: gradient checks, T steps == T single steps, reverse,
// no copies), tests/bilstm_cuda_test.cpp (on CUDA against the CPU).
#pragma once

#include <memory>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/ops/types.hpp"
#include "curnn/tensor.hpp"

namespace curnn::nn {

enum class Direction { Forward, Reverse };

// Views of one layer's parameters (or of their gradients).
template <class Scalar>
struct LstmWeights {
  TensorView<Scalar> wx;    // [E, 4H]
  TensorView<Scalar> wh;    // [H, 4H]
  TensorView<Scalar> bias;  // [4H]
};

// What backward needs, indexed by input time t. The state slots hold the initial state and
// every step's output: slot t+1 is step t's (c, h); the initial state sits in slot 0 (Forward)
// or slot T+1 (Reverse), so each step's previous state is slot t (Forward) or t+2 (Reverse) and
// the previous states of all T steps form one contiguous [T, B, H] block for the dWh GEMM; the
// outputs h of all steps (slots 1..T) are contiguous too, for either direction.
// The buffers only grow (reserve_buffer): a shorter sequence or a smaller batch than an earlier
// one (an evaluation's last batch) reuses their memory through views of their first elements.
template <class Scalar>
class LstmTape {
 public:
  void reserve(Device device, int steps, int batch, int hidden);
  int T = 0, B = 0, H = 0;
  Buffer<Scalar> pre;    // [T, B, 4H] pre-activations; reused for dPre in backward
  Buffer<Scalar> gates;  // [T, B, 4H] activated gates
  Buffer<Scalar> c;      // [T+2, B, H] cell state slots
  Buffer<Scalar> h;      // [T+2, B, H] hidden state slots
  // The output dropout mask [T, B, H] of the last forward, empty without dropout: a view of the
  // caller's mask, not a copy, so the caller keeps it unchanged until backward() has run.
  TensorView<const Scalar> mask;

  TensorView<Scalar> state_slot(Buffer<Scalar>& s, int slot) const {
    return TensorView<Scalar>(s.data() + static_cast<std::int64_t>(slot) * B * H, {B, H},
                              s.device());
  }
  TensorView<Scalar> step(Buffer<Scalar>& s, int t, int width) const {
    return TensorView<Scalar>(s.data() + static_cast<std::int64_t>(t) * B * width, {B, width},
                              s.device());
  }
  TensorView<const Scalar> mask_step(int t) const {  // [B, H], or empty without dropout
    if (!mask) return {};
    return TensorView<const Scalar>(mask.data() + static_cast<std::int64_t>(t) * B * H, {B, H},
                                    mask.device());
  }
  // Slots 1..T: the hidden states of all steps, [T, B, H] (the outputs without dropout).
  TensorView<const Scalar> outputs() const {
    return TensorView<const Scalar>(h.data() + static_cast<std::int64_t>(B) * H, {T, B, H},
                                    h.device());
  }
};

// The per-step recurrent loop: runs all T steps of the recurrence given the input projections.
template <class Scalar>
class RecurrentLoop {
 public:
  virtual ~RecurrentLoop() = default;
  // tape.pre holds x_t Wx for every t on entry; fills tape.gates/c/h (slots as above) and, with
  // a mask (tape.mask), y = h * mask (y is empty without one). h_final/c_final [B, H] (empty =
  // not wanted) receive the final state, written by the last step itself.
  virtual void forward(Context& ctx, const LstmWeights<Scalar>& w, float forget_bias, Direction dir,
                       LstmTape<Scalar>& tape, TensorView<Scalar> y /*[T, B, H]*/,
                       TensorView<Scalar> h_final, TensorView<Scalar> c_final) = 0;
  // dy [T, B, H] reaches y; dh_last/dc_last [B, H] reach the final state (empty = zero).
  // Writes dPre into tape.pre (all steps) and the gradient reaching the initial state into
  // dh_first/dc_first [B, H] (empty = not wanted).
  virtual void backward(Context& ctx, const LstmWeights<Scalar>& w, Direction dir,
                        LstmTape<Scalar>& tape, TensorView<const Scalar> dy,
                        TensorView<const Scalar> dh_last, TensorView<const Scalar> dc_last,
                        TensorView<Scalar> dh_first, TensorView<Scalar> dc_first) = 0;
};

// One recurrent GEMM and one fused cell launch per step (cuBLAS on the GPU).
template <class Scalar>
class GemmPerStepLoop final : public RecurrentLoop<Scalar> {
 public:
  void forward(Context& ctx, const LstmWeights<Scalar>& w, float forget_bias, Direction dir,
               LstmTape<Scalar>& tape, TensorView<Scalar> y, TensorView<Scalar> h_final,
               TensorView<Scalar> c_final) override;
  void backward(Context& ctx, const LstmWeights<Scalar>& w, Direction dir, LstmTape<Scalar>& tape,
                TensorView<const Scalar> dy, TensorView<const Scalar> dh_last,
                TensorView<const Scalar> dc_last, TensorView<Scalar> dh_first,
                TensorView<Scalar> dc_first) override;

 private:
  Buffer<Scalar> dh_, dc_[2];  // [B, H] running gradients (grow-only)
};

template <class Scalar>
class LstmLayer {
 public:
  LstmLayer(
      int input_size, int hidden_size, float forget_bias, Direction direction = Direction::Forward,
      std::unique_ptr<RecurrentLoop<Scalar>> loop = std::make_unique<GemmPerStepLoop<Scalar>>());

  int input_size() const noexcept { return E_; }
  int hidden_size() const noexcept { return H_; }
  Direction direction() const noexcept { return dir_; }

  // x [T, B, E] -> y [T, B, H]; h0, c0 [B, H] the initial state (empty = zeros); hT, cT [B, H]
  // receive the final state (the state after the last step processed; may be empty; they may be
  // h0 and c0 themselves: a state carried in place).
  // dropout_mask [T, B, H] (0 or 1/keep) applies to y only (Zaremba: never to the recurrence);
  // the layer keeps a view of it (no copy): it must stay unchanged until backward().
  // y may be empty when there is no mask: the outputs are then read through output(), a view of
  // the tape (no copy). Given without a mask, y receives a copy of them.
  void forward(Context& ctx, const LstmWeights<Scalar>& w, TensorView<const Scalar> x,
               TensorView<const Scalar> h0, TensorView<const Scalar> c0, TensorView<Scalar> y,
               TensorView<Scalar> hT, TensorView<Scalar> cT,
               TensorView<const Scalar> dropout_mask = {});

  // The outputs [T, B, H] of the last forward: y when it was given, else the tape's hidden
  // states (valid until the next forward).
  TensorView<const Scalar> output() const noexcept { return output_; }

  // Consumes the tape of the last forward. dy [T, B, H]; dhT, dcT [B, H] (empty = zero).
  // Writes (or adds, with Write::Accumulate) the weight gradients into grads; dx [T, B, E]
  // (empty = not wanted) is overwritten; dh0, dc0 [B, H] (empty = not wanted).
  void backward(Context& ctx, const LstmWeights<Scalar>& w, const LstmWeights<Scalar>& grads,
                Write grad_mode, TensorView<const Scalar> x, TensorView<const Scalar> dy,
                TensorView<const Scalar> dhT, TensorView<const Scalar> dcT, TensorView<Scalar> dx,
                TensorView<Scalar> dh0, TensorView<Scalar> dc0);

  const LstmTape<Scalar>& tape() const noexcept { return tape_; }

 private:
  int E_, H_;
  float forget_bias_;
  Direction dir_;
  std::unique_ptr<RecurrentLoop<Scalar>> loop_;
  LstmTape<Scalar> tape_;
  TensorView<const Scalar> output_;
};

extern template class LstmLayer<float>;
extern template class LstmLayer<double>;

}  // namespace curnn::nn
