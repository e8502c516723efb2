// ops::gemm on the GPU (cuBLAS) against the double reference: every layout (NN, NT, TN, TT) x
// Overwrite (NaN-poisoned C) / Accumulate (random C), at the PTB LSTM shapes and odd shapes.
// Large products are checked on a sample of rows (the first, the last and 30 spread between, all
// columns) to keep the double reference fast; every element is checked to be finite.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "curnn/ops/gemm.hpp"
#include "gemm_test_util.hpp"
#include "support/cuda_test.hpp"

namespace curnn {
namespace {

void check_cuda_gemm(const char* label, std::int64_t M, std::int64_t N, std::int64_t K,
                     std::uint64_t seed) {
  Context ctx = Context::cuda();
  const test::GemmProblem p(M, N, K, seed);
  const auto rows = p.rows_to_check();
  for (Write mode : test::kWrites) {
    const auto want = p.reference_rows(mode, rows);
    for (Transpose ta : test::kTransposes) {
      for (Transpose tb : test::kTransposes) {
        const std::string what = std::string(label) + " " + std::to_string(M) + "x" +
                                 std::to_string(N) + "x" + std::to_string(K) + " " +
                                 test::name(ta) + test::name(tb) + " " + test::name(mode);
        const Buffer<float> a = test::device_copy(p.stored_a(ta));
        const Buffer<float> b = test::device_copy(p.stored_b(tb));
        Buffer<float> c =
            mode == Write::Overwrite ? test::device_poisoned(M * N) : test::device_copy(p.c0);
        ops::gemm(ctx, ta, tb, a.view({p.a_rows(ta), p.a_cols(ta)}),
                  b.view({p.b_rows(tb), p.b_cols(tb)}), c.view({M, N}), mode);
        const std::vector<float> got = test::host_copy(ctx, c);
        EXPECT_TRUE(test::all_finite(what, got));
        EXPECT_TRUE(test::expect_close(what, test::select_rows(got, N, rows), want,
                                       test::gemm_tolerance(K)));
      }
    }
  }
}

// PTB small (H 200, T 20, B 20): input projection of all steps [T*B, H] x [H, 4H].
TEST(GemmCuda, InputProjectionSmall) {
  CURNN_REQUIRE_CUDA();
  check_cuda_gemm("x·W small", 400, 800, 200, 1);
}

// Recurrent step [B, H] x [H, 4H], medium (H 650) and large (H 1500).
TEST(GemmCuda, RecurrentStepMediumAndLarge) {
  CURNN_REQUIRE_CUDA();
  check_cuda_gemm("h·U medium", 20, 2600, 650, 2);
  check_cuda_gemm("h·U large", 20, 6000, 1500, 3);
}

// Softmax logits [T*B, H] x [H, V], medium (T 35, H 650, V 10,000).
TEST(GemmCuda, SoftmaxLogitsMedium) {
  CURNN_REQUIRE_CUDA();
  check_cuda_gemm("logits medium", 700, 10000, 650, 4);
}

// Backward: weight gradients dW [In, 4H] = Xᵀ [In, T*B] · dG [T*B, 4H] (K = T*B) and data
// gradients dX [T*B, In] = dG · Wᵀ (K = 4H), small ([x, h] is 2H = 400 wide) and medium; the
// softmax weight gradient [H, V] = hᵀ · dlogits (K = T*B = 700).
TEST(GemmCuda, WeightAndDataGradients) {
  CURNN_REQUIRE_CUDA();
  check_cuda_gemm("dW small", 400, 800, 400, 5);
  check_cuda_gemm("dX small", 400, 400, 800, 6);
  check_cuda_gemm("dW medium", 1300, 2600, 700, 7);
  check_cuda_gemm("dW softmax medium", 650, 10000, 700, 8);
}

TEST(GemmCuda, OddShapes) {
  CURNN_REQUIRE_CUDA();
  check_cuda_gemm("odd", 37, 53, 29, 9);
  check_cuda_gemm("odd", 1, 1, 1, 10);
  check_cuda_gemm("odd", 1, 97, 3, 11);
  check_cuda_gemm("odd", 129, 7, 1025, 12);
}

TEST(GemmCuda, EmptyReductionZeroesOrKeeps) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  Buffer<float> operand = test::device_copy(std::vector<float>{1.f});  // any valid pointer
  const ConstTensor A(operand.data(), {3, 0}, Device::CUDA),
      B(operand.data(), {0, 5}, Device::CUDA);
  Buffer<float> c = test::device_poisoned(15);
  ops::gemm(ctx, Transpose::No, Transpose::No, A, B, c.view({3, 5}), Write::Overwrite);
  EXPECT_EQ(test::host_copy(ctx, c), std::vector<float>(15, 0.f));
  const auto c0 = test::random_uniform(15, -1, 1, 13);
  c = test::device_copy(c0);
  ops::gemm(ctx, Transpose::No, Transpose::No, A, B, c.view({3, 5}), Write::Accumulate);
  EXPECT_EQ(test::host_copy(ctx, c), c0);
}

// FP32, not TF32: (1 + 2^-12) · 1 is exact in FP32 but rounds to 1 with TF32's 10-bit mantissa.
TEST(GemmCuda, ComputesInFp32NotTf32) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const float x = 1.f + std::ldexp(1.f, -12);
  const std::int64_t M = 64, N = 64, K = 64;
  std::vector<float> a(M * K, 0.f), b(K * N, 0.f);
  for (std::int64_t i = 0; i < M; ++i) a[i * K + i] = x;  // A = x I, B = I: C = x I
  for (std::int64_t k = 0; k < K; ++k) b[k * N + k] = 1.f;
  const Buffer<float> da = test::device_copy(a), db = test::device_copy(b);
  Buffer<float> c = test::device_poisoned(M * N);
  ops::gemm(ctx, Transpose::No, Transpose::No, da.view({M, K}), db.view({K, N}), c.view({M, N}),
            Write::Overwrite);
  const auto got = test::host_copy(ctx, c);
  for (std::int64_t i = 0; i < M; ++i) ASSERT_EQ(got[i * N + i], x) << "diagonal " << i;
}

TEST(GemmCuda, RejectsHostTensors) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  std::vector<float> host(4);
  Buffer<float> d = test::device_poisoned(4);
  const ConstTensor on_host(host.data(), {2, 2}, Device::CPU);
  EXPECT_THROW(ops::gemm(ctx, Transpose::No, Transpose::No, on_host, d.view({2, 2}), d.view({2, 2}),
                         Write::Overwrite),
               ArgumentError);
}

}  // namespace
}  // namespace curnn
