// The LSTM engine (curnn/nn/lstm.hpp) and the PTB language model (curnn/nn/lstm_lm.hpp) on the
// CPU reference backend: BPTT gradient checks of the whole model in double, sequence == single
// steps with carried state, the reverse direction, and the configs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/nn/lstm.hpp"
#include "curnn/nn/lstm_lm.hpp"
#include "curnn/ref/embedding.hpp"
#include "lm_fed_masks.hpp"
#include "lstm_layer_runs.hpp"
#include "support/compare.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using DView = TensorView<double>;
using CDView = TensorView<const double>;

using test::view_of;

// ---- the layer ---------------------------------------------------------------------------------

struct LayerCase {
  int T, B, E, H;
  nn::Direction dir;
  bool dropout;
};

class LstmLayerGrad : public ::testing::TestWithParam<LayerCase> {};

// f = sum r * y + sum rh * hT + sum rc * cT over a layer with non-zero initial state: checks
// dWx, dWh, dbias, dx, dh0 and dc0 by central differences.
TEST_P(LstmLayerGrad, AllInputsAndWeights) {
  const LayerCase k = GetParam();
  Context ctx = Context::cpu();
  const int G = 4 * k.H;
  std::vector<double> wx = test::random_uniform<double>(k.E * G, -0.5, 0.5, 1),
                      wh = test::random_uniform<double>(k.H * G, -0.5, 0.5, 2),
                      bias = test::random_uniform<double>(G, -0.5, 0.5, 3),
                      x = test::random_uniform<double>(k.T * k.B * k.E, -1, 1, 4),
                      h0 = test::random_uniform<double>(k.B * k.H, -0.5, 0.5, 5),
                      c0 = test::random_uniform<double>(k.B * k.H, -0.5, 0.5, 6),
                      r = test::random_uniform<double>(k.T * k.B * k.H, -1, 1, 7),
                      rh = test::random_uniform<double>(k.B * k.H, -1, 1, 8),
                      rc = test::random_uniform<double>(k.B * k.H, -1, 1, 9);
  std::vector<double> mask(k.T * k.B * k.H, 1.0);
  if (k.dropout) {
    const auto u = test::random_uniform<double>(mask.size(), 0, 1, 10);
    for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = u[i] < 0.6 ? 1 / 0.6 : 0.0;
  }
  nn::LstmLayer<double> layer(k.E, k.H, /*forget_bias=*/1.0f, k.dir);
  const auto run = [&](std::vector<double>& y, std::vector<double>& hT, std::vector<double>& cT) {
    y.assign(k.T * k.B * k.H, NAN), hT.assign(k.B * k.H, NAN), cT.assign(k.B * k.H, NAN);
    layer.forward(ctx, {view_of(wx, {k.E, G}), view_of(wh, {k.H, G}), view_of(bias, {G})},
                  view_of(x, {k.T, k.B, k.E}), view_of(h0, {k.B, k.H}), view_of(c0, {k.B, k.H}),
                  view_of(y, {k.T, k.B, k.H}), view_of(hT, {k.B, k.H}), view_of(cT, {k.B, k.H}),
                  k.dropout ? CDView(view_of(mask, {k.T, k.B, k.H})) : CDView());
    return test::project(r, y) + test::project(rh, hT) + test::project(rc, cT);
  };
  std::vector<double> y, hT, cT;
  run(y, hT, cT);
  std::vector<double> dwx(wx.size(), NAN), dwh(wh.size(), NAN), db(bias.size(), NAN),
      dx(x.size(), NAN), dh0(h0.size(), NAN), dc0(c0.size(), NAN);
  layer.backward(ctx, {view_of(wx, {k.E, G}), view_of(wh, {k.H, G}), view_of(bias, {G})},
                 {view_of(dwx, {k.E, G}), view_of(dwh, {k.H, G}), view_of(db, {G})},
                 Write::Overwrite, view_of(x, {k.T, k.B, k.E}), view_of(r, {k.T, k.B, k.H}),
                 view_of(rh, {k.B, k.H}), view_of(rc, {k.B, k.H}), view_of(dx, {k.T, k.B, k.E}),
                 view_of(dh0, {k.B, k.H}), view_of(dc0, {k.B, k.H}));
  const auto check = [&](const char* what, std::vector<double>& param,
                         const std::vector<double>& grad) {
    EXPECT_TRUE(test::check_gradient(
        std::string(k.dir == nn::Direction::Forward ? "forward " : "reverse ") + what,
        [&](const std::vector<double>& p) {
          const std::vector<double> saved = param;
          param = p;
          std::vector<double> yy, hh, cc;
          const double f = run(yy, hh, cc);
          param = saved;
          return f;
        },
        param, grad));
  };
  check("dWx", wx, dwx);
  check("dWh", wh, dwh);
  check("dbias", bias, db);
  check("dx", x, dx);
  check("dh0", h0, dh0);
  check("dc0", c0, dc0);
}

