// Uploads for CUDA tests, queued on the context's own stream (ordered before every later op of
// that context without a host wait). The GPU runs first found the race this avoided: a
// cudaMemcpy from pageable memory on the legacy stream could land after a kernel on a
// non-blocking Context stream. core copy() now waits for null-stream copies, so
// test::device_copy / device_poisoned are safe as well; these are the stream-ordered variant.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"

namespace curnn::test {

template <class T>
Buffer<T> upload(const Context& ctx, const std::vector<T>& host) {
  Buffer<T> b(Device::CUDA, host.size());
  copy(TensorView<const T>(host.data(), {static_cast<std::int64_t>(host.size())}, Device::CPU),
       b.view(), ctx.stream());
  return b;
}

// n NaNs on the device, ordered on ctx's stream, so that unwritten outputs fail comparisons.
inline Buffer<float> upload_poisoned(const Context& ctx, std::size_t n) {
  return upload(ctx, std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()));
}

}  // namespace curnn::test
