// word2vec family on the CPU: word2vec.c's samplers (unigram table, LCG, subsampling) and the
// negative-sampling step's reference (hand-computed cases, word2vec.c's clamp and CBOW rule,
// gradient checks in double), the op's CPU path and its argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/word2vec.hpp"
#include "curnn/ref/word2vec.hpp"
#include "curnn/unigram_table.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

// ---- LCG ---------------------------------------------------------------------------------------

TEST(Lcg, MatchesWord2vecSequence) {
  // word2vec.c: next_random = next_random * (unsigned long long)25214903917 + 11, modulo 2^64.
  std::uint64_t r = 0;
  const std::uint64_t expected[] = {11ULL, 277363943098ULL, 2389171320405252413ULL,
                                    9903746776048127236ULL};
  for (std::uint64_t e : expected) EXPECT_EQ(r = lcg_next(r), e);
  EXPECT_EQ(lcg_next(~0ULL), 18446744048494647710ULL);  // wraps modulo 2^64
  EXPECT_EQ(lcg_uniform16(0x12345678ULL), 0x5678 / 65536.0);
}

TEST(Lcg, LowSixteenBitsRunThroughEveryValue) {
  // The property behind KeepProbability.EmpiricalRateIsExact: the low 16 bits have period 2^16.
  std::vector<char> seen(65536, 0);
  std::uint64_t r = 12345;
  for (int i = 0; i < 65536; ++i) {
    r = lcg_next(r);
    seen[r & 0xFFFF] = 1;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 65536);
}

// ---- unigram table -----------------------------------------------------------------------------

std::vector<std::int32_t> slots_per_word(const UnigramTable& t) {
  std::vector<std::int32_t> n(static_cast<std::size_t>(t.vocab_size()), 0);
  for (std::int32_t id : t.table()) ++n[static_cast<std::size_t>(id)];
  return n;
}

// Zipf-like counts in descending order, as word2vec.c sorts its vocabulary.
std::vector<std::int64_t> zipf_counts(int V) {
  std::vector<std::int64_t> c(static_cast<std::size_t>(V));
  for (int i = 0; i < V; ++i) c[i] = static_cast<std::int64_t>(std::llround(5e7 / (i + 1.0)));
  return c;
}

TEST(UnigramTable, HandComputedRounding) {
  // Walked by hand through word2vec.c's loop (power 1: shares are count / total).
  EXPECT_EQ(UnigramTable({1, 1, 1, 1}, 1.0, 8).table(),
            (std::vector<std::int32_t>{0, 0, 0, 0, 1, 1, 2, 2}));  // word 3 gets no slot
  EXPECT_EQ(UnigramTable({3, 1}, 1.0, 8).table(), std::vector<std::int32_t>(8, 0));
  // A word of count 0 still gets slots (word 0 here: two), the last word none.
  EXPECT_EQ(UnigramTable({0, 5, 0}, 0.75, 10).table(),
            (std::vector<std::int32_t>{0, 0, 1, 1, 1, 1, 1, 1, 1, 1}));
  const UnigramTable one({7}, 0.75, 5);
  EXPECT_EQ(one.table(), std::vector<std::int32_t>(5, 0));
  EXPECT_EQ(one.vocab_size(), 1);
}

TEST(UnigramTable, SlotsFollowCountPowerWithinTableResolution) {
  const int V = 10000;
  const std::int64_t S = 10000000;
  const auto counts = zipf_counts(V);
  for (double power : {0.75, 1.0}) {
    const UnigramTable t(counts, power, S);
    ASSERT_EQ(t.size(), S);
    double total = 0;
    for (auto c : counts) total += std::pow(static_cast<double>(c), power);
    const auto slots = slots_per_word(t);
    double worst = 0, l1 = 0;
    for (int i = 0; i < V; ++i) {
      const double want = std::pow(static_cast<double>(counts[i]), power) / total * S;
      const double err = std::fabs(slots[i] - want);
      worst = std::max(worst, err);
      l1 += err;
      ASSERT_GE(slots[i], 1) << "word " << i;
    }
    // word2vec.c's walk: every word within 2 slots of its share (word 0 up to 2 over, the last
    // about 2 under, the others within 1), i.e. 2e-7 of probability at this table size.
    EXPECT_LE(worst, 2.0) << "power " << power;
    EXPECT_LT(l1 / V, 1.0) << "power " << power;
    EXPECT_TRUE(std::is_sorted(t.table().begin(), t.table().end()));
    EXPECT_EQ(t.table().back(), V - 1);
    std::printf("[ unigram  ] power %.2f: max |slots - share| = %.3f slots, mean %.3f\n", power,
                worst, l1 / V);
  }
}

TEST(UnigramTable, LcgSamplesFollowTheTable) {
  const int V = 10000;
  const UnigramTable t(zipf_counts(V), 0.75, 10000000);
  const auto slots = slots_per_word(t);
  const int draws = 2000000;
  std::vector<std::int64_t> hits(V, 0);
  std::uint64_t r = 1;  // word2vec.c seeds each thread with its id
  for (int i = 0; i < draws; ++i) {
    r = lcg_next(r);
    ++hits[static_cast<std::size_t>(t.sample(r))];
  }
  // Chi-square over bins: the 40 most frequent words alone, then runs of words of about equal
  // expected mass (>= 1% of the draws each).
  double chi2 = 0;
  int bins = 0;
  double expect = 0, observed = 0;
  for (int i = 0; i < V; ++i) {
    expect += static_cast<double>(slots[i]) / static_cast<double>(t.size()) * draws;
    observed += static_cast<double>(hits[i]);
    if (i < 40 || expect >= 0.01 * draws || i == V - 1) {
      chi2 += (observed - expect) * (observed - expect) / expect;
      ++bins;
      expect = observed = 0;
    }
  }
  // df = bins - 1 (about 100); a fixed seed, so this is a regression bound, not a flaky test:
  // mean + 5 standard deviations of chi-square.
  const double df = bins - 1;
  std::printf("[ unigram  ] %d LCG draws: chi2 = %.1f over %d bins\n", draws, chi2, bins);
  EXPECT_GT(bins, 60);
  EXPECT_LT(chi2, df + 5 * std::sqrt(2 * df));
  // The most frequent word's share against count^0.75 / sum count^0.75 directly.
  const auto counts = zipf_counts(V);
  double total = 0;
  for (auto c : counts) total += std::pow(static_cast<double>(c), 0.75);
  const double p0 = std::pow(static_cast<double>(counts[0]), 0.75) / total;
  EXPECT_NEAR(static_cast<double>(hits[0]) / draws, p0, 5 * std::sqrt(p0 * (1 - p0) / draws));
}

TEST(UnigramTable, BadArgumentsThrow) {
  EXPECT_THROW(UnigramTable({}, 0.75, 10), ArgumentError);
  EXPECT_THROW(UnigramTable({0, 0}, 0.75, 10), ArgumentError);
  EXPECT_THROW(UnigramTable({1, -1}, 0.75, 10), ArgumentError);
  EXPECT_THROW(UnigramTable({1, 2}, 0.75, 0), ArgumentError);
  EXPECT_THROW(UnigramTable({1, 2}, NAN, 10), ArgumentError);
}

// ---- subsampling -------------------------------------------------------------------------------

