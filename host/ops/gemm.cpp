// ops::gemm: shape and device checks, then dispatch to OpenBLAS / ref::gemm (CPU) or cuBLAS
// (CUDA, host/cuda/gemm.cpp). The contract is ref::gemm's (include/curnn/ref/gemm.hpp).
#include "curnn/ops/gemm.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "curnn/config.hpp"
#include "curnn/ref/gemm.hpp"
#include "dispatch.hpp"

#if CURNN_HAVE_BLAS
#include <cblas.h>

#include "../parallel.hpp"

extern "C" void openblas_set_num_threads(int num_threads);  // OpenBLAS's, whatever cblas.h says
#endif
#if CURNN_HAVE_CUDA
#include "curnn/cuda/gemm.hpp"
#endif

namespace curnn::ops {

// The split of C [M, N] into column blocks depends on the shape alone, never on the thread count:
// OpenBLAS's value for a column depends on the width of the call that computes it (its kernels
// treat a call's last columns with other code), so a split by cores would make results depend
// on CURNN_NUM_THREADS. Measured with OpenBLAS 0.3.21 (AMD EPYC, Haswell kernels): a 700 x 10000
// x 200 sgemm done in 2 column blocks instead of 1 differs in the last bits of 2.5% of C, a
// 10000 x 200 gemv in 12 of 10,000 outputs. A block has at least kGemmBlockMacs multiply-adds
// (kGemvBlockMacs for one row) and kMinBlockColumns columns, and there are at most kMaxBlocks:
// each BLAS call packs its own copy of A, which costs CPU time (OpenBLAS 0.3.21, one thread,
// best of 7: the PTB small softmax, 400 x 10000 x 200, 51.7 ms in one call, 52.6 in 7 blocks,
// 57.0 in 16; its input gradient, 400 x 200 x 10000, 54.3 ms, 53.8 in 2 blocks, 62.4 in 4).
constexpr std::int64_t kGemmBlockMacs = std::int64_t{1} << 24;  // ~16M multiply-adds
constexpr std::int64_t kGemvBlockMacs = std::int64_t{1} << 19;  // memory-bound: ~0.5M
constexpr std::int64_t kMinBlockColumns = 96;
constexpr std::int64_t kMaxBlocks = 8;

std::int64_t cpu_gemm_column_blocks(std::int64_t M, std::int64_t N, std::int64_t K) {
#if CURNN_HAVE_BLAS
  if (M <= 0 || N <= 0 || K <= 0) return 1;
  const std::int64_t block_macs = M == 1 ? kGemvBlockMacs : kGemmBlockMacs;
  const std::int64_t min_columns = std::max(kMinBlockColumns, (block_macs + M * K - 1) / (M * K));
  return std::clamp<std::int64_t>(N / min_columns, 1, kMaxBlocks);
#else
  (void)M, (void)N, (void)K;
  return 1;  // ref::gemm: one serial loop
#endif
}

namespace {

#if CURNN_HAVE_BLAS
CBLAS_TRANSPOSE cblas_op(Transpose t) {
  return t == Transpose::Yes ? CblasTrans : CblasNoTrans;
}

// OpenBLAS runs single-threaded under libcurnn: its idle pool threads spin in sched_yield between
// calls (a quarter of the CPU time of PTB training on 2 cores), taking the cores from the CPU
// backend's own parallel_for loops. Large products are split here instead, into column blocks of
// C, one single-threaded BLAS call per block, which the threads share (cpu_gemm_column_blocks).
// A one-row product (M = 1: the PTB test pass, batch 1) is a matrix-vector product; OpenBLAS
// 0.3.21's sgemm would pack all of B for it on every call, so it goes to gemv.
template <class Scalar>
void blas_gemm(Transpose ta, Transpose tb, std::int64_t M, std::int64_t N, std::int64_t K,
               const Scalar* A, std::int64_t lda, const Scalar* B, std::int64_t ldb, Scalar* C,
               std::int64_t ldc, Write mode) {
  [[maybe_unused]] static const bool single_threaded_blas = (openblas_set_num_threads(1), true);
  constexpr auto blas_gemv = [] {
    if constexpr (internal::kIsFloat<Scalar>) {
      return &cblas_sgemv;
    } else {
      return &cblas_dgemv;
    }
  }();
  constexpr auto blas_gemm = [] {
    if constexpr (internal::kIsFloat<Scalar>) {
      return &cblas_sgemm;
    } else {
      return &cblas_dgemm;
    }
  }();
  const auto call = [&](std::int64_t n0, std::int64_t n1) {
    // Columns [n0, n1) of C = op(A) op(B)[:, n0:n1]; op(B)'s columns are B's columns, or its
    // rows when transposed.
    const Scalar* B_block = B + (tb == Transpose::No ? n0 : n0 * ldb);
    const Scalar beta = mode == Write::Accumulate ? Scalar(1) : Scalar(0);
    if (M == 1) {
      // C[0, n0:n1] = op(B)[:, n0:n1]ᵀ a, with a = op(A)'s one row (stride lda when A is [K, 1]).
      // Row-major B [K, N] gives that product transposed; B [N, K] (transposed) directly.
      const int rows = static_cast<int>(tb == Transpose::No ? K : n1 - n0);
      const int cols = static_cast<int>(tb == Transpose::No ? n1 - n0 : K);
      const int inc_a = static_cast<int>(ta == Transpose::No ? 1 : lda);
      const CBLAS_TRANSPOSE op = tb == Transpose::No ? CblasTrans : CblasNoTrans;
      blas_gemv(CblasRowMajor, op, rows, cols, Scalar(1), B_block, static_cast<int>(ldb), A, inc_a,
                beta, C + n0, 1);
      return;
    }
    blas_gemm(CblasRowMajor, cblas_op(ta), cblas_op(tb), static_cast<int>(M),
              static_cast<int>(n1 - n0), static_cast<int>(K), Scalar(1), A, static_cast<int>(lda),
              B_block, static_cast<int>(ldb), beta, C + n0, static_cast<int>(ldc));
  };
  const std::int64_t blocks = cpu_gemm_column_blocks(M, N, K);
  if (blocks == 1) {
    call(0, N);
    return;
  }
  // Block b is columns [N b / blocks, N (b + 1) / blocks): the same blocks, computed by the same
  // calls, whichever thread runs them.
  host::parallel_for(blocks, 1, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) call(N * b / blocks, N * (b + 1) / blocks);
  });
}
#endif

}  // namespace

