// The bidirectional LSTM (curnn/nn/bilstm.hpp) and the MNIST classifier built on it
// (curnn/nn/bilstm_classifier.hpp) on the CPU reference backend: BPTT gradient checks in double
// for each direction (named in the test), the backward direction's order and alignment against an
// independent construction, the classifier's gradients for every parameter tensor with both
// heads, its initialisation, and Adam training on the CPU.
#include "curnn/nn/bilstm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "curnn/nn/bilstm_classifier.hpp"
#include "support/compare.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using DView = TensorView<double>;
using CDView = TensorView<const double>;

using test::view_of;

// One direction's weights as host arrays.
struct HostLstmWeights {
  HostLstmWeights(int E, int H, std::uint64_t seed)
      : E(E),
        H(H),
        wx(test::random_uniform<double>(E * 4 * H, -0.5, 0.5, seed)),
        wh(test::random_uniform<double>(H * 4 * H, -0.5, 0.5, seed + 1)),
        bias(test::random_uniform<double>(4 * H, -0.5, 0.5, seed + 2)) {}
  nn::LstmWeights<double> view() {
    return {view_of(wx, {E, 4 * H}), view_of(wh, {H, 4 * H}), view_of(bias, {4 * H})};
  }
  int E, H;
  std::vector<double> wx, wh, bias;
};

// A small BiLSTM problem in double: T rows of E inputs, batch B, H units per direction.
struct BiLstmCase {
  static constexpr int T = 4, B = 2, E = 3, H = 3;
  BiLstmCase()
      : fw(E, H, 10),
        bw(E, H, 20),
        x(test::random_uniform<double>(T * B * E, -1, 1, 30)),
        r(test::random_uniform<double>(T * B * 2 * H, -1, 1, 31)),
        r_fw(test::random_uniform<double>(B * H, -1, 1, 32)),
        r_bw(test::random_uniform<double>(B * H, -1, 1, 33)) {}

  // y [T, B, 2H] and the final states of a fresh layer's forward.
  void run(nn::BiLstmLayer<double>& layer, std::vector<double>& y, std::vector<double>& fw_h,
           std::vector<double>& bw_h) {
    y.assign(T * B * 2 * H, NAN), fw_h.assign(B * H, NAN), bw_h.assign(B * H, NAN);
    layer.forward(ctx, {fw.view(), bw.view()}, view_of(x, {T, B, E}), view_of(y, {T, B, 2 * H}),
                  view_of(fw_h, {B, H}), view_of(bw_h, {B, H}));
  }
  // f = r . y + r_fw . fw_final_h + r_bw . bw_final_h: every output reaches the scalar.
  double objective() {
    nn::BiLstmLayer<double> layer(E, H, /*forget_bias=*/1.0f);
    std::vector<double> y, fw_h, bw_h;
    run(layer, y, fw_h, bw_h);
    return test::project(r, y) + test::project(r_fw, fw_h) + test::project(r_bw, bw_h);
  }

  Context ctx = Context::cpu();
  HostLstmWeights fw, bw;
  std::vector<double> x, r, r_fw, r_bw;
};

// Analytic gradients of BiLstmCase::objective for both directions' weights and x.
struct BiLstmGrads {
  explicit BiLstmGrads(BiLstmCase& k)
      : fw(BiLstmCase::E, BiLstmCase::H, 0), bw(BiLstmCase::E, BiLstmCase::H, 0) {
    constexpr int T = BiLstmCase::T, B = BiLstmCase::B, E = BiLstmCase::E, H = BiLstmCase::H;
    nn::BiLstmLayer<double> layer(E, H, 1.0f);
    std::vector<double> y, fw_h, bw_h;
    k.run(layer, y, fw_h, bw_h);
    for (auto* v : {&fw.wx, &fw.wh, &fw.bias, &bw.wx, &bw.wh, &bw.bias}) {
      std::fill(v->begin(), v->end(), NAN);
    }
    dx.assign(T * B * E, NAN);
    layer.backward(k.ctx, {k.fw.view(), k.bw.view()}, {fw.view(), bw.view()}, Write::Overwrite,
                   view_of(k.x, {T, B, E}), view_of(k.r, {T, B, 2 * H}), view_of(k.r_fw, {B, H}),
                   view_of(k.r_bw, {B, H}), view_of(dx, {T, B, E}));
  }
  HostLstmWeights fw, bw;  // gradients, laid out like the weights
  std::vector<double> dx;
};

