// Helpers for kernel benchmarks (Google Benchmark + CudaEventTimer):
// - L2Flush: before a timed iteration, reads a buffer twice the size of L2 (with ops::sum) on the
//   context's stream, so the timed kernel reads its inputs from HBM (cold-cache time, honest
//   GB/s). It reads rather than writes, so that L2 holds no dirty lines whose write-back would be
//   charged to the timed kernel; the previous iteration's outputs are evicted during the flush.
// - random_device_buffer: a device buffer of uniform random floats (inputs never all zeros);
// - set_bandwidth: the "GB/s" counter from the bytes that must move per iteration (Google
//   Benchmark prints it as a rate with SI prefixes, e.g. 2.5T/s).
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/cuda/check.hpp"
#include "curnn/ops/reduce.hpp"

namespace curnn::bench {

class L2Flush {
 public:
  explicit L2Flush(Context& ctx) : ctx_(ctx) {
    int device = 0, l2 = 0;
    CURNN_CUDA_CHECK(cudaGetDevice(&device));
    CURNN_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
    const std::size_t bytes = 2 * static_cast<std::size_t>(l2 > 0 ? l2 : (64 << 20));
    buffer_ = ctx.alloc<float>(bytes / sizeof(float));
    sink_ = ctx.alloc<float>(1);
    ops::fill(ctx, buffer_.view(), 1.f);
    (*this)();  // leaves L2 clean
    ctx.synchronize();
  }
  // Queues the flush on the context's stream (call before starting the timer).
  void operator()() { ops::sum(ctx_, buffer_.view(), sink_.view()); }

 private:
  Context& ctx_;
  Buffer<float> buffer_, sink_;
};

inline Buffer<float> random_device_buffer(const Context& ctx, std::size_t n, float lo, float hi,
                                          std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> host(n);
  for (float& v : host) v = d(rng);
  return to_buffer(ctx, host);
}

inline void set_bandwidth(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB/s"] =
      benchmark::Counter(bytes_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace curnn::bench