template <class Scalar>
void gemm_impl(Context& ctx, Transpose ta, Transpose tb, TensorView<const Scalar> A,
               TensorView<const Scalar> B, TensorView<Scalar> C, Write mode) {
  CURNN_CHECK_ARG(A.rank() == 2 && B.rank() == 2 && C.rank() == 2,
                  "gemm: A " << A.shape_string() << ", B " << B.shape_string() << ", C "
                             << C.shape_string() << " must all be 2-D");
  const std::int64_t M = ta == Transpose::No ? A.dim(0) : A.dim(1);
  const std::int64_t K = ta == Transpose::No ? A.dim(1) : A.dim(0);
  const std::int64_t N = tb == Transpose::No ? B.dim(1) : B.dim(0);
  constexpr std::int64_t kMaxDim = std::numeric_limits<int>::max();
  CURNN_CHECK_ARG(M <= kMaxDim && N <= kMaxDim && K <= kMaxDim,
                  "gemm: M=" << M << " N=" << N << " K=" << K << " exceed 2^31-1");
  if (ta == Transpose::No) {
    CURNN_CHECK_TENSOR(A, ctx.device(), {M, K});
  } else {
    CURNN_CHECK_TENSOR(A, ctx.device(), {K, M});
  }
  if (tb == Transpose::No) {
    CURNN_CHECK_TENSOR(B, ctx.device(), {K, N});
  } else {
    CURNN_CHECK_TENSOR(B, ctx.device(), {N, K});
  }
  CURNN_CHECK_TENSOR(C, ctx.device(), {M, N});
  // Contiguous row-major storage: the leading dimension is the stored row length (at least 1,
  // as BLAS requires even when that length is 0).
  const std::int64_t lda = std::max<std::int64_t>(1, A.dim(1));
  const std::int64_t ldb = std::max<std::int64_t>(1, B.dim(1));
  const std::int64_t ldc = std::max<std::int64_t>(1, N);

  if (ctx.is_cuda()) {
    if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
      cuda::gemm(ctx.cublas(), ta, tb, static_cast<int>(M), static_cast<int>(N),
                 static_cast<int>(K), A.data(), static_cast<int>(lda), B.data(),
                 static_cast<int>(ldb), C.data(), static_cast<int>(ldc), mode, ctx.stream());
#endif
    } else {
      internal::double_needs_cpu("gemm");
    }
    return;
  }
#if CURNN_HAVE_BLAS
  if (M > 0 && N > 0 && K > 0) {
    blas_gemm<Scalar>(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, mode);
    return;
  }
#endif
  ref::gemm<Scalar>(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, mode);
}

void gemm(Context& ctx, Transpose ta, Transpose tb, ConstTensor A, ConstTensor B, Tensor C,
          Write mode) {
  gemm_impl<float>(ctx, ta, tb, A, B, C, mode);
}
void gemm(Context& ctx, Transpose ta, Transpose tb, TensorView<const double> A,
          TensorView<const double> B, TensorView<double> C, Write mode) {
  gemm_impl<double>(ctx, ta, tb, A, B, C, mode);
}

}  // namespace curnn::ops