INSTANTIATE_TEST_SUITE_P(Engine, LstmLayerGrad,
                         ::testing::Values(LayerCase{3, 2, 4, 3, nn::Direction::Forward, false},
                                           LayerCase{3, 2, 4, 3, nn::Direction::Reverse, false},
                                           LayerCase{4, 3, 2, 5, nn::Direction::Forward, true},
                                           LayerCase{4, 3, 2, 5, nn::Direction::Reverse, true}),
                         [](const auto& info) {
                           return std::string(info.param.dir == nn::Direction::Forward
                                                  ? "Forward"
                                                  : "Reverse") +
                                  (info.param.dropout ? "Dropout" : "") + "T" +
                                  std::to_string(info.param.T);
                         });

// A T-step sequence gives the same outputs and final state as T single steps with the state
// carried between them, in either direction (reverse: the single steps go t = T-1 .. 0).
// Random weights, input and initial state of one layer (seeds seed .. seed + 5).
struct LayerInputs {
  LayerInputs(int T, int B, int E, int H, std::uint64_t seed)
      : E(E),
        H(H),
        wx(test::random_uniform<double>(E * 4 * H, -0.5, 0.5, seed)),
        wh(test::random_uniform<double>(H * 4 * H, -0.5, 0.5, seed + 1)),
        bias(test::random_uniform<double>(4 * H, -0.5, 0.5, seed + 2)),
        x(test::random_uniform<double>(T * B * E, -1, 1, seed + 3)),
        h0(test::random_uniform<double>(B * H, -1, 1, seed + 4)),
        c0(test::random_uniform<double>(B * H, -1, 1, seed + 5)) {}
  nn::LstmWeights<double> weights() {
    return {view_of(wx, {E, 4 * H}), view_of(wh, {H, 4 * H}), view_of(bias, {4 * H})};
  }
  int E, H;
  std::vector<double> wx, wh, bias, x, h0, c0;
};

TEST(LstmLayer, SequenceEqualsSingleStepsWithCarriedState) {
  Context ctx = Context::cpu();
  const int T = 5, B = 3, E = 4, H = 6;
  LayerInputs in(T, B, E, H, 11);
  auto &x = in.x, &h0 = in.h0, &c0 = in.c0;
  const nn::LstmWeights<double> w = in.weights();
  for (const nn::Direction dir : {nn::Direction::Forward, nn::Direction::Reverse}) {
    nn::LstmLayer<double> layer(E, H, 0.0f, dir);
    std::vector<double> y(T * B * H), hT(B * H), cT(B * H);
    layer.forward(ctx, w, view_of(x, {T, B, E}), view_of(h0, {B, H}), view_of(c0, {B, H}),
                  view_of(y, {T, B, H}), view_of(hT, {B, H}), view_of(cT, {B, H}));
    std::vector<double> h = h0, c = c0, ys(T * B * H);
    for (int s = 0; s < T; ++s) {
      const int t = dir == nn::Direction::Forward ? s : T - 1 - s;
      std::vector<double> yt(B * H);
      layer.forward(ctx, w, DView(x.data() + t * B * E, {1, B, E}, Device::CPU), view_of(h, {B, H}),
                    view_of(c, {B, H}), view_of(yt, {1, B, H}), view_of(h, {B, H}),
                    view_of(c, {B, H}));
      std::copy(yt.begin(), yt.end(), ys.begin() + t * B * H);
    }
    const std::string d = dir == nn::Direction::Forward ? "forward" : "reverse";
    EXPECT_TRUE(test::expect_close(d + " outputs", ys, y, {1e-12}));
    EXPECT_TRUE(test::expect_close(d + " final h", h, hT, {1e-12}));
    EXPECT_TRUE(test::expect_close(d + " final c", c, cT, {1e-12}));
  }
}

