// Helpers shared by the trainer's CPU and CUDA tests.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "curnn/word2vec/trainer.hpp"
#include "curnn/word2vec/vocab.hpp"

namespace curnn::word2vec::test {

// Cosine similarity of the trained input vectors (syn0 rows) of words a and b.
inline double syn0_cosine(const TrainResult& r, const Vocabulary& vocab, int size,
                          const std::string& a, const std::string& b) {
  const float* x = r.syn0.data() + vocab.find(a) * size;
  const float* y = r.syn0.data() + vocab.find(b) * size;
  double xy = 0, xx = 0, yy = 0;
  for (int e = 0; e < size; ++e) xy += x[e] * y[e], xx += x[e] * x[e], yy += y[e] * y[e];
  return xy / std::sqrt(xx * yy);
}

// Two topics: words t1-t10 only co-occur with each other, t11-t20 likewise; 400 lines of 50
// words, alternating topics.
struct TopicCorpus {
  Vocabulary vocab;
  Corpus corpus;
};
inline TopicCorpus two_topic_corpus() {
  std::vector<std::string> words;
  std::vector<std::int64_t> counts;
  for (int w = 1; w <= 20; ++w) words.push_back("t" + std::to_string(w)), counts.push_back(1000);
  TopicCorpus t{Vocabulary::from_counts(words, counts, 1), Corpus()};
  t.corpus.line_offsets = {0};
  std::mt19937 rng(5);
  for (int line = 0; line < 400; ++line) {
    const int topic = line % 2;
    for (int i = 0; i < 50; ++i) {
      t.corpus.ids.push_back(t.vocab.find("t" + std::to_string(1 + topic * 10 + rng() % 10)));
    }
    t.corpus.line_offsets.push_back(t.corpus.num_words());
  }
  t.corpus.sentence_offsets = t.corpus.line_offsets;
  return t;
}

// The trained vectors separate the two topics of two_topic_corpus().
inline void expect_topics_separated(const TrainResult& r, const Vocabulary& vocab, int size) {
  const auto cosine = [&](const std::string& a, const std::string& b) {
    return syn0_cosine(r, vocab, size, a, b);
  };
  EXPECT_GT(cosine("t1", "t2"), cosine("t1", "t12") + 0.3);
  EXPECT_GT(cosine("t13", "t17"), cosine("t13", "t7") + 0.3);
}

}  // namespace curnn::word2vec::test
