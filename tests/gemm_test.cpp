// GEMM on the CPU: the reference's semantics (hand-computed products in all layouts, leading
// dimensions, Overwrite vs Accumulate), its gradients, the CPU backend (OpenBLAS or the
// reference loops) against the double reference, and argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>

#include "curnn/config.hpp"
#include "curnn/ops/gemm.hpp"
#include "curnn/ref/gemm.hpp"
#include "gemm_test_util.hpp"
#include "support/gradcheck.hpp"

namespace curnn {
namespace {

// op(A) = [[1,2,3],[4,5,6]], op(B) = [[7,8],[9,10],[11,12]]: op(A)·op(B) = [[58,64],[139,154]].
const std::vector<double> kOpA = {1, 2, 3, 4, 5, 6};     // [2, 3]
const std::vector<double> kOpB = {7, 8, 9, 10, 11, 12};  // [3, 2]
const std::vector<double> kProduct = {58, 64, 139, 154};

TEST(GemmRef, HandComputedProductInEveryLayout) {
  for (Transpose ta : test::kTransposes) {
    for (Transpose tb : test::kTransposes) {
      const auto a = ta == Transpose::No ? kOpA : test::transposed(kOpA, 2, 3);
      const auto b = tb == Transpose::No ? kOpB : test::transposed(kOpB, 3, 2);
      const std::int64_t lda = ta == Transpose::No ? 3 : 2, ldb = tb == Transpose::No ? 2 : 3;
      std::vector<double> c(4, std::numeric_limits<double>::quiet_NaN());
      ref::gemm<double>(ta, tb, 2, 2, 3, a.data(), lda, b.data(), ldb, c.data(), 2,
                        Write::Overwrite);
      EXPECT_EQ(c, kProduct) << test::name(ta) << test::name(tb);
      c = {1, -1, 0.5, 2};
      ref::gemm<double>(ta, tb, 2, 2, 3, a.data(), lda, b.data(), ldb, c.data(), 2,
                        Write::Accumulate);
      EXPECT_EQ(c, (std::vector<double>{59, 63, 139.5, 156})) << test::name(ta) << test::name(tb);
    }
  }
}

TEST(GemmRef, LeadingDimensionsSkipPadding) {
  // op(A) stored transposed [3, 2] inside rows of 4 (lda 4), op(B) stored [3, 2] inside rows of
  // 3, C [2, 2] inside rows of 5. Padding is NaN: reading it would poison the result; C's
  // padding must stay untouched.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto at = test::transposed(kOpA, 2, 3);  // [3, 2]
  std::vector<double> a(3 * 4, nan), b(3 * 3, nan), c(2 * 5, nan);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 2; ++i) a[k * 4 + i] = at[k * 2 + i];
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 2; ++j) b[k * 3 + j] = kOpB[k * 2 + j];
  ref::gemm<double>(Transpose::Yes, Transpose::No, 2, 2, 3, a.data(), 4, b.data(), 3, c.data(), 5,
                    Write::Overwrite);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 5; ++j) {
      if (j < 2) {
        EXPECT_EQ(c[i * 5 + j], kProduct[i * 2 + j]) << i << "," << j;
      } else {
        EXPECT_TRUE(std::isnan(c[i * 5 + j])) << "padding written at " << i << "," << j;
      }
    }
  }
}

