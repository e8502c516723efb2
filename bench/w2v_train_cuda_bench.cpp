// The fast word2vec trainer on the GPU: the kernels alone (cuda::w2v_train_chunks on `chunks`
// 1000-word chunks of a synthetic Zipf corpus, hashed draws, timed with CUDA events; window 0 =
// W2vTrainKernel::kPairs, 1 = kWindow) and the whole trainer (word2vec::train on Context::cuda(),
// host subsampling and packing included, wall clock). Counters: words/s (words trained, i.e.
// after subsampling, for the kernel; words read for the trainer) and GB/s by the byte model of
// the kernels' headers. Skips without a GPU. Accuracy goes with speed in bench/w2v_gpu_quality.
#include <benchmark/benchmark.h>

#include <vector>

#include "curnn/cuda/w2v_train.hpp"
#include "curnn/unigram_table.hpp"
#include "curnn/word2vec/trainer.hpp"
#include "support/cuda_timer.hpp"
#include "support/w2v_corpus.hpp"

namespace {

using namespace curnn;

const bench::SyntheticCorpus& corpus() {
  static const bench::SyntheticCorpus data = bench::zipf_corpus(70000, 4000000);
  return data;
}

void BM_W2vTrainKernel(benchmark::State& state) {
  if (!cuda_available()) return state.SkipWithError("no CUDA device");
  const int E = static_cast<int>(state.range(0)), S = static_cast<int>(state.range(1));
  const bool cbow = state.range(2) != 0, window = state.range(3) != 0;
  const auto kernel = window ? cuda::W2vTrainKernel::kWindow : cuda::W2vTrainKernel::kPairs;
  const int K = 5, W = 5;
  const auto& data = corpus();
  Context ctx = Context::cuda();
  const std::int64_t n = static_cast<std::int64_t>(S) * word2vec::kMaxSentenceLength;
  if (n > data.corpus.num_words()) return state.SkipWithError("the corpus is too short");
  std::vector<std::int32_t> ids(data.corpus.ids.begin(), data.corpus.ids.begin() + n);
  std::vector<std::int64_t> offsets;
  for (int s = 0; s <= S; ++s) offsets.push_back(static_cast<std::int64_t>(s) * 1000);
  const UnigramTable table(data.vocab.counts(), 0.75, 10000000);
  const std::int32_t V = data.vocab.size();
  auto d_ids = to_buffer(ctx, ids);
  auto d_offsets = to_buffer(ctx, offsets);
  auto d_alpha = to_buffer(ctx, std::vector<float>(S, 0.025f));
  auto d_table = to_buffer(ctx, table.table());
  auto syn0 = to_buffer(ctx, word2vec::initial_syn0(V, E));
  auto syn1neg = to_buffer(ctx, std::vector<float>(static_cast<std::size_t>(V) * E, 0.f));
  Buffer<float> loss(Device::CUDA, S);
  Buffer<std::int32_t> pairs(Device::CUDA, S);
  cuda::W2vTrainDraws draws;
  draws.table = d_table.data();
  draws.table_size = table.size();
  const auto stream = static_cast<cudaStream_t>(ctx.stream());
  std::uint64_t launch = 0;
  double words = 0, bytes = 0;
  for (auto _ : state) {
    draws.key = ++launch;
    bench::CudaEventTimer timer(stream);
    cuda::w2v_train_chunks(E, K, W, cbow, V, S, d_ids.data(), d_offsets.data(), d_alpha.data(),
                           draws, syn0.data(), syn1neg.data(), loss.data(), pairs.data(), stream,
                           kernel);
    state.SetIterationTime(timer.seconds());
    const std::vector<std::int32_t> p = to_vector(ctx, pairs.view());
    std::int64_t total_pairs = 0;
    for (const auto x : p) total_pairs += x;
    words += static_cast<double>(n);
    bytes += bench::w2v_train_bytes(n, total_pairs, E, K, window);
  }
  state.counters["words/s"] = benchmark::Counter(words, benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_W2vTrainKernel)
    ->ArgNames({"E", "chunks", "cbow", "window"})
    ->Args({128, 1024, 0, 0})
    ->Args({128, 1024, 0, 1})
    ->Args({128, 2048, 0, 0})
    ->Args({128, 2048, 0, 1})
    ->Args({128, 4000, 0, 1})
    ->Args({128, 1024, 1, 0})
    ->Args({128, 1024, 1, 1})
    ->Args({300, 1024, 0, 0})
    ->Args({300, 1024, 0, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_W2vTrainGpuTrainer(benchmark::State& state) {
  if (!cuda_available()) return state.SkipWithError("no CUDA device");
  Context ctx = Context::cuda();
  ctx.set_deterministic(false);  // the GPU trainer is Hogwild
  word2vec::TrainOptions o;
  o.size = 128, o.window = 5, o.negative = 5, o.sample = 1e-4, o.iter = 1, o.cbow = false;
  o.alpha = 0.025;
  o.gpu_concurrent_chunks = static_cast<int>(state.range(0));
  o.window_negatives = state.range(1) != 0;
  double words = 0, bytes = 0;
  for (auto _ : state) {
    const word2vec::TrainResult r = word2vec::train(ctx, corpus().vocab, corpus().corpus, o);
    state.SetIterationTime(r.seconds);
    words += static_cast<double>(r.words_read);
    bytes +=
        bench::w2v_train_bytes(r.words_trained, r.pairs, o.size, o.negative, o.window_negatives);
  }
  state.counters["words/s"] = benchmark::Counter(words, benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_W2vTrainGpuTrainer)
    ->ArgNames({"chunks", "window"})
    ->Args({1024, 0})
    ->Args({1024, 1})
    ->Args({4000, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace
