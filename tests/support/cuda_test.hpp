// Helpers for kernel-vs-reference tests. Test names contain "Cuda"; without a device they skip.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"

#define CURNN_REQUIRE_CUDA()                                                 \
  do {                                                                       \
    if (!::curnn::cuda_available()) GTEST_SKIP() << "no CUDA device";        \
  } while (0)

namespace curnn::test {

// Device buffer holding a copy of `host`.
template <class T>
Buffer<T> device_copy(const std::vector<T>& host) {
  return to_buffer(host, Device::CUDA);
}

// Device buffer of n NaNs (or n copies of `fill`), so unwritten outputs fail comparisons.
template <class T = float>
Buffer<T> device_poisoned(std::size_t n, T fill = std::numeric_limits<T>::quiet_NaN()) {
  return to_buffer(std::vector<T>(n, fill), Device::CUDA);
}

// Synchronizes `ctx` and copies the whole buffer back.
template <class T>
std::vector<T> host_copy(const Context& ctx, const Buffer<T>& b) {
  ctx.synchronize();
  return to_vector(b.view());
}
template <class T>
std::vector<T> host_copy(const Context& ctx, TensorView<const T> v) {
  ctx.synchronize();
  return to_vector(v);
}

}  // namespace curnn::test
