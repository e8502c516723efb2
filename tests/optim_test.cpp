// Optimizers on the CPU backend: SGD, sparse-row SGD, clip_by_global_norm and Adam against
// hand-computed values and closed forms (include/curnn/ref/optim.hpp is the spec), the
// optimizers' defining properties, argument errors. (Optimizers have no gradient of their own,
// so there are no Grad tests here.)
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ref/optim.hpp"
#include "support/compare.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

Tensor view(std::vector<float>& v) {
  return Tensor(v.data(), {static_cast<std::int64_t>(v.size())}, Device::CPU);
}
ConstTensor cview(const std::vector<float>& v) {
  return ConstTensor(v.data(), {static_cast<std::int64_t>(v.size())}, Device::CPU);
}
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---- SGD ----------------------------------------------------------------------------------------

TEST(OptimSgd, DenseStepIsParamMinusLrGrad) {
  Context ctx = Context::cpu();
  std::vector<float> p = {1.f, -2.f, 0.5f}, g = {0.5f, 0.25f, -4.f};
  ops::sgd_update(ctx, 0.5f, cview(g), view(p));
  EXPECT_EQ(p, (std::vector<float>{0.75f, -2.125f, 2.5f}));
}

// f(x) = 1/2 sum a_i (x_i - c_i)^2 with a_i in [0.5, 2]: SGD with lr 0.1 < 2 / max a decreases f
// at every step and converges to c.
TEST(OptimSgd, QuadraticLossDecreases) {
  Context ctx = Context::cpu();
  const std::size_t n = 50;
  const auto a = test::random_uniform(n, 0.5, 2.0, 1), c = test::random_uniform(n, -1, 1, 2);
  auto x = test::random_uniform(n, -3, 3, 3);
  std::vector<float> g(n);
  auto loss = [&] {
    double f = 0;
    for (std::size_t i = 0; i < n; ++i) f += 0.5 * a[i] * (x[i] - c[i]) * (x[i] - c[i]);
    return f;
  };
  const double f0 = loss();
  double prev = f0;
  for (int step = 0; step < 100; ++step) {
    for (std::size_t i = 0; i < n; ++i) g[i] = a[i] * (x[i] - c[i]);
    ops::sgd_update(ctx, 0.1f, cview(g), view(x));
    const double f = loss();
    ASSERT_LT(f, prev) << "step " << step;
    prev = f;
  }
  EXPECT_LT(prev, 1e-4 * f0);
}

// rows {2, 0, 2, 2}: table[2] -= lr (g0 + g2 + g3), table[0] -= lr g1, rows 1 and 3 untouched.
TEST(OptimSgd, RowsSumDuplicatesBeforeApplying) {
  Context ctx = Context::cpu();
  const std::int64_t V = 4, E = 2;
  std::vector<std::int32_t> rows = {2, 0, 2, 2};
  std::vector<float> grads = {1, 2, 3, 4, 5, 6, 7, 8};  // [N = 4, E]
  std::vector<float> table = {10, 20, 30, 40, 50, 60, 70, 80};
  ops::sgd_update_rows(ctx, 0.5f, ConstIds(rows.data(), {4}, Device::CPU),
                       ConstTensor(grads.data(), {4, E}, Device::CPU),
                       Tensor(table.data(), {V, E}, Device::CPU));
  EXPECT_EQ(table, (std::vector<float>{10 - 1.5f, 20 - 2, 30, 40, 50 - 0.5f * 13, 60 - 0.5f * 16,
                                       70, 80}));
}

// The duplicates are summed first and applied once: with values where applying them one by one
// would round differently, the reference equals the explicit "sum, then subtract".
TEST(OptimSgd, RowsApplyTheOrderedSumOnce) {
  std::vector<std::int32_t> rows = {0, 0, 0};
  std::vector<float> grads = {1e8f, 1.f, -1e8f};  // sum in order: (1e8 + 1) - 1e8 = 0 in float
  std::vector<float> table = {1.f};
  ref::sgd_update_rows<float>(1.f, rows.data(), grads.data(), table.data(), 3, 1, 1);
  EXPECT_EQ(table[0], 1.f - ((1e8f + 1.f) + -1e8f));
}

// ---- clip_by_global_norm ------------------------------------------------------------------------