TEST(KeepProbability, KnownValues) {
  // sample * train_words = 1000: count 1000 -> (1 + 1) * 1 = 2 (always kept);
  // 4000 -> (2 + 1) / 4 = 0.75; 1e5 -> (10 + 1) / 100 = 0.11; 250 -> (0.5 + 1) * 4 = 6.
  EXPECT_DOUBLE_EQ(keep_probability(1000, 1e-3, 1000000), 2.0);
  EXPECT_DOUBLE_EQ(keep_probability(4000, 1e-3, 1000000), 0.75);
  EXPECT_DOUBLE_EQ(keep_probability(100000, 1e-3, 1000000), 0.11);
  EXPECT_DOUBLE_EQ(keep_probability(250, 1e-3, 1000000), 6.0);
  // text8's "the" (1,061,396 of 17,005,207 words) at word2vec.c's -sample 1e-4.
  const double st = 1e-4 * 17005207;
  EXPECT_NEAR(keep_probability(1061396, 1e-4, 17005207),
              (std::sqrt(1061396 / st) + 1) * st / 1061396, 1e-15);
  EXPECT_NEAR(keep_probability(1061396, 1e-4, 17005207), 0.04162908, 1e-8);
  EXPECT_EQ(keep_probability(5, 0.0, 100), 1.0);  // subsampling off
  EXPECT_EQ(keep_probability(5, -1.0, 100), 1.0);
  EXPECT_THROW(keep_probability(0, 1e-3, 100), ArgumentError);
  EXPECT_THROW(keep_probability(5, 1e-3, 0), ArgumentError);
}

TEST(KeepProbability, EmpiricalRateIsExact) {
  // word2vec.c keeps a word when keep >= (next_random & 0xFFFF) / 65536. Over 10 * 65536 draws
  // the low 16 bits take every value 10 times, so the kept share is (floor(65536 p) + 1) / 65536
  // exactly, within 1/65536 of p.
  for (const std::int64_t count : {4000LL, 20000LL, 100000LL, 700LL}) {
    const double p = keep_probability(count, 1e-3, 1000000);
    const int draws = 10 * 65536;
    std::uint64_t r = 7;
    int kept = 0;
    for (int i = 0; i < draws; ++i) {
      r = lcg_next(r);
      if (p >= lcg_uniform16(r)) ++kept;
    }
    const double rate = static_cast<double>(kept) / draws;
    const double exact = p >= 1 ? 1.0 : (std::floor(65536 * p) + 1) / 65536;
    EXPECT_EQ(rate, exact) << "count " << count;
    EXPECT_LE(std::fabs(rate - std::min(p, 1.0)), 1.0 / 65536) << "count " << count;
  }
}

// ---- sgns_step reference: semantics --------------------------------------------------------

double sigmoid(double x) {
  return 1 / (1 + std::exp(-x));
}

// One item through ref::sgns_step<double> (N = 1).
void step1(int E, int K, const std::vector<std::int32_t>& inputs,
           const std::vector<std::int32_t>& targets /* target, then K negatives */, double alpha,
           std::vector<double>& syn0, std::vector<double>& syn1neg, double* loss) {
  const int C = static_cast<int>(inputs.size());
  const std::int32_t count = C;
  ref::sgns_step<double>(E, K, C, 1, inputs.data(), &count, targets.data(), targets.data() + 1,
                         alpha, syn0.data(), syn1neg.data(), loss);
}

TEST(SgnsRef, HandComputedSkipGram) {
  // E = 2, input word 1, target word 2, negatives {3, 2}: the second negative equals the target
  // and is skipped.
  std::vector<double> syn0(8, 0.0), syn1neg(8, 0.0);
  syn0[2] = 0.5, syn0[3] = -1.0;
  syn1neg[4] = 1.0, syn1neg[5] = 0.5;   // word 2: f = 0.5 - 0.5 = 0
  syn1neg[6] = -0.2, syn1neg[7] = 0.4;  // word 3: f = -0.1 - 0.4 = -0.5
  const double a = 0.1;
  double loss = NAN;
  step1(2, 2, {1}, {2, 3, 2}, a, syn0, syn1neg, &loss);
  const double g0 = (1 - 0.5) * a, g1 = (0 - sigmoid(-0.5)) * a;
  EXPECT_NEAR(syn1neg[4], 1.0 + g0 * 0.5, 1e-14);
  EXPECT_NEAR(syn1neg[5], 0.5 + g0 * -1.0, 1e-14);
  EXPECT_NEAR(syn1neg[6], -0.2 + g1 * 0.5, 1e-14);
  EXPECT_NEAR(syn1neg[7], 0.4 + g1 * -1.0, 1e-14);
  EXPECT_NEAR(syn0[2], 0.5 + g0 * 1.0 + g1 * -0.2, 1e-14);
  EXPECT_NEAR(syn0[3], -1.0 + g0 * 0.5 + g1 * 0.4, 1e-14);
  EXPECT_NEAR(loss, std::log(2.0) + std::log1p(std::exp(-0.5)), 1e-14);
  for (int i : {0, 1, 4, 5, 6, 7}) EXPECT_EQ(syn0[i], 0.0);
  for (int i : {0, 1, 2, 3}) EXPECT_EQ(syn1neg[i], 0.0);
}

