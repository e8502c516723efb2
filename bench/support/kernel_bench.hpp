// Helpers for kernel benchmarks (Google Benchmark + CudaEventTimer):
// - L2Flush: evicts the GPU's L2 by writing a buffer twice its size on the stream before a timed
//   iteration, so that the kernel reads its inputs from HBM (cold-cache time, honest GB/s);
// - random_device_buffer: a device buffer of uniform random floats (inputs never all zeros);
// - set_bandwidth: the GB/s counter from the bytes that must move per iteration.
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/cuda/check.hpp"

namespace curnn::bench {

class L2Flush {
 public:
  L2Flush() {
    int device = 0, l2 = 0;
    CURNN_CUDA_CHECK(cudaGetDevice(&device));
    CURNN_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
    bytes_ = 2 * static_cast<std::size_t>(l2 > 0 ? l2 : (64 << 20));
    buffer_ = Buffer<std::byte>(Device::CUDA, bytes_);
  }
  // Queues the flush on `stream` (call before starting the timer).
  void operator()(cudaStream_t stream) {
    CURNN_CUDA_CHECK(cudaMemsetAsync(buffer_.data(), ++value_ & 0xff, bytes_, stream));
  }

 private:
  std::size_t bytes_ = 0;
  Buffer<std::byte> buffer_;
  int value_ = 0;
};

inline Buffer<float> random_device_buffer(std::size_t n, float lo, float hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> host(n);
  for (float& v : host) v = d(rng);
  return to_buffer(host, Device::CUDA);
}

inline void set_bandwidth(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB/s"] =
      benchmark::Counter(bytes_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace curnn::bench