float clip(std::vector<std::vector<float>*> ts, float clip_norm) {
  Context ctx = Context::cpu();
  std::vector<Tensor> views;
  for (auto* t : ts) views.push_back(view(*t));
  float norm = -1.f;
  ops::clip_by_global_norm(ctx, views, clip_norm, Tensor(&norm, {1}, Device::CPU));
  return norm;
}

TEST(OptimClip, BelowOrAtClipNormLeavesTensorsUnchanged) {
  std::vector<float> a = {3.f, 4.f}, b = {12.f}, empty;
  const std::vector<float> a0 = a, b0 = b;
  EXPECT_EQ(clip({&a, &b}, 20.f), 13.f);
  EXPECT_EQ(a, a0);
  EXPECT_EQ(b, b0);
  EXPECT_EQ(clip({&a, &b}, 13.f), 13.f);  // norm == clip_norm: scale exactly 1
  EXPECT_EQ(a, a0);
  EXPECT_EQ(b, b0);
}

TEST(OptimClip, AboveClipNormScalesEveryTensorByTheSameFactor) {
  std::vector<float> a = {3.f, 4.f}, b = {12.f};
  EXPECT_EQ(clip({&a, &b}, 6.5f), 13.f);  // scale 6.5 / 13 = 1/2
  EXPECT_EQ(a, (std::vector<float>{1.5f, 2.f}));
  EXPECT_EQ(b, (std::vector<float>{6.f}));
}

// Several tensors of different sizes: afterwards the global norm is clip_norm and every element
// was multiplied by clip_norm / norm.
TEST(OptimClip, SeveralTensorsOfDifferentSizes) {
  std::vector<std::vector<float>> ts;
  double sum = 0;
  for (std::size_t n : {1, 7, 200, 4096, 333}) {
    ts.push_back(test::random_uniform(n, -1, 1, n));
    for (float x : ts.back()) sum += double(x) * x;
  }
  const auto before = ts;
  std::vector<std::vector<float>*> ptrs;
  for (auto& t : ts) ptrs.push_back(&t);
  const float clip_norm = 3.f;
  const double norm = std::sqrt(sum);
  ASSERT_GT(norm, 2 * clip_norm);
  EXPECT_TRUE(test::expect_close("norm", std::vector<float>{clip(ptrs, clip_norm)},
                                 std::vector<double>{norm}));
  double after = 0;
  for (std::size_t k = 0; k < ts.size(); ++k) {
    std::vector<double> want(ts[k].size());
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = before[k][i] * (clip_norm / norm);
    EXPECT_TRUE(test::expect_close("tensor " + std::to_string(k), ts[k], want));
    for (float x : ts[k]) after += double(x) * x;
  }
  EXPECT_NEAR(std::sqrt(after), clip_norm, 1e-5);
}

// TensorFlow: a NaN or infinite global norm makes every clipped tensor NaN.
TEST(OptimClip, NonFiniteNormFillsEveryTensorWithNaN) {
  for (float poison : {kNaN, std::numeric_limits<float>::infinity()}) {
    std::vector<float> a = {1.f, poison, 2.f}, b = {3.f, 4.f};
    const float norm = clip({&a, &b}, 5.f);
    EXPECT_FALSE(std::isfinite(norm)) << norm;
    for (float x : a) EXPECT_TRUE(std::isnan(x)) << poison;
    for (float x : b) EXPECT_TRUE(std::isnan(x)) << poison;
  }
}

TEST(OptimClip, EmptyListAndEmptyTensors) {
  EXPECT_EQ(clip({}, 1.f), 0.f);
  std::vector<float> a = {3.f, 4.f};
  std::vector<float> storage(1);
  Context ctx = Context::cpu();
  float norm = -1.f;
  ops::clip_by_global_norm(
      ctx,
      {Tensor(storage.data(), {0}, Device::CPU), view(a), Tensor(nullptr, {3, 0}, Device::CPU)},
      1.f, Tensor(&norm, {1}, Device::CPU));
  EXPECT_EQ(norm, 5.f);
  EXPECT_EQ(a, (std::vector<float>{0.6f, 0.8f}));
}

// ---- Adam ---------------------------------------------------------------------------------------

