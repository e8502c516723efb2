// LSTM cell reference (include/curnn/ref/lstm_cell.hpp): a hand-computed case, gradient checks of
// the backward against central differences of the forward (double), a two-step unrolled cell
// against the backward applied twice, and the ops' argument checks on the CPU backend.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "curnn/ops/lstm_cell.hpp"
#include "curnn/ref/lstm_cell.hpp"
#include "lstm_cell_inputs.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using Vec = std::vector<double>;

double logistic(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

TEST(LstmCell, ForwardAndBackwardHandComputed) {
  // One unit: gates in order [i, j, f, o], bias added, forget_bias added to f only.
  const Vec preact{0.5, -0.3, 0.2, 1.0}, bias{0.1, 0.2, -0.1, -0.4}, c_prev{0.7}, mask{2.5};
  Vec gates(4), c(1), h(1), hd(1);
  ref::lstm_cell_forward<double>(1, 1, preact.data(), bias.data(), c_prev.data(), 1.0, gates.data(),
                                 c.data(), h.data(), mask.data(), hd.data());
  const double i = logistic(0.6), j = std::tanh(-0.1), f = logistic(0.1 + 1.0), o = logistic(0.6);
  EXPECT_NEAR(gates[0], i, 1e-15);
  EXPECT_NEAR(gates[1], j, 1e-15);
  EXPECT_NEAR(gates[2], f, 1e-15);
  EXPECT_NEAR(gates[3], o, 1e-15);
  const double cc = 0.7 * f + i * j;
  EXPECT_NEAR(c[0], cc, 1e-15);
  EXPECT_NEAR(h[0], std::tanh(cc) * o, 1e-15);
  EXPECT_NEAR(hd[0], 2.5 * std::tanh(cc) * o, 1e-15);

  // Backward with dh = 0.3, dh_out = -1 through the mask (2.5), dc = 0.2.
  const Vec dh{0.3}, dh_out{-1.0}, dc{0.2};
  Vec da(4), dc_prev(1);
  ref::lstm_cell_backward<double>(1, 1, gates.data(), c.data(), c_prev.data(), dh.data(),
                                  dh_out.data(), mask.data(), dc.data(), da.data(), dc_prev.data());
  const double dht = 0.3 - 2.5, tc = std::tanh(cc), dct = 0.2 + dht * o * (1 - tc * tc);
  EXPECT_NEAR(da[0], dct * j * i * (1 - i), 1e-15);
  EXPECT_NEAR(da[1], dct * i * (1 - j * j), 1e-15);
  EXPECT_NEAR(da[2], dct * 0.7 * f * (1 - f), 1e-15);
  EXPECT_NEAR(da[3], dht * tc * o * (1 - o), 1e-15);
  EXPECT_NEAR(dc_prev[0], dct * f, 1e-15);
}

// Which gradients reach the cell in a gradient-check case (the others are nullptr).
struct GradCase {
  bool mask;
  double forget_bias;
  bool dh, dh_out, dc;
};

std::string case_name(const ::testing::TestParamInfo<GradCase>& info) {
  const GradCase& p = info.param;
  return std::string(p.mask ? "Mask" : "NoMask") + (p.forget_bias != 0 ? "Fb1" : "Fb0") +
         (p.dh ? "_dh" : "") + (p.dh_out ? "_dhout" : "") + (p.dc ? "_dc" : "");
}

class LstmCellGrad : public ::testing::TestWithParam<GradCase> {};

// f(preact, bias, c_prev) = r_c . c + r_h . h + r_o . (h_dropped with a mask, else h), each term
// present iff the matching gradient (dc, dh, dh_out) is; the backward with those projections as
// incoming gradients must give df/dpreact, df/dbias (column sum) and df/dc_prev.
TEST_P(LstmCellGrad, BackwardMatchesForwardDifferences) {
  const GradCase p = GetParam();
  const int B = 3, H = 4;
  const auto in = test::lstm_cell_inputs<double>(B, H, p.mask, 11);
  const std::size_t units = B * H;
  const Vec r_c = p.dc ? test::random_uniform<double>(units, -1, 1, 21) : Vec{};
  const Vec r_h = p.dh ? test::random_uniform<double>(units, -1, 1, 22) : Vec{};
  const Vec r_o = p.dh_out ? test::random_uniform<double>(units, -1, 1, 23) : Vec{};
  const double* mask = test::data_or_null(in.mask);

  auto loss = [&](const Vec& preact, const Vec& bias, const Vec& c_prev) {
    Vec gates(4 * units), c(units), h(units), hd(units);
    ref::lstm_cell_forward<double>(B, H, preact.data(), bias.data(), c_prev.data(), p.forget_bias,
                                   gates.data(), c.data(), h.data(), mask, hd.data());
    double f = 0;
    if (p.dc) f += test::project(r_c, c);
    if (p.dh) f += test::project(r_h, h);
    if (p.dh_out) f += test::project(r_o, p.mask ? hd : h);
    return f;
  };

  Vec gates(4 * units), c(units), h(units), hd(units), dpreact(4 * units), dc_prev(units);
  ref::lstm_cell_forward<double>(B, H, in.preact.data(), in.bias.data(), in.c_prev.data(),
                                 p.forget_bias, gates.data(), c.data(), h.data(), mask, hd.data());
  ref::lstm_cell_backward<double>(B, H, gates.data(), c.data(), in.c_prev.data(),
                                  test::data_or_null(r_h), test::data_or_null(r_o), mask,
                                  test::data_or_null(r_c), dpreact.data(), dc_prev.data());
  Vec dbias(4 * H, 0.0);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < 4 * H; ++k) dbias[k] += dpreact[b * 4 * H + k];

  EXPECT_TRUE(test::check_gradient(
      "d/dpreact", [&](const Vec& x) { return loss(x, in.bias, in.c_prev); }, in.preact, dpreact));
  EXPECT_TRUE(test::check_gradient(
      "d/dbias", [&](const Vec& x) { return loss(in.preact, x, in.c_prev); }, in.bias, dbias));
  if (p.dh || p.dh_out || p.dc) {
    EXPECT_TRUE(test::check_gradient(
        "d/dc_prev", [&](const Vec& x) { return loss(in.preact, in.bias, x); }, in.c_prev,
        dc_prev));
  }
}

