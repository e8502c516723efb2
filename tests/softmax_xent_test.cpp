// Softmax cross-entropy, argmax and accuracy on the CPU: gradient checks of the reference in
// double, hand-computed cases, in-place aliasing, stability at large logits, argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/softmax_xent.hpp"
#include "curnn/ref/softmax_xent.hpp"
#include "softmax_xent_testing.hpp"
#include "support/compare.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(SoftmaxXent, HandComputedRows) {
  // Row 0: x = (1, 2, 3), target 0: loss = 2 + log(1 + e^-1 + e^-2). Row 1: x = 0, target 2.
  const std::vector<double> x = {1, 2, 3, 0, 0, 0};
  const std::vector<std::int32_t> t = {0, 2};
  std::vector<double> loss(2), d(6), p(6);
  ref::softmax_xent<double>(2, 3, x.data(), t.data(), loss.data(), d.data(), 0.5, p.data());
  EXPECT_NEAR(loss[0], 2.4076059644443806, 1e-14);
  EXPECT_NEAR(loss[1], 1.0986122886681098, 1e-14);
  const double p0[] = {0.09003057317038046, 0.24472847105479764, 0.6652409557748218};
  const double d0[] = {-0.4549847134148098, 0.12236423552739882, 0.3326204778874109};
  for (int v = 0; v < 3; ++v) {
    EXPECT_NEAR(p[v], p0[v], 1e-15);
    EXPECT_NEAR(d[v], d0[v], 1e-15);
    EXPECT_NEAR(p[3 + v], 1.0 / 3, 1e-15);
    EXPECT_NEAR(d[3 + v], 0.5 * (1.0 / 3 - (v == 2)), 1e-15);
  }
}

TEST(SoftmaxXent, OneClassHasZeroLossAndGradient) {
  const std::vector<double> x = {7.5, -3};
  const std::vector<std::int32_t> t = {0, 0};
  std::vector<double> loss(2, 1), d(2, 1);
  ref::softmax_xent<double>(2, 1, x.data(), t.data(), loss.data(), d.data(), 1.0);
  EXPECT_EQ(loss, std::vector<double>(2, 0.0));
  EXPECT_EQ(d, std::vector<double>(2, 0.0));
}

// f(x) = grad_scale * sum_n r_n loss_n(x); its gradient is r_n * dlogits[n, :] when dlogits is
// computed with that grad_scale.
void check_logits_gradient(int N, int V, double spread, double offset, std::uint64_t seed) {
  const double grad_scale = 0.37;
  const auto x0 = test::random_uniform<double>(static_cast<std::size_t>(N) * V, offset - spread,
                                               offset + spread, seed);
  const auto targets = test::random_ids(N, V, seed + 1);
  const auto r = test::random_uniform<double>(N, 0.5, 1.5, seed + 2);
  const auto f = [&](const std::vector<double>& x) {
    std::vector<double> loss(N);
    ref::softmax_xent<double>(N, V, x.data(), targets.data(), loss.data(), nullptr, 0.0);
    return grad_scale * test::project(r, loss);
  };
  std::vector<double> loss(N), d(x0.size());
  ref::softmax_xent<double>(N, V, x0.data(), targets.data(), loss.data(), d.data(), grad_scale);
  for (int n = 0; n < N; ++n) {
    for (int v = 0; v < V; ++v) d[static_cast<std::size_t>(n) * V + v] *= r[n];
  }
  char what[96];
  std::snprintf(what, sizeof what, "dlogits N=%d V=%d logits %g+-%g", N, V, offset, spread);
  EXPECT_TRUE(test::check_gradient(what, f, x0, d));
}

TEST(SoftmaxXentGrad, LogitsGradientMatchesCentralDifferences) {
  check_logits_gradient(1, 2, 3.0, 0.0, 11);
  check_logits_gradient(3, 5, 3.0, 0.0, 12);
  check_logits_gradient(4, 17, 3.0, 0.0, 13);
  check_logits_gradient(2, 64, 3.0, 0.0, 14);
}