// The closed form of t Adam steps on a scalar: m_t = (1-b1) sum_k b1^(t-k) g_k,
// v_t = (1-b2) sum_k b2^(t-k) g_k^2, p_t = p_(t-1) - lr sqrt(1-b2^t)/(1-b1^t) m_t/(sqrt(v_t)+eps).
std::vector<double> adam_closed_form(const AdamParams& h, double p, const std::vector<double>& g) {
  std::vector<double> ps;
  for (std::size_t t = 1; t <= g.size(); ++t) {
    long double m = 0, v = 0;
    for (std::size_t k = 1; k <= t; ++k) {
      m += (1.0L - h.beta1) * std::pow((long double)h.beta1, (long double)(t - k)) * g[k - 1];
      v += (1.0L - h.beta2) * std::pow((long double)h.beta2, (long double)(t - k)) * g[k - 1] *
           g[k - 1];
    }
    const long double lr_t = h.lr *
                             std::sqrt(1.0L - std::pow((long double)h.beta2, (long double)t)) /
                             (1.0L - std::pow((long double)h.beta1, (long double)t));
    p -= static_cast<double>(lr_t * m / (std::sqrt(v) + h.epsilon));
    ps.push_back(p);
  }
  return ps;
}

TEST(OptimAdam, ScalarStepsMatchTheClosedForm) {
  const std::vector<double> grads = {0.5, -1.25, 2.0, 0.125, -0.75, 3.0};
  for (const AdamParams h : {AdamParams{0.01f}, AdamParams{0.1f, 0.8f, 0.99f, 1e-3f}}) {
    const auto want = adam_closed_form(h, 1.5, grads);
    // The reference in double.
    double p = 1.5, m = 0, v = 0;
    std::vector<double> got_d;
    for (std::size_t t = 1; t <= grads.size(); ++t) {
      ref::adam_update<double>(h, static_cast<std::int64_t>(t), &grads[t - 1], &p, &m, &v, 1);
      got_d.push_back(p);
    }
    EXPECT_TRUE(test::expect_close("adam ref<double>", got_d, want, {1e-12}));
    // The op on the CPU backend (float).
    Context ctx = Context::cpu();
    std::vector<float> pf = {1.5f}, mf = {0.f}, vf = {0.f}, gf(1), got_f;
    for (std::size_t t = 1; t <= grads.size(); ++t) {
      gf[0] = static_cast<float>(grads[t - 1]);
      ops::adam_update(ctx, h, static_cast<std::int64_t>(t), cview(gf), view(pf), view(mf),
                       view(vf));
      got_f.push_back(pf[0]);
    }
    EXPECT_TRUE(test::expect_close("adam ops cpu", got_f, want));
  }
}

// TensorFlow's Adam moves every parameter by about lr * sign(g) on its first step (for |g| >> eps).
TEST(OptimAdam, FirstStepMovesEachParamByLrSignGrad) {
  Context ctx = Context::cpu();
  const std::size_t n = 1000;
  auto g = test::random_uniform(n, -10, 10, 5);
  for (auto& x : g) x = std::copysign(std::fmax(std::fabs(x), 1e-2f), x);
  const auto p0 = test::random_uniform(n, -1, 1, 6);
  auto p = p0;
  std::vector<float> m(n, 0.f), v(n, 0.f);
  const AdamParams h{0.01f};
  ops::adam_update(ctx, h, 1, cview(g), view(p), view(m), view(v));
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(p0[i] - p[i], h.lr * (g[i] > 0 ? 1 : -1), 1e-4 * h.lr) << i;
  }
}

TEST(OptimAdam, MinimisesAQuadratic) {
  Context ctx = Context::cpu();
  const std::size_t n = 20;
  const auto a = test::random_uniform(n, 0.1, 10.0, 1), c = test::random_uniform(n, -1, 1, 2);
  auto x = test::random_uniform(n, -3, 3, 3);
  std::vector<float> g(n), m(n, 0.f), v(n, 0.f);
  auto loss = [&] {
    double f = 0;
    for (std::size_t i = 0; i < n; ++i) f += 0.5 * a[i] * (x[i] - c[i]) * (x[i] - c[i]);
    return f;
  };
  const double f0 = loss();
  for (int t = 1; t <= 2000; ++t) {
    for (std::size_t i = 0; i < n; ++i) g[i] = a[i] * (x[i] - c[i]);
    ops::adam_update(ctx, AdamParams{0.01f}, t, cview(g), view(x), view(m), view(v));
  }
  EXPECT_LT(loss(), 1e-4 * f0);
}