void check_direction(BiLstmCase& k, HostLstmWeights& w, HostLstmWeights& g, const char* dir) {
  for (auto [name, param, grad] :
       {std::make_tuple("wx", &w.wx, &g.wx), std::make_tuple("wh", &w.wh, &g.wh),
        std::make_tuple("bias", &w.bias, &g.bias)}) {
    EXPECT_TRUE(test::check_gradient(
        std::string(dir) + " direction d/d" + name,
        [&, param = param](const std::vector<double>& p) {
          const std::vector<double> saved = *param;
          *param = p;
          const double f = k.objective();
          *param = saved;
          return f;
        },
        *param, *grad));
  }
}

TEST(BiLstmGrad, ForwardDirectionWeights) {
  BiLstmCase k;
  BiLstmGrads g(k);
  check_direction(k, k.fw, g.fw, "forward");
}

TEST(BiLstmGrad, BackwardDirectionWeights) {
  BiLstmCase k;
  BiLstmGrads g(k);
  check_direction(k, k.bw, g.bw, "backward");
}

TEST(BiLstmGrad, InputGradientSumsBothDirections) {
  BiLstmCase k;
  BiLstmGrads g(k);
  EXPECT_TRUE(test::check_gradient(
      "BiLSTM d/dx",
      [&](const std::vector<double>& x) {
        const std::vector<double> saved = k.x;
        k.x = x;
        const double f = k.objective();
        k.x = saved;
        return f;
      },
      k.x, g.dx));
}

// y's halves against an independent construction of static_bidirectional_rnn: the forward half
// is a Forward layer on x; the backward half is a *Forward* layer with the backward weights on
// the time-reversed input, its outputs reversed back. Fails if the backward direction processed
// the rows forwards, or if its outputs were not re-aligned to input time.
TEST(BiLstm, BackwardHalfIsForwardRunOverReversedRowsReReversed) {
  BiLstmCase k;
  constexpr int T = BiLstmCase::T, B = BiLstmCase::B, E = BiLstmCase::E, H = BiLstmCase::H;
  nn::BiLstmLayer<double> layer(E, H, 1.0f);
  std::vector<double> y, fw_h, bw_h;
  k.run(layer, y, fw_h, bw_h);

  nn::LstmLayer<double> forward_only(E, H, 1.0f, nn::Direction::Forward);
  const auto run_forward = [&](HostLstmWeights& w, std::vector<double>& in) {
    std::vector<double> out(T * B * H);
    forward_only.forward(k.ctx, w.view(), view_of(in, {T, B, E}), {}, {}, view_of(out, {T, B, H}),
                         {}, {});
    return out;
  };
  std::vector<double> x_reversed(T * B * E);
  for (int t = 0; t < T; ++t) {
    std::copy_n(k.x.begin() + (T - 1 - t) * B * E, B * E, x_reversed.begin() + t * B * E);
  }
  const std::vector<double> fw_out = run_forward(k.fw, k.x);
  const std::vector<double> bw_out_reversed = run_forward(k.bw, x_reversed);
  std::vector<double> want(T * B * 2 * H);
  for (int t = 0; t < T; ++t) {
    for (int b = 0; b < B; ++b) {
      for (int j = 0; j < H; ++j) {
        want[(t * B + b) * 2 * H + j] = fw_out[(t * B + b) * H + j];
        want[(t * B + b) * 2 * H + H + j] = bw_out_reversed[((T - 1 - t) * B + b) * H + j];
      }
    }
  }
  EXPECT_TRUE(test::expect_close("y = [fw(x), reverse(fw_bw(reverse(x)))]", y, want, {1e-12}));
  // Final states: forward after row T-1 is y[T-1]'s forward half; backward after row 0 is
  // y[0]'s backward half.
  for (int b = 0; b < B; ++b) {
    for (int j = 0; j < H; ++j) {
      EXPECT_EQ(fw_h[b * H + j], y[((T - 1) * B + b) * 2 * H + j]);
      EXPECT_EQ(bw_h[b * H + j], y[(0 * B + b) * 2 * H + H + j]);
    }
  }
}