TEST(SoftmaxXentGrad, LargeMagnitudeLogitsStayStable) {
  check_logits_gradient(3, 7, 50.0, 0.0, 21);     // logits in [-50, 50]
  check_logits_gradient(2, 9, 5.0, 1000.0, 22);   // exp(1000) overflows a double
  check_logits_gradient(2, 9, 5.0, -1000.0, 23);  // exp(-1000) underflows
}

TEST(SoftmaxXentGrad, InPlaceGradientEqualsOutOfPlace) {
  const int N = 5, V = 13;
  const auto x = test::random_uniform<double>(N * V, -4, 4, 31);
  const auto t = test::random_ids(N, V, 32);
  std::vector<double> loss(N), d(N * V), p(N * V);
  ref::softmax_xent<double>(N, V, x.data(), t.data(), loss.data(), d.data(), 0.25, p.data());
  std::vector<double> inplace = x, loss2(N), p2(N * V);
  ref::softmax_xent<double>(N, V, inplace.data(), t.data(), loss2.data(), inplace.data(), 0.25,
                            p2.data());
  EXPECT_EQ(inplace, d);
  EXPECT_EQ(loss2, loss);
  EXPECT_EQ(p2, p);
}

TEST(SoftmaxXent, ProbsSumToOneAndGiveTheLoss) {
  const int N = 6, V = 40;
  const auto x = test::random_logits(N, V, 6.0, 0.0, 41);
  const auto t = test::random_ids(N, V, 42);
  const auto r = test::reference_softmax_xent(N, V, x, t, 1.0);
  for (int n = 0; n < N; ++n) {
    double sum = 0, dsum = 0;
    for (int v = 0; v < V; ++v) {
      sum += r.probs[n * V + v];
      dsum += r.dlogits[n * V + v];
    }
    EXPECT_NEAR(sum, 1.0, 1e-14);
    EXPECT_NEAR(dsum, 0.0, 1e-14);  // softmax - onehot sums to zero
    EXPECT_NEAR(-std::log(r.probs[n * V + t[n]]), r.loss[n], 1e-12);
  }
}

// The CPU op (float) against the float64 reference, out of place, in place and forward only.
TEST(SoftmaxXent, CpuOpMatchesDoubleReference) {
  Context ctx = Context::cpu();
  const int N = 20, V = 1000;
  const float g = 1.0f / N;
  const auto x = test::random_logits(N, V, 8.0, 0.0, 51);
  const auto t = test::random_ids(N, V, 52);
  const auto r = test::reference_softmax_xent(N, V, x, t, g);
  ConstTensor logits(x.data(), {N, V}, Device::CPU);
  ConstIds targets(t.data(), {N}, Device::CPU);
  std::vector<float> loss(N, kNaN), d(N * V, kNaN), p(N * V, kNaN);
  ops::softmax_xent(ctx, logits, targets, Tensor(loss.data(), {N}, Device::CPU),
                    Tensor(d.data(), {N, V}, Device::CPU), g,
                    Tensor(p.data(), {N, V}, Device::CPU));
  EXPECT_TRUE(test::expect_close("loss", loss, r.loss));
  EXPECT_TRUE(test::expect_close("dlogits", d, r.dlogits));
  EXPECT_TRUE(test::expect_close("probs", p, r.probs));

  std::vector<float> inplace = x, loss2(N, kNaN);
  ops::softmax_xent(ctx, ConstTensor(inplace.data(), {N, V}, Device::CPU), targets,
                    Tensor(loss2.data(), {N}, Device::CPU),
                    Tensor(inplace.data(), {N, V}, Device::CPU), g);
  EXPECT_EQ(inplace, d);
  EXPECT_EQ(loss2, loss);

  std::vector<float> loss3(N, kNaN);
  ops::softmax_xent(ctx, logits, targets, Tensor(loss3.data(), {N}, Device::CPU), Tensor(), g);
  EXPECT_EQ(loss3, loss);
}