// ---- argument errors
// ------------------------------------------------------------------------------

TEST(OptimArgs, RejectsBadArguments) {
  Context ctx = Context::cpu();
  std::vector<float> a(6), b(6), c(6), d(6), e(4);
  Tensor p(a.data(), {2, 3}, Device::CPU), g(b.data(), {2, 3}, Device::CPU);
  Tensor m(c.data(), {2, 3}, Device::CPU), v(d.data(), {2, 3}, Device::CPU);
  Tensor g_t(b.data(), {3, 2}, Device::CPU), on_gpu(b.data(), {2, 3}, Device::CUDA);
  EXPECT_THROW(ops::sgd_update(ctx, 0.1f, g_t, p), ArgumentError);
  EXPECT_THROW(ops::sgd_update(ctx, 0.1f, on_gpu, p), ArgumentError);
  EXPECT_THROW(ops::sgd_update(ctx, kNaN, g, p), ArgumentError);
  EXPECT_THROW(ops::sgd_update(ctx, 0.1f, g, Tensor()), ArgumentError);

  std::vector<std::int32_t> rows = {0, 2};
  ConstIds r(rows.data(), {2}, Device::CPU);
  EXPECT_THROW(ops::sgd_update_rows(ctx, 0.1f, r, g, p), ArgumentError);  // row 2 of V = 2
  rows[1] = -1;
  EXPECT_THROW(ops::sgd_update_rows(ctx, 0.1f, r, g, p), ArgumentError);  // negative row
  rows[1] = 1;
  EXPECT_NO_THROW(ops::sgd_update_rows(ctx, 0.1f, r, g, p));
  EXPECT_THROW(ops::sgd_update_rows(ctx, 0.1f, r, g_t, p), ArgumentError);  // [N, E] mismatch
  EXPECT_THROW(ops::sgd_update_rows(ctx, 0.1f, r, g, p.reshape({6})), ArgumentError);

  float norm = 0;
  Tensor norm_out(&norm, {1}, Device::CPU);
  EXPECT_THROW(ops::clip_by_global_norm(ctx, {p}, 0.f, norm_out), ArgumentError);
  EXPECT_THROW(ops::clip_by_global_norm(ctx, {p}, -1.f, norm_out), ArgumentError);
  EXPECT_THROW(ops::clip_by_global_norm(ctx, {p}, kNaN, norm_out), ArgumentError);
  EXPECT_THROW(ops::clip_by_global_norm(ctx, {p}, 1.f, Tensor(e.data(), {2}, Device::CPU)),
               ArgumentError);
  EXPECT_THROW(ops::clip_by_global_norm(ctx, {p, on_gpu}, 1.f, norm_out), ArgumentError);
  EXPECT_THROW(ops::clip_by_global_norm(ctx, {p, Tensor()}, 1.f, norm_out), ArgumentError);
  EXPECT_THROW(
      ops::clip_by_global_norm(ctx, {p, Tensor(nullptr, {0}, Device::CUDA)}, 1.f, norm_out),
      ArgumentError);

  const AdamParams h{0.01f};
  EXPECT_THROW(ops::adam_update(ctx, h, 0, g, p, m, v), ArgumentError);  // t is 1-based
  EXPECT_THROW(ops::adam_update(ctx, AdamParams{0.01f, 1.f}, 1, g, p, m, v), ArgumentError);
  EXPECT_THROW(ops::adam_update(ctx, AdamParams{0.01f, 0.9f, -0.1f}, 1, g, p, m, v), ArgumentError);
  EXPECT_THROW(ops::adam_update(ctx, AdamParams{0.01f, 0.9f, 0.999f, kNaN}, 1, g, p, m, v),
               ArgumentError);
  EXPECT_THROW(ops::adam_update(ctx, h, 1, g, p, m.reshape({6}), v), ArgumentError);
  EXPECT_THROW(ops::adam_update(ctx, h, 1, g, p, m, Tensor(e.data(), {2, 2}, Device::CPU)),
               ArgumentError);
  EXPECT_NO_THROW(ops::adam_update(ctx, h, 1, g, p, m, v));
}

}  // namespace
}  // namespace curnn