// Issue 10: the layer copies only what it is asked to. Without dropout its outputs are the tape's
// hidden-state slots (output(); no y copy unless y is given, and then bitwise the same); hT and
// cT (written by the last step) are the tape's final slots; the dropout mask is kept as a view of
// the caller's mask, not copied, and a mask needs a y.
TEST(LstmLayer, OutputsAreTheTapeAndTheMaskIsAView) {
  Context ctx = Context::cpu();
  const int T = 4, B = 3, E = 2, H = 5;
  LayerInputs in(T, B, E, H, 31);
  auto &x = in.x, &h0 = in.h0, &c0 = in.c0;
  std::vector<double> mask(T * B * H);
  for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = i % 3 == 0 ? 0.0 : 1.5;
  const nn::LstmWeights<double> w = in.weights();
  for (const nn::Direction dir : {nn::Direction::Forward, nn::Direction::Reverse}) {
    const std::string d = dir == nn::Direction::Forward ? "forward" : "reverse";
    nn::LstmLayer<double> layer(E, H, 0.5f, dir);
    std::vector<double> y(T * B * H, NAN), hT(B * H, NAN), cT(B * H, NAN);
    layer.forward(ctx, w, view_of(x, {T, B, E}), view_of(h0, {B, H}), view_of(c0, {B, H}),
                  view_of(y, {T, B, H}), view_of(hT, {B, H}), view_of(cT, {B, H}));
    EXPECT_EQ(layer.output().data(), y.data()) << d;
    std::vector<double> hT2(B * H, NAN), cT2(B * H, NAN);
    layer.forward(ctx, w, view_of(x, {T, B, E}), view_of(h0, {B, H}), view_of(c0, {B, H}), DView(),
                  view_of(hT2, {B, H}), view_of(cT2, {B, H}));
    const nn::LstmTape<double>& tape = layer.tape();
    EXPECT_EQ(layer.output().data(), tape.h.data() + B * H) << d << ": not the tape's slots";
    EXPECT_EQ(to_vector(ctx, layer.output()), y) << d;
    const int final_slot = dir == nn::Direction::Forward ? T : 1;
    const auto slot = [&](const Buffer<double>& s) {
      const auto at = s.data() + static_cast<std::ptrdiff_t>(final_slot) * B * H;
      return std::vector<double>(at, at + B * H);
    };
    EXPECT_EQ(hT2, slot(tape.h)) << d;
    EXPECT_EQ(cT2, slot(tape.c)) << d;
    EXPECT_EQ(hT2, hT) << d;
    EXPECT_EQ(cT2, cT) << d;

    std::vector<double> yd(T * B * H, NAN);
    layer.forward(ctx, w, view_of(x, {T, B, E}), {}, {}, view_of(yd, {T, B, H}), {}, {},
                  view_of(mask, {T, B, H}));
    EXPECT_EQ(layer.tape().mask.data(), mask.data()) << d << ": the mask was copied";
    for (std::size_t i = 0; i < yd.size(); ++i) {
      ASSERT_EQ(yd[i] == 0.0, mask[i] == 0.0) << d << " " << i;
    }
    EXPECT_THROW(layer.forward(ctx, w, view_of(x, {T, B, E}), {}, {}, DView(), {}, {},
                               view_of(mask, {T, B, H})),
                 ArgumentError);
  }
}