// Dependence on rows: changing every row but the last leaves the backward half of y[T-1] (one
// step over row T-1 only) unchanged and changes the forward half; changing only the last row
// changes the backward half at every t and the forward half only at t = T-1.
TEST(BiLstm, BackwardOutputAtLastRowDependsOnlyOnThatRow) {
  BiLstmCase k;
  constexpr int T = BiLstmCase::T, B = BiLstmCase::B, E = BiLstmCase::E, H = BiLstmCase::H;
  nn::BiLstmLayer<double> layer(E, H, 1.0f);
  std::vector<double> y, y_early, y_last, unused_fw, unused_bw;
  k.run(layer, y, unused_fw, unused_bw);
  const std::vector<double> x = k.x;
  for (int i = 0; i < (T - 1) * B * E; ++i) k.x[i] += 0.25;  // rows 0..T-2
  k.run(layer, y_early, unused_fw, unused_bw);
  k.x = x;
  for (int i = (T - 1) * B * E; i < T * B * E; ++i) k.x[i] += 0.25;  // row T-1 only
  k.run(layer, y_last, unused_fw, unused_bw);
  const auto at = [&](const std::vector<double>& v, int t, int b, bool backward_half, int j) {
    return v[(t * B + b) * 2 * H + (backward_half ? H : 0) + j];
  };
  for (int b = 0; b < B; ++b) {
    for (int j = 0; j < H; ++j) {
      EXPECT_EQ(at(y_early, T - 1, b, true, j), at(y, T - 1, b, true, j))
          << "the backward output at t=T-1 saw earlier rows";
      EXPECT_NE(at(y_early, T - 1, b, false, j), at(y, T - 1, b, false, j));
      for (int t = 0; t < T; ++t) {
        EXPECT_NE(at(y_last, t, b, true, j), at(y, t, b, true, j)) << "t=" << t;
        if (t < T - 1) {
          EXPECT_EQ(at(y_last, t, b, false, j), at(y, t, b, false, j))
              << "the forward output at t=" << t << " saw row T-1";
        }
      }
    }
  }
}

// ---- the classifier ----------------------------------------------------------------------------

// Where the classifier's forward LSTM direction keeps its tape (to see whether it moved).
template <class Scalar>
const Scalar* model_tape_memory(const nn::BiLstmClassifier<Scalar>& model) {
  return model.bilstm().forward_direction().tape().h.data();
}

nn::ClassifierConfig tiny_classifier(nn::ClassifierHead head) {
  nn::ClassifierConfig c;
  c.input_size = 3, c.hidden_size = 4, c.num_classes = 5, c.head = head;
  return c;
}

