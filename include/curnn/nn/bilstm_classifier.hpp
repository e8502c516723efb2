// The bidirectional LSTM classifier of the book's §7.3 (TensorFlow-Examples bidirectional_rnn.py;
// EXPERIMENTS.md §3), on the op interface (CPU reference or CUDA):
//
//   x [T, B, E] (an image as T rows of E pixels) -> BiLstmLayer (H units per direction,
//   forget_bias 1.0) -> head [B, 2H] -> logits = head · W [2H, C] + b [C]
//   -> softmax cross-entropy, batch mean -> Adam (TensorFlow semantics, lr 0.01).
//
// Heads:
//  - OutputsLast (the book's outputs[-1], the default): y[T-1] = concat(fw_h[T-1], bw_h[T-1]),
//    i.e. the forward direction after row T-1 and the backward direction after only row T-1
//    (its first step).
//  - FinalStates: concat(forward's final h after row T-1, backward's final h after row 0).
// Initialisation (TF1 defaults; drawn on the host from std::mt19937_64(seed)):
//  - each direction's LSTM kernel: BasicLSTMCell creates one [E+H, 4H] kernel with the variable
//    scope's default initializer, glorot_uniform: U(-l, l) with l = sqrt(6 / (E + H + 4H)); our
//    wx [E, 4H] and wh [H, 4H] are its two row blocks, so both use that same l. Biases: zeros.
//  - W and b: tf.random_normal, N(0, 1).
// All parameters live in ONE flat buffer, followed by Adam's m and v in the same layout, so one
// adam_update call steps everything and one array checkpoints the whole training state.
// Templated on the element type: float on every backend; double on the CPU for gradient checks
// (Adam is float32-only). Tests: tests/bilstm_test.cpp, tests/bilstm_cuda_test.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/nn/bilstm.hpp"
#include "curnn/nn/params.hpp"
#include "curnn/ops/types.hpp"
#include "curnn/ref/optim.hpp"  // AdamParams

namespace curnn::nn {

enum class ClassifierHead { OutputsLast, FinalStates };
// "outputs-last" / "final-states"; parse_head throws ArgumentError for other names.
const char* head_name(ClassifierHead head) noexcept;
ClassifierHead parse_head(const std::string& name);

struct ClassifierConfig {
  int input_size = 28;    // E: pixels per row (n_input)
  int hidden_size = 256;  // H: units per direction (n_hidden)
  int num_classes = 10;   // C
  float forget_bias = 1.0f;
  ClassifierHead head = ClassifierHead::OutputsLast;
  AdamParams adam{0.01f, 0.9f, 0.999f, 1e-8f};
};
// Checks every field's range; throws ArgumentError naming the field.
void validate(const ClassifierConfig& config);

template <class Scalar>
class BiLstmClassifier {
 public:
  using View = TensorView<Scalar>;
  using ConstView = TensorView<const Scalar>;

  // `recurrent` chooses the BiLSTM's recurrent loop (include/curnn/nn/persistent_loop.hpp).
  BiLstmClassifier(Context& ctx, const ClassifierConfig& config,
                   RecurrentMode recurrent = RecurrentMode::Auto);

  const ClassifierConfig& config() const noexcept { return config_; }
  // fw/wx, fw/wh, fw/bias, bw/wx, bw/wh, bw/bias, out/w [2H, C], out/b [C].
  const std::vector<ParamSlice>& layout() const noexcept { return layout_; }
  std::int64_t num_params() const noexcept { return P_; }
  View params() noexcept { return state_.view().rows(0, P_); }  // [P]
  View grads() noexcept { return grads_.view(); }               // [P], same layout
  // The whole training state [3P]: parameters, then Adam's m and v (for checkpoints).
  View training_state() noexcept { return state_.view(); }
  // Adam updates done so far (TensorFlow's t; the next update uses t + 1).
  std::int64_t adam_steps() const noexcept { return adam_steps_; }
  void set_adam_steps(std::int64_t t);

  // Parameters as described above; Adam's m and v to zero, adam_steps to 0. Copied in on ctx,
  // ordered after the work already queued there (the constructor's zero fill included).
  void initialize(Context& ctx, std::uint64_t seed);

  // x [T, B, E], labels [B] in 0..C-1 (ctx's device, or the host: copied). Computes the logits
  // and the per-example losses; with training, also the loss gradient d(mean loss)/d logits
  // and the tapes backward() needs.
  void forward(Context& ctx, ConstView x, ConstIds labels, bool training);
  // Gradients of the last training forward's mean loss into grads() (every parameter).
  void backward(Context& ctx);
  // One Adam update of every parameter from grads() (float32 only).
  void adam_step(Context& ctx);
  // The same update with the step size lr_t read from memory on ctx's device when it runs
  // (step_size[0] = ops::adam_step_size_f32(config().adam, adam_steps() + 1) gives bitwise the
  // update above), for a step captured into a CUDA Graph (include/curnn/graph.hpp). It leaves
  // adam_steps() alone, since a replay runs no host code: the caller counts the updates
  // (set_adam_steps).
  void adam_step(Context& ctx, DeviceScalar<float> step_size);

  ConstView logits() const;  // [B, C] of the last forward
  ConstView losses() const;  // [B] per-example losses of the last forward
  // The mean loss of the last forward and its number of correct predictions (host values; they
  // wait for ctx's stream).
  double mean_loss(Context& ctx);
  std::int64_t count_correct(Context& ctx);

  // The BiLSTM layer (its tapes hold the last forward's activations).
  const BiLstmLayer<Scalar>& bilstm() const noexcept { return bilstm_; }

  // Views into a flat buffer laid out like params().
  View slice(View flat, const std::string& name) const;
  BiLstmWeights<Scalar> lstm_weights(View flat) const;

 private:
  ClassifierConfig config_;
  Device device_;
  std::vector<ParamSlice> layout_;
  std::int64_t P_ = 0, adam_steps_ = 0;
  BiLstmLayer<Scalar> bilstm_;
  Buffer<Scalar> state_, grads_;  // [3P] params, m, v; [P]
  // Activations of the last forward, in grow-only buffers (reserve_buffer) sized by the largest
  // batch so far and used through prefix views: a smaller batch (an evaluation's last) allocates
  // nothing (each cudaFree would synchronise the device).
  int T_ = 0, B_ = 0;
  bool training_ = false;
  Buffer<Scalar> x_;                        // [T, B, E] copy of the input (backward reads it)
  Buffer<std::int32_t> labels_;             // [B]
  Buffer<Scalar> y_;                        // [T, B, 2H] BiLSTM outputs
  Buffer<Scalar> fw_final_h_, bw_final_h_;  // [B, H]
  Buffer<Scalar> head_;                     // [B, 2H] the FinalStates head (OutputsLast views y)
  Buffer<Scalar> logits_, dlogits_, loss_, loss_sum_;  // [B, C], [B, C], [B], [1]
  Buffer<Scalar> dy_, dhead_;                          // [T, B, 2H], [B, 2H]
  Buffer<Scalar> d_fw_final_h_, d_bw_final_h_;         // [B, H]
};

extern template class BiLstmClassifier<float>;
extern template class BiLstmClassifier<double>;

}  // namespace curnn::nn
