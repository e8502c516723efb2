// Helpers for kernel-vs-reference tests. Test names contain "Cuda"; without a device they skip.
#pragma once

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"

#define CURNN_REQUIRE_CUDA()                                                 \
  do {                                                                       \
    if (!::curnn::cuda_available()) GTEST_SKIP() << "no CUDA device";        \
  } while (0)

namespace curnn::test {

// The context of the context-free uploads below: its own stream, never destroyed (so that no
// CUDA call runs while the runtime shuts down at exit).
inline const Context& upload_context() {
  static const Context* ctx = new Context(Context::cuda());
  return *ctx;
}

// Device buffer holding a copy of `host`, complete when the call returns (it waits for its own
// upload), so any context's later work sees it. tests/cuda_upload.hpp's upload(ctx, host) is the
// variant queued on a given context without a wait.
template <class T>
Buffer<T> device_copy(const std::vector<T>& host) {
  const Context& ctx = upload_context();
  Buffer<T> b = to_buffer(ctx, host);
  ctx.synchronize();
  return b;
}

// Device buffer of n NaNs (or n copies of `fill`), so unwritten outputs fail comparisons.
template <class T = float>
Buffer<T> device_poisoned(std::size_t n, T fill = std::numeric_limits<T>::quiet_NaN()) {
  return device_copy(std::vector<T>(n, fill));
}

// Waits for `ctx` (reporting its invalid ids, see Context::id_error_slot) and copies the whole
// buffer back.
template <class T>
std::vector<T> host_copy(const Context& ctx, const Buffer<T>& b) {
  return to_vector(ctx, b.view());
}
template <class T>
std::vector<T> host_copy(const Context& ctx, TensorView<const T> v) {
  return to_vector(ctx, v);
}

}  // namespace curnn::test
