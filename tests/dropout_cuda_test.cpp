// The Philox dropout-mask kernel (kernels/dropout.cu) through ops::dropout_mask on
// Context::cuda(): statistics, every element written (NaN-poisoned outputs), reproducibility from
// (seed, offset), independence across offsets and seeds, alignment independence.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cuda_upload.hpp"
#include "curnn/context.hpp"
#include "curnn/ops/dropout.hpp"
#include "dropout_stats.hpp"
#include "support/cuda_test.hpp"

namespace curnn {
namespace {

// The mask of n elements drawn into a NaN-poisoned device buffer, starting `shift` floats past a
// 256-byte aligned address (shift % 4 != 0 takes the scalar-store path).
std::vector<float> gpu_mask(Context& ctx, std::uint64_t seed, std::uint64_t offset, float keep_prob,
                            std::size_t n, std::size_t shift = 0) {
  Buffer<float> buf = test::upload_poisoned(ctx, n + shift);
  ops::dropout_mask(ctx, seed, offset, keep_prob,
                    Tensor(buf.data() + shift, {static_cast<std::int64_t>(n)}, Device::CUDA));
  const auto all = test::host_copy(ctx, buf);
  return std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(shift), all.end());
}

constexpr std::size_t kStatN = 1000000;

TEST(DropoutMaskCuda, KeptFractionValuesAndLagCorrelation) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (float keep : {0.35f, 0.5f, 0.9f}) {
    EXPECT_TRUE(test::check_mask_statistics("cuda keep " + std::to_string(keep),
                                            gpu_mask(ctx, 1234, 7, keep, kStatN), keep));
  }
}

// The PTB shapes [20, 650] x 35 steps and [20, 1500], and odd sizes: every element written (NaN
// poison would fail the value check), statistics hold.
TEST(DropoutMaskCuda, ExperimentAndOddSizesFullyWritten) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (std::size_t n : {std::size_t(20 * 650 * 35), std::size_t(20 * 1500), std::size_t(1),
                        std::size_t(3), std::size_t(4097), std::size_t(100003)}) {
    const auto mask = gpu_mask(ctx, 99, 1, 0.5f, n);
    if (n >= 1000) {
      EXPECT_TRUE(test::check_mask_statistics("cuda n=" + std::to_string(n), mask, 0.5f));
    } else {  // too few for statistics; every value must still be 0 or 1/keep
      for (float m : mask) EXPECT_TRUE(m == 0.f || m == 2.f) << "n=" << n << " value " << m;
    }
  }
}

TEST(DropoutMaskCuda, KeepProbOneKeepsEverything) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (float m : gpu_mask(ctx, 5, 0, 1.f, 100003)) ASSERT_EQ(m, 1.f);
}

TEST(DropoutMaskCuda, SameSeedAndOffsetReproduceAtAnyAlignment) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const auto a = gpu_mask(ctx, 42, 3, 0.5f, 65539);
  EXPECT_EQ(a, gpu_mask(ctx, 42, 3, 0.5f, 65539));
  // The scalar-store path (misaligned view) produces the same mask as the vector path.
  EXPECT_EQ(a, gpu_mask(ctx, 42, 3, 0.5f, 65539, 1));
  EXPECT_EQ(a, gpu_mask(ctx, 42, 3, 0.5f, 65539, 2));
  // Element i depends on i only: a shorter mask is a prefix.
  EXPECT_EQ(std::vector<float>(a.begin(), a.begin() + 1001), gpu_mask(ctx, 42, 3, 0.5f, 1001));
}

TEST(DropoutMaskCuda, DifferentOffsetsAndSeedsAreIndependent) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const auto base = gpu_mask(ctx, 42, 3, 0.5f, kStatN);
  EXPECT_TRUE(
      test::check_independent("cuda offset 3 vs 4", base, gpu_mask(ctx, 42, 4, 0.5f, kStatN)));
  EXPECT_TRUE(
      test::check_independent("cuda seed 42 vs 43", base, gpu_mask(ctx, 43, 3, 0.5f, kStatN)));
}

}  // namespace
}  // namespace curnn
