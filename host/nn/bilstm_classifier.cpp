// The bidirectional LSTM MNIST classifier. Design notes: include/curnn/nn/bilstm_classifier.hpp.
#include "curnn/nn/bilstm_classifier.hpp"

#include <cmath>
#include <random>
#include <type_traits>

#include "curnn/ops/concat.hpp"
#include "curnn/ops/gemm.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ops/reduce.hpp"
#include "curnn/ops/softmax_xent.hpp"

namespace curnn::nn {

const char* head_name(ClassifierHead head) noexcept {
  return head == ClassifierHead::OutputsLast ? "outputs-last" : "final-states";
}

ClassifierHead parse_head(const std::string& name) {
  if (name == "outputs-last") return ClassifierHead::OutputsLast;
  if (name == "final-states") return ClassifierHead::FinalStates;
  CURNN_CHECK_ARG(false, "unknown head '" << name << "' (outputs-last or final-states)");
  return ClassifierHead::OutputsLast;
}

void validate(const ClassifierConfig& c) {
  CURNN_CHECK_ARG(c.input_size >= 1 && c.input_size <= 65536,
                  "input_size " << c.input_size << " outside [1, 65536]");
  CURNN_CHECK_ARG(c.hidden_size >= 1 && c.hidden_size <= 16384,
                  "hidden_size " << c.hidden_size << " outside [1, 16384]");
  CURNN_CHECK_ARG(c.num_classes >= 2 && c.num_classes <= 65536,
                  "num_classes " << c.num_classes << " outside [2, 65536]");
  CURNN_CHECK_ARG(std::isfinite(c.forget_bias), "forget_bias " << c.forget_bias);
  CURNN_CHECK_ARG(c.adam.lr > 0 && c.adam.lr <= 100,
                  "learning rate " << c.adam.lr << " outside (0, 100]");
  CURNN_CHECK_ARG(c.adam.beta1 >= 0 && c.adam.beta1 < 1, "beta1 " << c.adam.beta1);
  CURNN_CHECK_ARG(c.adam.beta2 >= 0 && c.adam.beta2 < 1, "beta2 " << c.adam.beta2);
  CURNN_CHECK_ARG(c.adam.epsilon > 0, "epsilon " << c.adam.epsilon);
}

namespace {

std::vector<ParamSlice> classifier_layout(const ClassifierConfig& c, std::int64_t* total) {
  const std::int64_t E = c.input_size, H = c.hidden_size, C = c.num_classes;
  std::vector<ParamSlice> layout;
  for (const char* dir : {"fw/", "bw/"}) {
    add_param(layout, std::string(dir) + "wx", {E, 4 * H});
    add_param(layout, std::string(dir) + "wh", {H, 4 * H});
    add_param(layout, std::string(dir) + "bias", {4 * H});
  }
  add_param(layout, "out/w", {2 * H, C});
  *total = add_param(layout, "out/b", {C});
  return layout;
}

ClassifierConfig validated(const ClassifierConfig& c) {
  validate(c);
  return c;
}

bool ends_with(const std::string& s, const char* tail) {
  const std::string t(tail);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

}  // namespace

template <class Scalar>
BiLstmClassifier<Scalar>::BiLstmClassifier(Context& ctx, const ClassifierConfig& config,
                                           RecurrentMode recurrent)
    : config_(validated(config)),
      device_(ctx.device()),
      bilstm_(config_.input_size, config_.hidden_size, config_.forget_bias, recurrent) {
  layout_ = classifier_layout(config_, &P_);
  state_ = Buffer<Scalar>(device_, static_cast<std::size_t>(3 * P_));
  grads_ = Buffer<Scalar>(device_, static_cast<std::size_t>(P_));
  ops::fill(ctx, state_.view(), Scalar(0));
}

template <class Scalar>
void BiLstmClassifier<Scalar>::set_adam_steps(std::int64_t t) {
  CURNN_CHECK_ARG(t >= 0, "Adam step count must be >= 0, got " << t);
  adam_steps_ = t;
}

template <class Scalar>
void BiLstmClassifier<Scalar>::initialize(Context& ctx, std::uint64_t seed) {
  const double E = config_.input_size, H = config_.hidden_size;
  const double glorot = std::sqrt(6.0 / (E + H + 4 * H));  // fan_in + fan_out of [E+H, 4H]
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> lstm_kernel(-glorot, glorot);
  std::normal_distribution<double> dense(0.0, 1.0);
  std::vector<Scalar> host(static_cast<std::size_t>(3 * P_), Scalar(0));  // m, v stay zero
  for (const ParamSlice& p : layout_) {
    Scalar* at = host.data() + p.offset;
    for (std::int64_t i = 0; i < p.numel(); ++i) {
      if (ends_with(p.name, "/bias")) {
        at[i] = Scalar(0);
      } else if (p.name.compare(0, 4, "out/") == 0) {
        at[i] = static_cast<Scalar>(dense(rng));
      } else {
        at[i] = static_cast<Scalar>(lstm_kernel(rng));
      }
    }
  }
  copy(ctx, TensorView<const Scalar>(host.data(), {3 * P_}, Device::CPU), state_.view());
  adam_steps_ = 0;
}

template <class Scalar>
typename BiLstmClassifier<Scalar>::View BiLstmClassifier<Scalar>::slice(
    View flat, const std::string& name) const {
  return param_view(layout_, flat, name);
}

template <class Scalar>
BiLstmWeights<Scalar> BiLstmClassifier<Scalar>::lstm_weights(View flat) const {
  return {{slice(flat, "fw/wx"), slice(flat, "fw/wh"), slice(flat, "fw/bias")},
          {slice(flat, "bw/wx"), slice(flat, "bw/wh"), slice(flat, "bw/bias")}};
}

template <class Scalar>
typename BiLstmClassifier<Scalar>::ConstView BiLstmClassifier<Scalar>::logits() const {
  return logits_.prefix({B_, config_.num_classes});
}

template <class Scalar>
typename BiLstmClassifier<Scalar>::ConstView BiLstmClassifier<Scalar>::losses() const {
  return loss_.prefix({B_});
}

template <class Scalar>
void BiLstmClassifier<Scalar>::forward(Context& ctx, ConstView x, ConstIds labels, bool training) {
  const std::int64_t E = config_.input_size, H = config_.hidden_size, C = config_.num_classes;
  CURNN_CHECK_ARG(x.rank() == 3 && x.dim(2) == E && x.dim(0) > 0 && x.dim(1) > 0,
                  "classifier input must be [T, B, " << E << "], got " << x.shape_string());
  const std::int64_t T = x.dim(0), B = x.dim(1);
  CURNN_CHECK_TENSOR(labels, labels.device(), {B});
  T_ = static_cast<int>(T), B_ = static_cast<int>(B);
  training_ = training;

  // Sized by the largest batch seen: a smaller one (an evaluation's last) reuses the memory.
  reserve_buffer(x_, device_, T * B * E);
  reserve_buffer(labels_, device_, B);
  const View x_copy = x_.prefix({T, B, E});
  const Ids labels_copy = labels_.prefix({B});
  copy(ctx, x, x_copy);
  copy(ctx, labels, labels_copy);
  reserve_buffer(y_, device_, T * B * 2 * H);
  reserve_buffer(fw_final_h_, device_, B * H);
  reserve_buffer(bw_final_h_, device_, B * H);
  reserve_buffer(logits_, device_, B * C);
  reserve_buffer(loss_, device_, B);
  if (training) reserve_buffer(dlogits_, device_, B * C);

  const View params = this->params();
  const View y = y_.prefix({T, B, 2 * H});
  const View fw_final_h = fw_final_h_.prefix({B, H}), bw_final_h = bw_final_h_.prefix({B, H});
  bilstm_.forward(ctx, lstm_weights(params), x_copy, y, fw_final_h, bw_final_h);
  View head;
  if (config_.head == ClassifierHead::OutputsLast) {
    head = y.rows(T - 1, T).reshape({B, 2 * H});
  } else {
    reserve_buffer(head_, device_, B * 2 * H);
    head = head_.prefix({B, 2 * H});
    ops::concat_columns(ctx, fw_final_h, bw_final_h, head);
  }
  const View logits = logits_.prefix({B, C});
  ops::gemm(ctx, Transpose::No, Transpose::No, head, slice(params, "out/w"), logits,
            Write::Overwrite);
  ops::add_row_vector(ctx, slice(params, "out/b"), logits);
  ops::softmax_xent(ctx, logits, labels_copy, loss_.prefix({B}),
                    training ? dlogits_.prefix({B, C}) : View(), static_cast<Scalar>(1.0 / B));
}

template <class Scalar>
void BiLstmClassifier<Scalar>::backward(Context& ctx) {
  CURNN_CHECK_ARG(training_, "BiLstmClassifier::backward needs a training forward first");
  const std::int64_t T = T_, B = B_, H = config_.hidden_size, C = config_.num_classes;
  const View params = this->params(), grads = this->grads();
  const ConstView dlogits = dlogits_.prefix({B, C});
  const ConstView x = x_.prefix({T, B, config_.input_size});
  const bool outputs_last = config_.head == ClassifierHead::OutputsLast;
  const ConstView head =
      outputs_last ? ConstView(y_.prefix({T, B, 2 * H}).rows(T - 1, T).reshape({B, 2 * H}))
                   : ConstView(head_.prefix({B, 2 * H}));
  // The dense layer: dW = head^T dlogits, db = colsum dlogits, dhead = dlogits W^T.
  ops::gemm(ctx, Transpose::Yes, Transpose::No, head, dlogits, slice(grads, "out/w"),
            Write::Overwrite);
  ops::column_sum(ctx, dlogits, slice(grads, "out/b"), /*accumulate=*/false);
  const BiLstmWeights<Scalar> w = lstm_weights(params), g = lstm_weights(grads);
  if (outputs_last) {  // dy is zero but at t = T-1, where dhead lands
    reserve_buffer(dy_, device_, T * B * 2 * H);
    const View dy = dy_.prefix({T, B, 2 * H});
    if (T > 1) ops::fill(ctx, dy.rows(0, T - 1), Scalar(0));
    ops::gemm(ctx, Transpose::No, Transpose::Yes, dlogits, slice(params, "out/w"),
              dy.rows(T - 1, T).reshape({B, 2 * H}), Write::Overwrite);
    bilstm_.backward(ctx, w, g, Write::Overwrite, x, dy, {}, {}, {});
  } else {  // dhead reaches the two final states
    reserve_buffer(dhead_, device_, B * 2 * H);
    reserve_buffer(d_fw_final_h_, device_, B * H);
    reserve_buffer(d_bw_final_h_, device_, B * H);
    const View dhead = dhead_.prefix({B, 2 * H});
    const View d_fw_final_h = d_fw_final_h_.prefix({B, H}),
               d_bw_final_h = d_bw_final_h_.prefix({B, H});
    ops::gemm(ctx, Transpose::No, Transpose::Yes, dlogits, slice(params, "out/w"), dhead,
              Write::Overwrite);
    ops::split_columns(ctx, dhead, d_fw_final_h, d_bw_final_h);
    bilstm_.backward(ctx, w, g, Write::Overwrite, x, {}, d_fw_final_h, d_bw_final_h, {});
  }
}

template <class Scalar>
void BiLstmClassifier<Scalar>::adam_step(Context& ctx) {
  if constexpr (std::is_same_v<Scalar, float>) {
    const View state = state_.view();
    ops::adam_update(ctx, config_.adam, adam_steps_ + 1, grads_.view(), state.rows(0, P_),
                     state.rows(P_, 2 * P_), state.rows(2 * P_, 3 * P_));
    ++adam_steps_;
  } else {
    CURNN_CHECK_ARG(false, "BiLstmClassifier::adam_step: Adam runs in float32 only");
  }
}

template <class Scalar>
void BiLstmClassifier<Scalar>::adam_step(Context& ctx, DeviceScalar<float> step_size) {
  if constexpr (std::is_same_v<Scalar, float>) {
    const View state = state_.view();
    ops::adam_update(ctx, config_.adam, step_size, grads_.view(), state.rows(0, P_),
                     state.rows(P_, 2 * P_), state.rows(2 * P_, 3 * P_));
  } else {
    (void)step_size;
    CURNN_CHECK_ARG(false, "BiLstmClassifier::adam_step: Adam runs in float32 only");
  }
}

template <class Scalar>
double BiLstmClassifier<Scalar>::mean_loss(Context& ctx) {
  CURNN_CHECK_ARG(B_ > 0, "mean_loss before forward");
  ensure_buffer(loss_sum_, device_, 1);
  ops::sum(ctx, losses(), loss_sum_.view());
  return static_cast<double>(to_vector(ctx, loss_sum_.view())[0]) / B_;
}

template <class Scalar>
std::int64_t BiLstmClassifier<Scalar>::count_correct(Context& ctx) {
  CURNN_CHECK_ARG(B_ > 0, "count_correct before forward");
  if constexpr (std::is_same_v<Scalar, float>) {
    return ops::count_correct(ctx, logits(), labels_.prefix({B_}));
  } else {  // float64 runs on the CPU only: count on float copies of the logits
    const std::vector<Scalar> l = to_vector(ctx, logits());
    const std::vector<float> lf(l.begin(), l.end());
    const std::vector<std::int32_t> y = to_vector(ctx, labels_.prefix({B_}));
    Context cpu = Context::cpu();
    return ops::count_correct(cpu, ConstTensor(lf.data(), {B_, config_.num_classes}, Device::CPU),
                              ConstIds(y.data(), {B_}, Device::CPU));
  }
}

template class BiLstmClassifier<float>;
template class BiLstmClassifier<double>;

}  // namespace curnn::nn