INSTANTIATE_TEST_SUITE_P(AllInputs, LstmCellGrad,
                         ::testing::Values(GradCase{false, 0.0, true, true, true},
                                           GradCase{false, 1.0, true, true, true},
                                           GradCase{true, 0.0, true, true, true},
                                           GradCase{true, 1.0, true, true, true},
                                           GradCase{true, 1.0, false, true, true},
                                           GradCase{true, 0.0, true, false, true},
                                           GradCase{false, 1.0, true, true, false},
                                           GradCase{true, 0.0, false, true, false},
                                           GradCase{false, 0.0, false, false, true}),
                         case_name);

// ---- two steps, (h, c) carried
// --------------------------------------------------------------------

// out [N, M] (+)= a [N, K] * b [K, M] (transpose_b: b is [M, K]); the test's own tiny GEMM.
void matmul(int N, int K, int M, const double* a, const double* b, bool transpose_b, double* out,
            bool accumulate) {
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < M; ++m) {
      double s = accumulate ? out[n * M + m] : 0.0;
      for (int k = 0; k < K; ++k) s += a[n * K + k] * (transpose_b ? b[m * K + k] : b[k * M + m]);
      out[n * M + m] = s;
    }
}
// out [K, M] += a^T b for a [N, K], b [N, M].
void matmul_at_b(int N, int K, int M, const double* a, const double* b, double* out) {
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k)
      for (int m = 0; m < M; ++m) out[k * M + m] += a[n * K + k] * b[n * M + m];
}

class LstmCellTwoStepGrad : public ::testing::TestWithParam<bool> {};

