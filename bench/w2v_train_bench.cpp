// The fast word2vec trainer on CPU threads (word2vec::train on Context::cpu()): wall-clock
// words/s on a synthetic Zipf corpus at the experiment's settings (skip-gram, E 128, window 5,
// negative 5, sample 1e-4), 1 and 2 threads; CBOW for comparison. Anchor: word2vec.c on 2 cores
// about 260k words/s (docs: EXPERIMENTS.md).
#include <benchmark/benchmark.h>

#include "curnn/word2vec/trainer.hpp"
#include "support/w2v_corpus.hpp"

namespace {

using namespace curnn;

void BM_W2vTrainCpu(benchmark::State& state) {
  static const bench::SyntheticCorpus data = bench::zipf_corpus(70000, 1000000);
  Context ctx = Context::cpu();
  word2vec::TrainOptions o;
  o.size = 128, o.window = 5, o.negative = 5, o.sample = 1e-4, o.iter = 1;
  o.threads = static_cast<int>(state.range(0));
  o.cbow = state.range(1) != 0;
  o.alpha = o.cbow ? 0.05 : 0.025;
  o.table_size = 10000000;
  double words = 0, bytes = 0;
  for (auto _ : state) {
    const word2vec::TrainResult r = word2vec::train(ctx, data.vocab, data.corpus, o);
    state.SetIterationTime(r.seconds);
    words += static_cast<double>(r.words_read);
    bytes += bench::w2v_train_bytes(r.words_trained, r.pairs, o.size, o.negative);
  }
  state.counters["words/s"] = benchmark::Counter(words, benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_W2vTrainCpu)
    ->ArgNames({"threads", "cbow"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({2, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
