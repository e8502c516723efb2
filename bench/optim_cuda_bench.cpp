// Optimizer kernels through the shipped ops:: at the PTB parameter-set sizes (small/medium/large:
// H = 200/650/1500, V = 10,000, 2 LSTM layers: 4.65M / 19.8M / 66.0M floats), timed with CUDA
// events. GB/s counts the bytes that must move: SGD 12 B/param (read p, g; write p), Adam 28
// (read p, g, m, v; write p, m, v), clipping 4 (norm only, clip not active) or 12 (norm, then
// read and write every element). Sparse-row SGD at the PTB medium and word2vec shapes.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <set>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/optim.hpp"
#include "support/cuda_timer.hpp"

namespace curnn {
namespace {

// The trainable tensors of the PTB LM with hidden size H: embedding [V, H], per layer W [2H, 4H]
// and b [4H], softmax W [H, V] and b [V].
std::vector<std::int64_t> ptb_tensor_sizes(std::int64_t H) {
  const std::int64_t V = 10000;
  return {V * H, 2 * H * 4 * H, 4 * H, 2 * H * 4 * H, 4 * H, H * V, V};
}

std::int64_t total(const std::vector<std::int64_t>& sizes) {
  std::int64_t n = 0;
  for (auto s : sizes) n += s;
  return n;
}

// A device buffer of n floats filled with a cheap deterministic pattern (never zeros).
Buffer<float> filled(const Context& ctx, std::int64_t n, float scale) {
  std::vector<float> h(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < h.size(); ++i)
    h[i] = scale * (static_cast<float>(i % 1009) - 504.5f) / 504.5f;
  return to_buffer(ctx, h);  // ordered before the benchmark's work on ctx
}

void set_counters(benchmark::State& state, double bytes, std::int64_t params) {
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["params"] = static_cast<double>(params);
}

void BM_SgdUpdate(benchmark::State& state) {
  if (!cuda_available()) return state.SkipWithError("no CUDA device");
  Context ctx = Context::cuda();
  const std::int64_t n = total(ptb_tensor_sizes(state.range(0)));
  Buffer<float> p = filled(ctx, n, 1.f), g = filled(ctx, n, 1e-3f);
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    ops::sgd_update(ctx, 0.1f, g.view(), p.view());
    state.SetIterationTime(timer.seconds());
  }
  set_counters(state, 12.0 * n, n);
}

void BM_AdamUpdate(benchmark::State& state) {
  if (!cuda_available()) return state.SkipWithError("no CUDA device");
  Context ctx = Context::cuda();
  const std::int64_t n = total(ptb_tensor_sizes(state.range(0)));
  Buffer<float> p = filled(ctx, n, 1.f), g = filled(ctx, n, 1e-3f), m = filled(ctx, n, 1e-4f),
                v = filled(ctx, n, 1e-6f);
  std::int64_t step = 1;
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    ops::adam_update(ctx, AdamParams{0.01f}, step++, g.view(), p.view(), m.view(), v.view());
    state.SetIterationTime(timer.seconds());
  }
  set_counters(state, 28.0 * n, n);
}

// range(1) == 1: clip_norm below the norm, so every element is rescaled; the gradients are
// restored from a pristine copy between iterations, outside the timed region.
void BM_ClipByGlobalNorm(benchmark::State& state) {
  if (!cuda_available()) return state.SkipWithError("no CUDA device");
  Context ctx = Context::cuda();
  const bool active = state.range(1) != 0;
  const auto sizes = ptb_tensor_sizes(state.range(0));
  const std::int64_t n = total(sizes);
  Buffer<float> pristine = filled(ctx, n, 0.01f), grads(Device::CUDA, static_cast<std::size_t>(n));
  Buffer<float> norm(Device::CUDA, 1);
  std::vector<Tensor> views;
  std::int64_t at = 0;
  for (auto s : sizes) {
    views.push_back(grads.view().rows(at, at + s));
    at += s;
  }
  const float clip_norm = active ? 1e-3f : 1e30f;
  copy(ctx, pristine.view(), grads.view());
  for (auto _ : state) {
    if (active) copy(ctx, pristine.view(), grads.view());
    bench::CudaEventTimer timer(ctx.stream());
    ops::clip_by_global_norm(ctx, views, clip_norm, norm.view({1}));
    state.SetIterationTime(timer.seconds());
  }
  set_counters(state, (active ? 12.0 : 4.0) * n, n);
}

// rows [N] uniform over [0, V), row_grads [N, E], table [V, E]; bytes: the gradient rows read
// once, each distinct table row read and written once.
void BM_SgdUpdateRows(benchmark::State& state) {
  if (!cuda_available()) return state.SkipWithError("no CUDA device");
  Context ctx = Context::cuda();
  const std::int64_t V = state.range(0), E = state.range(1), N = state.range(2);
  std::vector<std::int32_t> rows(static_cast<std::size_t>(N));
  std::uint64_t x = 88172645463325252ull;
  for (auto& r : rows) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    r = static_cast<std::int32_t>(x % static_cast<std::uint64_t>(V));
  }
  const std::size_t distinct = std::set<std::int32_t>(rows.begin(), rows.end()).size();
  Buffer<float> grads = filled(ctx, N * E, 1e-3f), table = filled(ctx, V * E, 1.f);
  Buffer<std::int32_t> drows = to_buffer(ctx, rows);
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    ops::sgd_update_rows(ctx, 0.1f, drows.view({N}), grads.view({N, E}), table.view({V, E}));
    state.SetIterationTime(timer.seconds());
  }
  state.counters["GB/s"] = benchmark::Counter(4.0 * (N * E + 2.0 * distinct * E),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_SgdUpdate)->ArgName("H")->Arg(200)->Arg(650)->Arg(1500)->UseManualTime();
BENCHMARK(BM_AdamUpdate)->ArgName("H")->Arg(200)->Arg(650)->Arg(1500)->UseManualTime();
BENCHMARK(BM_ClipByGlobalNorm)
    ->ArgNames({"H", "active"})
    ->ArgsProduct({{200, 650, 1500}, {0, 1}})
    ->UseManualTime();
BENCHMARK(BM_SgdUpdateRows)
    ->ArgNames({"V", "E", "N"})
    ->Args({10000, 650, 700})
    ->Args({50000, 128, 128})
    ->UseManualTime();

}  // namespace
}  // namespace curnn