// d(mean loss)/d every parameter tensor by central differences, in double.
void check_classifier_gradients(nn::ClassifierHead head) {
  Context ctx = Context::cpu();
  const nn::ClassifierConfig cfg = tiny_classifier(head);
  nn::BiLstmClassifier<double> model(ctx, cfg);
  model.initialize(ctx, 7);
  const int T = 4, B = 3;
  std::vector<double> x = test::random_uniform<double>(T * B * cfg.input_size, 0, 1, 8);
  const std::vector<std::int32_t> labels = {4, 0, 2};
  const ConstIds label_view(labels.data(), {B}, Device::CPU);
  const auto loss = [&] {
    model.forward(ctx, view_of(x, {T, B, cfg.input_size}), label_view, /*training=*/true);
    return model.mean_loss(ctx);
  };
  ASSERT_TRUE(std::isfinite(loss()));
  model.backward(ctx);
  const std::vector<double> grads = to_vector(ctx, model.grads());
  std::vector<double> params = to_vector(ctx, model.params());
  const auto upload = [&](const std::vector<double>& p) {
    copy(ctx, CDView(p.data(), {static_cast<std::int64_t>(p.size())}, Device::CPU), model.params());
  };
  for (const nn::ParamSlice& p : model.layout()) {
    const auto begin = params.begin() + p.offset, end = begin + p.numel();
    if (head == nn::ClassifierHead::OutputsLast && p.name == "bw/wh") {
      // The backward direction's output at t = T-1 is its first step, from the zero state: its
      // recurrent weights cannot matter (TensorFlow's outputs[-1] has the same dead weights).
      for (std::int64_t i = 0; i < p.numel(); ++i) EXPECT_EQ(grads[p.offset + i], 0.0) << i;
      continue;
    }
    EXPECT_TRUE(test::check_gradient(
        std::string(nn::head_name(head)) + " classifier d loss / d " + p.name,
        [&](const std::vector<double>& v) {
          std::vector<double> all = params;
          std::copy(v.begin(), v.end(), all.begin() + p.offset);
          upload(all);
          const double f = loss();
          upload(params);
          return f;
        },
        std::vector<double>(begin, end),
        std::vector<double>(grads.begin() + p.offset, grads.begin() + p.offset + p.numel())));
  }
}

TEST(BiLstmClassifierGrad, EveryParameterOutputsLastHead) {
  check_classifier_gradients(nn::ClassifierHead::OutputsLast);
}
TEST(BiLstmClassifierGrad, EveryParameterFinalStatesHead) {
  check_classifier_gradients(nn::ClassifierHead::FinalStates);
}

// The heads' logits against a BiLstmLayer run by hand: outputs-last uses y[T-1], final-states
// concat(forward's h after row T-1, backward's h after row 0) = concat(y[T-1] fw, y[0] bw).
TEST(BiLstmClassifier, HeadsReadTheRightStates) {
  Context ctx = Context::cpu();
  const int T = 5, B = 2;
  for (const auto head : {nn::ClassifierHead::OutputsLast, nn::ClassifierHead::FinalStates}) {
    const nn::ClassifierConfig cfg = tiny_classifier(head);
    const int E = cfg.input_size, H = cfg.hidden_size, C = cfg.num_classes;
    nn::BiLstmClassifier<double> model(ctx, cfg);
    model.initialize(ctx, 3);
    std::vector<double> x = test::random_uniform<double>(T * B * E, 0, 1, 4);
    const std::vector<std::int32_t> labels = {1, 3};
    model.forward(ctx, view_of(x, {T, B, E}), ConstIds(labels.data(), {B}, Device::CPU), false);
    const std::vector<double> logits = to_vector(ctx, model.logits());

    nn::BiLstmLayer<double> layer(E, H, cfg.forget_bias);
    std::vector<double> y(T * B * 2 * H);
    layer.forward(ctx, model.lstm_weights(model.params()), view_of(x, {T, B, E}),
                  view_of(y, {T, B, 2 * H}));
    const std::vector<double> w = to_vector(ctx, model.slice(model.params(), "out/w"));
    const std::vector<double> bias = to_vector(ctx, model.slice(model.params(), "out/b"));
    std::vector<double> want(B * C);
    for (int b = 0; b < B; ++b) {
      for (int c = 0; c < C; ++c) {
        double s = bias[c];
        for (int k = 0; k < 2 * H; ++k) {
          const bool bw_half = k >= H;
          const int t = head == nn::ClassifierHead::OutputsLast || !bw_half ? T - 1 : 0;
          s += y[(t * B + b) * 2 * H + k] * w[k * C + c];
        }
        want[b * C + c] = s;
      }
    }
    EXPECT_TRUE(
        test::expect_close(std::string(nn::head_name(head)) + " logits", logits, want, {1e-12}));
  }
}

