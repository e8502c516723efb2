// Small vocabulary types shared by the op interface (curnn/ops/), the CPU reference
// (curnn/ref/) and the CUDA launchers (curnn/cuda/). No dependencies: any header may include it.
#pragma once

namespace curnn {

// Whether a GEMM operand is used as stored (No) or transposed (Yes): op(X) = X or Xᵀ.
enum class Transpose { No, Yes };

// How an op stores its result: Overwrite (out = result; out is never read, so it may hold
// garbage or NaN) or Accumulate (out += result), e.g. gradient accumulation over time steps.
enum class Write { Overwrite, Accumulate };

namespace ops {
using curnn::Transpose;
using curnn::Write;
}  // namespace ops

}  // namespace curnn
