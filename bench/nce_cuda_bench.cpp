// NCE loss on the GPU at the book's word2vec step (B 128, E 128, S 64, V 50,000), through
// ops::nce_loss. words/s = training pairs per second (B per step). GB/s counts the bytes that
// must move: x, the B true and S sampled weight rows, their biases, log Q and ids, and the
// outputs (loss; with the backward dx, dw_true, db_true, dw_sampled, db_sampled).
// 64 different (labels, sampled) sets are rotated so consecutive steps touch different rows.
// Time is per step: back-to-back steps on the stream (what a training loop sees, host launch
// overhead included where it exceeds the GPU time) and, with `_graph`, CUDA-graph replays of
// the same steps (GPU time alone).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/log_uniform_sampler.hpp"
#include "curnn/ops/nce.hpp"
#include "support/cuda_timer.hpp"

namespace curnn {
namespace {

constexpr int kSets = 64;   // (labels, sampled) sets, rotated
constexpr int kSteps = 32;  // steps per timed iteration

std::vector<float> uniform(std::size_t n, float lo, float hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void BM_NceLoss(benchmark::State& state, bool backward, bool graph) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int B = 128, E = 128, S = 64, V = 50000;
  Context ctx = Context::cuda();
  const LogUniformSampler sampler(V);
  std::mt19937_64 rng(1);
  std::vector<std::int32_t> labels(std::size_t(kSets) * B), sampled(std::size_t(kSets) * S);
  std::vector<float> lq_true(labels.size()), lq_sampled(sampled.size());
  for (int i = 0; i < kSets; ++i) {
    const UniqueSample s = sampler.sample_unique(S, rng);
    for (int b = 0; b < B; ++b)
      labels[std::size_t(i) * B + b] = static_cast<int>(sampler.sample(rng));
    std::copy(s.ids.begin(), s.ids.end(), sampled.begin() + std::size_t(i) * S);
    sampler.log_expected_counts(s, labels.data() + std::size_t(i) * B, B,
                                lq_true.data() + std::size_t(i) * B,
                                lq_sampled.data() + std::size_t(i) * S);
  }
  const auto x = to_buffer(ctx, uniform(std::size_t(B) * E, -1, 1, 2));
  const auto w = to_buffer(ctx, uniform(std::size_t(V) * E, -0.1f, 0.1f, 3));
  const auto bias = to_buffer(ctx, uniform(V, -0.1f, 0.1f, 4));
  const auto d_labels = to_buffer(ctx, labels);
  const auto d_sampled = to_buffer(ctx, sampled);
  const auto d_lq_true = to_buffer(ctx, lq_true);
  const auto d_lq_sampled = to_buffer(ctx, lq_sampled);
  Buffer<float> loss(Device::CUDA, B), dx(Device::CUDA, std::size_t(B) * E),
      dw_true(Device::CUDA, std::size_t(B) * E), db_true(Device::CUDA, B),
      dw_sampled(Device::CUDA, std::size_t(S) * E), db_sampled(Device::CUDA, S);
  const ops::NceGradients grads{dx.view({B, E}), dw_true.view({B, E}), db_true.view({B}),
                                dw_sampled.view({S, E}), db_sampled.view({S})};
  int set = 0;
  const auto step = [&] {
    const ConstIds l = ConstIds(d_labels.data() + std::size_t(set) * B, {B}, Device::CUDA);
    const ConstIds s = ConstIds(d_sampled.data() + std::size_t(set) * S, {S}, Device::CUDA);
    const ConstTensor qt(d_lq_true.data() + std::size_t(set) * B, {B}, Device::CUDA);
    const ConstTensor qs(d_lq_sampled.data() + std::size_t(set) * S, {S}, Device::CUDA);
    set = (set + 1) % kSets;
    if (backward) {
      ops::nce_loss(ctx, x.view({B, E}), w.view({V, E}), bias.view({V}), l, s, qt, qs,
                    loss.view({B}), 1.0f / B, grads);
    } else {
      ops::nce_loss(ctx, x.view({B, E}), w.view({V, E}), bias.view({V}), l, s, qt, qs,
                    loss.view({B}));
    }
  };
  for (int i = 0; i < 2 * kSets; ++i) step();  // warm-up: workspace, module load, L2
  ctx.synchronize();
  // One timed iteration = kSteps steps back to back, so the host's launch overhead overlaps
  // the GPU work as in a training loop; with `graph` the kSteps steps are one CUDA graph
  // replay (no host overhead: the GPU time per step). The reported time is per step.
  cudaGraphExec_t graph_exec = nullptr;
  if (graph) {
    cudaGraph_t g = nullptr;
    CURNN_CUDA_CHECK(cudaStreamBeginCapture(ctx.stream(), cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < kSteps; ++i) step();
    CURNN_CUDA_CHECK(cudaStreamEndCapture(ctx.stream(), &g));
    CURNN_CUDA_CHECK(cudaGraphInstantiate(&graph_exec, g, 0));
    CURNN_CUDA_CHECK(cudaGraphDestroy(g));
    CURNN_CUDA_CHECK(cudaGraphLaunch(graph_exec, ctx.stream()));
    ctx.synchronize();
  }
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    if (graph) {
      CURNN_CUDA_CHECK(cudaGraphLaunch(graph_exec, ctx.stream()));
    } else {
      for (int i = 0; i < kSteps; ++i) step();
    }
    state.SetIterationTime(timer.seconds() / kSteps);
  }
  if (graph_exec) CURNN_CUDA_CHECK(cudaGraphExecDestroy(graph_exec));
  const double in = 4.0 * (double(B) * E + double(B + S) * E + 2.0 * (B + S)) + 4.0 * (B + S);
  const double out = backward ? 4.0 * (B + 2.0 * B * E + B + double(S) * E + S) : 4.0 * B;
  state.counters["GB/s"] =
      benchmark::Counter(in + out, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["words/s"] = benchmark::Counter(B, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(cuda_device_description());
}

BENCHMARK_CAPTURE(BM_NceLoss, forward_backward_B128_E128_S64, true, false)
    ->UseManualTime()
    ->MinTime(0.02);
BENCHMARK_CAPTURE(BM_NceLoss, forward_B128_E128_S64, false, false)->UseManualTime()->MinTime(0.02);
BENCHMARK_CAPTURE(BM_NceLoss, forward_backward_B128_E128_S64_graph, true, true)
    ->UseManualTime()
    ->MinTime(0.02);
BENCHMARK_CAPTURE(BM_NceLoss, forward_B128_E128_S64_graph, false, true)
    ->UseManualTime()
    ->MinTime(0.02);

}  // namespace
}  // namespace curnn
