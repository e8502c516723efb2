// Exponentials of float arrays with libm's exact results: y[i] = expf(x[i]) bit for bit, a vector
// at a time. The CPU backend's loops call it where the reference calls std::exp(float), so they
// keep the reference's numbers (see vec_exp.cpp for the method and its limits). Tests:
// tests/vec_exp_test.cpp (sweeps), tests/exhaustive/vec_exhaustive.cpp (all 2^32 inputs).
#pragma once

#include <cstdint>

namespace curnn::host::vec {

// y[i] = std::exp(x[i]) for i < n, bitwise; x == y (in place) is allowed, other overlaps not.
void exp(std::int64_t n, const float* x, float* y);

// Which implementation exp() runs on this machine: "avx512", "avx2" or "libm" (no vector unit
// that can reproduce libm's expf, or the self-check at first use found a difference).
const char* exp_implementation();

// Test hooks: each vector implementation on its own (n, x, y as exp()); false, without writing
// y, when this CPU cannot run it.
bool exp_avx512(std::int64_t n, const float* x, float* y);
bool exp_avx2(std::int64_t n, const float* x, float* y);

}  // namespace curnn::host::vec