TEST(SgnsRef, ClampFollowsWord2vec) {
  // E = 1, input x = 1. word2vec.c: f > 6 -> g = (label - 1) alpha; f < -6 -> g = label alpha.
  const double a = 0.25;
  struct Case {
    double w, label, g;
  };
  for (const Case& k : {Case{7, 1, 0.0}, Case{-7, 1, a}, Case{7, 0, -a}, Case{-7, 0, 0.0}}) {
    std::vector<double> syn0 = {1.0, 0.0}, syn1neg = {0.0, 0.0, 0.0};
    double loss = NAN;
    if (k.label == 1) {
      syn1neg[1] = k.w;
      step1(1, 1, {0}, {1, 1}, a, syn0, syn1neg, &loss);  // the negative equals the target
      EXPECT_EQ(syn1neg[1], k.w + k.g) << "target w " << k.w;
      EXPECT_EQ(syn0[0], 1.0 + k.g * k.w) << "target w " << k.w;
      EXPECT_NEAR(loss, std::log1p(std::exp(-k.w)), 1e-13) << "target w " << k.w;
    } else {
      syn1neg[2] = k.w;  // target word 1 has w = 0: f = 0, g = alpha / 2
      step1(1, 1, {0}, {1, 2}, a, syn0, syn1neg, &loss);
      EXPECT_EQ(syn1neg[2], k.w + k.g) << "negative w " << k.w;
      EXPECT_EQ(syn0[0], 1.0 + k.g * k.w) << "negative w " << k.w;
      EXPECT_NEAR(loss, std::log(2.0) + std::log1p(std::exp(k.w)), 1e-13) << "negative w " << k.w;
    }
  }
  // Just inside the clamp the exact sigmoid is used.
  EXPECT_DOUBLE_EQ(ref::sgns_gradient_scale(5.9, 1.0, 1.0), 1 - sigmoid(5.9));
  EXPECT_DOUBLE_EQ(ref::sgns_gradient_scale(-5.9, 0.0, 1.0), -sigmoid(-5.9));
  EXPECT_EQ(ref::sgns_gradient_scale(6.0, 0.0, 1.0), -sigmoid(6.0));  // 6 itself: not clamped
}

TEST(SgnsRef, RepeatedNegativeSeesItsOwnUpdate) {
  // E = 1: x = syn0[0] = 1.5, target word 1 (w = 0.5), negatives {3, 3}.
  std::vector<double> syn0 = {1.5}, syn1neg = {0, 0.5, 0, 0.3};
  const double a = 0.5, x = 1.5;
  double loss = NAN;
  step1(1, 2, {0}, {1, 3, 3}, a, syn0, syn1neg, &loss);
  const double g0 = (1 - sigmoid(x * 0.5)) * a;
  const double g1 = -sigmoid(x * 0.3) * a, w3a = 0.3 + g1 * x;
  const double g2 = -sigmoid(x * w3a) * a, w3b = w3a + g2 * x;
  EXPECT_NEAR(syn1neg[1], 0.5 + g0 * x, 1e-14);
  EXPECT_NEAR(syn1neg[3], w3b, 1e-14);
  EXPECT_NEAR(syn0[0], x + g0 * 0.5 + g1 * 0.3 + g2 * w3a, 1e-14);
  EXPECT_NEAR(loss,
              std::log1p(std::exp(-x * 0.5)) + std::log1p(std::exp(x * 0.3)) +
                  std::log1p(std::exp(x * w3a)),
              1e-13);
}