TEST(GemmRef, EmptyReductionZeroesOrKeeps) {
  const double unused = 0;
  std::vector<double> c(6, std::numeric_limits<double>::quiet_NaN());
  ref::gemm<double>(Transpose::No, Transpose::No, 2, 3, 0, &unused, 1, &unused, 3, c.data(), 3,
                    Write::Overwrite);
  EXPECT_EQ(c, std::vector<double>(6, 0.0));
  c = {1, 2, 3, 4, 5, 6};
  ref::gemm<double>(Transpose::No, Transpose::No, 2, 3, 0, &unused, 1, &unused, 3, c.data(), 3,
                    Write::Accumulate);
  EXPECT_EQ(c, (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

// The gradients of f(A, B) = sum(R ⊙ op(A)·op(B)) with respect to the stored A and B, composed
// from ref::gemm in the transposed modes exactly as backpropagation through ops::gemm does:
//     d op(A) = R·op(B)ᵀ,  d op(B) = op(A)ᵀ·R,
//     dA = d op(A) (ta == No) or its transpose op(B)·Rᵀ (ta == Yes); likewise dB.
std::pair<std::vector<double>, std::vector<double>> gemm_input_gradients(
    Transpose ta, Transpose tb, std::int64_t M, std::int64_t N, std::int64_t K,
    const std::vector<double>& A, const std::vector<double>& B, const std::vector<double>& R) {
  constexpr Transpose No = Transpose::No, Yes = Transpose::Yes;
  const std::int64_t lda = ta == No ? K : M, ldb = tb == No ? N : K;
  std::vector<double> dA(A.size()), dB(B.size());
  // op(B)ᵀ as stored: B with the flipped flag.
  const Transpose tb_flipped = tb == No ? Yes : No;
  const Transpose ta_flipped = ta == No ? Yes : No;
  if (ta == No) {  // dA [M,K] = R [M,N] · op(B)ᵀ [N,K]
    ref::gemm<double>(No, tb_flipped, M, K, N, R.data(), N, B.data(), ldb, dA.data(), K,
                      Write::Overwrite);
  } else {  // dA [K,M] = op(B) [K,N] · Rᵀ [N,M]
    ref::gemm<double>(tb, Yes, K, M, N, B.data(), ldb, R.data(), N, dA.data(), M, Write::Overwrite);
  }
  if (tb == No) {  // dB [K,N] = op(A)ᵀ [K,M] · R [M,N]
    ref::gemm<double>(ta_flipped, No, K, N, M, A.data(), lda, R.data(), N, dB.data(), N,
                      Write::Overwrite);
  } else {  // dB [N,K] = Rᵀ [N,M] · op(A) [M,K]
    ref::gemm<double>(Yes, ta, N, K, M, R.data(), N, A.data(), lda, dB.data(), K, Write::Overwrite);
  }
  return {dA, dB};
}

TEST(GemmGrad, InputGradientsInEveryLayout) {
  const std::int64_t M = 3, N = 4, K = 5;
  const auto R = test::random_uniform<double>(M * N, -1, 1, 11);  // [M, N]
  for (Transpose ta : test::kTransposes) {
    for (Transpose tb : test::kTransposes) {
      const std::string what = std::string("gemm ") + test::name(ta) + test::name(tb);
      const std::int64_t lda = ta == Transpose::No ? K : M, ldb = tb == Transpose::No ? N : K;
      const auto A = test::random_uniform<double>(M * K, -1, 1, 12);
      const auto B = test::random_uniform<double>(K * N, -1, 1, 13);
      auto f = [&](const std::vector<double>& a, const std::vector<double>& b) {
        std::vector<double> c(M * N);
        ref::gemm<double>(ta, tb, M, N, K, a.data(), lda, b.data(), ldb, c.data(), N,
                          Write::Overwrite);
        return test::project(R, c);
      };
      const auto [dA, dB] = gemm_input_gradients(ta, tb, M, N, K, A, B, R);
      EXPECT_TRUE(test::check_gradient(
          what + " dA", [&](const std::vector<double>& a) { return f(a, B); }, A, dA));
      EXPECT_TRUE(test::check_gradient(
          what + " dB", [&](const std::vector<double>& b) { return f(A, b); }, B, dB));
    }
  }
}

// ops::gemm on the CPU context (OpenBLAS when built with it) against the double reference.
void check_cpu_gemm(std::int64_t M, std::int64_t N, std::int64_t K, std::uint64_t seed) {
  Context ctx = Context::cpu();
  const test::GemmProblem p(M, N, K, seed);
  const auto rows = p.rows_to_check();
  for (Write mode : test::kWrites) {
    const auto want = p.reference_rows(mode, rows);
    for (Transpose ta : test::kTransposes) {
      for (Transpose tb : test::kTransposes) {
        const std::string what = "cpu gemm " + std::to_string(M) + "x" + std::to_string(N) + "x" +
                                 std::to_string(K) + " " + test::name(ta) + test::name(tb) + " " +
                                 test::name(mode);
        const auto a = p.stored_a(ta), b = p.stored_b(tb);
        std::vector<float> c =
            mode == Write::Overwrite ? test::nan_filled(M * N) : p.c0;  // NaN: never read
        ops::gemm(ctx, ta, tb, ConstTensor(a.data(), {p.a_rows(ta), p.a_cols(ta)}, Device::CPU),
                  ConstTensor(b.data(), {p.b_rows(tb), p.b_cols(tb)}, Device::CPU),
                  Tensor(c.data(), {M, N}, Device::CPU), mode);
        EXPECT_TRUE(test::all_finite(what, c));
        EXPECT_TRUE(
            test::expect_close(what, test::select_rows(c, N, rows), want, test::gemm_tolerance(K)));
      }
    }
  }
}

TEST(Gemm, CpuMatchesReferenceOddShapes) {
  std::printf("[      blas] CURNN_HAVE_BLAS=%d\n", CURNN_HAVE_BLAS);
  check_cpu_gemm(37, 53, 29, 1);
  check_cpu_gemm(1, 1, 1, 2);
  check_cpu_gemm(5, 1, 67, 3);
  check_cpu_gemm(20, 33, 130, 4);
}

// Large enough (16.9M multiply-adds) for the BLAS path to split C into column blocks
// (ops::cpu_gemm_column_blocks), with an odd N so that the blocks differ in width.
TEST(Gemm, CpuMatchesReferenceWhenSplitIntoColumnBlocks) {
  check_cpu_gemm(64, 1031, 256, 5);
}

// One-row products go to gemv (host/ops/gemm.cpp), split into column blocks when large.
TEST(Gemm, CpuMatchesReferenceForOneRow) {
  check_cpu_gemm(1, 37, 29, 6);
  check_cpu_gemm(1, 10007, 200, 7);
}

TEST(Gemm, CpuEmptyReduction) {
  Context ctx = Context::cpu();
  float unused = 0;
  std::vector<float> c(6, std::numeric_limits<float>::quiet_NaN());
  ops::gemm(ctx, Transpose::No, Transpose::Yes, ConstTensor(&unused, {2, 0}, Device::CPU),
            ConstTensor(&unused, {3, 0}, Device::CPU), Tensor(c.data(), {2, 3}, Device::CPU),
            Write::Overwrite);
  EXPECT_EQ(c, std::vector<float>(6, 0.f));
}

TEST(Gemm, ArgumentErrors) {
  Context ctx = Context::cpu();
  std::vector<float> a(6), b(12), c(8);
  const ConstTensor A(a.data(), {2, 3}, Device::CPU), B(b.data(), {3, 4}, Device::CPU);
  const Tensor C(c.data(), {2, 4}, Device::CPU);
  constexpr Transpose No = Transpose::No, Yes = Transpose::Yes;
  EXPECT_NO_THROW(ops::gemm(ctx, No, No, A, B, C, Write::Overwrite));
  // K disagrees: op(A) = Aᵀ is [3, 2] but B has 3 rows.
  EXPECT_THROW(ops::gemm(ctx, Yes, No, A, B, C, Write::Overwrite), ArgumentError);
  // C of the wrong shape.
  EXPECT_THROW(ops::gemm(ctx, No, No, A, B, C.reshape({4, 2}), Write::Overwrite), ArgumentError);
  // Not 2-D.
  EXPECT_THROW(ops::gemm(ctx, No, No, A, B, C.reshape({8}), Write::Overwrite), ArgumentError);
  EXPECT_THROW(ops::gemm(ctx, No, No, A.reshape({1, 2, 3}), B, C, Write::Overwrite), ArgumentError);
  // A tensor on another device, and a null one.
  EXPECT_THROW(
      ops::gemm(ctx, No, No, ConstTensor(a.data(), {2, 3}, Device::CUDA), B, C, Write::Overwrite),
      ArgumentError);
  EXPECT_THROW(ops::gemm(ctx, No, No, A, B, Tensor(nullptr, {2, 4}, Device::CPU), Write::Overwrite),
               ArgumentError);
}

}  // namespace
}  // namespace curnn
