// Uploads for the optim and dropout CUDA tests, queued on the context's own stream.
//
// Why not test::device_copy / device_poisoned: they copy with cudaMemcpy on the legacy default
// stream, which for pageable host memory may return before the DMA has landed, and a Context's
// stream is non-blocking (it does not wait for the legacy stream). A kernel queued right after
// such an upload can race with it; on an H100 the NaN poison of device_poisoned landed over part
// of a mask the kernel had already written. An upload queued on ctx.stream() is ordered before
// every later op of that context.
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
