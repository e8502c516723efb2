// The PTB LSTM language model on the op interface. Design notes: include/curnn/nn/lstm_lm.hpp.
#include "curnn/nn/lstm_lm.hpp"

#include <random>
#include <type_traits>

#include "curnn/ops/dropout.hpp"
#include "curnn/ops/embedding.hpp"
#include "curnn/ops/gemm.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ops/reduce.hpp"
#include "curnn/ops/softmax_xent.hpp"

namespace curnn::nn {

LmConfig lm_config(const std::string& name) {
  LmConfig c;
  c.name = name;
  if (name == "small") return c;
  if (name == "medium") {
    c.init_scale = 0.05, c.num_steps = 35, c.hidden_size = 650, c.max_epoch = 6;
    c.max_max_epoch = 39, c.keep_prob = 0.5, c.lr_decay = 0.8;
    return c;
  }
  if (name == "large") {
    c.init_scale = 0.04, c.max_grad_norm = 10, c.num_steps = 35, c.hidden_size = 1500;
    c.max_epoch = 14, c.max_max_epoch = 55, c.keep_prob = 0.35, c.lr_decay = 1 / 1.15;
    return c;
  }
  if (name == "test") {
    c.max_grad_norm = 1, c.num_layers = 1, c.num_steps = 2, c.hidden_size = 2, c.max_epoch = 1;
    c.max_max_epoch = 1;
    return c;
  }
  CURNN_CHECK_ARG(false, "unknown model config '" << name << "' (small, medium, large or test)");
  return c;
}

void validate(const LmConfig& c) {
  CURNN_CHECK_ARG(c.init_scale > 0 && c.init_scale <= 10,
                  "init_scale " << c.init_scale << " outside (0, 10]");
  CURNN_CHECK_ARG(c.learning_rate > 0 && c.learning_rate <= 100,
                  "learning_rate " << c.learning_rate << " outside (0, 100]");
  CURNN_CHECK_ARG(c.max_grad_norm > 0, "max_grad_norm must be positive, got " << c.max_grad_norm);
  CURNN_CHECK_ARG(c.num_layers >= 1 && c.num_layers <= 16,
                  "num_layers " << c.num_layers << " outside [1, 16]");
  CURNN_CHECK_ARG(c.num_steps >= 1 && c.num_steps <= 10000,
                  "num_steps " << c.num_steps << " outside [1, 10000]");
  CURNN_CHECK_ARG(c.hidden_size >= 1 && c.hidden_size <= 16384,
                  "hidden_size " << c.hidden_size << " outside [1, 16384]");
  CURNN_CHECK_ARG(c.max_epoch >= 1, "max_epoch must be >= 1, got " << c.max_epoch);
  CURNN_CHECK_ARG(c.max_max_epoch >= 1 && c.max_max_epoch <= 10000,
                  "max_max_epoch " << c.max_max_epoch << " outside [1, 10000]");
  CURNN_CHECK_ARG(c.keep_prob > 0 && c.keep_prob <= 1,
                  "keep_prob " << c.keep_prob << " outside (0, 1]");
  CURNN_CHECK_ARG(c.lr_decay > 0 && c.lr_decay <= 1,
                  "lr_decay " << c.lr_decay << " outside (0, 1]");
  CURNN_CHECK_ARG(c.batch_size >= 1 && c.batch_size <= 65536,
                  "batch_size " << c.batch_size << " outside [1, 65536]");
  CURNN_CHECK_ARG(c.vocab_size >= 2, "vocab_size must be >= 2, got " << c.vocab_size);
}

template <class Scalar>
LstmLanguageModel<Scalar>::LstmLanguageModel(Context& ctx, const LmConfig& config,
                                             RecurrentMode recurrent)
    : config_(config), device_(ctx.device()) {
  validate(config_);
  const std::int64_t V = config_.vocab_size, H = config_.hidden_size;
  std::int64_t offset = 0;
  const auto add = [&](std::string name, std::vector<std::int64_t> shape) {
    layout_.push_back(ParamSlice{std::move(name), offset, std::move(shape)});
    offset += layout_.back().numel();
  };
  add("embedding", {V, H});
  for (int l = 0; l < config_.num_layers; ++l) {
    const std::string p = "lstm" + std::to_string(l) + "/";
    add(p + "wx", {H, 4 * H});
    add(p + "wh", {H, 4 * H});
    add(p + "bias", {4 * H});
    layers_.emplace_back(static_cast<int>(H), static_cast<int>(H), /*forget_bias=*/0.0f,
                         Direction::Forward, make_recurrent_loop<Scalar>(recurrent));
  }
  add("softmax_w", {H, V});
  add("softmax_b", {V});
  params_ = Buffer<Scalar>(device_, static_cast<std::size_t>(offset));
  dense_grads_ = Buffer<Scalar>(device_, static_cast<std::size_t>(offset - V * H));
}

template <class Scalar>
void LstmLanguageModel<Scalar>::initialize(Context& ctx, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-config_.init_scale, config_.init_scale);
  std::vector<Scalar> host(params_.size());
  for (const ParamSlice& p : layout_) {
    const bool lstm_bias = p.name.size() > 5 && p.name.compare(p.name.size() - 5, 5, "/bias") == 0;
    for (std::int64_t i = 0; i < p.numel(); ++i) {
      host[p.offset + i] = lstm_bias ? Scalar(0) : static_cast<Scalar>(u(rng));
    }
  }
  copy(ctx,
       TensorView<const Scalar>(host.data(), {static_cast<std::int64_t>(host.size())}, Device::CPU),
       params_.view());
}

