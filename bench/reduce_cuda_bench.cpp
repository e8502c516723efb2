// Deterministic reductions through ops::: column_sum at the engine's bias-gradient shapes
// (T*B rows x 4H or V columns) and sum / sum_squares over 1M to 64M floats; axpy for the
// elementwise path. L2 is flushed before each timed iteration. GB/s counts the bytes that must
// move: column_sum N*C*4 read + C*4 written (accumulate = false); sum N*4 read; axpy 3*N*4 (x, y
// read; y written). Small shapes are launch-latency bound.
#include <benchmark/benchmark.h>

#include "curnn/context.hpp"
#include "curnn/ops/reduce.hpp"
#include "support/cuda_timer.hpp"
#include "support/kernel_bench.hpp"

namespace curnn {
namespace {

// Times `run` (one op on ctx's stream) per iteration, after a warm-up, with a cold L2.
template <class Run>
void time_op(benchmark::State& state, Context& ctx, Run run) {
  bench::L2Flush flush(ctx);
  run();
  for (auto _ : state) {
    flush();
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
}

void BM_ColumnSum(benchmark::State& state) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int N = static_cast<int>(state.range(0)), C = static_cast<int>(state.range(1));
  Context ctx = Context::cuda();
  auto x = bench::random_device_buffer(ctx, static_cast<std::size_t>(N) * C, -1, 1, 1);
  Buffer<float> out(Device::CUDA, C);
  time_op(state, ctx, [&] { ops::column_sum(ctx, x.view({N, C}), out.view({C}), false); });
  bench::set_bandwidth(state, 4.0 * (static_cast<double>(N) * C + C));
}

void BM_Sum(benchmark::State& state) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const std::int64_t N = state.range(0);
  const bool squares = state.range(1) != 0;
  Context ctx = Context::cuda();
  auto x = bench::random_device_buffer(ctx, N, -1, 1, 2);
  Buffer<float> out(Device::CUDA, 1);
  time_op(state, ctx, [&] {
    if (squares) {
      ops::sum_squares(ctx, x.view({N}), out.view({1}));
    } else {
      ops::sum(ctx, x.view({N}), out.view({1}));
    }
  });
  bench::set_bandwidth(state, 4.0 * N);
}

void BM_Axpy(benchmark::State& state) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const std::int64_t N = state.range(0);
  Context ctx = Context::cuda();
  auto x = bench::random_device_buffer(ctx, N, -1, 1, 3);
  auto y = bench::random_device_buffer(ctx, N, -1, 1, 4);
  time_op(state, ctx, [&] { ops::axpy(ctx, 1e-3f, x.view({N}), y.view({N})); });
  bench::set_bandwidth(state, 12.0 * N);
}

BENCHMARK(BM_ColumnSum)
    ->ArgNames({"N", "C"})
    ->Args({400, 800})
    ->Args({700, 2600})
    ->Args({700, 6000})
    ->Args({700, 10000})
    ->Args({3584, 1024})
    ->Args({8192, 8192})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sum)
    ->ArgNames({"N", "squares"})
    ->Args({1 << 20, 0})
    ->Args({10'000'000, 0})
    ->Args({10'000'000, 1})
    ->Args({64 << 20, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Axpy)->Arg(10'000'000)->Arg(64 << 20)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace curnn