TEST(SgnsRef, CbowAddsTheFullNeu1eToEveryInput) {
  // Inputs {4, 1, 4} (word 4 twice): neu1 = (x4 + x1 + x4) / 3, and word2vec.c adds neu1e to
  // each input row, so word 4 gets it twice, word 1 once.
  const int E = 5, K = 3, V = 8;
  const auto syn0_0 = test::random_uniform<double>(V * E, -0.5, 0.5, 11);
  const auto syn1_0 = test::random_uniform<double>(V * E, -0.5, 0.5, 12);
  auto syn0 = syn0_0, syn1neg = syn1_0;
  const double a = 0.2;
  step1(E, K, {4, 1, 4}, {2, 5, 6, 7}, a, syn0, syn1neg, nullptr);
  std::vector<double> neu1(E), neu1e(E, 0.0);
  for (int e = 0; e < E; ++e)
    neu1[e] = (syn0_0[4 * E + e] + syn0_0[1 * E + e] + syn0_0[4 * E + e]) / 3;
  for (int t : {2, 5, 6, 7}) {
    // Recover g from this row's update (g * neu1) and accumulate g * (the row before).
    const double g = (syn1neg[t * E] - syn1_0[t * E]) / neu1[0];
    ASSERT_NE(g, 0.0);
    for (int e = 0; e < E; ++e) {
      EXPECT_NEAR(syn1neg[t * E + e] - syn1_0[t * E + e], g * neu1[e], 1e-15);
      neu1e[e] += g * syn1_0[t * E + e];
    }
  }
  for (int e = 0; e < E; ++e) {
    EXPECT_NEAR(syn0[1 * E + e] - syn0_0[1 * E + e], neu1e[e], 1e-15);
    EXPECT_NEAR(syn0[4 * E + e] - syn0_0[4 * E + e], 2 * neu1e[e], 1e-15);
  }
  for (int w : {0, 2, 3, 5, 6, 7})
    for (int e = 0; e < E; ++e) EXPECT_EQ(syn0[w * E + e], syn0_0[w * E + e]);
}

TEST(SgnsRef, ItemsRunInOrderAndEmptyItemsDoNothing) {
  // Two items sharing rows in one call == the same items in two calls; an item with no inputs
  // changes nothing and has loss 0.
  const int E = 4, K = 2, C = 2, V = 6;
  const std::vector<std::int32_t> in = {0, 1, 1, 9}, count = {2, 1}, target = {2, 2},
                                  neg = {3, 4, 4, 0};
  const auto s0 = test::random_uniform<double>(V * E, -0.5, 0.5, 21);
  const auto s1 = test::random_uniform<double>(V * E, -0.5, 0.5, 22);
  auto a0 = s0, a1 = s1, b0 = s0, b1 = s1;
  std::vector<double> la(2), lb(2);
  ref::sgns_step<double>(E, K, C, 2, in.data(), count.data(), target.data(), neg.data(), 0.3,
                         a0.data(), a1.data(), la.data());
  for (int n = 0; n < 2; ++n) {
    ref::sgns_step<double>(E, K, C, 1, in.data() + n * C, count.data() + n, target.data() + n,
                           neg.data() + n * K, 0.3, b0.data(), b1.data(), lb.data() + n);
  }
  EXPECT_EQ(a0, b0);
  EXPECT_EQ(a1, b1);
  EXPECT_EQ(la, lb);
  auto c0 = s0, c1 = s1;
  const std::int32_t zero = 0;
  double loss = NAN;
  ref::sgns_step<double>(E, K, C, 1, in.data(), &zero, target.data(), neg.data(), 0.3, c0.data(),
                         c1.data(), &loss);
  EXPECT_EQ(c0, s0);
  EXPECT_EQ(c1, s1);
  EXPECT_EQ(loss, 0.0);
}

// ---- sgns_step reference: gradients ------------------------------------------------------------

// The parameters one item touches (its m input rows of syn0, its target and K negative rows of
// syn1neg, all distinct) as one vector, the item's loss as a function of them, and the step's
// update. Values in [-0.5, 0.5] keep |f| far from word2vec.c's clamp at 6.
struct GradItem {
  int E, K, m;
  std::vector<std::int32_t> inputs, targets;  // syn0 rows 0..m-1; syn1neg rows 0..K
  std::vector<double> x0;                     // [m*E syn0 values, (K+1)*E syn1neg values]