template <class Scalar>
typename LstmLanguageModel<Scalar>::State LstmLanguageModel<Scalar>::zero_state(
    Context& ctx, int batch_size) const {
  State s;
  const std::size_t n = static_cast<std::size_t>(batch_size) * config_.hidden_size;
  for (int l = 0; l < config_.num_layers; ++l) {
    s.c.emplace_back(device_, n);
    s.h.emplace_back(device_, n);
    ops::fill(ctx, s.c.back().view(), Scalar(0));
    ops::fill(ctx, s.h.back().view(), Scalar(0));
  }
  return s;
}

template <class Scalar>
typename LstmLanguageModel<Scalar>::View LstmLanguageModel<Scalar>::slice(Buffer<Scalar>& flat,
                                                                          const std::string& name,
                                                                          std::int64_t base) const {
  for (const ParamSlice& p : layout_) {
    if (p.name != name) continue;
    View v(flat.data() + p.offset - base, {p.numel()}, flat.device());
    switch (p.shape.size()) {
      case 1:
        return v;
      case 2:
        return v.reshape({p.shape[0], p.shape[1]});
      default:
        break;
    }
  }
  CURNN_CHECK_ARG(false, "no parameter named " << name);
  return {};
}

template <class Scalar>
LstmWeights<Scalar> LstmLanguageModel<Scalar>::layer_weights(Buffer<Scalar>& flat, int layer,
                                                             std::int64_t base) const {
  const std::string p = "lstm" + std::to_string(layer) + "/";
  return {slice(flat, p + "wx", base), slice(flat, p + "wh", base), slice(flat, p + "bias", base)};
}

template <class Scalar>
typename LstmLanguageModel<Scalar>::ConstView LstmLanguageModel<Scalar>::loss_rows() const {
  return loss_.view({static_cast<std::int64_t>(T_) * B_});
}

template <class Scalar>
typename LstmLanguageModel<Scalar>::ConstView LstmLanguageModel<Scalar>::logits() const {
  return logits_.view({static_cast<std::int64_t>(T_) * B_, config_.vocab_size});
}

template <class Scalar>
void LstmLanguageModel<Scalar>::forward(Context& ctx, ConstIds inputs, ConstIds targets,
                                        State& state, bool training, std::uint64_t dropout_seed,
                                        std::uint64_t mask_offset, View cost_sum) {
  forward_impl(ctx, inputs, targets, state, training, dropout_seed, nullptr, mask_offset, cost_sum);
}

template <class Scalar>
void LstmLanguageModel<Scalar>::forward(Context& ctx, ConstIds inputs, ConstIds targets,
                                        State& state, bool training, std::uint64_t dropout_seed,
                                        DeviceScalar<std::uint64_t> mask_offset, View cost_sum) {
  CURNN_CHECK_ARG(mask_offset.ptr != nullptr, "mask_offset has a null pointer");
  forward_impl(ctx, inputs, targets, state, training, dropout_seed, mask_offset.ptr, 0, cost_sum);
}

