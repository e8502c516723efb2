// The CPU backend's fast softmax cross-entropy rows (host/ops/softmax_xent_cpu.cpp) against the
// reference ref::softmax_xent<float>, bit for bit (memcmp), on random rows of every kind: narrow
// and wide ranges, ties, a zero maximum with both signs of zero, NaN and infinities, widths around
// the 8 lanes and the exp chunk, each output combination (loss only, gradient apart or in place,
// probabilities), and through ops::softmax_xent on a CPU Context. Outputs start NaN-poisoned.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../host/ops/softmax_xent_cpu.hpp"
#include "curnn/context.hpp"
#include "curnn/ops/softmax_xent.hpp"
#include "curnn/ref/softmax_xent.hpp"

namespace curnn {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

enum class RowKind { Normal, Wide, Ties, ZeroMax, NaNFirst, NaNInside, Infinite };

std::vector<float> random_logits(int N, int V, RowKind kind, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::uniform_real_distribution<float> wide(-100.0f, 100.0f);
  std::vector<float> x(static_cast<std::size_t>(N) * V);
  for (float& v : x) v = kind == RowKind::Wide ? wide(rng) : normal(rng);
  for (int n = 0; n < N; ++n) {
    float* row = x.data() + static_cast<std::size_t>(n) * V;
    std::uniform_int_distribution<int> at(0, V - 1);
    switch (kind) {
      case RowKind::Ties:  // few distinct values: the maximum occurs many times
        for (int v = 0; v < V; ++v) row[v] = static_cast<float>(static_cast<int>(row[v]));
        break;
      case RowKind::ZeroMax:  // every value <= 0, the maximum 0 as +0 and -0 in several places
        for (int v = 0; v < V; ++v) row[v] = -std::abs(row[v]) - 0.5f;
        for (int k = 0; k < 1 + V / 16; ++k) row[at(rng)] = (k + n) % 2 ? -0.0f : 0.0f;
        break;
      case RowKind::NaNFirst:
        row[0] = kNaN;
        break;
      case RowKind::NaNInside:  // not x[0]: the first of a later 8-block, the last, a random one
        if (V > 8) row[8] = kNaN;
        if (V > 1) row[V - 1] = kNaN, row[1 + at(rng) % (V - 1)] = kNaN;
        break;
      case RowKind::Infinite:
        row[at(rng)] = (n % 3 == 0) ? kInf : -kInf;
        if (n % 3 == 2) row[at(rng)] = kInf;
        break;
      default:
        break;
    }
  }
  return x;
}

enum class Outputs { LossOnly, Grad, GradInPlace, ProbsAndGrad, ProbsOnly };

struct Result {
  std::vector<float> loss, dlogits, probs, logits;
};

template <class Rows>
Result run_rows(const std::vector<float>& x, const std::vector<std::int32_t>& t, int V, Outputs out,
                Rows rows) {
  const int N = static_cast<int>(t.size());
  Result r;
  r.logits = x;
  r.loss.assign(static_cast<std::size_t>(N), kNaN);
  const bool grad = out == Outputs::Grad || out == Outputs::ProbsAndGrad;
  const bool probs = out == Outputs::ProbsAndGrad || out == Outputs::ProbsOnly;
  if (grad) r.dlogits.assign(x.size(), kNaN);
  if (probs) r.probs.assign(x.size(), kNaN);
  float* d = out == Outputs::GradInPlace ? r.logits.data() : (grad ? r.dlogits.data() : nullptr);
  rows(N, V, r.logits.data(), t.data(), r.loss.data(), d, 0.05f, probs ? r.probs.data() : nullptr);
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// The first element whose bits differ, for the failure message.
std::string first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      return "element " + std::to_string(i) + ": " + std::to_string(a[i]) + " vs " +
             std::to_string(b[i]);
    }
  }
  return "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
}

TEST(SoftmaxXentCpu, EqualsTheReferenceBitForBit) {
  if (!ops::cpu::softmax_xent_rows_vectorized()) {
    GTEST_SKIP() << "no AVX: the reference itself runs";
  }
  const RowKind kinds[] = {RowKind::Normal,  RowKind::Wide,     RowKind::Ties,
                           RowKind::ZeroMax, RowKind::NaNFirst, RowKind::NaNInside,
                           RowKind::Infinite};
  const Outputs outputs[] = {Outputs::LossOnly, Outputs::Grad, Outputs::GradInPlace,
                             Outputs::ProbsAndGrad, Outputs::ProbsOnly};
  int cases = 0;
  for (const int V : {1, 2, 7, 8, 9, 15, 16, 17, 511, 512, 513, 1025, 10000}) {
    for (const RowKind kind : kinds) {
      const int N = V >= 1000 ? 3 : 5;
      const auto x = random_logits(N, V, kind, 1000 * V + static_cast<int>(kind));
      std::vector<std::int32_t> t(static_cast<std::size_t>(N));
      for (int n = 0; n < N; ++n) t[static_cast<std::size_t>(n)] = (n * 7919 + V / 2) % V;
      for (const Outputs out : outputs) {
        const Result want = run_rows(x, t, V, out, ref::softmax_xent<float>);
        const Result got = run_rows(x, t, V, out, ops::cpu::softmax_xent_rows);
        const std::string where = "V " + std::to_string(V) + ", row kind " +
                                  std::to_string(static_cast<int>(kind)) + ", outputs " +
                                  std::to_string(static_cast<int>(out));
        EXPECT_TRUE(same_bits(got.loss, want.loss))
            << where << ": loss " << first_difference(got.loss, want.loss);
        EXPECT_TRUE(same_bits(got.dlogits, want.dlogits))
            << where << ": dlogits " << first_difference(got.dlogits, want.dlogits);
        EXPECT_TRUE(same_bits(got.probs, want.probs))
            << where << ": probs " << first_difference(got.probs, want.probs);
        EXPECT_TRUE(same_bits(got.logits, want.logits))
            << where << ": logits (in place) " << first_difference(got.logits, want.logits);
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 13 * 7 * 5);
}

// The op on a CPU Context (row blocks over the worker threads) gives the reference's bits for the
// PTB softmax's shape.
TEST(SoftmaxXentCpu, TheOpOnTheCpuEqualsTheReference) {
  const int N = 40, V = 10000;
  const auto x = random_logits(N, V, RowKind::Normal, 7);
  std::vector<std::int32_t> t(static_cast<std::size_t>(N));
  for (int n = 0; n < N; ++n) t[static_cast<std::size_t>(n)] = (n * 104729) % V;
  const Result want = run_rows(x, t, V, Outputs::GradInPlace, ref::softmax_xent<float>);
  Context ctx = Context::cpu();
  std::vector<float> logits = x, loss(static_cast<std::size_t>(N), kNaN);
  ops::softmax_xent(ctx, Tensor(logits.data(), {N, V}, Device::CPU),
                    ConstIds(t.data(), {N}, Device::CPU), Tensor(loss.data(), {N}, Device::CPU),
                    Tensor(logits.data(), {N, V}, Device::CPU), 0.05f);
  EXPECT_TRUE(same_bits(loss, want.loss)) << first_difference(loss, want.loss);
  EXPECT_TRUE(same_bits(logits, want.logits)) << first_difference(logits, want.logits);
}

}  // namespace
}  // namespace curnn
