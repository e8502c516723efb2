// Short runs of the book's word2vec experiment (curnn/word2vec/tutorial_trainer.hpp) for
// tests/w2v_tutorial_trainer_test.cpp, tests/w2v_tutorial_trainer_cuda_test.cpp and
// tests/w2v_tutorial_app_test.cpp: a synthetic corpus, the short run's options, and a recorder
// of what a run reports to its observer.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/word2vec/tutorial_trainer.hpp"

namespace curnn::word2vec::test {

// A deterministic corpus of `words` words "w0".."w{distinct-1}", roughly Zipfian, where each word
// is often followed by its partner (w2k -> w2k+1), so that skip-gram has something to learn.
inline std::string synthetic_corpus(int words = 20000, int distinct = 600) {
  std::uint64_t state = 12345;
  auto next_uniform = [&state] {  // a 64-bit LCG, top 53 bits
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  };
  std::ostringstream text;
  int previous = -1;
  for (int i = 0; i < words; ++i) {
    int word;
    if (previous >= 0 && previous % 2 == 0 && next_uniform() < 0.6) {
      word = previous + 1;
    } else {  // Zipf-like: floor(distinct^u) - 1
      word = static_cast<int>(std::pow(double(distinct), next_uniform())) - 1;
    }
    text << 'w' << word << (i % 17 == 16 ? '\n' : ' ');
    previous = word;
  }
  return text.str();
}

// The brief's short run: 300 steps, vocabulary 500, batch 16, 8 sampled classes, 16-d.
inline TutorialOptions short_run(const std::string& train_path) {
  TutorialOptions o;
  o.train_path = train_path;
  o.steps = 300;
  o.vocabulary_size = 500;
  o.batch_size = 16;
  o.embedding_size = 16;
  o.num_sampled = 8;
  o.log_every = 50;
  o.eval_every = 100;
  return o;
}

// Everything a run reports to its observer.
struct Recorder : TutorialObserver {
  struct Loss {
    std::int64_t step;
    double average;
    std::int64_t steps_averaged;
  };
  struct Nearest {
    std::int64_t step;
    std::vector<std::int32_t> valid_ids;
    std::vector<std::vector<std::int32_t>> nearest;
  };
  std::vector<std::string> events;  // the order of the calls
  std::vector<std::string> words;   // the dataset's
  std::vector<std::int32_t> data, demo_batch_ids, demo_labels, valid_ids;
  std::vector<Loss> losses;
  std::vector<Nearest> nearest_words;

  void dataset(const TutorialDataset& ds) override {
    events.push_back("dataset");
    words = ds.words;
    data = ds.data;
  }
  void demo_batch(const TutorialDataset&, const std::vector<std::int32_t>& batch,
                  const std::vector<std::int32_t>& labels) override {
    events.push_back("demo_batch");
    demo_batch_ids = batch;
    demo_labels = labels;
  }
  void initialized(const std::vector<std::int32_t>& ids) override {
    events.push_back("initialized");
    valid_ids = ids;
  }
  void loss(std::int64_t step, double average, std::int64_t steps_averaged, double) override {
    events.push_back("loss");
    losses.push_back({step, average, steps_averaged});
  }
  void nearest(std::int64_t step, const std::vector<std::int32_t>& ids,
               const std::vector<std::vector<std::int32_t>>& found) override {
    events.push_back("nearest");
    nearest_words.push_back({step, ids, found});
  }
  std::vector<double> loss_values() const {
    std::vector<double> values;
    for (const auto& l : losses) values.push_back(l.average);
    return values;
  }
};

struct RecordedRun {
  TutorialResult result;
  Recorder record;
};

inline RecordedRun run_recorded(Context& ctx, const TutorialOptions& options) {
  RecordedRun run;
  run.result = train_tutorial(ctx, options, &run.record);
  return run;
}

// The lines of `text` that match `pattern` entirely.
inline std::vector<std::string> lines_matching(const std::string& text,
                                               const std::string& pattern) {
  const std::regex re(pattern);
  std::vector<std::string> found;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, re)) found.push_back(line);
  }
  return found;
}

}  // namespace curnn::word2vec::test
