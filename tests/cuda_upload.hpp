// Uploads for CUDA tests, queued on the context's own stream (ordered before every later op of
// that context without a host wait). The GPU runs first found the race that copies on another
// stream invite: a cudaMemcpy from pageable memory on the legacy stream could land after a
// kernel on a non-blocking Context stream. copy() now always takes a Context; test::device_copy /
// device_poisoned (support/cuda_test.hpp) wait for their own upload instead.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"

namespace curnn::test {

template <class T>
Buffer<T> upload(const Context& ctx, const std::vector<T>& host) {
  return to_buffer(ctx, host);
}

// n NaNs on the device, ordered on ctx's stream, so that unwritten outputs fail comparisons.
inline Buffer<float> upload_poisoned(const Context& ctx, std::size_t n) {
  return upload(ctx, std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()));
}

}  // namespace curnn::test
