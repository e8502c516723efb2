// CPU reference GEMM (the specification of ops::gemm), row-major:
//     C[M,N] = op(A)[M,K] · op(B)[K,N]          (Write::Overwrite)
//     C[M,N] += op(A)[M,K] · op(B)[K,N]         (Write::Accumulate)
// op(X) = X (Transpose::No) or Xᵀ (Transpose::Yes). Operands are stored row-major with leading
// dimensions (the distance between consecutive stored rows):
//     A is stored [M,K] (lda >= K) when ta == No, [K,M] (lda >= M) when ta == Yes;
//     B is stored [K,N] (ldb >= N) when tb == No, [N,K] (ldb >= K) when tb == Yes;
//     C is stored [M,N] (ldc >= N).
// Plain loops, one dot product per output element, accumulated in T (use T = double for an
// accurate reference). With Overwrite, C is never read (it may hold NaN). K == 0 gives C = 0
// (Overwrite) or leaves C unchanged (Accumulate).
// Tests: tests/gemm_test.cpp (semantics, gradients), tests/gemm_cuda_test.cpp (cuBLAS path).
#pragma once

#include <cstdint>

#include "curnn/ops/types.hpp"

namespace curnn::ref {

template <class T>
void gemm(Transpose ta, Transpose tb, std::int64_t M, std::int64_t N, std::int64_t K,
          const T* A,  // [M,K] or [K,M] (ta), row stride lda
          std::int64_t lda,
          const T* B,  // [K,N] or [N,K] (tb), row stride ldb
          std::int64_t ldb,
          T* C,  // [M,N], row stride ldc
          std::int64_t ldc, Write mode) {
  // Element (i,k) of op(A) and (k,j) of op(B).
  const std::int64_t a_row = ta == Transpose::No ? lda : 1, a_col = ta == Transpose::No ? 1 : lda;
  const std::int64_t b_row = tb == Transpose::No ? ldb : 1, b_col = tb == Transpose::No ? 1 : ldb;
  for (std::int64_t i = 0; i < M; ++i) {
    for (std::int64_t j = 0; j < N; ++j) {
      T sum = T(0);
      for (std::int64_t k = 0; k < K; ++k)
        sum += A[i * a_row + k * a_col] * B[k * b_row + j * b_col];
      T& c = C[i * ldc + j];
      c = mode == Write::Accumulate ? c + sum : sum;
    }
  }
}

}  // namespace curnn::ref
