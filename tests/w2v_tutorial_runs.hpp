// Short runs of the book's word2vec experiment (curnn/word2vec/tutorial_trainer.hpp) for
// tests/w2v_tutorial_trainer_test.cpp and tests/w2v_tutorial_trainer_cuda_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
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
inline TutorialOptions short_run(const std::string& train_path, const std::string& output_dir) {
  TutorialOptions o;
  o.train_path = train_path;
  o.output_dir = output_dir;
  o.log_json = output_dir + "/log.jsonl";
  o.steps = 300;
  o.vocabulary_size = 500;
  o.batch_size = 16;
  o.embedding_size = 16;
  o.num_sampled = 8;
  o.log_every = 50;
  o.eval_every = 100;
  o.plot = false;
  return o;
}

// A run with stdout and stderr captured.
struct RunOutput {
  int status;
  std::string out, err;
};

inline RunOutput run_captured(Context& ctx, const TutorialOptions& options) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int status = -1;
  try {
    status = run_tutorial(ctx, options);
  } catch (...) {
    ::testing::internal::GetCapturedStdout();
    ::testing::internal::GetCapturedStderr();
    throw;
  }
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  return {status, std::move(out), std::move(err)};
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

// The numbers of a field in the JSON-lines log's records of one type, in file order, e.g.
// json_values(path, "loss", "average_loss"). Enough for the flat records run_tutorial writes.
inline std::vector<double> json_values(const std::string& path, const std::string& type,
                                       const std::string& field) {
  std::ifstream in(path);
  std::vector<double> values;
  const std::string type_tag = "\"type\":\"" + type + "\"", key = "\"" + field + "\":";
  for (std::string line; std::getline(in, line);) {
    if (line.find(type_tag) == std::string::npos) continue;
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    values.push_back(std::stod(line.substr(at + key.size())));
  }
  return values;
}

}  // namespace curnn::word2vec::test
