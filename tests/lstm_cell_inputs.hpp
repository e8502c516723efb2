// Random inputs of the LSTM cell tests, shared by tests/lstm_cell_test.cpp (reference gradient
// checks) and tests/lstm_cell_cuda_test.cpp (kernels against the reference).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "support/random.hpp"

namespace curnn::test {

// Inverted-dropout mask [n]: 1/keep with probability keep, else 0 (always some of each for n > 4).
template <class T>
std::vector<T> dropout_mask(std::size_t n, double keep, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution d(keep);
  std::vector<T> m(n);
  for (std::size_t i = 0; i < n; ++i) m[i] = d(rng) ? static_cast<T>(1.0 / keep) : T(0);
  if (n > 4) m[0] = T(0), m[1] = static_cast<T>(1.0 / keep);
  return m;
}

// Forward inputs of one cell: pre-activations [B, 4H] wide enough to reach the saturated parts
// of sigmoid and tanh, bias [4H], c_prev [B, H], and (with_mask) a keep 0.6 mask [B, H].
template <class T>
struct LstmCellInputs {
  int B = 0, H = 0;
  std::vector<T> preact, bias, c_prev, mask;
};

template <class T>
LstmCellInputs<T> lstm_cell_inputs(int B, int H, bool with_mask, std::uint64_t seed) {
  LstmCellInputs<T> in;
  in.B = B;
  in.H = H;
  const std::size_t units = static_cast<std::size_t>(B) * H;
  in.preact = random_uniform<T>(4 * units, -3, 3, seed);
  in.bias = random_uniform<T>(4 * static_cast<std::size_t>(H), -0.5, 0.5, seed + 1);
  in.c_prev = random_uniform<T>(units, -2, 2, seed + 2);
  if (with_mask) in.mask = dropout_mask<T>(units, 0.6, seed + 3);
  return in;
}

// nullptr for an absent (empty) optional input.
template <class T>
const T* data_or_null(const std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

}  // namespace curnn::test
