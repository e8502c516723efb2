// The book's BiLSTM MNIST classifier (curnn/nn/bilstm_classifier.hpp) on the GPU at its shapes
// (T 28 rows of E 28 pixels, H 256 per direction, 10 classes; batch 128, and 512 to see how it
// scales): one training step (forward, backward, Adam) and one evaluation forward, through the
// shipped engine. Counter: samples/s (the figure to set against PyTorch's bidirectional
// nn.LSTM / cuDNN in bench/pytorch_baseline.py). The training step per recurrent loop (auto =
// per step, or persistent: curnn-mnist --recurrent) and with the step as one CUDA Graph replay
// (curnn-mnist --graph on). Every case reads Adam's step size (t = 1) from device memory, as a
// graph must, and keeps its minibatch on the device. Also the concat family at the BiLSTM's join,
// in GB/s (bytes read + written = 2 * 4 * N * (Ca + Cb)).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/graph.hpp"
#include "curnn/nn/bilstm_classifier.hpp"
#include "curnn/nn/persistent_loop.hpp"
#include "curnn/ops/concat.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ops/reduce.hpp"
#include "support/cuda_timer.hpp"

namespace curnn {
namespace {

void BM_BiLstmClassifier(benchmark::State& state, bool training,
                         nn::RecurrentMode mode = nn::RecurrentMode::Auto, bool graph = false) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int B = static_cast<int>(state.range(0)), H = static_cast<int>(state.range(1));
  const int T = 28, E = 28;
  Context ctx = Context::cuda();
  if (mode == nn::RecurrentMode::Persistent) {
    const std::string why = nn::persistent_loop_unsupported(ctx, B, H);
    if (!why.empty()) return state.SkipWithError(why.c_str());
  }
  nn::ClassifierConfig cfg;
  cfg.hidden_size = H;
  nn::BiLstmClassifier<float> model(ctx, cfg, mode);
  model.initialize(ctx, 1);
  std::vector<float> x(static_cast<std::size_t>(T) * B * E);
  std::vector<std::int32_t> labels(B);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 255) / 255.0f;
  for (int b = 0; b < B; ++b) labels[b] = b % 10;
  // The minibatch on the device (a graph replays device-side copies only).
  const Buffer<float> x_device = to_buffer(ctx, x);
  const Buffer<std::int32_t> labels_device = to_buffer(ctx, labels);
  const Buffer<float> step_size =
      to_buffer(ctx, std::vector<float>{ops::adam_step_size_f32(cfg.adam, 1)});
  const ConstTensor xv(x_device.data(), {T, B, E}, Device::CUDA);
  const ConstIds yv(labels_device.data(), {B}, Device::CUDA);
  StepGraphCache<int> graphs;
  const auto step = [&] {
    model.forward(ctx, xv, yv, training);
    if (training) {
      model.backward(ctx);
      model.adam_step(ctx, DeviceScalar<float>{step_size.data()});
    }
  };
  const auto run = [&] {
    if (graph) {
      graphs.run(ctx, 0, step);
    } else {
      step();
    }
  };
  for (int i = 0; i < 3; ++i) run();  // warm-up (allocations, cuBLAS heuristics; the capture)
  ctx.synchronize();
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
  if (graph && graphs.stats().captures != 1) state.SkipWithError("captured more than once");
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(B), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ConcatColumns(benchmark::State& state, bool split) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const std::int64_t N = state.range(0), Ca = state.range(1), Cb = state.range(2);
  Context ctx = Context::cuda();
  Buffer<float> a(Device::CUDA, N * Ca), b(Device::CUDA, N * Cb), wide(Device::CUDA, N * (Ca + Cb));
  ops::fill(ctx, a.view(), 1.0f);
  ops::fill(ctx, b.view(), 2.0f);
  ops::fill(ctx, wide.view(), 3.0f);
  const auto run = [&] {
    if (split) {
      ops::split_columns(ctx, wide.view({N, Ca + Cb}), a.view({N, Ca}), b.view({N, Cb}));
    } else {
      ops::concat_columns(ctx, a.view({N, Ca}), b.view({N, Cb}), wide.view({N, Ca + Cb}));
    }
  };
  for (int i = 0; i < 10; ++i) run();
  ctx.synchronize();
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
  state.counters["GB/s"] =
      benchmark::Counter(8.0 * N * (Ca + Cb), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_BiLstmClassifier, train_step, true)
    ->ArgNames({"B", "H"})
    ->Args({128, 256})
    ->Args({512, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_BiLstmClassifier, train_step_graph, true, nn::RecurrentMode::Auto, true)
    ->ArgNames({"B", "H"})
    ->Args({128, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_BiLstmClassifier, train_step_persistent, true, nn::RecurrentMode::Persistent,
                  false)
    ->ArgNames({"B", "H"})
    ->Args({128, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_BiLstmClassifier, train_step_persistent_graph, true,
                  nn::RecurrentMode::Persistent, true)
    ->ArgNames({"B", "H"})
    ->Args({128, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_BiLstmClassifier, eval_forward, false)
    ->ArgNames({"B", "H"})
    ->Args({128, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_ConcatColumns, concat, false)
    ->ArgNames({"N", "Ca", "Cb"})
    ->Args({28 * 128, 256, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_ConcatColumns, split, true)
    ->ArgNames({"N", "Ca", "Cb"})
    ->Args({28 * 128, 256, 256})
    ->UseManualTime();

}  // namespace
}  // namespace curnn
