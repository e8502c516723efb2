// word2vec negative-sampling step on the GPU, through ops::sgns_step, at the fast trainer's
// shapes: 8192 items a launch, K = 5 negatives, V = 71,291 (wiki8's vocabulary at min-count 5).
// Ids come from word2vec.c's samplers on a Zipf vocabulary (counts ~ 1/rank): centre and context
// words from the unigram table (power 1), negatives from the unigram^0.75 table, drawn with its
// LCG; 16 different batches are rotated. Tables start as word2vec.c's (syn0 ~ U(-0.5, 0.5)/E,
// syn1neg = 0); syn0 + syn1neg are 73 MB at E = 128, more than the H100's 50 MB L2.
// Counters:
//   GB/s     each row an item touches (its m inputs, its target and K negatives) read and
//            written once, 2 * (m + 1 + K) * E * 4 bytes, plus the ids and the loss;
//   items/s  work items per second; for CBOW one item is one centre word, so words/s = items/s;
//            for skip-gram one item is one (centre, context) pair and word2vec.c with window 5
//            makes 6 pairs per word on average (2 * (5 - b), b uniform in 0..4): words/s =
//            items/s / 6.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/word2vec.hpp"
#include "curnn/unigram_table.hpp"
#include "support/cuda_timer.hpp"

namespace curnn {
namespace {

constexpr int kItems = 8192, kVocab = 71291, kBatches = 16, kWindow = 5;

struct SgnsBatches {
  int C, K;
  std::vector<Buffer<std::int32_t>> in, count, target, neg;
  double rows_per_item = 0;  // mean m + 1 + K over all batches
};

SgnsBatches make_batches(const Context& ctx, int C, int K) {
  std::vector<std::int64_t> counts(kVocab);
  for (int i = 0; i < kVocab; ++i) counts[i] = 100000000 / (i + 1);
  const UnigramTable words(counts, 1.0, 10000000), noise(counts, 0.75, 10000000);
  SgnsBatches b{C, K, {}, {}, {}, {}};
  std::uint64_t r = 1;
  const auto next = [&]() { return r = lcg_next(r); };
  std::int64_t rows = 0;
  for (int i = 0; i < kBatches; ++i) {
    std::vector<std::int32_t> in(std::size_t(kItems) * C), count(kItems), target(kItems),
        neg(std::size_t(kItems) * K);
    for (int n = 0; n < kItems; ++n) {
      // CBOW: word2vec.c's 2 * (window - b) context words; skip-gram: one.
      const int m =
          C == 1 ? 1 : std::min<int>(C, 2 * (kWindow - static_cast<int>(next() % kWindow)));
      count[n] = m;
      for (int c = 0; c < C; ++c) in[std::size_t(n) * C + c] = words.sample(next());
      target[n] = words.sample(next());
      for (int k = 0; k < K; ++k) neg[std::size_t(n) * K + k] = noise.sample(next());
      rows += m + 1 + K;
    }
    b.in.push_back(to_buffer(ctx, in));
    b.count.push_back(to_buffer(ctx, count));
    b.target.push_back(to_buffer(ctx, target));
    b.neg.push_back(to_buffer(ctx, neg));
  }
  b.rows_per_item = static_cast<double>(rows) / (double(kBatches) * kItems);
  return b;
}

void BM_SgnsStep(benchmark::State& state, int E, int C, int K) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  Context ctx = Context::cuda();
  SgnsBatches b = make_batches(ctx, C, K);
  std::vector<float> h0(std::size_t(kVocab) * E);
  std::uint64_t r = 1;
  for (float& x : h0) x = (static_cast<float>(lcg_uniform16(r = lcg_next(r))) - 0.5f) / E;
  Buffer<float> syn0 = to_buffer(ctx, h0);
  Buffer<float> syn1neg = to_buffer(ctx, std::vector<float>(h0.size(), 0.f));
  Buffer<float> loss(Device::CUDA, kItems);
  const auto step = [&](int i) {
    ops::sgns_step(ctx, b.in[i].view({kItems, C}), b.count[i].view({kItems}),
                   b.target[i].view({kItems}), b.neg[i].view({kItems, K}), 0.025f,
                   syn0.view({kVocab, E}), syn1neg.view({kVocab, E}), loss.view({kItems}));
  };
  for (int i = 0; i < kBatches; ++i) step(i);  // warm-up
  ctx.synchronize();
  int i = 0;
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    step(i);
    state.SetIterationTime(timer.seconds());
    i = (i + 1) % kBatches;
  }
  const double bytes = kItems * (b.rows_per_item * 2.0 * E * sizeof(float) +
                                 (C + 2 + K) * sizeof(std::int32_t) + sizeof(float));
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["items/s"] =
      benchmark::Counter(kItems, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["words/s"] = benchmark::Counter(C == 1 ? kItems / 6.0 : kItems,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_SgnsStep, skipgram_E128_K5, 128, 1, 5)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SgnsStep, skipgram_E300_K5, 300, 1, 5)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SgnsStep, cbow_E128_K5_window5, 128, 2 * kWindow, 5)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace curnn
