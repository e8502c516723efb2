// The Zaremba et al. (2014) LSTM language model of TensorFlow's ptb_word_lm.py, on the op
// interface (CPU reference or CUDA):
//   ids [T, B] -> embedding [V, H] -> dropout -> L x (LSTM H -> dropout) -> softmax layer
//   [H, V] + bias -> fused softmax cross-entropy against the next words [T, B].
// cost = sum of the T*B per-word losses / B (the book's `cost`); perplexity = exp(total cost /
// total steps). Training: plain SGD after tf.clip_by_global_norm, where, as in TensorFlow, the
// embedding's gradient enters the norm as the un-merged gathered rows (IndexedSlices values)
// and is applied as a sparse row update. Dropout only on non-recurrent connections.
// Templated on the element type: float on every backend; double on the CPU for gradient checks.
// Tests: tests/lstm_lm_test.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/nn/lstm.hpp"
#include "curnn/nn/params.hpp"
#include "curnn/nn/persistent_loop.hpp"

namespace curnn::nn {

struct LmConfig {
  std::string name = "small";
  double init_scale = 0.1;
  double learning_rate = 1.0;
  double max_grad_norm = 5;
  int num_layers = 2;
  int num_steps = 20;
  int hidden_size = 200;
  int max_epoch = 4;
  int max_max_epoch = 13;
  double keep_prob = 1.0;
  double lr_decay = 0.5;
  int batch_size = 20;
  int vocab_size = 10000;
};

// The book's configs: "small", "medium", "large", "test". Throws ArgumentError for other names.
LmConfig lm_config(const std::string& name);
// Checks every field's range; throws ArgumentError naming the field.
void validate(const LmConfig& config);

template <class Scalar>
class LstmLanguageModel {
 public:
  using View = TensorView<Scalar>;
  using ConstView = TensorView<const Scalar>;

  // `recurrent` chooses the LSTM layers' recurrent loop (include/curnn/nn/persistent_loop.hpp).
  LstmLanguageModel(Context& ctx, const LmConfig& config,
                    RecurrentMode recurrent = RecurrentMode::Auto);

  const LmConfig& config() const noexcept { return config_; }
  // Parameters: one flat buffer; the embedding first, then the dense parameters (the LSTM
  // layers' wx, wh, bias, then softmax_w [H, V] and softmax_b [V]).
  const std::vector<ParamSlice>& layout() const noexcept { return layout_; }
  Buffer<Scalar>& params() noexcept { return params_; }
  // Gradients of the dense parameters (flat, same order as in params after the embedding), and
  // of the gathered embedding rows [T*B, H] (with the ids of the last forward; backward leaves
  // them in its scratch dy_, valid until the next backward).
  Buffer<Scalar>& dense_grads() noexcept { return dense_grads_; }
  Buffer<Scalar>& embedding_row_grads() noexcept { return dy_; }
  std::int64_t embedding_numel() const noexcept { return layout_.front().numel(); }

  // U(-init_scale, init_scale) for every parameter but the LSTM biases (zeros), as TF's variable
  // scope initializer and BasicLSTMCell do; drawn on the host from std::mt19937_64(seed) and
  // copied in on ctx (ordered after the work already queued there).
  void initialize(Context& ctx, std::uint64_t seed);

  // State [L][B, H] for c and h; zeros at the start of every epoch and evaluation pass.
  struct State {
    std::vector<Buffer<Scalar>> c, h;
  };
  State zero_state(Context& ctx, int batch_size) const;

  // One window: inputs, targets [T, B] (device or host ids matching ctx). Carries `state` in
  // place. With training, draws dropout masks from (dropout_seed, mask_offset...) and keeps the
  // tape for backward(). Returns nothing on the host: the per-word losses stay in loss_rows()
  // and `cost_sum` [1] (device) accumulates their sum when given (perplexity = exp(sum / words)).
  void forward(Context& ctx, ConstIds inputs, ConstIds targets, State& state, bool training,
               std::uint64_t dropout_seed, std::uint64_t mask_offset, View cost_sum = {});
  // The same with the first mask's offset read from memory on ctx's device when the masks are
  // drawn (a step captured into a CUDA Graph, include/curnn/graph.hpp): bitwise the forward
  // with that offset. With device ids, a forward queues no host copy, synchronisation or (once
  // a forward of this shape has run) allocation, so it can be captured.
  void forward(Context& ctx, ConstIds inputs, ConstIds targets, State& state, bool training,
               std::uint64_t dropout_seed, DeviceScalar<std::uint64_t> mask_offset,
               View cost_sum = {});
  // Gradients of the last training forward's cost into dense_grads() and embedding_row_grads().
  void backward(Context& ctx);
  // tf.clip_by_global_norm over all gradients, then SGD with learning rate lr. grad_norm [1]
  // (device) receives the global norm before clipping (NaN/Inf there means the step diverged).
  void sgd_step(Context& ctx, Scalar lr, View grad_norm);
  // The same with lr read from memory on ctx's device when the updates run (bitwise the same).
  void sgd_step(Context& ctx, DeviceScalar<float> lr, View grad_norm);

  ConstView loss_rows() const;  // [T*B] per-word losses of the last forward
  // [T*B, V] logits of the last evaluation forward (after a training forward: its dlogits).
  ConstView logits() const;

  // Views into params (or a buffer laid out like it).
  LstmWeights<Scalar> layer_weights(Buffer<Scalar>& flat, int layer, std::int64_t base = 0) const;
  View slice(Buffer<Scalar>& flat, const std::string& name, std::int64_t base = 0) const;

 private:
  // mask_offset_device (may be null): the first mask's offset is mask_offset_device[0] +
  // mask_offset, else mask_offset. lr_device likewise.
  void forward_impl(Context& ctx, ConstIds inputs, ConstIds targets, State& state, bool training,
                    std::uint64_t dropout_seed, const std::uint64_t* mask_offset_device,
                    std::uint64_t mask_offset, View cost_sum);
  void sgd_step_impl(Context& ctx, float lr, const float* lr_device, View grad_norm);

  LmConfig config_;
  Device device_;
  std::vector<ParamSlice> layout_;
  std::vector<LstmLayer<Scalar>> layers_;
  Buffer<Scalar> params_, dense_grads_;
  // Activations of the last forward.
  int T_ = 0, B_ = 0;
  bool training_ = false;
  Buffer<std::int32_t> inputs_, targets_;  // [T*B] copies of the window's ids
  Buffer<Scalar> emb_out_, emb_mask_;      // [T, B, H]
  // L x [T, B, H], with dropout only: each layer's mask (the layer keeps a view until backward)
  // and dropped-out output (without dropout the output is the layer's tape).
  std::vector<Buffer<Scalar>> layer_out_, masks_;
  Buffer<Scalar> logits_, loss_;  // [T*B, V], [T*B]
  Buffer<Scalar> dy_, dx_;        // [T, B, H] scratch for backward; dy_ ends as the row gradients
};

extern template class LstmLanguageModel<float>;
extern template class LstmLanguageModel<double>;

}  // namespace curnn::nn
