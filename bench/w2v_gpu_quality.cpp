// Speed and quality of the fast word2vec trainer together, never one without the other: trains
// skip-gram (size 128, window 5, negative 5, sample 1e-4, alpha 0.025; word2vec.c's text8
// settings) on one corpus with several configurations in one process, and prints for each its
// wall-clock words/s next to its analogy accuracy (questions-words.txt, top 30,000 words, as
// word2vec.c's compute-accuracy) and the difference to the first configuration's.
//   w2v_gpu_quality --train text --questions questions-words.txt
//                   [--config cpu|cpu-window|pair:CHUNKS|window:CHUNKS ...] [--iter N]
//                   [--threads N] [--seed N] [--json FILE]
// Configurations: `cpu` is the CPU trainer (--threads workers; word2vec.c's sampling: the
// reference for quality), `cpu-window` the same with one set of negatives per window
// (TrainOptions::window_negatives); `pair:N` the GPU pair kernel (word2vec.c's negatives per
// pair) and `window:N` the window kernel (one set per window), each with N concurrent chunks.
// Default: cpu, cpu-window, pair:1024, window:1024, window:4096. Each row is printed (and flushed)
// when its run ends, so a run cut off by a time limit keeps what it measured. The device check runs
// it on a prefix of wiki8.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/error.hpp"
#include "curnn/text.hpp"
#include "curnn/word2vec/eval.hpp"
#include "curnn/word2vec/trainer.hpp"
#include "curnn/word2vec/vocab.hpp"

namespace {

namespace w2v = curnn::word2vec;

struct Config {
  std::string name;
  bool gpu = false, window = false;
  int chunks = 1024;
};

Config parse_config(const std::string& text) {
  Config c{text};
  if (text == "cpu" || text == "cpu-window") {
    c.window = text == "cpu-window";
    return c;
  }
  const auto colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  CURNN_CHECK_ARG(
      colon != std::string::npos && (kind == "pair" || kind == "window"),
      "--config " << text << ": expected cpu, cpu-window, pair:CHUNKS or window:CHUNKS");
  c.gpu = true, c.window = kind == "window";
  try {
    std::size_t used = 0;
    c.chunks = std::stoi(text.substr(colon + 1), &used);
    CURNN_CHECK_ARG(used == text.size() - colon - 1, "trailing characters");
  } catch (const std::exception&) {
    CURNN_CHECK_ARG(false, "--config " << text << ": CHUNKS is not a number");
  }
  return c;
}

int run(int argc, char** argv) {
  std::string train_path, questions_path, json_path;
  std::vector<std::string> config_names{"cpu", "cpu-window", "pair:1024", "window:1024",
                                        "window:4096"};
  w2v::TrainOptions base;
  base.size = 128, base.window = 5, base.negative = 5, base.sample = 1e-4, base.iter = 1;
  base.alpha = 0.025, base.cbow = false;
  base.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CLI::App cli{"The fast word2vec trainer's words/s with its analogy accuracy, per configuration"};
  cli.add_option("--train", train_path, "the corpus (text8-style: words separated by spaces)")
      ->required();
  cli.add_option("--questions", questions_path, "questions-words.txt (plain or .gz)")->required();
  cli.add_option("--config", config_names,
                 "cpu, cpu-window, pair:CHUNKS or window:CHUNKS (repeatable)");
  cli.add_option("--iter", base.iter, "training passes (default 1)")->check(CLI::Range(1, 1000));
  cli.add_option("--threads", base.threads, "CPU trainer threads (default: every core)")
      ->check(CLI::Range(1, 1024));
  cli.add_option("--seed", base.seed, "random seed (default 1)");
  cli.add_option("--json", json_path, "also write one JSON object per configuration here");
  CLI11_PARSE(cli, argc, argv);
  std::vector<Config> configs;
  for (const auto& name : config_names) configs.push_back(parse_config(name));

  const w2v::Vocabulary vocab = w2v::learn_vocab(train_path, 5);
  const w2v::Corpus corpus = w2v::read_corpus(train_path, vocab);
  const w2v::AnalogyQuestions questions = w2v::read_analogy_questions(questions_path);
  std::printf(
      "w2v_gpu_quality: %s: %d words in the vocabulary, %lld in the corpus; skip-gram, "
      "size %d, window %d, negative %d, sample %g, alpha %g, iter %d, seed %llu\n\n",
      train_path.c_str(), vocab.size(), static_cast<long long>(corpus.num_words()), base.size,
      base.window, base.negative, base.sample, base.alpha, base.iter,
      static_cast<unsigned long long>(base.seed));
  std::printf("| config | train s | words/s | analogy (top 30k) | vs %s | seen | loss |\n",
              configs.front().name.c_str());
  std::printf("|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  std::ofstream json;
  if (!json_path.empty()) {
    json.open(json_path);
    CURNN_CHECK(json.good(), "cannot write " << json_path);
  }
  double first_accuracy = -1;
  for (const Config& c : configs) {
    w2v::TrainOptions o = base;
    o.gpu_concurrent_chunks = c.chunks, o.window_negatives = c.window;
    curnn::Context ctx = c.gpu ? curnn::Context::cuda() : curnn::Context::cpu();
    if (c.gpu) ctx.set_deterministic(false);  // the GPU trainer is Hogwild
    const w2v::TrainResult r = w2v::train(ctx, vocab, corpus, o);
    const double words_per_s = static_cast<double>(r.words_read) / r.seconds;
    const w2v::AnalogyResult a = w2v::evaluate_analogies(
        w2v::NormalizedVectors(w2v::WordVectors{vocab.words(), r.syn0, o.size}), questions);
    if (first_accuracy < 0) first_accuracy = a.accuracy();
    std::printf("| %s | %.2f | %.3gM | %.2f %% | %+.2f points | %lld | %.4f |\n", c.name.c_str(),
                r.seconds, words_per_s / 1e6, 100 * a.accuracy(),
                100 * (a.accuracy() - first_accuracy), static_cast<long long>(a.seen), r.loss);
    std::fflush(stdout);
    if (json.is_open()) {
      json << "{\"config\": \"" << c.name << "\", \"seconds\": " << r.seconds
           << ", \"words_read\": " << r.words_read << ", \"words_per_s\": " << words_per_s
           << ", \"analogy\": " << a.accuracy() << ", \"analogy_seen\": " << a.seen
           << ", \"loss\": " << r.loss << "}\n";
      json.flush();
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "w2v_gpu_quality: error: %s\n", curnn::one_line(e.what()).c_str());
    return 1;
  }
}
