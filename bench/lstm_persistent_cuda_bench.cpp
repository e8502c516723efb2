// The persistent LSTM loop (kernels/lstm_persistent.cu) against the per-step loop (one cuBLAS
// GEMM + one fused cell launch per step), at the experiments' shapes:
//  - PTB small: T 20 (and 35), B 20, H 200, E 200; the batch-1 test pass (T 1, B 1);
//  - the BiLSTM: T 28, B 128, H 256, E 28 (one direction; and both directions of the recurrence
//    in one persistent launch against two launches).
// Layer: one nn::LstmLayer forward + backward (input-projection GEMM, the loop, and the weight-
// gradient GEMMs), as a training step runs it. Loop: the recurrent loop alone, forward or
// backward, on a tape prepared once (pre restored before each timed forward, outside the timer).
// Counters: words/s (T * B per iteration: PTB's unit), steps/s (T per iteration) and us/step.
// The data are L2-resident (as in training); time is latency, not bandwidth. The predictions
// these measure are in the design notes of kernels/lstm_persistent.cu.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/cuda/lstm_persistent.hpp"
#include "curnn/nn/lstm.hpp"
#include "curnn/nn/persistent_loop.hpp"
#include "support/cuda_timer.hpp"
#include "support/kernel_bench.hpp"

