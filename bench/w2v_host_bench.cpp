// CPU benchmarks of the word2vec host code: analogy evaluation at compute-accuracy's real size
// (19,544 questions x 30,000 words x D = 128), vocabulary learning and corpus reading (words/s),
// vector file writing. Host code only: no CUDA timer (wall-clock, real time).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "curnn/word2vec/eval.hpp"
#include "curnn/word2vec/vectors.hpp"
#include "curnn/word2vec/vocab.hpp"

namespace {

using namespace curnn::word2vec;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("curnn_w2v_bench_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// Zipf-like synthetic corpus of `words` words over a `vocab`-word alphabet, 1000 words a line.
std::string make_corpus(std::int64_t words, int vocab) {
  const std::string path = temp_path("corpus.txt");
  std::ofstream out(path);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  for (std::int64_t i = 0; i < words; ++i) {
    const auto id = static_cast<int>(std::pow(static_cast<double>(vocab), u(rng))) - 1;
    out << 'w' << id << ((i + 1) % 1000 ? ' ' : '\n');
  }
  return path;
}

NormalizedVectors random_vectors(std::int64_t V, std::int64_t D) {
  std::vector<std::string> words;
  for (std::int64_t i = 0; i < V; ++i) words.push_back("w" + std::to_string(i));
  std::mt19937_64 rng(2);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> values(static_cast<std::size_t>(V * D));
  for (auto& x : values) x = n(rng);
  return NormalizedVectors(words, values.data(), D);
}

void BM_AnalogyEval(benchmark::State& state) {
  const std::int64_t V = 50000, D = 128, restrict_vocab = 30000, Q = 19544;
  const NormalizedVectors v = random_vectors(V, D);
  AnalogyQuestions q;
  q.sections = {"", "s"};
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<std::int64_t> pick(0, restrict_vocab - 1);
  for (std::int64_t i = 0; i < Q; ++i) {
    q.questions.push_back(
        {1, v.word(pick(rng)), v.word(pick(rng)), v.word(pick(rng)), v.word(pick(rng))});
  }
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(evaluate_analogies(v, q, restrict_vocab, threads));
  }
  state.counters["questions/s"] =
      benchmark::Counter(static_cast<double>(Q), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * Q * restrict_vocab * D / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AnalogyEval)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LearnVocabAndReadCorpus(benchmark::State& state) {
  const std::int64_t words = 2000000;
  const std::string corpus = make_corpus(words, 100000);
  for (auto _ : state) {
    const Vocabulary vocab = learn_vocab(corpus, 5);
    benchmark::DoNotOptimize(read_corpus(corpus, vocab));
  }
  std::filesystem::remove(corpus);
  // Two passes over the corpus.
  state.counters["words/s"] = benchmark::Counter(static_cast<double>(2 * words),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_LearnVocabAndReadCorpus)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_WriteVectors(benchmark::State& state) {
  const std::int64_t V = 50000, D = 128;
  const bool binary = state.range(0) != 0;
  const NormalizedVectors v = random_vectors(V, D);
  std::vector<std::string> words;
  for (std::int64_t i = 0; i < V; ++i) words.push_back(v.word(i));
  const std::string path = temp_path(binary ? "v.bin" : "v.txt");
  for (auto _ : state) write_word_vectors(path, words, v.row(0), D, binary);
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(std::filesystem::file_size(path)) / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
  std::filesystem::remove(path);
}
BENCHMARK(BM_WriteVectors)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
