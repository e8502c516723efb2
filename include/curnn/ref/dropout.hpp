// CPU reference dropout masks: mask[i] = 1/keep_prob with probability keep_prob, else 0, so that
// x * mask keeps E[x * mask] = x (inverted dropout, as tf.nn.dropout).
// Kernel: kernels/dropout.cu (cuRAND Philox4_32_10). Ops: include/curnn/ops/dropout.hpp.
// Tests: tests/dropout_test.cpp (statistics of this generator), tests/dropout_cuda_test.cpp.
//
// The CPU generator: std::mt19937_64 seeded with splitmix64(seed ^ splitmix64(offset)); element
// i draws u_i = (next() >> 11) * 2^-53, uniform on [0, 1), and is kept iff u_i < keep_prob
// (so keep_prob == 1 keeps everything). A mask is a function of (seed, offset, N) alone. The
// CUDA masks come from another generator: CPU and GPU masks are each reproducible from
// (seed, offset) but are not equal to each other.
#pragma once

#include <cstdint>
#include <random>

namespace curnn::ref {

// SplitMix64's output function (Steele, Lea, Flood 2014): a bijective 64-bit mixer.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// mask[N] = 0 or 1/keep_prob, keep_prob in (0, 1].
template <class T>
void dropout_mask(std::uint64_t seed, std::uint64_t offset, T keep_prob, T* mask /* [N] */,
                  std::int64_t N) {
  std::mt19937_64 rng(splitmix64(seed ^ splitmix64(offset)));
  const T kept = T(1) / keep_prob;
  for (std::int64_t i = 0; i < N; ++i) {
    const double u = static_cast<double>(rng() >> 11) * 0x1p-53;
    mask[i] = u < static_cast<double>(keep_prob) ? kept : T(0);
  }
}

}  // namespace curnn::ref