// float logits at +-1000 (where exp overflows/underflows a float) give the shift-invariant
// result of the same logits without the offset.
TEST(SoftmaxXent, FloatReferenceIsStableAtLargeOffsets) {
  const int N = 4, V = 300;
  const auto t = test::random_ids(N, V, 62);
  for (const double offset : {1000.0, -1000.0, 1e5}) {
    const auto x = test::random_logits(N, V, 10.0, offset, 61);
    std::vector<float> shifted(x.size());  // exact: x and offset are within a factor of 2
    for (std::size_t i = 0; i < x.size(); ++i) shifted[i] = static_cast<float>(x[i] - offset);
    const auto r = test::reference_softmax_xent(N, V, shifted, t, 1.0);
    std::vector<float> loss(N), d(x.size());
    ref::softmax_xent<float>(N, V, x.data(), t.data(), loss.data(), d.data(), 1.0f);
    EXPECT_TRUE(test::expect_close("loss at offset", loss, r.loss));
    EXPECT_TRUE(test::expect_close("dlogits at offset", d, r.dlogits));
  }
}

TEST(SoftmaxXent, TargetOutOfRangeIsAnArgumentErrorAndWritesNothing) {
  Context ctx = Context::cpu();
  const int N = 3, V = 5;
  const auto x = test::random_logits(N, V, 1.0, 0.0, 71);
  for (const std::int32_t bad : {-1, V, 1 << 30, std::numeric_limits<std::int32_t>::min()}) {
    const std::vector<std::int32_t> t = {0, bad, 4};
    std::vector<float> loss(N, kNaN), d(N * V, kNaN);
    EXPECT_THROW(ops::softmax_xent(ctx, ConstTensor(x.data(), {N, V}, Device::CPU),
                                   ConstIds(t.data(), {N}, Device::CPU),
                                   Tensor(loss.data(), {N}, Device::CPU),
                                   Tensor(d.data(), {N, V}, Device::CPU), 1.0f),
                 ArgumentError)
        << "target " << bad;
    for (float l : loss) EXPECT_TRUE(std::isnan(l));
    for (float g : d) EXPECT_TRUE(std::isnan(g));
  }
}

TEST(SoftmaxXent, ArgumentErrors) {
  Context ctx = Context::cpu();
  const int N = 4, V = 6;
  std::vector<float> x(N * V + 8, 0.5f), loss(N + 1), d(N * V + 8), p(N * V);
  std::vector<std::int32_t> t(N + 1, 1);
  const ConstTensor logits(x.data(), {N, V}, Device::CPU);
  const ConstIds targets(t.data(), {N}, Device::CPU);
  const Tensor lossv(loss.data(), {N}, Device::CPU), dv(d.data(), {N, V}, Device::CPU);
  const auto call = [&](ConstTensor l, ConstIds tt, Tensor lo, Tensor dd, float g, Tensor pp) {
    ops::softmax_xent(ctx, l, tt, lo, dd, g, pp);
  };
  EXPECT_NO_THROW(call(logits, targets, lossv, dv, 1.f, Tensor(p.data(), {N, V}, Device::CPU)));
  EXPECT_THROW(call(logits.reshape({N * V}), targets, lossv, dv, 1.f, {}), ArgumentError);
  EXPECT_THROW(call(ConstTensor(x.data(), {N, 0}, Device::CPU), targets, lossv, {}, 1.f, {}),
               ArgumentError);
  EXPECT_THROW(call(logits, ConstIds(t.data(), {N + 1}, Device::CPU), lossv, dv, 1.f, {}),
               ArgumentError);
  EXPECT_THROW(call(logits, targets, Tensor(loss.data(), {N + 1}, Device::CPU), dv, 1.f, {}),
               ArgumentError);
  EXPECT_THROW(call(logits, targets, lossv, Tensor(d.data(), {N, V + 1}, Device::CPU), 1.f, {}),
               ArgumentError);
  EXPECT_THROW(call(logits, targets, lossv, Tensor(d.data(), {N, V}, Device::CUDA), 1.f, {}),
               ArgumentError);
  EXPECT_THROW(call(logits, targets, lossv, dv, kInf, {}), ArgumentError);
  EXPECT_THROW(call(logits, targets, lossv, dv, kNaN, {}), ArgumentError);
  // dlogits overlapping logits without being it; probs aliasing logits or dlogits.
  EXPECT_THROW(call(logits, targets, lossv, Tensor(x.data() + 1, {N, V}, Device::CPU), 1.f, {}),
               ArgumentError);
  EXPECT_THROW(call(logits, targets, lossv, dv, 1.f, Tensor(x.data(), {N, V}, Device::CPU)),
               ArgumentError);
  EXPECT_THROW(call(logits, targets, lossv, dv, 1.f, Tensor(d.data() + 3, {N, V}, Device::CPU)),
               ArgumentError);
  EXPECT_THROW(call(logits, targets, Tensor(x.data() + 2, {N}, Device::CPU), {}, 1.f, {}),
               ArgumentError);
}

