// GEMM on a Context: C[M,N] = op(A)[M,K] · op(B)[K,N] (Write::Overwrite) or
// C[M,N] += op(A)[M,K] · op(B)[K,N] (Write::Accumulate), row-major FP32.
// The engine composes forward and backward passes from it, e.g. for Y = X·W:
//     dX (+)= dY·Wᵀ  -> gemm(ctx, No, Yes, dY, W, dX, mode)
//     dW (+)= Xᵀ·dY  -> gemm(ctx, Yes, No, X, dY, dW, mode)
// CPU: OpenBLAS cblas_sgemm (cblas_sgemv for one row) when built with it (CURNN_HAVE_BLAS), in
// column blocks shared by the CPU threads (cpu_gemm_column_blocks), else ref::gemm<float>.
// CUDA: cublasSgemm on ctx.cublas() (bound to ctx.stream()), FP32, no TF32.
#pragma once

#include <cstdint>

#include "curnn/context.hpp"
#include "curnn/ops/types.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

// A: [M,K] (ta == No) or [K,M] (ta == Yes); B: [K,N] (tb == No) or [N,K] (tb == Yes); C: [M,N].
// M, N, K are read from the shapes of A and B; all three tensors must be 2-D, contiguous, on
// ctx's device, with dimensions below 2^31. With Overwrite, C is not read.
void gemm(Context& ctx, Transpose ta, Transpose tb, ConstTensor A, ConstTensor B, Tensor C,
          Write mode);
// float64, on the CPU backend only (gradient checks of engines).
void gemm(Context& ctx, Transpose ta, Transpose tb, TensorView<const double> A,
          TensorView<const double> B, TensorView<double> C, Write mode);

// CPU backend: how many column blocks of C [M, N] = op(A) op(B) (op(A) [M, K]) the product is
// computed in, one BLAS call each, shared by the CURNN_NUM_THREADS threads. A function of the
// shape alone, so that results do not depend on the thread count; 1 without BLAS (ref::gemm).
std::int64_t cpu_gemm_column_blocks(std::int64_t M, std::int64_t N, std::int64_t K);

}  // namespace curnn::ops