// Step t: preact_t = x_t Wx + h_{t-1} Wh; (c_t, h_t) = cell(preact_t, bias, c_{t-1}); the output
// h_t * mask_t goes up. Loss = r1 . out_1 + r2 . out_2 + rc . c_2 + rh . h_2 (the final state
// feeds the next batch). The backward runs step 2 then step 1 carrying dc and dh (= dpreact Wh^T);
// its gradients wrt every input of the unrolled pair must match central differences.
TEST_P(LstmCellTwoStepGrad, UnrolledMatchesBackwardTwice) {
  const bool with_mask = GetParam();
  const int B = 2, E = 3, H = 3, G = 4 * H;
  const double fb = 0.5;
  // Packed inputs: x1 [B,E], x2 [B,E], h0 [B,H], c0 [B,H], Wx [E,4H], Wh [H,4H], bias [4H].
  const int sizes[] = {B * E, B * E, B * H, B * H, E * G, H * G, G};
  int offset[8] = {0};
  for (int s = 0; s < 7; ++s) offset[s + 1] = offset[s] + sizes[s];
  Vec theta = test::random_uniform<double>(offset[7], -1, 1, 31);
  const Vec m1 = with_mask ? test::dropout_mask<double>(B * H, 0.6, 32) : Vec{};
  const Vec m2 = with_mask ? test::dropout_mask<double>(B * H, 0.6, 33) : Vec{};
  const Vec r1 = test::random_uniform<double>(B * H, -1, 1, 34);
  const Vec r2 = test::random_uniform<double>(B * H, -1, 1, 35);
  const Vec rc = test::random_uniform<double>(B * H, -1, 1, 36);
  const Vec rh = test::random_uniform<double>(B * H, -1, 1, 37);

  struct Step {
    Vec preact, gates, c, h, out;
  };
  auto step = [&](const double* th, const double* x, const double* h_prev, const double* c_prev,
                  const Vec& mask) {
    Step s{Vec(B * G), Vec(B * G), Vec(B * H), Vec(B * H), Vec(B * H)};
    matmul(B, E, G, x, th + offset[4], false, s.preact.data(), false);
    matmul(B, H, G, h_prev, th + offset[5], false, s.preact.data(), true);
    ref::lstm_cell_forward<double>(B, H, s.preact.data(), th + offset[6], c_prev, fb,
                                   s.gates.data(), s.c.data(), s.h.data(), test::data_or_null(mask),
                                   s.out.data());
    if (mask.empty()) s.out = s.h;
    return s;
  };
  auto loss = [&](const Vec& th) {
    const Step s1 =
        step(th.data(), th.data() + offset[0], th.data() + offset[2], th.data() + offset[3], m1);
    const Step s2 = step(th.data(), th.data() + offset[1], s1.h.data(), s1.c.data(), m2);
    return test::project(r1, s1.out) + test::project(r2, s2.out) + test::project(rc, s2.c) +
           test::project(rh, s2.h);
  };

  const double* th = theta.data();
  const Step s1 = step(th, th + offset[0], th + offset[2], th + offset[3], m1);
  const Step s2 = step(th, th + offset[1], s1.h.data(), s1.c.data(), m2);
  Vec grad(theta.size(), 0.0);
  Vec da2(B * G), dc1(B * H), dh1(B * H), da1(B * G), dc0(B * H);
  ref::lstm_cell_backward<double>(B, H, s2.gates.data(), s2.c.data(), s1.c.data(), rh.data(),
                                  r2.data(), test::data_or_null(m2), rc.data(), da2.data(),
                                  dc1.data());
  matmul(B, G, H, da2.data(), th + offset[5], true, dh1.data(), false);  // dh1 = da2 Wh^T
  ref::lstm_cell_backward<double>(B, H, s1.gates.data(), s1.c.data(), th + offset[3], dh1.data(),
                                  r1.data(), test::data_or_null(m1), dc1.data(), da1.data(),
                                  dc0.data());
  matmul(B, G, E, da1.data(), th + offset[4], true, grad.data() + offset[0], false);  // dx1
  matmul(B, G, E, da2.data(), th + offset[4], true, grad.data() + offset[1], false);  // dx2
  matmul(B, G, H, da1.data(), th + offset[5], true, grad.data() + offset[2], false);  // dh0
  for (int u = 0; u < B * H; ++u) grad[offset[3] + u] = dc0[u];
  matmul_at_b(B, E, G, th + offset[0], da1.data(), grad.data() + offset[4]);  // dWx
  matmul_at_b(B, E, G, th + offset[1], da2.data(), grad.data() + offset[4]);
  matmul_at_b(B, H, G, th + offset[2], da1.data(), grad.data() + offset[5]);  // dWh
  matmul_at_b(B, H, G, s1.h.data(), da2.data(), grad.data() + offset[5]);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < G; ++k) grad[offset[6] + k] += da1[b * G + k] + da2[b * G + k];

  EXPECT_TRUE(test::check_gradient(with_mask ? "two steps, mask" : "two steps, no mask", loss,
                                   theta, grad));
}