// TF1 defaults: LSTM kernels U(+-sqrt(6 / (E + H + 4H))), LSTM biases 0, dense N(0, 1); Adam's
// m and v start at zero.
TEST(BiLstmClassifier, InitialisationFollowsTensorFlowDefaults) {
  Context ctx = Context::cpu();
  nn::ClassifierConfig cfg;  // the book's sizes: E 28, H 256, C 10
  nn::BiLstmClassifier<float> model(ctx, cfg);
  model.initialize(ctx, 1);
  const double limit = std::sqrt(6.0 / (28 + 256 + 4 * 256));
  const std::vector<float> state = to_vector(ctx, model.training_state());
  ASSERT_EQ(state.size(), static_cast<std::size_t>(3 * model.num_params()));
  for (const nn::ParamSlice& p : model.layout()) {
    double sum = 0, sum_sq = 0, max_abs = 0;
    for (std::int64_t i = 0; i < p.numel(); ++i) {
      const double v = state[p.offset + i];
      sum += v, sum_sq += v * v, max_abs = std::max(max_abs, std::fabs(v));
    }
    const double n = static_cast<double>(p.numel()), mean = sum / n;
    const double var = sum_sq / n - mean * mean;
    if (p.name.find("bias") != std::string::npos) {
      EXPECT_EQ(max_abs, 0.0) << p.name;
    } else if (p.name.rfind("out/", 0) == 0) {
      EXPECT_NEAR(mean, 0.0, 5 / std::sqrt(n)) << p.name;
      if (n > 1000) EXPECT_NEAR(var, 1.0, 0.1) << p.name;
    } else {
      EXPECT_LE(max_abs, limit) << p.name;
      EXPECT_GT(max_abs, 0.99 * limit) << p.name;
      EXPECT_NEAR(var, limit * limit / 3, 0.02 * limit * limit) << p.name;
    }
  }
  for (std::size_t i = model.num_params(); i < state.size(); ++i) ASSERT_EQ(state[i], 0.f) << i;
}

// Adam in float on the CPU: a fixed batch of a learnable task (the label is the brightest pixel of
// the last row) is fitted, and the Adam step count advances.
TEST(BiLstmClassifier, AdamTrainingReducesTheLossOnTheCpu) {
  Context ctx = Context::cpu();
  nn::ClassifierConfig cfg = tiny_classifier(nn::ClassifierHead::OutputsLast);
  cfg.hidden_size = 8, cfg.input_size = cfg.num_classes;
  const int T = 3, B = 16, E = cfg.input_size;
  nn::BiLstmClassifier<float> model(ctx, cfg);
  model.initialize(ctx, 11);
  std::vector<float> x = test::random_uniform<float>(T * B * E, 0, 0.5, 12);
  std::vector<std::int32_t> labels(B);
  for (int b = 0; b < B; ++b) {
    labels[b] = b % cfg.num_classes;
    x[((T - 1) * B + b) * E + labels[b]] = 1.0f;
  }
  const ConstTensor xv(x.data(), {T, B, E}, Device::CPU);
  const ConstIds yv(labels.data(), {B}, Device::CPU);
  model.forward(ctx, xv, yv, false);
  const double first = model.mean_loss(ctx);
  for (int step = 0; step < 60; ++step) {
    model.forward(ctx, xv, yv, true);
    model.backward(ctx);
    model.adam_step(ctx);
  }
  EXPECT_EQ(model.adam_steps(), 60);
  model.forward(ctx, xv, yv, false);
  EXPECT_LT(model.mean_loss(ctx), 0.2 * first);
  EXPECT_GE(model.count_correct(ctx), B - 1);
}

