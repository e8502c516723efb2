// Dropout masks on the CPU backend: the statistics of the reference generator
// (include/curnn/ref/dropout.hpp), reproducibility from (seed, offset), argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/dropout.hpp"
#include "curnn/ref/dropout.hpp"
#include "dropout_stats.hpp"

namespace curnn {
namespace {

std::vector<float> cpu_mask(std::uint64_t seed, std::uint64_t offset, float keep_prob,
                            std::size_t n) {
  Context ctx = Context::cpu();
  std::vector<float> mask(n, -1.f);
  ops::dropout_mask(ctx, seed, offset, keep_prob,
                    Tensor(mask.data(), {static_cast<std::int64_t>(n)}, Device::CPU));
  return mask;
}

constexpr std::size_t kStatN = 1000000;

TEST(DropoutMask, KeptFractionValuesAndLagCorrelation) {
  for (float keep : {0.35f, 0.5f, 0.9f}) {
    EXPECT_TRUE(test::check_mask_statistics("cpu keep " + std::to_string(keep),
                                            cpu_mask(1234, 7, keep, kStatN), keep));
  }
}

TEST(DropoutMask, KeepProbOneKeepsEverything) {
  const auto mask = cpu_mask(5, 0, 1.f, 10007);
  for (float m : mask) ASSERT_EQ(m, 1.f);
}

TEST(DropoutMask, SameSeedAndOffsetReproduce) {
  EXPECT_EQ(cpu_mask(42, 3, 0.5f, 4099), cpu_mask(42, 3, 0.5f, 4099));
  // A longer mask starts with the shorter one: the mask is a stream, element i drawn i-th.
  const auto longer = cpu_mask(42, 3, 0.5f, 5000);
  EXPECT_EQ(std::vector<float>(longer.begin(), longer.begin() + 4099), cpu_mask(42, 3, 0.5f, 4099));
}

TEST(DropoutMask, DifferentOffsetsAndSeedsAreIndependent) {
  const auto base = cpu_mask(42, 3, 0.5f, kStatN);
  EXPECT_TRUE(test::check_independent("cpu offset 3 vs 4", base, cpu_mask(42, 4, 0.5f, kStatN)));
  EXPECT_TRUE(test::check_independent("cpu seed 42 vs 43", base, cpu_mask(43, 3, 0.5f, kStatN)));
  // seed ^ offset is not what is hashed: (1, 0) and (0, 1) differ.
  EXPECT_NE(cpu_mask(1, 0, 0.5f, 256), cpu_mask(0, 1, 0.5f, 256));
}

TEST(DropoutMask, ReferenceInDoubleMatchesFloat) {
  std::vector<double> d(3001);
  ref::dropout_mask<double>(9, 2, 0.35, d.data(), static_cast<std::int64_t>(d.size()));
  const auto f = cpu_mask(9, 2, 0.35f, d.size());
  for (std::size_t i = 0; i < d.size(); ++i) ASSERT_EQ(d[i] != 0, f[i] != 0) << i;
}

TEST(DropoutMask, RejectsBadArguments) {
  Context ctx = Context::cpu();
  std::vector<float> mask(16);
  Tensor t(mask.data(), {4, 4}, Device::CPU);
  EXPECT_THROW(ops::dropout_mask(ctx, 1, 0, 0.f, t), ArgumentError);
  EXPECT_THROW(ops::dropout_mask(ctx, 1, 0, -0.5f, t), ArgumentError);
  EXPECT_THROW(ops::dropout_mask(ctx, 1, 0, 1.5f, t), ArgumentError);
  EXPECT_THROW(ops::dropout_mask(ctx, 1, 0, std::nanf(""), t), ArgumentError);
  EXPECT_THROW(ops::dropout_mask(ctx, 1, std::uint64_t(1) << 62, 0.5f, t), ArgumentError);
  EXPECT_THROW(ops::dropout_mask(ctx, 1, 0, 0.5f, Tensor()), ArgumentError);
  EXPECT_THROW(ops::dropout_mask(ctx, 1, 0, 0.5f, Tensor(mask.data(), {16}, Device::CUDA)),
               ArgumentError);
  EXPECT_NO_THROW(ops::dropout_mask(ctx, 1, 0, 0.5f, Tensor(mask.data(), {0}, Device::CPU)));
}

}  // namespace
}  // namespace curnn