// The reverse direction really runs backwards: its output at the last row depends on that row
// alone (it is the first step), and its output at t = 0 on every row.
TEST(LstmLayer, ReverseDirectionReadsRowsBackwards) {
  Context ctx = Context::cpu();
  const int T = 4, B = 1, E = 2, H = 3, G = 4 * H;
  auto wx = test::random_uniform<double>(E * G, -1, 1, 21),
       wh = test::random_uniform<double>(H * G, -1, 1, 22),
       bias = test::random_uniform<double>(G, -1, 1, 23),
       x = test::random_uniform<double>(T * B * E, -1, 1, 24);
  const nn::LstmWeights<double> w{view_of(wx, {E, G}), view_of(wh, {H, G}), view_of(bias, {G})};
  nn::LstmLayer<double> layer(E, H, 1.0f, nn::Direction::Reverse);
  const auto outputs = [&](const std::vector<double>& input) {
    std::vector<double> in = input, y(T * B * H);
    layer.forward(ctx, w, view_of(in, {T, B, E}), {}, {}, view_of(y, {T, B, H}), {}, {});
    return y;
  };
  const std::vector<double> y = outputs(x);
  std::vector<double> x2 = x;
  x2[0] += 0.5;  // change row 0 only
  const std::vector<double> y2 = outputs(x2);
  for (int k = 0; k < H; ++k) {
    EXPECT_EQ(y[(T - 1) * H + k], y2[(T - 1) * H + k]) << "last row's output saw row 0";
    EXPECT_NE(y[k], y2[k]) << "row 0's output did not change with row 0";
  }
  std::vector<double> x3 = x;
  x3[(T - 1) * E] += 0.5;  // change the last row only: every output changes
  const std::vector<double> y3 = outputs(x3);
  for (int t = 0; t < T; ++t) EXPECT_NE(y[t * H], y3[t * H]) << "t=" << t;
}

// The float layer against the double one on the CPU, at the shapes of LstmLayerCuda's tests and
// under their tolerance (lstm_layer_cuda_test.cpp): the rounding a correct float engine shows
// after T steps of BPTT, which that tolerance must admit with room to spare (the worst budget
// share is printed). Also runs the shared harness (tests/lstm_layer_runs.hpp) where it can run.
TEST(LstmLayer, FloatMatchesDoubleUnderTheCudaTolerance) {
  Context ctx = Context::cpu();
  using nn::Direction;
  for (const test::LayerCase& k :
       {test::LayerCase{20, 20, 200, 200, Direction::Forward, true, true, false},
        test::LayerCase{35, 20, 650, 650, Direction::Reverse, true, true, true},
        test::LayerCase{28, 128, 28, 128, Direction::Reverse, false, false, false},
        test::LayerCase{5, 3, 7, 37, Direction::Forward, false, true, true},
        test::LayerCase{1, 4, 9, 33, Direction::Reverse, true, true, true}}) {
    const test::LayerRun<float> f(ctx, k);
    const test::LayerRun<double> d(ctx, k);
    test::expect_layer_results_close(k, f.results(), d.results(), {1e-3});
  }
}

// ---- the language model ------------------------------------------------------------------------

nn::LmConfig tiny_config(double keep_prob) {
  nn::LmConfig c = nn::lm_config("small");
  c.vocab_size = 7, c.hidden_size = 3, c.num_layers = 2, c.num_steps = 3, c.batch_size = 2;
  c.keep_prob = keep_prob, c.init_scale = 0.5;
  return c;
}

