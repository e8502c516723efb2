// Deterministic random test inputs (never all zeros) and NaN poison for outputs.
#pragma once

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "curnn/tensor.hpp"

namespace curnn::test {

template <class T = float>
std::vector<T> random_uniform(std::size_t n, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

inline std::vector<std::int32_t> random_ids(std::size_t n, std::int32_t vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> d(0, vocab - 1);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

template <class T = float>
std::vector<T> nan_filled(std::size_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

// A CPU view of a host vector with the given shape (for driving ops and engines in tests).
template <class T>
TensorView<T> view_of(std::vector<T>& v, std::initializer_list<std::int64_t> shape) {
  return TensorView<T>(v.data(), shape, Device::CPU);
}

template <class To, class From>
std::vector<To> cast(const std::vector<From>& v) {
  return std::vector<To>(v.begin(), v.end());
}

}  // namespace curnn::test