  GradItem(int E_, int K_, int m_, std::uint64_t seed) : E(E_), K(K_), m(m_) {
    for (int c = 0; c < m; ++c) inputs.push_back(c);
    for (int t = 0; t <= K; ++t) targets.push_back(t);
    x0 = test::random_uniform<double>(static_cast<std::size_t>((m + K + 1) * E), -0.5, 0.5, seed);
  }
  // Runs the step on parameters x; returns the loss, leaves the updated parameters in x.
  double run(std::vector<double>& x, double alpha) const {
    std::vector<double> syn0(x.begin(), x.begin() + m * E), syn1neg(x.begin() + m * E, x.end());
    double loss = NAN;
    step1(E, K, inputs, targets, alpha, syn0, syn1neg, &loss);
    std::copy(syn0.begin(), syn0.end(), x.begin());
    std::copy(syn1neg.begin(), syn1neg.end(), x.begin() + m * E);
    return loss;
  }
  double loss(const std::vector<double>& x) const {
    auto y = x;
    return run(y, 0.0);
  }
  // -update / alpha: the gradient step the op took, per parameter.
  std::vector<double> step_direction(double alpha) const {
    auto x = x0;
    run(x, alpha);
    std::vector<double> d(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) d[i] = -(x[i] - x0[i]) / alpha;
    return d;
  }
};

TEST(SgnsRef, GradSkipGramStepIsMinusAlphaTimesGradient) {
  const GradItem item(7, 4, 1, 31);
  EXPECT_TRUE(test::check_gradient(
      "sgns skip-gram", [&](const auto& x) { return item.loss(x); }, item.x0,
      item.step_direction(0.05)));
}

TEST(SgnsRef, GradCbowSyn1negStepIsGradientAndSyn0StepIsCountTimesGradient) {
  // CBOW with m = 3 distinct inputs: the syn1neg rows move by -alpha * gradient, the syn0 rows
  // by -alpha * m * gradient (word2vec.c adds the full neu1e, not neu1e / m).
  const int m = 3;
  const GradItem item(6, 5, m, 41);
  auto dir = item.step_direction(0.05);
  for (int i = 0; i < m * item.E; ++i) dir[i] /= m;
  EXPECT_TRUE(test::check_gradient(
      "sgns cbow (syn0 step / m)", [&](const auto& x) { return item.loss(x); }, item.x0, dir));
  // And the unscaled syn0 step is not the gradient step: it is m times it.
  const auto raw = item.step_direction(0.05);
  EXPECT_NEAR(raw[0], m * dir[0], 1e-12);
  EXPECT_GT(std::fabs(raw[0] - dir[0]), 1e-6);
}

// ---- ops::sgns_step on the CPU -----------------------------------------------------------------

struct CpuBatch {
  int N = 3, C = 2, K = 2, V = 7, E = 5;
  std::vector<std::int32_t> in = {0, 1, 2, 6, 3, 3}, count = {2, 1, 2}, target = {4, 5, 6},
                            neg = {5, 4, 6, 0, 1, 2};
  std::vector<float> syn0 = test::random_uniform(7 * 5, -0.5, 0.5, 51),
                     syn1neg = test::random_uniform(7 * 5, -0.5, 0.5, 52),
                     loss = std::vector<float>(3, NAN);
  void run(float alpha = 0.1f) {
    Context ctx = Context::cpu();
    ops::sgns_step(
        ctx, ConstIds(in.data(), {N, C}, Device::CPU), ConstIds(count.data(), {N}, Device::CPU),
        ConstIds(target.data(), {N}, Device::CPU), ConstIds(neg.data(), {N, K}, Device::CPU), alpha,
        Tensor(syn0.data(), {V, E}, Device::CPU), Tensor(syn1neg.data(), {V, E}, Device::CPU),
        Tensor(loss.data(), {N}, Device::CPU));
  }
};