// d cost / d every parameter tensor of a 2-layer LM by central differences, in double, with a
// non-zero initial state and fixed dropout masks (same seed and offset in every evaluation).
void check_lm_gradients(double keep_prob) {
  Context ctx = Context::cpu();
  const nn::LmConfig cfg = tiny_config(keep_prob);
  nn::LstmLanguageModel<double> lm(ctx, cfg);
  lm.initialize(ctx, 5);
  const int T = cfg.num_steps, B = cfg.batch_size, H = cfg.hidden_size, V = cfg.vocab_size;
  const std::vector<std::int32_t> x = {1, 4, 6, 0, 2, 2}, y = {4, 6, 0, 2, 2, 5};
  const ConstIds xi(x.data(), {T, B}, Device::CPU), yi(y.data(), {T, B}, Device::CPU);
  // A non-zero initial state: the state after one window.
  auto state0 = lm.zero_state(ctx, B);
  lm.forward(ctx, xi, yi, state0, false, 0, 0);
  const auto cost = [&](std::vector<double>& cost_sum) {
    auto state = lm.zero_state(ctx, B);
    for (int l = 0; l < cfg.num_layers; ++l) {
      copy(ctx, state0.c[l].view(), state.c[l].view());
      copy(ctx, state0.h[l].view(), state.h[l].view());
    }
    cost_sum.assign(1, 0.0);
    lm.forward(ctx, xi, yi, state, true, /*seed=*/99, /*mask_offset=*/7, view_of(cost_sum, {1}));
    return cost_sum[0] / B;
  };
  std::vector<double> s;
  const double base = cost(s);
  ASSERT_TRUE(std::isfinite(base));
  lm.backward(ctx);
  std::vector<double> params = to_vector(ctx, lm.params().view());
  const std::vector<double> dense = to_vector(ctx, lm.dense_grads().view());
  const std::vector<double> rows = to_vector(ctx, lm.embedding_row_grads().view());
  std::vector<double> demb(static_cast<std::size_t>(V) * H, 0.0);
  ref::embedding_scatter_add<double>(T * B, V, H, x.data(), rows.data(), demb.data());
  const std::string mode = keep_prob < 1 ? "dropout " : "";
  for (const nn::ParamSlice& p : lm.layout()) {
    std::vector<double> analytic;
    if (p.name == "embedding") {
      analytic = demb;
    } else {
      const auto at = dense.begin() + (p.offset - lm.embedding_numel());
      analytic.assign(at, at + p.numel());
    }
    const std::vector<double> x0(params.begin() + p.offset, params.begin() + p.offset + p.numel());
    EXPECT_TRUE(test::check_gradient(
        mode + "LM d cost / d " + p.name,
        [&](const std::vector<double>& v) {
          std::vector<double> all = params;
          std::copy(v.begin(), v.end(), all.begin() + p.offset);
          copy(ctx, DView(all.data(), {static_cast<std::int64_t>(all.size())}, Device::CPU),
               lm.params().view());
          std::vector<double> cs;
          const double f = cost(cs);
          copy(ctx, DView(params.data(), {static_cast<std::int64_t>(params.size())}, Device::CPU),
               lm.params().view());
          return f;
        },
        x0, analytic));
  }
}

TEST(LstmLmGrad, EveryParameterTwoLayersNonZeroState) {
  check_lm_gradients(1.0);
}
TEST(LstmLmGrad, EveryParameterWithFixedDropoutMasks) {
  check_lm_gradients(0.6);
}

TEST(LstmLm, ConfigsAndValidation) {
  EXPECT_EQ(nn::lm_config("small").hidden_size, 200);
  EXPECT_EQ(nn::lm_config("medium").num_steps, 35);
  EXPECT_EQ(nn::lm_config("large").hidden_size, 1500);
  EXPECT_DOUBLE_EQ(nn::lm_config("large").lr_decay, 1 / 1.15);
  EXPECT_EQ(nn::lm_config("test").num_layers, 1);
  EXPECT_THROW(nn::lm_config("huge"), ArgumentError);
  nn::LmConfig c = nn::lm_config("small");
  c.keep_prob = 0;
  EXPECT_THROW(nn::validate(c), ArgumentError);
  c = nn::lm_config("small");
  c.num_steps = 0;
  EXPECT_THROW(nn::validate(c), ArgumentError);
}