// An evaluation's last, smaller batch reuses the buffers sized by the larger ones (issue 10: on
// CUDA each reallocation's cudaFree synchronises the device) and gives exactly what a model that
// only ever saw the small batch gives; training at the full size afterwards works on.
TEST(BiLstmClassifier, SmallerBatchReusesTheBuffersAndMatchesAFreshModel) {
  Context ctx = Context::cpu();
  for (const auto head : {nn::ClassifierHead::OutputsLast, nn::ClassifierHead::FinalStates}) {
    nn::ClassifierConfig cfg = tiny_classifier(head);
    const int T = 4, big = 8, small = 3, E = cfg.input_size;
    nn::BiLstmClassifier<float> model(ctx, cfg), fresh(ctx, cfg);
    model.initialize(ctx, 21);
    fresh.initialize(ctx, 21);
    const std::vector<float> x = test::random_uniform<float>(T * big * E, 0, 1, 22);
    std::vector<std::int32_t> labels(big);
    for (int b = 0; b < big; ++b) labels[b] = (3 * b + 1) % cfg.num_classes;
    const auto batch = [&](int B) {  // the first B examples, time-major
      std::vector<float> xb(static_cast<std::size_t>(T) * B * E);
      for (int t = 0; t < T; ++t) {
        std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(t) * big * E, B * E,
                    xb.begin() + static_cast<std::ptrdiff_t>(t) * B * E);
      }
      return xb;
    };
    const std::vector<float> x_big = batch(big), x_small = batch(small);
    const ConstIds y_big(labels.data(), {big}, Device::CPU),
        y_small(labels.data(), {small}, Device::CPU);
    model.forward(ctx, ConstTensor(x_big.data(), {T, big, E}, Device::CPU), y_big, true);
    model.backward(ctx);
    const float* logits_memory = model.logits().data();
    const float* losses_memory = model.losses().data();
    const float* tape_memory = model_tape_memory(model);
    model.forward(ctx, ConstTensor(x_small.data(), {T, small, E}, Device::CPU), y_small, false);
    const std::string h = nn::head_name(head);
    EXPECT_EQ(model.logits().data(), logits_memory) << h << ": logits reallocated";
    EXPECT_EQ(model.losses().data(), losses_memory) << h << ": losses reallocated";
    EXPECT_EQ(model_tape_memory(model), tape_memory) << h << ": the LSTM tape reallocated";
    fresh.forward(ctx, ConstTensor(x_small.data(), {T, small, E}, Device::CPU), y_small, false);
    EXPECT_EQ(to_vector(ctx, model.logits()), to_vector(ctx, fresh.logits())) << h;
    EXPECT_EQ(to_vector(ctx, model.losses()), to_vector(ctx, fresh.losses())) << h;
    EXPECT_EQ(model.mean_loss(ctx), fresh.mean_loss(ctx)) << h;
    EXPECT_EQ(model.count_correct(ctx), fresh.count_correct(ctx)) << h;
    // Back to the full batch: training runs on the same memory.
    model.forward(ctx, ConstTensor(x_big.data(), {T, big, E}, Device::CPU), y_big, true);
    model.backward(ctx);
    model.adam_step(ctx);
    EXPECT_EQ(model.logits().data(), logits_memory) << h;
    EXPECT_TRUE(std::isfinite(model.mean_loss(ctx))) << h;
  }
}

TEST(BiLstmClassifier, ConfigErrors) {
  EXPECT_EQ(nn::parse_head("outputs-last"), nn::ClassifierHead::OutputsLast);
  EXPECT_EQ(nn::parse_head("final-states"), nn::ClassifierHead::FinalStates);
  EXPECT_THROW(nn::parse_head("last"), ArgumentError);
  Context ctx = Context::cpu();
  nn::ClassifierConfig c;
  c.hidden_size = 0;
  EXPECT_THROW(nn::BiLstmClassifier<float>(ctx, c), ArgumentError);
  c = {};
  c.adam.lr = -1;
  EXPECT_THROW(nn::validate(c), ArgumentError);
  nn::BiLstmClassifier<double> model(ctx, tiny_classifier(nn::ClassifierHead::OutputsLast));
  EXPECT_THROW(model.backward(ctx), ArgumentError);   // before a training forward
  EXPECT_THROW(model.adam_step(ctx), ArgumentError);  // float64: no Adam
  std::vector<double> x(2 * 3 * 7);
  const std::vector<std::int32_t> labels = {0, 1, 2};
  EXPECT_THROW(
      model.forward(ctx, view_of(x, {2, 3, 7}), ConstIds(labels.data(), {3}, Device::CPU), false),
      ArgumentError);  // E = 7, not 3
}

}  // namespace
}  // namespace curnn