TEST(OpsSgns, CpuRunsTheReference) {
  CpuBatch b;
  auto s0 = b.syn0, s1 = b.syn1neg;
  std::vector<float> loss(3);
  ref::sgns_step<float>(b.E, b.K, b.C, b.N, b.in.data(), b.count.data(), b.target.data(),
                        b.neg.data(), 0.1f, s0.data(), s1.data(), loss.data());
  b.run();
  EXPECT_EQ(b.syn0, s0);
  EXPECT_EQ(b.syn1neg, s1);
  EXPECT_EQ(b.loss, loss);
  EXPECT_NE(s1, CpuBatch().syn1neg);
}

TEST(OpsSgns, ArgumentErrorsWriteNothing) {
  const auto expect_rejected = [](auto mutate) {
    CpuBatch b;
    mutate(b);
    const auto s0 = b.syn0, s1 = b.syn1neg;
    EXPECT_THROW(b.run(), ArgumentError);
    EXPECT_EQ(b.syn0, s0);
    EXPECT_EQ(b.syn1neg, s1);
  };
  expect_rejected([](CpuBatch& b) { b.in[1] = 7; });       // input id == V
  expect_rejected([](CpuBatch& b) { b.in[0] = -1; });      // negative id
  expect_rejected([](CpuBatch& b) { b.target[2] = 99; });  // target id
  expect_rejected([](CpuBatch& b) { b.neg[5] = 7; });      // negative id
  expect_rejected([](CpuBatch& b) { b.count[1] = 3; });    // count > C
  expect_rejected([](CpuBatch& b) { b.count[0] = -1; });
  CpuBatch b;
  EXPECT_THROW(b.run(-0.1f), ArgumentError);
  EXPECT_THROW(b.run(NAN), ArgumentError);
  // Ids past input_count are not inputs and are not checked.
  b.in[3] = -5;
  EXPECT_NO_THROW(b.run());

  Context ctx = Context::cpu();
  const auto ids = [](CpuBatch& x, std::initializer_list<std::int64_t> s) {
    return ConstIds(x.in.data(), s, Device::CPU);
  };
  CpuBatch c;
  const ConstIds count(c.count.data(), {3}, Device::CPU), target(c.target.data(), {3}, Device::CPU),
      neg(c.neg.data(), {3, 2}, Device::CPU);
  const Tensor syn0(c.syn0.data(), {7, 5}, Device::CPU),
      syn1(c.syn1neg.data(), {7, 5}, Device::CPU);
  EXPECT_THROW(ops::sgns_step(ctx, ids(c, {6}), count, target, neg, 0.1f, syn0, syn1),
               ArgumentError);  // rank
  EXPECT_THROW(ops::sgns_step(ctx, ids(c, {2, 3}), count, target, neg, 0.1f, syn0, syn1),
               ArgumentError);  // N mismatch
  EXPECT_THROW(ops::sgns_step(ctx, ids(c, {3, 2}), count, target, neg, 0.1f, syn0,
                              Tensor(c.syn1neg.data(), {5, 7}, Device::CPU)),
               ArgumentError);  // syn1neg shape
  EXPECT_THROW(ops::sgns_step(ctx, ids(c, {3, 2}), count, target, neg, 0.1f, syn0, syn1,
                              Tensor(c.loss.data(), {2}, Device::CPU)),
               ArgumentError);  // loss shape
  EXPECT_THROW(ops::sgns_step(ctx, ids(c, {3, 2}), count, target, neg, 0.1f, syn0, syn0),
               ArgumentError);  // aliasing tables
  EXPECT_THROW(ops::sgns_step(ctx, ids(c, {3, 2}), count, target, neg, 0.1f,
                              Tensor(c.syn0.data(), {7, 5}, Device::CUDA), syn1),
               ArgumentError);  // device
  EXPECT_NO_THROW(ops::sgns_step(ctx, ids(c, {3, 2}), count, target, neg, 0.1f, syn0, syn1));
}

}  // namespace
}  // namespace curnn
