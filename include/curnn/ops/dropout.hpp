// Dropout masks on a Context. Applying one is ops::mul(x, mask) (another family); the LSTM cell
// kernels also take a mask directly. Math and the CPU generator: include/curnn/ref/dropout.hpp.
// Kernel: kernels/dropout.cu.
#pragma once

#include <cstdint>

#include "curnn/context.hpp"
#include "curnn/ops/types.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

// Fills mask (any shape) with 0 or 1/keep_prob, each element kept with probability keep_prob in
// (0, 1] (keep_prob == 1 gives all ones). The mask is a function of (seed, offset, shape) on
// each backend (the CPU and CUDA generators differ). Use a new offset for every mask drawn
// from one seed (e.g. a counter of masks): distinct offsets give independent masks.
// offset < 2^62.
void dropout_mask(Context& ctx, std::uint64_t seed, std::uint64_t offset, float keep_prob,
                  Tensor mask);

// float64, on the CPU backend only (gradient checks of engines).
void dropout_mask(Context& ctx, std::uint64_t seed, std::uint64_t offset, double keep_prob,
                  TensorView<double> mask);

// The same mask with the offset offset[0] + offset_add, where offset[0] is read from memory on
// ctx's device when the kernel runs (for a step captured into a CUDA Graph; on the CPU, read
// now). Bitwise the mask of dropout_mask(ctx, seed, offset[0] + offset_add, ...). The caller
// keeps the sum below 2^62 (checked here on the CPU only).
void dropout_mask(Context& ctx, std::uint64_t seed, DeviceScalar<std::uint64_t> offset,
                  std::uint64_t offset_add, float keep_prob, Tensor mask);
void dropout_mask(Context& ctx, std::uint64_t seed, DeviceScalar<std::uint64_t> offset,
                  std::uint64_t offset_add, double keep_prob, TensorView<double> mask);

}  // namespace curnn::ops
