// Self-test of the suite's tolerance rules with planted bugs: test::expect_close
// (tests/support/compare.hpp) and test::check_gradient (tests/support/gradcheck.hpp). Each rule
// must pass a correct result that differs from its reference only by float32 rounding (or, for
// gradients, by the numeric derivative's own error), and fail: small values zeroed, NaN or Inf
// on either side, a result off by more than its budget, an all-zero reference, mismatched sizes,
// a wrong gradient, a zeroed small gradient component.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "softmax_xent_testing.hpp"
#include "support/compare.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using Vec = std::vector<double>;
using FVec = std::vector<float>;

FVec rounded(const Vec& v) {
  return test::cast<float>(v);
}

// The softmax case of issue 10: dlogits of the PTB test shape (N = 400 rows of V = 10,000
// logits U(-8, 8), scale 1/N), float32-rounded, pass; the same with every non-target dlogit
// (each below 5e-6) zeroed fails. The absolute rule the suite had (1e-5 + 1e-4 |ref|)
// passed that bug: checked here too, so the reason for the change stays visible.
TEST(ToleranceRule, ZeroedSmallSoftmaxGradientsFail) {
  const int N = 400, V = 10000;
  const auto x = test::random_logits(N, V, 8.0, 0.0, 1);
  const auto t = test::random_ids(N, V, 2);
  const Vec want = test::reference_softmax_xent(N, V, x, t, 1.0 / N).dlogits;
  FVec zeroed = rounded(want);
  double largest_non_target = 0;
  for (int n = 0; n < N; ++n)
    for (int v = 0; v < V; ++v) {
      if (v == t[n]) continue;
      largest_non_target = std::max(largest_non_target, std::fabs(want[std::size_t(n) * V + v]));
      zeroed[std::size_t(n) * V + v] = 0.0f;
    }
  EXPECT_LT(largest_non_target, 5e-6);
  EXPECT_TRUE(test::expect_close("float32-rounded dlogits", rounded(want), want));
  const auto r = test::expect_close("non-target dlogits zeroed", zeroed, want);
  EXPECT_FALSE(r);
  EXPECT_NE(std::string(r.message()).find("elements over"), std::string::npos) << r.message();
  std::printf("[ planted  ] %s\n", r.message());
  bool old_rule_passes = true;
  for (std::size_t i = 0; i < want.size(); ++i)
    old_rule_passes &= std::fabs(zeroed[i] - want[i]) <= 1e-5 + 1e-4 * std::fabs(want[i]);
  EXPECT_TRUE(old_rule_passes) << "the bug this rule exists for";
}

// The rule is scale-invariant: at any scale of the data, rounding passes and zeroing the
// smaller half of the values fails.
TEST(ToleranceRule, ScaleInvariant) {
  for (const double scale : {1e-8, 1e-3, 1.0, 1e6}) {
    Vec want = test::random_uniform<double>(1000, -1, 1, 3);
    for (std::size_t i = 0; i < want.size(); ++i) want[i] *= scale * (i % 2 ? 1e-2 : 1.0);
    const std::string at = " at scale " + std::to_string(scale);
    EXPECT_TRUE(test::expect_close("rounded" + at, rounded(want), want));
    FVec zeroed = rounded(want);
    for (std::size_t i = 1; i < zeroed.size(); i += 2) zeroed[i] = 0.0f;
    EXPECT_FALSE(test::expect_close("small half zeroed" + at, zeroed, want));
  }
}

// A float32 dot product of length K against the double one: what a GEMM or reduction kernel
// gives. Passes under the default rtol up to K = 10^5 (sequential sums, the worst order).
TEST(ToleranceRule, Float32ReductionsPassTheDefault) {
  for (const int K : {10, 1000, 100000}) {
    const int rows = 64;
    Vec want(rows);
    FVec got(rows);
    for (int r = 0; r < rows; ++r) {
      const FVec a = test::random_uniform<float>(K, -1, 1, 10 + r),
                 b = test::random_uniform<float>(K, -1, 1, 1000 + r);
      double d = 0;
      float f = 0;
      for (int k = 0; k < K; ++k) d += double(a[k]) * b[k], f += a[k] * b[k];
      want[r] = d, got[r] = f;
    }
    EXPECT_TRUE(test::expect_close("dot products K=" + std::to_string(K), got, want));
  }
}

TEST(ToleranceRule, ErrorsOverTheBudgetFail) {
  const Vec want = test::random_uniform<double>(100, -1, 1, 4);
  Vec off = want;
  off[17] *= 1 + 3e-4;  // 1.5 budgets at |ref| = rms, more below
  EXPECT_FALSE(test::expect_close("one element 3e-4 off", off, want));
  Vec slightly = want;
  for (double& v : slightly) v *= 1 + 5e-5;  // half the elementwise budget: passes
  EXPECT_TRUE(test::expect_close("all 5e-5 off", slightly, want));
  EXPECT_FALSE(test::expect_close("all 5e-5 off, rtol 1e-5", slightly, want, {1e-5}));
}

TEST(ToleranceRule, NonFiniteValuesFailOnEitherSide) {
  const Vec want = test::random_uniform<double>(50, -1, 1, 5);
  for (const double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()}) {
    Vec got = want, ref = want;
    got[7] = bad;
    const auto g = test::expect_close("bad result", got, want);
    EXPECT_FALSE(g) << bad;
    EXPECT_NE(std::string(g.message()).find("non-finite"), std::string::npos) << g.message();
    ref[7] = bad;
    const auto r = test::expect_close("bad reference", want, ref);
    EXPECT_FALSE(r) << bad;
    EXPECT_NE(std::string(r.message()).find("REFERENCE"), std::string::npos) << r.message();
    EXPECT_FALSE(test::expect_close("both bad", ref, ref)) << bad;
  }
  // Unwritten (NaN-poisoned) float outputs.
  FVec poisoned = rounded(want);
  poisoned.back() = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(test::expect_close("poisoned", poisoned, want));
}

