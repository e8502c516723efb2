// Fused softmax cross-entropy at the experiments' shapes, through ops::softmax_xent on
// Context::cuda(). Counters: GB/s over the bytes that must move (logits read once, plus dlogits
// written once for the training call; the loss and targets are negligible) and rows/s.
// Up to 32 input sets are rotated so that (for the large shapes) their total exceeds the 50 MB L2
// and each call starts from DRAM. One timed iteration queues one call on each set back to back
// and reports the mean per call: the host's launch cost then overlaps the kernels, as it does in
// training, instead of showing up as idle GPU time after the start event.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "../tests/support/random.hpp"
#include "curnn/context.hpp"
#include "curnn/ops/softmax_xent.hpp"
#include "support/cuda_timer.hpp"

namespace curnn {
namespace {

constexpr std::size_t kRotateBytes = std::size_t(192) << 20;  // > 3x the H100's L2

enum Mode : int { kForward = 0, kInPlace = 1, kOutOfPlace = 2 };

// Args: N, V, mode.
void BM_SoftmaxXent(benchmark::State& state) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const int N = static_cast<int>(state.range(0)), V = static_cast<int>(state.range(1));
  const auto mode = static_cast<Mode>(state.range(2));
  const std::size_t NV = static_cast<std::size_t>(N) * V;
  const std::size_t set_bytes = NV * sizeof(float) * (mode == kOutOfPlace ? 2 : 1);
  const std::size_t sets = std::min<std::size_t>(
      32, std::max<std::size_t>(4, (kRotateBytes + set_bytes - 1) / set_bytes));

  Context ctx = Context::cuda();
  const auto host = test::random_uniform<float>(NV, -8, 8, 1);
  std::vector<Buffer<float>> logits, dlogits;
  for (std::size_t i = 0; i < sets; ++i) {
    logits.push_back(to_buffer(ctx, host));
    if (mode == kOutOfPlace) dlogits.emplace_back(Device::CUDA, NV);
  }
  const Buffer<std::int32_t> targets = to_buffer(ctx, test::random_ids(N, V, 2));
  Buffer<float> loss(Device::CUDA, N);
  const float g = 1.0f / N;
  const auto call = [&](std::size_t i) {
    Tensor d = mode == kForward
                   ? Tensor()
                   : (mode == kInPlace ? logits[i].view({N, V}) : dlogits[i].view({N, V}));
    ops::softmax_xent(ctx, logits[i].view({N, V}), targets.view({N}), loss.view({N}), d, g);
  };
  for (std::size_t i = 0; i < sets; ++i)
    call(i);  // warm-up (in place: the inputs become gradients)
  ctx.synchronize();

  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    for (std::size_t i = 0; i < sets; ++i) call(i);
    state.SetIterationTime(timer.seconds() / static_cast<double>(sets));
  }
  const double bytes = static_cast<double>(NV) * sizeof(float) * (mode == kForward ? 1 : 2);
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rows/s"] = benchmark::Counter(N, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(mode == kForward ? "forward" : (mode == kInPlace ? "in place" : "out of place"));
}

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "V", "mode"});
  for (const auto& [N, V] :
       {std::pair{400, 10000}, std::pair{700, 10000}, std::pair{128, 50000}, std::pair{128, 10}}) {
    for (const int mode : {kInPlace, kOutOfPlace, kForward}) b->Args({N, V, mode});
  }
}
BENCHMARK(BM_SoftmaxXent)->Apply(Shapes)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace curnn