template <class Scalar>
void LstmLanguageModel<Scalar>::forward_impl(Context& ctx, ConstIds inputs, ConstIds targets,
                                             State& state, bool training,
                                             std::uint64_t dropout_seed,
                                             const std::uint64_t* mask_offset_device,
                                             std::uint64_t mask_offset, View cost_sum) {
  CURNN_CHECK_ARG(inputs.rank() == 2, "inputs must be [T, B], got " << inputs.shape_string());
  const int T = static_cast<int>(inputs.dim(0)), B = static_cast<int>(inputs.dim(1));
  const std::int64_t H = config_.hidden_size, V = config_.vocab_size, N = std::int64_t(T) * B;
  CURNN_CHECK_TENSOR(targets, inputs.device(), {T, B});
  CURNN_CHECK_ARG(
      static_cast<int>(state.h.size()) == config_.num_layers &&
          state.h[0].size() == static_cast<std::size_t>(B * H),
      "state does not match " << config_.num_layers << " layers x [" << B << ", " << H << "]");
  T_ = T, B_ = B;
  training_ = training;
  const bool dropout = training && config_.keep_prob < 1.0;
  const Scalar keep = static_cast<Scalar>(config_.keep_prob);

  ensure_buffer(inputs_, device_, N);
  ensure_buffer(targets_, device_, N);
  copy(ctx, inputs.reshape({N}), inputs_.view());
  copy(ctx, targets.reshape({N}), targets_.view());
  ensure_buffer(emb_out_, device_, N * H);
  ensure_buffer(logits_, device_, N * V);
  ensure_buffer(loss_, device_, N);
  layer_out_.resize(config_.num_layers);
  masks_.resize(config_.num_layers);

  // Embedding lookup, then dropout on it.
  const View emb = emb_out_.view({T, B, H});
  ops::embedding_gather(ctx, inputs_.view(), slice(params_, "embedding"), emb.reshape({N, H}));
  std::uint64_t next_mask = mask_offset;
  const auto draw_mask = [&](View mask) {
    if (mask_offset_device) {
      ops::dropout_mask(ctx, dropout_seed, DeviceScalar<std::uint64_t>{mask_offset_device},
                        next_mask++, keep, mask);
    } else {
      ops::dropout_mask(ctx, dropout_seed, next_mask++, keep, mask);
    }
  };
  if (dropout) {
    ensure_buffer(emb_mask_, device_, N * H);
    draw_mask(emb_mask_.view());
    ops::mul(ctx, emb, emb_mask_.view({T, B, H}), emb);
  }
  // The layers carry `state` in place: each reads h, c and its last step writes them back.
  // Without dropout a layer's output is its tape (output()); with dropout, h * mask goes to
  // layer_out_ (the layer keeps a view of the mask, which stays in masks_ until backward).
  ConstView x = emb;
  for (int l = 0; l < config_.num_layers; ++l) {
    View mask, y;
    if (dropout) {
      ensure_buffer(masks_[l], device_, N * H);
      ensure_buffer(layer_out_[l], device_, N * H);
      draw_mask(masks_[l].view());
      mask = masks_[l].view({T, B, H});
      y = layer_out_[l].view({T, B, H});
    }
    const View h = state.h[l].view({B, H}), c = state.c[l].view({B, H});
    layers_[l].forward(ctx, layer_weights(params_, l), x, h, c, y, h, c, mask);
    x = layers_[l].output();
  }
  // Softmax layer and the fused loss; dlogits are written in place over the logits.
  const View logits = logits_.view({N, V});
  ops::gemm(ctx, Transpose::No, Transpose::No, x.reshape({N, H}), slice(params_, "softmax_w"),
            logits, Write::Overwrite);
  ops::add_row_vector(ctx, slice(params_, "softmax_b"), logits);
  ops::softmax_xent(ctx, logits, targets_.view(), loss_.view(), training ? logits : View(),
                    static_cast<Scalar>(1.0 / B));
  if (cost_sum) ops::sum(ctx, loss_.view(), cost_sum, /*accumulate=*/true);
}