INSTANTIATE_TEST_SUITE_P(MaskOrNot, LstmCellTwoStepGrad, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Mask" : "NoMask"; });

// ---- ops on the CPU backend
// -----------------------------------------------------------------------

TEST(LstmCellOps, CpuForwardBackwardRunTheReference) {
  Context ctx = Context::cpu();
  const int B = 2, H = 5;
  const auto in = test::lstm_cell_inputs<float>(B, H, true, 41);
  std::vector<float> gates(4 * B * H), c(B * H), h(B * H), hd(B * H);
  ops::lstm_cell_forward(
      ctx, ConstTensor(in.preact.data(), {B, 4 * H}, Device::CPU),
      ConstTensor(in.bias.data(), {4 * H}, Device::CPU),
      ConstTensor(in.c_prev.data(), {B, H}, Device::CPU), 1.f,
      Tensor(gates.data(), {B, 4 * H}, Device::CPU), Tensor(c.data(), {B, H}, Device::CPU),
      Tensor(h.data(), {B, H}, Device::CPU), ConstTensor(in.mask.data(), {B, H}, Device::CPU),
      Tensor(hd.data(), {B, H}, Device::CPU));
  std::vector<float> g2(4 * B * H), c2(B * H), h2(B * H), hd2(B * H);
  ref::lstm_cell_forward<float>(B, H, in.preact.data(), in.bias.data(), in.c_prev.data(), 1.f,
                                g2.data(), c2.data(), h2.data(), in.mask.data(), hd2.data());
  EXPECT_EQ(gates, g2);
  EXPECT_EQ(c, c2);
  EXPECT_EQ(h, h2);
  EXPECT_EQ(hd, hd2);

  const auto dh = test::random_uniform<float>(B * H, -1, 1, 42);
  std::vector<float> da(4 * B * H), dcp(B * H), da2(4 * B * H), dcp2(B * H);
  ops::lstm_cell_backward(ctx, ConstTensor(gates.data(), {B, 4 * H}, Device::CPU),
                          ConstTensor(c.data(), {B, H}, Device::CPU),
                          ConstTensor(in.c_prev.data(), {B, H}, Device::CPU),
                          ConstTensor(dh.data(), {B, H}, Device::CPU), ConstTensor{}, ConstTensor{},
                          ConstTensor{}, Tensor(da.data(), {B, 4 * H}, Device::CPU),
                          Tensor(dcp.data(), {B, H}, Device::CPU));
  ref::lstm_cell_backward<float>(B, H, gates.data(), c.data(), in.c_prev.data(), dh.data(), nullptr,
                                 nullptr, nullptr, da2.data(), dcp2.data());
  EXPECT_EQ(da, da2);
  EXPECT_EQ(dcp, dcp2);
}

// The optional second copies of c and h (an LSTM layer's last step writes its final state into
// the caller's buffers with them): bitwise c and h, with or without a mask.
TEST(LstmCellOps, CopiesOfCAndHAreBitwiseCAndH) {
  Context ctx = Context::cpu();
  const int B = 3, H = 7;
  for (const bool with_mask : {false, true}) {
    const auto in = test::lstm_cell_inputs<float>(B, H, with_mask, 43);
    std::vector<float> gates(4 * B * H), c(B * H), h(B * H), hd(B * H), c_copy(B * H, NAN),
        h_copy(B * H, NAN);
    const auto unit = [&](std::vector<float>& v) { return Tensor(v.data(), {B, H}, Device::CPU); };
    ops::lstm_cell_forward(
        ctx, ConstTensor(in.preact.data(), {B, 4 * H}, Device::CPU),
        ConstTensor(in.bias.data(), {4 * H}, Device::CPU),
        ConstTensor(in.c_prev.data(), {B, H}, Device::CPU), 1.f,
        Tensor(gates.data(), {B, 4 * H}, Device::CPU), unit(c), unit(h),
        with_mask ? ConstTensor(in.mask.data(), {B, H}, Device::CPU) : ConstTensor{},
        with_mask ? unit(hd) : Tensor{}, unit(c_copy), unit(h_copy));
    EXPECT_EQ(c_copy, c) << with_mask;
    EXPECT_EQ(h_copy, h) << with_mask;
    // One copy alone, and a copy of the wrong shape.
    std::fill(h_copy.begin(), h_copy.end(), NAN);
    ops::lstm_cell_forward(ctx, ConstTensor(in.preact.data(), {B, 4 * H}, Device::CPU),
                           ConstTensor(in.bias.data(), {4 * H}, Device::CPU),
                           ConstTensor(in.c_prev.data(), {B, H}, Device::CPU), 1.f,
                           Tensor(gates.data(), {B, 4 * H}, Device::CPU), unit(c), unit(h), {}, {},
                           {}, unit(h_copy));
    EXPECT_EQ(h_copy, h);
    EXPECT_THROW(
        ops::lstm_cell_forward(ctx, ConstTensor(in.preact.data(), {B, 4 * H}, Device::CPU),
                               ConstTensor(in.bias.data(), {4 * H}, Device::CPU),
                               ConstTensor(in.c_prev.data(), {B, H}, Device::CPU), 1.f,
                               Tensor(gates.data(), {B, 4 * H}, Device::CPU), unit(c), unit(h), {},
                               {}, Tensor(c_copy.data(), {H, B}, Device::CPU)),
        ArgumentError);
  }
}

TEST(LstmCellOps, RejectsBadArguments) {
  Context ctx = Context::cpu();
  const int B = 2, H = 3;
  std::vector<float> a(4 * B * H), u1(B * H), u2(B * H), u3(B * H), u4(B * H), bias(4 * H),
      g(4 * B * H), d(4 * B * H);
  const ConstTensor preact(a.data(), {B, 4 * H}, Device::CPU), b(bias.data(), {4 * H}, Device::CPU),
      cp(u1.data(), {B, H}, Device::CPU);
  const Tensor gates(g.data(), {B, 4 * H}, Device::CPU), c(u2.data(), {B, H}, Device::CPU),
      h(u3.data(), {B, H}, Device::CPU), hd(u4.data(), {B, H}, Device::CPU);
  EXPECT_NO_THROW(ops::lstm_cell_forward(ctx, preact, b, cp, 0.f, gates, c, h));
  // Wrong shapes: bias [4H+?], preact [B, H], gates transposed.
  EXPECT_THROW(ops::lstm_cell_forward(ctx, preact, ConstTensor(bias.data(), {H}, Device::CPU), cp,
                                      0.f, gates, c, h),
               ArgumentError);
  EXPECT_THROW(ops::lstm_cell_forward(ctx, ConstTensor(a.data(), {B, H}, Device::CPU), b, cp, 0.f,
                                      gates, c, h),
               ArgumentError);
  EXPECT_THROW(ops::lstm_cell_forward(ctx, preact, b, cp, 0.f,
                                      Tensor(g.data(), {4 * H, B}, Device::CPU), c, h),
               ArgumentError);
  // A mask without h_dropped, h_dropped without a mask, a non-finite forget bias.
  EXPECT_THROW(ops::lstm_cell_forward(ctx, preact, b, cp, 0.f, gates, c, h, cp), ArgumentError);
  EXPECT_THROW(ops::lstm_cell_forward(ctx, preact, b, cp, 0.f, gates, c, h, ConstTensor{}, hd),
               ArgumentError);
  EXPECT_THROW(ops::lstm_cell_forward(ctx, preact, b, cp, NAN, gates, c, h), ArgumentError);
  // A tensor on the wrong device (never dereferenced: the check comes first).
  EXPECT_THROW(ops::lstm_cell_forward(ctx, preact, b, ConstTensor(u1.data(), {B, H}, Device::CUDA),
                                      0.f, gates, c, h),
               ArgumentError);
  // Backward: an optional gradient of the wrong shape, dpreact of the wrong shape.
  const Tensor dpreact(d.data(), {B, 4 * H}, Device::CPU);
  EXPECT_NO_THROW(ops::lstm_cell_backward(ctx, gates, c, cp, {}, {}, {}, {}, dpreact, hd));
  EXPECT_THROW(
      ops::lstm_cell_backward(ctx, gates, c, cp, ConstTensor(u4.data(), {H, B}, Device::CPU), {},
                              {}, {}, dpreact, hd),
      ArgumentError);
  EXPECT_THROW(ops::lstm_cell_backward(ctx, gates, c, cp, {}, {}, {}, {},
                                       Tensor(d.data(), {B, 2 * H}, Device::CPU), hd),
               ArgumentError);
}

}  // namespace
}  // namespace curnn
