// CudaEventTimer: times GPU work on a stream with CUDA events, for Google Benchmark's
// UseManualTime(). Usage:
//   for (auto _ : state) { CudaEventTimer t(ctx.stream()); launch(...);
//   state.SetIterationTime(t.seconds()); }
#pragma once

#include <cuda_runtime_api.h>

#include "curnn/cuda/check.hpp"

namespace curnn::bench {

class CudaEventTimer {
 public:
  explicit CudaEventTimer(cudaStream_t stream) : stream_(stream) {
    CURNN_CUDA_CHECK(cudaEventCreate(&start_));
    CURNN_CUDA_CHECK(cudaEventCreate(&stop_));
    CURNN_CUDA_CHECK(cudaEventRecord(start_, stream_));
  }
  ~CudaEventTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  CudaEventTimer(const CudaEventTimer&) = delete;
  CudaEventTimer& operator=(const CudaEventTimer&) = delete;
  // Records the stop event, waits for it, and returns the elapsed seconds.
  double seconds() {
    CURNN_CUDA_CHECK(cudaEventRecord(stop_, stream_));
    CURNN_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0.f;
    CURNN_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3;
  }

 private:
  cudaStream_t stream_;
  cudaEvent_t start_{}, stop_{};
};

}  // namespace curnn::bench