template <class Scalar>
void LstmLanguageModel<Scalar>::backward(Context& ctx) {
  CURNN_CHECK_ARG(training_ && T_ > 0, "LstmLanguageModel::backward needs a training forward");
  const int T = T_, B = B_, L = config_.num_layers;
  const std::int64_t H = config_.hidden_size, V = config_.vocab_size, N = std::int64_t(T) * B;
  const std::int64_t base = embedding_numel();  // dense_grads starts after the embedding
  ensure_buffer(dy_, device_, N * H);
  ensure_buffer(dx_, device_, N * H);
  const View dlogits = logits_.view({N, V});
  const ConstView top = layers_[L - 1].output().reshape({N, H});
  // Softmax layer: dW = Y^T dlogits, db = colsum dlogits, dY = dlogits W^T.
  ops::gemm(ctx, Transpose::Yes, Transpose::No, top, dlogits,
            slice(dense_grads_, "softmax_w", base), Write::Overwrite);
  ops::column_sum(ctx, dlogits, slice(dense_grads_, "softmax_b", base), false);
  ops::gemm(ctx, Transpose::No, Transpose::Yes, dlogits, slice(params_, "softmax_w"),
            dy_.view({N, H}), Write::Overwrite);
  // Down the layers; truncated BPTT: no gradient flows into the carried initial state.
  for (int l = L - 1; l >= 0; --l) {
    const ConstView x = l > 0 ? layers_[l - 1].output() : ConstView(emb_out_.view({T, B, H}));
    layers_[l].backward(ctx, layer_weights(params_, l), layer_weights(dense_grads_, l, base),
                        Write::Overwrite, x, dy_.view({T, B, H}), {}, {}, dx_.view({T, B, H}), {},
                        {});
    std::swap(dy_, dx_);
  }
  // dy_ now holds the gradient of the (dropped-out) embedding output; through the mask (in
  // place) it is the gradient of the gathered rows, which embedding_row_grads() returns.
  if (emb_mask_.size() > 0 && config_.keep_prob < 1.0) {
    ops::mul(ctx, dy_.view(), emb_mask_.view(), dy_.view());
  }
}

template <class Scalar>
void LstmLanguageModel<Scalar>::sgd_step(Context& ctx, Scalar lr, View grad_norm) {
  sgd_step_impl(ctx, static_cast<float>(lr), nullptr, grad_norm);
}

template <class Scalar>
void LstmLanguageModel<Scalar>::sgd_step(Context& ctx, DeviceScalar<float> lr, View grad_norm) {
  CURNN_CHECK_ARG(lr.ptr != nullptr, "lr has a null pointer");
  sgd_step_impl(ctx, 0.f, lr.ptr, grad_norm);
}

template <class Scalar>
void LstmLanguageModel<Scalar>::sgd_step_impl(Context& ctx, float lr, const float* lr_device,
                                              View grad_norm) {
  if constexpr (!std::is_same_v<Scalar, float>) {
    (void)lr, (void)lr_device, (void)grad_norm;
    CURNN_CHECK_ARG(false, "sgd_step: the optimizer ops run on float32 models only");
  } else {
    const std::int64_t H = config_.hidden_size, N = std::int64_t(T_) * B_;
    const std::int64_t E = embedding_numel();
    ops::clip_by_global_norm(ctx, {dense_grads_.view(), embedding_row_grads().view({N * H})},
                             static_cast<float>(config_.max_grad_norm), grad_norm);
    const Tensor dense(params_.data() + E, {static_cast<std::int64_t>(dense_grads_.size())},
                       device_);
    if (lr_device) {
      ops::sgd_update(ctx, DeviceScalar<float>{lr_device}, dense_grads_.view(), dense);
      ops::sgd_update_rows(ctx, DeviceScalar<float>{lr_device}, inputs_.view(),
                           embedding_row_grads().view({N, H}), slice(params_, "embedding"));
    } else {
      ops::sgd_update(ctx, lr, dense_grads_.view(), dense);
      ops::sgd_update_rows(ctx, lr, inputs_.view(), embedding_row_grads().view({N, H}),
                           slice(params_, "embedding"));
    }
  }
}

template class LstmLanguageModel<float>;
template class LstmLanguageModel<double>;

}  // namespace curnn::nn