// A few SGD steps on one repeated window drive the training loss down (float, CPU).
TEST(LstmLm, SgdLowersTheLossOnARepeatedWindow) {
  Context ctx = Context::cpu();
  nn::LmConfig cfg = tiny_config(1.0);
  cfg.hidden_size = 8;
  nn::LstmLanguageModel<float> lm(ctx, cfg);
  lm.initialize(ctx, 3);
  const std::vector<std::int32_t> x = {1, 4, 6, 0, 2, 2}, y = {4, 6, 0, 2, 2, 5};
  std::vector<float> first, last;
  for (int step = 0; step < 30; ++step) {
    auto state = lm.zero_state(ctx, cfg.batch_size);
    std::vector<float> cost(1, 0.f), norm(1, NAN);
    lm.forward(ctx, ConstIds(x.data(), {3, 2}, Device::CPU),
               ConstIds(y.data(), {3, 2}, Device::CPU), state, true, 1, 0,
               Tensor(cost.data(), {1}, Device::CPU));
    lm.backward(ctx);
    lm.sgd_step(ctx, 1.0f, Tensor(norm.data(), {1}, Device::CPU));
    EXPECT_TRUE(std::isfinite(norm[0]));
    (step == 0 ? first : last) = cost;
  }
  EXPECT_LT(last[0], 0.5f * first[0]) << "first " << first[0] << " last " << last[0];
}

// The LM with dropout against its recomposition fed the same masks (tests/lm_fed_masks.hpp),
// on the CPU backend, where the two run the same ops in the same order: bitwise equal. This
// validates the reference (and its reading of the engine's mask offsets) that
// LstmLmCuda.DropoutWindowsMatchTheFedMaskReference uses for the CUDA engine.
TEST(LstmLm, DropoutWindowsMatchTheFedMaskReference) {
  Context ctx = Context::cpu();
  nn::LmConfig cfg = nn::lm_config("medium");
  cfg.vocab_size = 53, cfg.hidden_size = 9, cfg.num_steps = 4, cfg.batch_size = 3;
  cfg.keep_prob = 0.6;
  test::expect_lm_matches_fed_masks(ctx, cfg, /*windows=*/3, {{0.0}, {0.0}});
}

// The comparison above sees the masks: masks drawn one offset late give other results.
TEST(LstmLm, FedMaskReferenceWithOtherMasksDiffers) {
  Context ctx = Context::cpu();
  nn::LmConfig cfg = nn::lm_config("medium");
  cfg.vocab_size = 53, cfg.hidden_size = 9, cfg.num_steps = 4, cfg.batch_size = 3;
  cfg.keep_prob = 0.6;
  const int T = cfg.num_steps, B = cfg.batch_size;
  nn::LstmLanguageModel<float> lm(ctx, cfg);
  lm.initialize(ctx, 13);
  auto state = lm.zero_state(ctx, B);
  const auto x = test::random_ids(T * B, cfg.vocab_size, 1), y = test::random_ids(T * B, 53, 2);
  const std::vector<float> params = test::host_copy(ctx, lm.params());
  lm.forward(ctx, ConstIds(x.data(), {T, B}, Device::CPU), ConstIds(y.data(), {T, B}, Device::CPU),
             state, true, /*seed=*/5, /*mask_offset=*/3);
  lm.backward(ctx);
  test::FedMaskLm ref(cfg);
  for (const int shift : {0, 1}) {
    std::vector<std::vector<float>> h(2, std::vector<float>(B * cfg.hidden_size, 0.f)), c = h;
    const auto want =
        ref.window(params, x, y, T, B, test::lm_masks(ctx, cfg, 5, 3 + shift, T, B), h, c);
    const bool same = test::host_copy(ctx, lm.loss_rows()) == want.loss_rows;
    EXPECT_EQ(same, shift == 0) << "masks at offset 3 + " << shift;
  }
}

}  // namespace
}  // namespace curnn