// Rows of C = 4 with ties, infinities, NaN and signed zeros: (row, expected argmax).
TEST(Argmax, TiesGoToTheLowestIndexAndNaNWins) {
  const std::vector<float> x = {
      1,     3,     3,     2,      // 1: tie between 1 and 2
      -kInf, -kInf, -kInf, -kInf,  // 0
      0,     kNaN,  5,     kNaN,   // 1: the first NaN
      2,     2,     2,     2,      // 0
      -1,    -0.5,  -2,    -0.5,   // 1
      0,     0,     0,     7,      // 3
      -0.f,  0.f,   -1,    -1,     // 0: -0 == +0
      kInf,  1,     kInf,  2,      // 0
  };
  const std::vector<std::int32_t> expected = {1, 0, 1, 0, 1, 3, 0, 0};
  const int N = static_cast<int>(expected.size()), C = 4;
  Context ctx = Context::cpu();
  std::vector<std::int32_t> out(N, -7);
  ops::argmax_rows(ctx, ConstTensor(x.data(), {N, C}, Device::CPU),
                   Ids(out.data(), {N}, Device::CPU));
  EXPECT_EQ(out, expected);

  std::vector<std::int32_t> labels = expected;
  labels[0] = 2;  // the tie's other index is wrong
  labels[5] = 0;
  EXPECT_EQ(ops::count_correct(ctx, ConstTensor(x.data(), {N, C}, Device::CPU),
                               ConstIds(labels.data(), {N}, Device::CPU)),
            N - 2);
}

TEST(Argmax, CountCorrectCountsArgmaxHits) {
  const int N = 200, C = 10;
  const auto x = test::random_logits(N, C, 3.0, 0.0, 81);
  std::vector<std::int32_t> predicted(N);
  ref::argmax_rows<float>(N, C, x.data(), predicted.data());
  auto labels = test::random_ids(N, C, 82);
  for (int n = 0; n < N; n += 3) labels[n] = predicted[n];  // about 40% right
  std::int64_t hits = 0;
  for (int n = 0; n < N; ++n) hits += labels[n] == predicted[n];
  EXPECT_GE(hits, N / 3);
  Context ctx = Context::cpu();
  EXPECT_EQ(ops::count_correct(ctx, ConstTensor(x.data(), {N, C}, Device::CPU),
                               ConstIds(labels.data(), {N}, Device::CPU)),
            hits);
}

TEST(Argmax, ArgumentErrors) {
  Context ctx = Context::cpu();
  std::vector<float> x(12, 1.f);
  std::vector<std::int32_t> ids(4, 0);
  const ConstTensor xv(x.data(), {3, 4}, Device::CPU);
  EXPECT_THROW(ops::argmax_rows(ctx, xv, Ids(ids.data(), {4}, Device::CPU)), ArgumentError);
  EXPECT_THROW(ops::argmax_rows(ctx, xv.reshape({12}), Ids(ids.data(), {12}, Device::CPU)),
               ArgumentError);
  EXPECT_THROW(ops::count_correct(ctx, xv, ConstIds(ids.data(), {2}, Device::CPU)), ArgumentError);
  ids[1] = 4;  // label out of [0, C)
  EXPECT_THROW(ops::count_correct(ctx, xv, ConstIds(ids.data(), {3}, Device::CPU)), ArgumentError);
  ids[1] = -1;
  EXPECT_THROW(ops::count_correct(ctx, xv, ConstIds(ids.data(), {3}, Device::CPU)), ArgumentError);
}

}  // namespace
}  // namespace curnn
