// Dropout-mask generation through ops::dropout_mask, timed with CUDA events. GB/s counts the
// mask written (4 bytes per element). Sizes: one PTB layer's masks for a whole window,
// [num_steps * batch, H] = 20*200*20 (small), 20*650*35 (medium), 20*1500*35 (large).
#include <benchmark/benchmark.h>

#include "curnn/context.hpp"
#include "curnn/ops/dropout.hpp"
#include "support/cuda_timer.hpp"

namespace curnn {
namespace {

void BM_DropoutMask(benchmark::State& state) {
  if (!cuda_available()) return state.SkipWithError("no CUDA device");
  Context ctx = Context::cuda();
  const std::int64_t n = state.range(0);
  Buffer<float> mask(Device::CUDA, static_cast<std::size_t>(n));
  std::uint64_t offset = 0;
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    ops::dropout_mask(ctx, 1234, offset++, 0.5f, mask.view());
    state.SetIterationTime(timer.seconds());
  }
  state.counters["GB/s"] =
      benchmark::Counter(4.0 * n, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["elements/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_DropoutMask)
    ->ArgName("n")
    ->Arg(20 * 200 * 20)
    ->Arg(20 * 650 * 35)
    ->Arg(20 * 1500 * 35)
    ->UseManualTime();

}  // namespace
}  // namespace curnn
