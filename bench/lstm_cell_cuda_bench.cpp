// LSTM cell pointwise kernels through ops:: at the experiments' shapes: PTB (B 20, H 200 / 650 /
// 1500), BiLSTM MNIST (B 128, H 256), and a large batch (B 1024, H 1500) where bandwidth shows;
// B 1024, H 1499 runs the scalar (non-float4) path at the same size. At B 20 the work is a few
// hundred KB, so these times are launch latency, not bandwidth. L2 is flushed (read over) before
// each timed iteration. GB/s counts the bytes that must move:
//   forward  (4BH preact + 4H bias + BH c_prev) read + (4BH gates + BH c + BH h) written
//            [+ BH mask read + BH h_dropped written]
//   backward (4BH gates + BH c + BH c_prev + BH dh + BH dh_out + BH dc [+ BH mask]) read
//            + (4BH dpreact + BH dc_prev) written
#include <benchmark/benchmark.h>

#include "curnn/context.hpp"
#include "curnn/ops/lstm_cell.hpp"
#include "support/cuda_timer.hpp"
#include "support/kernel_bench.hpp"

namespace curnn {
namespace {

void BM_LstmCellForward(benchmark::State& state) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int B = static_cast<int>(state.range(0)), H = static_cast<int>(state.range(1));
  const bool mask = state.range(2) != 0;
  const std::size_t units = static_cast<std::size_t>(B) * H;
  Context ctx = Context::cuda();
  auto preact = bench::random_device_buffer(ctx, 4 * units, -3, 3, 1);
  auto bias = bench::random_device_buffer(ctx, 4 * H, -0.5f, 0.5f, 2);
  auto c_prev = bench::random_device_buffer(ctx, units, -1, 1, 3);
  auto m = bench::random_device_buffer(ctx, units, 0, 2, 4);
  Buffer<float> gates(Device::CUDA, 4 * units), c(Device::CUDA, units), h(Device::CUDA, units),
      hd(Device::CUDA, units);
  bench::L2Flush flush(ctx);
  auto run = [&] {
    ops::lstm_cell_forward(ctx, preact.view({B, 4 * H}), bias.view({4 * H}), c_prev.view({B, H}),
                           0.f, gates.view({B, 4 * H}), c.view({B, H}), h.view({B, H}),
                           mask ? m.view({B, H}) : ConstTensor{},
                           mask ? hd.view({B, H}) : Tensor{});
  };
  run();  // warm-up
  for (auto _ : state) {
    flush();
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
  bench::set_bandwidth(state, 4.0 * ((4 + 1 + 4 + 1 + 1 + (mask ? 2 : 0)) * units + 4.0 * H));
}

void BM_LstmCellBackward(benchmark::State& state) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int B = static_cast<int>(state.range(0)), H = static_cast<int>(state.range(1));
  const bool mask = state.range(2) != 0;
  const std::size_t units = static_cast<std::size_t>(B) * H;
  Context ctx = Context::cuda();
  auto gates = bench::random_device_buffer(ctx, 4 * units, 0, 1, 1);
  auto c = bench::random_device_buffer(ctx, units, -1, 1, 2);
  auto c_prev = bench::random_device_buffer(ctx, units, -1, 1, 3);
  auto dh = bench::random_device_buffer(ctx, units, -1, 1, 4);
  auto dh_out = bench::random_device_buffer(ctx, units, -1, 1, 5);
  auto dc = bench::random_device_buffer(ctx, units, -1, 1, 6);
  auto m = bench::random_device_buffer(ctx, units, 0, 2, 7);
  Buffer<float> dpreact(Device::CUDA, 4 * units), dc_prev(Device::CUDA, units);
  bench::L2Flush flush(ctx);
  auto run = [&] {
    ops::lstm_cell_backward(ctx, gates.view({B, 4 * H}), c.view({B, H}), c_prev.view({B, H}),
                            dh.view({B, H}), dh_out.view({B, H}),
                            mask ? m.view({B, H}) : ConstTensor{}, dc.view({B, H}),
                            dpreact.view({B, 4 * H}), dc_prev.view({B, H}));
  };
  run();
  for (auto _ : state) {
    flush();
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
  bench::set_bandwidth(state, 4.0 * (4 + 1 + 1 + 3 + (mask ? 1 : 0) + 4 + 1) * units);
}

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "H", "mask"});
  for (const auto& bh : {std::pair{20, 200}, std::pair{20, 650}, std::pair{20, 1500},
                         std::pair{128, 256}, std::pair{1024, 1500}, std::pair{1024, 1499}})
    for (const int mask : {0, 1}) b->Args({bh.first, bh.second, mask});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_LstmCellForward)->Apply(Shapes);
BENCHMARK(BM_LstmCellBackward)->Apply(Shapes);

}  // namespace
}  // namespace curnn
