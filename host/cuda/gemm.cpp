// CUDA GEMM: C[M,N] = op(A)[M,K] · op(B)[K,N] (Write::Overwrite) or C += ... (Accumulate),
// row-major, FP32 through cuBLAS (cublasSgemm).
//
// Row-major via the column-major transpose trick: a row-major [R,C] matrix with row stride ld is
// the column-major [C,R] matrix with the same ld, i.e. its transpose. So the row-major product
// C = op(A)·op(B) is the column-major product Cᵀ = op(B)ᵀ·op(A)ᵀ, which cuBLAS computes as
//     cublasSgemm(opB, opA, m = N, n = M, k = K, B, ldb, A, lda, C, ldc)
// with opX = CUBLAS_OP_T exactly when the row-major op says Transpose::Yes.
// Overwrite uses beta = 0 (cuBLAS then never reads C, so NaN in C is harmless); Accumulate
// uses beta = 1. K == 0 is handled here (C = 0 or unchanged), since cuBLAS needs lda, ldb >= 1.
// Precision: FP32 FMA; TF32 tensor cores only if the handle's math mode allows them
// (Context::cuda() sets CUBLAS_DEFAULT_MATH; NVIDIA_TF32_OVERRIDE=1 in the environment would
// change that). Determinism: cuBLAS documents bitwise-identical results run to run on GPUs of the
// same architecture and SM count with one toolkit version, in its default atomics mode
// (CUBLAS_ATOMICS_NOT_ALLOWED), which Context::cuda() keeps.
// Reference: include/curnn/ref/gemm.hpp. Tests: tests/gemm_cuda_test.cpp.
#include "curnn/cuda/gemm.hpp"

#include <algorithm>

#include "curnn/cuda/check.hpp"

namespace curnn::cuda {

void gemm(cublasContext* handle, Transpose ta, Transpose tb, int M, int N, int K, const float* A,
          int lda, const float* B, int ldb, float* C, int ldc, Write mode, cudaStream_t stream) {
  CURNN_CHECK_ARG(handle != nullptr, "gemm: no cuBLAS handle");
  CURNN_CHECK_ARG(M >= 0 && N >= 0 && K >= 0,
                  "gemm: negative size M=" << M << " N=" << N << " K=" << K);
  const int a_cols = ta == Transpose::No ? K : M, b_cols = tb == Transpose::No ? N : K;
  CURNN_CHECK_ARG(lda >= std::max(1, a_cols), "gemm: lda=" << lda << " < " << a_cols);
  CURNN_CHECK_ARG(ldb >= std::max(1, b_cols), "gemm: ldb=" << ldb << " < " << b_cols);
  CURNN_CHECK_ARG(ldc >= std::max(1, N), "gemm: ldc=" << ldc << " < " << N);
  cudaStream_t bound = nullptr;
  CURNN_CUDA_CHECK(cublasGetStream(handle, &bound));
  CURNN_CHECK_ARG(bound == stream, "gemm: the cuBLAS handle is bound to another stream");
  if (M == 0 || N == 0) return;
  CURNN_CHECK_ARG(A != nullptr && B != nullptr && C != nullptr, "gemm: null pointer");
  if (K == 0) {
    if (mode == Write::Overwrite) {
      CURNN_CUDA_CHECK(cudaMemset2DAsync(C, sizeof(float) * static_cast<std::size_t>(ldc), 0,
                                         sizeof(float) * static_cast<std::size_t>(N), M, stream));
    }
    return;
  }
  const float alpha = 1.f, beta = mode == Write::Accumulate ? 1.f : 0.f;
  const cublasOperation_t op_a = ta == Transpose::Yes ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = tb == Transpose::Yes ? CUBLAS_OP_T : CUBLAS_OP_N;
  CURNN_CUDA_CHECK(cublasSgemm(handle, op_b, op_a, N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc));
}

}  // namespace curnn::cuda