TEST(ToleranceRule, DegenerateComparisonsFail) {
  EXPECT_FALSE(test::expect_close("all-zero reference", Vec(10, 0.0), Vec(10, 0.0)));
  EXPECT_FALSE(test::expect_close("nothing", Vec{}, Vec{}));
  EXPECT_FALSE(test::expect_close("sizes", Vec(3, 1.0), Vec(4, 1.0)));
}

TEST(ToleranceRule, ExactModeIsBitwise) {
  const FVec want = test::random_uniform<float>(64, -1, 1, 6);
  EXPECT_TRUE(test::expect_close("identical", want, want, {0.0}));
  FVec ulp = want;
  ulp[3] = std::nextafter(ulp[3], 2.0f);
  EXPECT_FALSE(test::expect_close("one ulp", ulp, want, {0.0}));
}

// Per-part comparison: a small tensor inside a concatenation with a large one is checked at its
// own scale (zeroing it fails), where one rule over the whole buffer would let it pass.
TEST(ToleranceRule, PartsAreComparedAtTheirOwnScale) {
  Vec want = test::random_uniform<double>(300, -1, 1, 7);
  for (std::size_t i = 200; i < 300; ++i) want[i] *= 1e-6;  // "bias" part, tiny
  FVec zeroed = rounded(want);
  for (std::size_t i = 200; i < 300; ++i) zeroed[i] = 0.0f;
  const std::vector<test::Part> parts{{"w", 0, 200}, {"b", 200, 100}};
  EXPECT_TRUE(test::expect_close("whole buffer, zeroed part", zeroed, want));  // the weakness
  EXPECT_FALSE(test::expect_close_parts("per part, zeroed part", zeroed, want, parts));
  EXPECT_TRUE(test::expect_close_parts("per part, rounded", rounded(want), want, parts));
  EXPECT_FALSE(test::expect_close_parts("gap", rounded(want), want, {{"w", 0, 200}}));
  EXPECT_FALSE(
      test::expect_close_parts("overlap", rounded(want), want, {{"w", 0, 200}, {"b", 150, 150}}));
}

// ---- the gradient check's rule -----------------------------------------------------------------

// f(x) = sum_i r_i sin(x_i) + (sum_i x_i)^2 / 2, with components of very different sizes.
double f(const Vec& r, const Vec& x) {
  double s = 0, t = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += r[i] * std::sin(x[i]), t += x[i];
  return s + 0.5 * t * t;
}
Vec grad(const Vec& r, const Vec& x) {
  double t = 0;
  for (double v : x) t += v;
  Vec g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) g[i] = r[i] * std::cos(x[i]) + t;
  return g;
}

TEST(GradientRule, CorrectGradientPassesPlantedBugsFail) {
  Vec r = test::random_uniform<double>(12, -1, 1, 8);
  const Vec x = test::random_uniform<double>(12, -1, 1, 9);
  const auto fr = [&](const Vec& v) { return f(r, v); };
  const Vec g = grad(r, x);
  EXPECT_TRUE(test::check_gradient("correct", fr, x, g));
  Vec sign = g;
  sign[4] = -sign[4];
  EXPECT_FALSE(test::check_gradient("one sign flipped", fr, x, sign));
  Vec off = g;
  off[9] *= 1.001;  // 0.1% off on one component
  EXPECT_FALSE(test::check_gradient("one component 0.1% off", fr, x, off));
  EXPECT_FALSE(test::check_gradient("all zero", fr, x, Vec(x.size(), 0.0)));
  Vec nan = g;
  nan[0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(test::check_gradient("NaN", fr, x, nan));
  EXPECT_FALSE(test::check_gradient("size", fr, x, Vec(x.size() - 1, 1.0)));
  EXPECT_FALSE(test::check_gradient(
      "f ignores x", [](const Vec&) { return 1.0; }, x, Vec(x.size(), 0.0)));
}

// A function whose gradients are all small (size ~1e-8, as of a loss scaled by 1/(B*T*V)): the
// absolute floor the check had before (1e-7 + 1e-5 |n|) let a flipped sign and a zeroed
// component through; the floor scaled to the gradient's own size does not.
TEST(GradientRule, SmallGradientsAreCheckedAtTheirScale) {
  const Vec r = test::random_uniform<double>(10, -1e-8, 1e-8, 10),
            x = test::random_uniform<double>(10, -1, 1, 11);
  const auto fr = [&](const Vec& v) {
    double s = 0;
    for (std::size_t i = 0; i < v.size(); ++i) s += r[i] * std::sin(v[i]);
    return s;
  };
  Vec g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) g[i] = r[i] * std::cos(x[i]);
  EXPECT_TRUE(test::check_gradient("correct", fr, x, g));
  Vec bug = g;
  bug[2] = -bug[2], bug[5] = 0.0;
  EXPECT_FALSE(test::check_gradient("a sign flipped, a component zeroed", fr, x, bug));
  bool old_rule_passes = true;
  for (std::size_t i = 0; i < g.size(); ++i)
    old_rule_passes &= std::fabs(bug[i] - g[i]) <= 1e-7 + 1e-5 * std::fabs(g[i]);
  EXPECT_TRUE(old_rule_passes) << "the bug the scaled floor exists for";
}

}  // namespace
}  // namespace curnn
