// Hyperbolic tangents of float arrays with libm's exact results: y[i] = tanhf(x[i]) bit for bit,
// 8 at a time. The CPU LSTM cell calls it where the reference calls std::tanh(float), so it keeps
// the reference's numbers (vec_tanh.cpp: the method and its limits). Tests:
// tests/vec_tanh_test.cpp (sweeps), tests/exhaustive/vec_exhaustive.cpp (all 2^32 inputs).
#pragma once

#include <cstdint>

namespace curnn::host::vec {

// y[i] = std::tanh(x[i]) for i < n, bitwise; x == y (in place) is allowed, other overlaps not.
void tanh(std::int64_t n, const float* x, float* y);

// "avx2", or "libm" (no AVX2, or the self-check at first use found a difference).
const char* tanh_implementation();

// Test hook: the AVX2 implementation on its own; false, without writing y, on a CPU without it.
bool tanh_avx2(std::int64_t n, const float* x, float* y);

}  // namespace curnn::host::vec
