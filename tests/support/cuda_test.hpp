// Helpers for kernel-vs-reference tests. Test names contain "Cuda"; without a device they skip,
// or FAIL when CURNN_REQUIRE_GPU=1 (scripts/device-check.sh sets it: on a GPU machine a skipped
// GPU test must not pass for a verified one).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/config.hpp"
#include "curnn/context.hpp"

#if CURNN_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace curnn::test {

// True when the environment variable CURNN_REQUIRE_GPU is set to anything but "" or "0".
inline bool gpu_required() {
  const char* v = std::getenv("CURNN_REQUIRE_GPU");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

// Why no CUDA device can be used: the CUDA runtime's answer to cudaGetDeviceCount (e.g. "CUDA
// driver version is insufficient for CUDA runtime version"), or that this build has no CUDA.
inline std::string cuda_unavailable_reason() {
#if CURNN_HAVE_CUDA
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
  }
  return "cudaGetDeviceCount found " + std::to_string(count) + " devices";
#else
  return "built without the CUDA backend";
#endif
}

}  // namespace curnn::test

// First statement of every GPU test: skips it without a device, or fails it with the reason when
// CURNN_REQUIRE_GPU=1.
#define CURNN_REQUIRE_CUDA()                                                           \
  do {                                                                                 \
    if (!::curnn::cuda_available()) {                                                  \
      if (::curnn::test::gpu_required()) {                                             \
        GTEST_FAIL() << "no CUDA device (" << ::curnn::test::cuda_unavailable_reason() \
                     << "), and CURNN_REQUIRE_GPU=1 forbids skipping GPU tests";       \
      }                                                                                \
      GTEST_SKIP() << "no CUDA device";                                                \
    }                                                                                  \
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
