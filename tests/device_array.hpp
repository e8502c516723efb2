// DeviceArray: a float array on the GPU for kernel tests, uploaded on a context's stream (so
// kernels queued after it on that stream see the data), optionally at an element offset inside
// its buffer (offset 1 misaligns it by 4 bytes, to exercise the kernels' scalar paths).
#pragma once

#include <algorithm>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn::test {

struct DeviceArray {
  Buffer<float> buffer;
  int offset = 0;
  DeviceArray(const Context& ctx, const std::vector<float>& host, int off = 0)
      : buffer(Device::CUDA, host.size() + off), offset(off) {
    std::vector<float> padded(host.size() + off, 0.f);
    std::copy(host.begin(), host.end(), padded.begin() + off);
    copy(ctx, ConstTensor(padded.data(), {static_cast<std::int64_t>(padded.size())}, Device::CPU),
         buffer.view());
  }
  float* data() { return buffer.data() + offset; }
  Tensor view(std::int64_t rows, std::int64_t cols) {
    return Tensor(data(), {rows, cols}, Device::CUDA);
  }
  Tensor view(std::int64_t n) { return Tensor(data(), {n}, Device::CUDA); }
  std::vector<float> host(const Context& ctx) {
    std::vector<float> all = host_copy(ctx, buffer);
    return std::vector<float>(all.begin() + offset, all.end());
  }
};
// n NaNs at `offset`: outputs that a kernel leaves unwritten fail the comparisons.
inline DeviceArray poisoned(const Context& ctx, std::size_t n, int offset = 0) {
  return DeviceArray(ctx, nan_filled<float>(n), offset);
}

}  // namespace curnn::test
