// Small vocabulary types shared by the op interface (curnn/ops/), the CPU reference
// (curnn/ref/) and the CUDA launchers (curnn/cuda/). No dependencies: any header may include it.
#pragma once

namespace curnn {

// Whether a GEMM operand is used as stored (No) or transposed (Yes): op(X) = X or Xᵀ.
enum class Transpose { No, Yes };

// How an op stores its result: Overwrite (out = result; out is never read, so it may hold
// garbage or NaN) or Accumulate (out += result), e.g. gradient accumulation over time steps.
enum class Write { Overwrite, Accumulate };

// A scalar argument that an op reads from memory on the context's device when its kernel runs,
// not from the launch arguments: a step captured into a CUDA Graph (include/curnn/graph.hpp)
// then replays with the value the memory holds at each replay (the learning rate, the dropout
// offset, Adam's step). On the CPU backend `ptr` is host memory, read when the op is called.
// The arithmetic is the same as with the value given directly (same bits).
template <class T>
struct DeviceScalar {
  const T* ptr = nullptr;  // [1]
};

namespace ops {
using curnn::DeviceScalar;
using curnn::Transpose;
using curnn::Write;
}  // namespace ops

}  // namespace curnn