namespace curnn {
namespace {

using nn::RecurrentMode;

void set_counters(benchmark::State& state, int T, int B) {
  state.counters["words/s"] =
      benchmark::Counter(static_cast<double>(T) * B, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(T), benchmark::Counter::kIsIterationInvariantRate);
  // kInvert of a rate: seconds / (1e-6 T * iterations) = microseconds per step.
  state.counters["us/step"] = benchmark::Counter(
      1e-6 * T, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

bool skip_without_persistent(benchmark::State& state, RecurrentMode mode, int B, int H) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return true;
  }
  if (mode == RecurrentMode::Persistent) {
    std::string why;
    if (!cuda::plan_persistent_lstm(B, H, 1, &why)) {
      state.SkipWithError(why.c_str());
      return true;
    }
  }
  return false;
}

// One layer's weights, input and gradients on the device.
struct LayerData {
  LayerData(const Context& ctx, int T, int B, int E, int H)
      : T(T),
        B(B),
        E(E),
        H(H),
        wx(bench::random_device_buffer(ctx, static_cast<std::size_t>(E) * 4 * H, -0.1f, 0.1f, 1)),
        wh(bench::random_device_buffer(ctx, static_cast<std::size_t>(H) * 4 * H, -0.1f, 0.1f, 2)),
        bias(bench::random_device_buffer(ctx, 4 * H, -0.1f, 0.1f, 3)),
        x(bench::random_device_buffer(ctx, static_cast<std::size_t>(T) * B * E, -1, 1, 4)),
        dy(bench::random_device_buffer(ctx, static_cast<std::size_t>(T) * B * H, -1, 1, 5)),
        dx(Device::CUDA, static_cast<std::size_t>(T) * B * E),
        dwx(Device::CUDA, wx.size()),
        dwh(Device::CUDA, wh.size()),
        dbias(Device::CUDA, bias.size()) {}
  nn::LstmWeights<float> weights() {
    return {wx.view({E, 4 * H}), wh.view({H, 4 * H}), bias.view({4 * H})};
  }
  nn::LstmWeights<float> grads() {
    return {dwx.view({E, 4 * H}), dwh.view({H, 4 * H}), dbias.view({4 * H})};
  }
  int T, B, E, H;
  Buffer<float> wx, wh, bias, x, dy, dx, dwx, dwh, dbias;
};

// A layer forward + backward (what a training step runs per layer and direction).
void BM_LayerForwardBackward(benchmark::State& state, RecurrentMode mode) {
  const int T = static_cast<int>(state.range(0)), B = static_cast<int>(state.range(1));
  const int H = static_cast<int>(state.range(2)), E = static_cast<int>(state.range(3));
  if (skip_without_persistent(state, mode, B, H)) return;
  Context ctx = Context::cuda();
  LayerData d(ctx, T, B, E, H);
  nn::LstmLayer<float> layer(E, H, 1.0f, nn::Direction::Forward,
                             nn::make_recurrent_loop<float>(mode));
  const auto step = [&] {
    // As the engines call it without dropout: no y (the outputs stay in the tape).
    layer.forward(ctx, d.weights(), d.x.view({T, B, E}), {}, {}, {}, {}, {});
    layer.backward(ctx, d.weights(), d.grads(), Write::Overwrite, d.x.view({T, B, E}),
                   d.dy.view({T, B, H}), {}, {}, d.dx.view({T, B, E}), {}, {});
  };
  for (int i = 0; i < 3; ++i) step();  // warm-up: allocations, cuBLAS heuristics, module load
  ctx.synchronize();
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    step();
    state.SetIterationTime(timer.seconds());
  }
  set_counters(state, T, B);
}

// The recurrent loop alone, forward or backward, on a tape set up by one layer forward.
void BM_Loop(benchmark::State& state, RecurrentMode mode, bool backward) {
  const int T = static_cast<int>(state.range(0)), B = static_cast<int>(state.range(1));
  const int H = static_cast<int>(state.range(2)), E = H;
  if (skip_without_persistent(state, mode, B, H)) return;
  Context ctx = Context::cuda();
  LayerData d(ctx, T, B, E, H);
  std::unique_ptr<nn::RecurrentLoop<float>> loop = nn::make_recurrent_loop<float>(mode);
  nn::LstmTape<float> tape;
  tape.reserve(Device::CUDA, T, B, H);
  Buffer<float> pre = bench::random_device_buffer(ctx, tape.pre.size(), -1, 1, 6);
  Buffer<float> init = bench::random_device_buffer(ctx, tape.h.size(), -0.5f, 0.5f, 7);
  copy(ctx, init.view(), tape.h.view());
  copy(ctx, init.view(), tape.c.view());
  Buffer<float> dh(Device::CUDA, static_cast<std::size_t>(B) * H),
      dc(Device::CUDA, static_cast<std::size_t>(B) * H);
  const nn::LstmWeights<float> w = d.weights();
  const auto restore_pre = [&] {  // the per-step forward accumulates h Wh into pre
    copy(ctx, pre.view(), tape.pre.view());
  };
  const auto run = [&] {
    if (backward) {
      loop->backward(ctx, w, nn::Direction::Forward, tape, d.dy.view({T, B, H}), {}, {},
                     dh.view({B, H}), dc.view({B, H}));
    } else {
      loop->forward(ctx, w, 1.0f, nn::Direction::Forward, tape, {}, {}, {});
    }
  };
  restore_pre();
  loop->forward(ctx, w, 1.0f, nn::Direction::Forward, tape, {}, {}, {});  // the tape
  for (int i = 0; i < 3; ++i) {
    if (!backward) restore_pre();
    run();
  }
  ctx.synchronize();
  for (auto _ : state) {
    if (!backward) restore_pre();
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
  set_counters(state, T, B);
}

// Both directions of a BiLSTM's recurrence: one persistent launch of two directions against
// two launches (forward and backward loops), with the same plan.
void BM_TwoDirections(benchmark::State& state, bool one_launch) {
  const int T = static_cast<int>(state.range(0)), B = static_cast<int>(state.range(1));
  const int H = static_cast<int>(state.range(2));
  if (skip_without_persistent(state, RecurrentMode::Persistent, B, H)) return;
  Context ctx = Context::cuda();
  std::string why;
  const cuda::persistent::Plan plan = cuda::plan_persistent_lstm(B, H, 2, &why);
  LayerData d(ctx, T, B, H, H);
  nn::LstmTape<float> tapes[2];
  Buffer<float> dh[2], dc[2];
  cuda::PersistentLstmDirection dirs[2];
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  for (int i = 0; i < 2; ++i) {
    tapes[i].reserve(Device::CUDA, T, B, H);
    Buffer<float> fill = bench::random_device_buffer(ctx, tapes[i].h.size(), -0.5f, 0.5f, 8 + i);
    copy(ctx, fill.view(), tapes[i].h.view());
    copy(ctx, fill.view(), tapes[i].c.view());
    Buffer<float> pre = bench::random_device_buffer(ctx, tapes[i].pre.size(), -1, 1, 10 + i);
    copy(ctx, pre.view(), tapes[i].pre.view());
    ctx.synchronize();
    dh[i] = Buffer<float>(Device::CUDA, BH);
    dc[i] = Buffer<float>(Device::CUDA, BH);
    dirs[i] = nn::persistent_direction(
        d.weights(), i ? nn::Direction::Reverse : nn::Direction::Forward, tapes[i]);
    dirs[i].dy = d.dy.data();  // no mask, no y: the outputs stay in the tapes (as in the BiLSTM)
    dirs[i].dh_first = dh[i].data(), dirs[i].dc_first = dc[i].data();
  }
  // Each backward leaves dPre in pre, which the next forward reads as x Wx: bounded values,
  // the same work.
  const auto run = [&] {
    if (one_launch) {
      cuda::persistent_lstm_forward(plan, T, B, H, 1.0f, dirs, 2, ctx.stream());
      cuda::persistent_lstm_backward(plan, T, B, H, dirs, 2, ctx.stream());
    } else {
      for (int i = 0; i < 2; ++i) {
        cuda::persistent_lstm_forward(plan, T, B, H, 1.0f, &dirs[i], 1, ctx.stream());
        cuda::persistent_lstm_backward(plan, T, B, H, &dirs[i], 1, ctx.stream());
      }
    }
  };
  for (int i = 0; i < 3; ++i) run();
  ctx.synchronize();
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
  set_counters(state, T, 2 * B);
  state.SetLabel(std::to_string(plan.batch_clusters) + " clusters of " +
                 std::to_string(plan.cluster_size) + " per direction");
}

#define CURNN_LAYER_SHAPES       \
  ArgNames({"T", "B", "H", "E"}) \
      ->Args({20, 20, 200, 200}) \
      ->Args({35, 20, 200, 200}) \
      ->Args({1, 1, 200, 200})   \
      ->Args({28, 128, 256, 28}) \
      ->UseManualTime()

BENCHMARK_CAPTURE(BM_LayerForwardBackward, per_step, RecurrentMode::PerStep)->CURNN_LAYER_SHAPES;
BENCHMARK_CAPTURE(BM_LayerForwardBackward, persistent, RecurrentMode::Persistent)
    ->CURNN_LAYER_SHAPES;

#define CURNN_LOOP_SHAPES \
  ArgNames({"T", "B", "H"})->Args({20, 20, 200})->Args({28, 128, 256})->UseManualTime()

BENCHMARK_CAPTURE(BM_Loop, forward_per_step, RecurrentMode::PerStep, false)->CURNN_LOOP_SHAPES;
BENCHMARK_CAPTURE(BM_Loop, forward_persistent, RecurrentMode::Persistent, false)->CURNN_LOOP_SHAPES;
BENCHMARK_CAPTURE(BM_Loop, backward_per_step, RecurrentMode::PerStep, true)->CURNN_LOOP_SHAPES;
BENCHMARK_CAPTURE(BM_Loop, backward_persistent, RecurrentMode::Persistent, true)->CURNN_LOOP_SHAPES;

BENCHMARK_CAPTURE(BM_TwoDirections, two_launches, false)
    ->ArgNames({"T", "B", "H"})
    ->Args({28, 128, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_TwoDirections, one_launch, true)
    ->ArgNames({"T", "B", "H"})
    ->Args({28, 128, 256})
    ->UseManualTime();

}  // namespace
}  // namespace curnn
