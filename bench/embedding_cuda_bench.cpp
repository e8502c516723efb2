// Embedding gather and scatter-add (deterministic sort-based and atomic) through ops::, at the
// experiments' lookups: PTB medium (N = 20x35 = 700 ids, E 650, V 10,000), PTB small (N = 20x20,
// E 200, V 10,000) and word2vec (N 128, E 128, V 50,000). Ids are uniform over the vocabulary;
// 64 id sets are rotated so consecutive calls touch different rows.
// Counters: ids/s, and GB/s for the bytes that must move:
//   gather:      ids + N rows read + N rows written              = 4 (N + 2 N E)
//   scatter-add: ids + dout read + each distinct row read+written = 4 (N + N E + 2 D E)
#include <benchmark/benchmark.h>

#include <random>
#include <set>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/embedding.hpp"
#include "support/cuda_timer.hpp"

namespace curnn {
namespace {

constexpr int kSets = 64;

enum class Op { Gather, ScatterSorted, ScatterAtomic };

void BM_Embedding(benchmark::State& state, Op op) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const std::int64_t N = state.range(0), E = state.range(1), V = state.range(2);
  Context ctx = Context::cuda();
  ctx.set_deterministic(op != Op::ScatterAtomic);
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::int32_t> pick(0, static_cast<std::int32_t>(V - 1));
  std::vector<std::int32_t> ids(kSets * N);
  for (auto& id : ids) id = pick(rng);
  double distinct = 0;  // mean distinct ids per set
  for (int s = 0; s < kSets; ++s) {
    distinct += std::set<std::int32_t>(ids.begin() + s * N, ids.begin() + (s + 1) * N).size();
  }
  distinct /= kSets;
  const auto d_ids = to_buffer(ctx, ids);
  auto table = to_buffer(ctx, std::vector<float>(V * E, 0.01f));
  auto rows = to_buffer(ctx, std::vector<float>(N * E, 0.01f));
  int set = 0;
  const auto run = [&] {
    const ConstIds I(d_ids.data() + set * N, {N}, Device::CUDA);
    set = (set + 1) % kSets;
    if (op == Op::Gather) {
      ops::embedding_gather(ctx, I, table.view({V, E}), rows.view({N, E}));
    } else {
      ops::embedding_scatter_add(ctx, I, rows.view({N, E}), table.view({V, E}));
    }
  };
  for (int i = 0; i < 10; ++i) run();  // warm-up (workspace allocation, module load)
  ctx.synchronize();
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
  const double bytes =
      op == Op::Gather ? 4.0 * (N + 2.0 * N * E) : 4.0 * (N + N * E + 2.0 * distinct * E);
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ids/s"] =
      benchmark::Counter(static_cast<double>(N), benchmark::Counter::kIsIterationInvariantRate);
}

void ExperimentShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "E", "V"});
  b->Args({700, 650, 10000});  // PTB medium, 20x35
  b->Args({400, 200, 10000});  // PTB small, 20x20
  b->Args({128, 128, 50000});  // word2vec batch
  b->UseManualTime();
}

BENCHMARK_CAPTURE(BM_Embedding, gather, Op::Gather)->Apply(ExperimentShapes);
BENCHMARK_CAPTURE(BM_Embedding, scatter_add_sorted, Op::ScatterSorted)->Apply(ExperimentShapes);
BENCHMARK_CAPTURE(BM_Embedding, scatter_add_atomic, Op::ScatterAtomic)->Apply(ExperimentShapes);

}  // namespace
}  // namespace curnn
