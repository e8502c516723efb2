// CUDA GEMM launcher (cuBLAS, FP32), row-major, the same contract as ref::gemm
// (curnn/ref/gemm.hpp): C[M,N] (+)= op(A)[M,K] · op(B)[K,N] with leading dimensions.
// Implemented in host/cuda/gemm.cpp. Included only when CURNN_HAVE_CUDA.
#pragma once

#include <cuda_runtime_api.h>

#include "curnn/ops/types.hpp"

struct cublasContext;

namespace curnn::cuda {

// `handle` must be bound to `stream` (cublasSetStream), as Context::cublas() is to
// Context::stream(). FP32 arithmetic (the handle's math mode decides; Context::cuda() sets
// CUBLAS_DEFAULT_MATH, i.e. no TF32). Device pointers; M, N, K >= 0.
void gemm(cublasContext* handle, Transpose ta, Transpose tb, int M, int N, int K,
          const float* A,  // [M,K] or [K,M] (ta), row stride lda
          int lda,
          const float* B,  // [K,N] or [N,K] (tb), row stride ldb
          int ldb,
          float* C,  // [M,N], row stride ldc
          int ldc, Write mode, cudaStream_t stream);

}  // namespace curnn::cuda
