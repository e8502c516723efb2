// End-to-end PTB language-model training throughput (words/s, wall clock): forward, BPTT,
// global-norm clipping and SGD on one window of num_steps x batch words, for the book's small,
// medium and large configs, on the CPU backend and (when present) on CUDA. Random word ids stand
// in for PTB (the cost does not depend on which words). Wall-clock per iteration includes the
// host's launch overhead: the context is synchronized at the end of every step. The cuda_*_graph
// cases run the same step as one CUDA Graph replay (include/curnn/graph.hpp, curnn-ptb --graph
// on): the ids and the dropout offset from page-locked staging, the learning rate from device
// memory. The *_persistent cases run the LSTM layers' recurrence with the persistent loop
// (curnn-ptb --recurrent persistent; kernels/lstm_persistent.cu), the others per step (auto); a
// shape the persistent loop cannot hold (medium, large: Wh beyond one cluster) has no such case.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>

#include "curnn/graph.hpp"
#include "curnn/nn/lstm_lm.hpp"
#include "curnn/nn/persistent_loop.hpp"

namespace {

using curnn::Context;
using curnn::nn::RecurrentMode;

// The language model for `config` on ctx with the recurrent loop `mode`; nullptr (and the
// benchmark skipped, saying why) where the persistent loop cannot run the shape.
std::unique_ptr<curnn::nn::LstmLanguageModel<float>> make_lm(benchmark::State& state, Context& ctx,
                                                             const curnn::nn::LmConfig& cfg,
                                                             RecurrentMode mode) {
  if (mode == RecurrentMode::Persistent) {
    const std::string why =
        curnn::nn::persistent_loop_unsupported(ctx, cfg.batch_size, cfg.hidden_size);
    if (!why.empty()) {
      state.SkipWithError(why.c_str());
      return nullptr;
    }
  }
  auto lm = std::make_unique<curnn::nn::LstmLanguageModel<float>>(ctx, cfg, mode);
  lm->initialize(ctx, 1);
  return lm;
}

void BM_PtbTrain(benchmark::State& state, bool cuda, const char* config,
                 RecurrentMode mode = RecurrentMode::Auto) {
  if (cuda && !curnn::cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  Context ctx = cuda ? Context::cuda() : Context::cpu();
  curnn::nn::LmConfig cfg = curnn::nn::lm_config(config);
  const auto model = make_lm(state, ctx, cfg, mode);
  if (!model) return;
  auto& lm = *model;
  const int T = cfg.num_steps, B = cfg.batch_size;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> word(0, cfg.vocab_size - 1);
  std::vector<std::int32_t> x(static_cast<std::size_t>(T) * B), y(x.size());
  for (auto& v : x) v = word(rng);
  for (auto& v : y) v = word(rng);
  auto lm_state = lm.zero_state(ctx, B);
  curnn::Buffer<float> norm(ctx.device(), 1);
  std::uint64_t offset = 0;
  const auto step = [&] {
    lm.forward(ctx, curnn::ConstIds(x.data(), {T, B}, curnn::Device::CPU),
               curnn::ConstIds(y.data(), {T, B}, curnn::Device::CPU), lm_state, true, 1, offset);
    offset += cfg.num_layers + 1;
    lm.backward(ctx);
    lm.sgd_step(ctx, 1.0f, norm.view());
  };
  step();  // warm-up: allocations, cuBLAS heuristics
  ctx.synchronize();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    ctx.synchronize();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.counters["words/s"] =
      benchmark::Counter(static_cast<double>(T) * B, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(config) + (cuda ? " cuda " : " cpu ") +
                 curnn::nn::recurrent_mode_name(mode));
}

void BM_PtbTrainGraph(benchmark::State& state, const char* config,
                      RecurrentMode mode = RecurrentMode::Auto) {
  if (!curnn::cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  Context ctx = Context::cuda();
  curnn::nn::LmConfig cfg = curnn::nn::lm_config(config);
  const auto model = make_lm(state, ctx, cfg, mode);
  if (!model) return;
  auto& lm = *model;
  const int T = cfg.num_steps, B = cfg.batch_size;
  const std::size_t n = static_cast<std::size_t>(T) * B;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> word(0, cfg.vocab_size - 1);
  curnn::PinnedBuffer<std::int32_t> ids_host(2 * n);
  curnn::PinnedBuffer<std::uint64_t> offset_host(1);
  curnn::PinnedBuffer<float> lr_host(1);
  for (std::size_t i = 0; i < 2 * n; ++i) ids_host.data()[i] = word(rng);
  offset_host.data()[0] = 0;
  lr_host.data()[0] = 1.0f;
  curnn::Buffer<std::int32_t> ids(curnn::Device::CUDA, 2 * n);
  curnn::Buffer<std::uint64_t> offset(curnn::Device::CUDA, 1);
  curnn::Buffer<float> lr(curnn::Device::CUDA, 1), norm(curnn::Device::CUDA, 1);
  auto lm_state = lm.zero_state(ctx, B);
  curnn::StepGraphCache<int> graphs;
  const auto step = [&] {
    curnn::copy(ctx, ids_host.view(), ids.view());
    curnn::copy(ctx, offset_host.view(), offset.view());
    curnn::copy(ctx, lr_host.view(), lr.view());
    lm.forward(ctx, curnn::ConstIds(ids.data(), {T, B}, curnn::Device::CUDA),
               curnn::ConstIds(ids.data() + n, {T, B}, curnn::Device::CUDA), lm_state, true, 1,
               curnn::DeviceScalar<std::uint64_t>{offset.data()});
    lm.backward(ctx);
    lm.sgd_step(ctx, curnn::DeviceScalar<float>{lr.data()}, norm.view());
  };
  graphs.run(ctx, 0, step);  // warm-up: uncaptured (allocations, cuBLAS heuristics)
  graphs.run(ctx, 0, step);  // captured, then replayed
  ctx.synchronize();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    offset_host.data()[0] += cfg.num_layers + 1;  // the previous replay is done (synchronized)
    graphs.run(ctx, 0, step);
    ctx.synchronize();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (graphs.stats().captures != 1) state.SkipWithError("the step was captured more than once");
  state.counters["words/s"] =
      benchmark::Counter(static_cast<double>(T) * B, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(config) + " cuda graph " + curnn::nn::recurrent_mode_name(mode));
}

BENCHMARK_CAPTURE(BM_PtbTrain, cpu_small, false, "small")->UseManualTime()->MinTime(2.0);
BENCHMARK_CAPTURE(BM_PtbTrain, cpu_medium, false, "medium")->UseManualTime()->Iterations(3);
BENCHMARK_CAPTURE(BM_PtbTrain, cpu_large, false, "large")->UseManualTime()->Iterations(1);
BENCHMARK_CAPTURE(BM_PtbTrain, cuda_small, true, "small")->UseManualTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_PtbTrain, cuda_medium, true, "medium")->UseManualTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_PtbTrain, cuda_large, true, "large")->UseManualTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_PtbTrainGraph, cuda_small_graph, "small")->UseManualTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_PtbTrainGraph, cuda_medium_graph, "medium")->UseManualTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_PtbTrain, cuda_small_persistent, true, "small", RecurrentMode::Persistent)
    ->UseManualTime()
    ->MinTime(1.0);
BENCHMARK_CAPTURE(BM_PtbTrainGraph, cuda_small_persistent_graph, "small", RecurrentMode::Persistent)
    ->UseManualTime()
    ->MinTime(1.0);

}  // namespace
