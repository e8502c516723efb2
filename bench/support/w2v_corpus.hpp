// A synthetic Zipf corpus in memory for the fast-trainer benchmarks (bench/w2v_train*_bench.cpp):
// V - 1 words with counts ~ 1/rank (text8-like: V 71k, 17M words), 1000-word lines.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "curnn/word2vec/vocab.hpp"

namespace curnn::bench {

struct SyntheticCorpus {
  word2vec::Vocabulary vocab;
  word2vec::Corpus corpus;
};

inline SyntheticCorpus zipf_corpus(std::int32_t V, std::int64_t words) {
  std::vector<std::string> names;
  std::vector<double> weights;
  for (std::int32_t r = 1; r < V; ++r) {
    names.push_back("w" + std::to_string(r));
    weights.push_back(1.0 / r);
  }
  std::mt19937_64 rng(1);
  std::discrete_distribution<std::int32_t> pick(weights.begin(), weights.end());
  std::vector<std::int64_t> counts(names.size(), 0);
  SyntheticCorpus s;
  std::vector<std::int32_t> draws(static_cast<std::size_t>(words));
  for (auto& d : draws) ++counts[static_cast<std::size_t>(d = pick(rng))];
  for (auto& c : counts) c += 1;  // every word in the vocabulary
  s.vocab = word2vec::Vocabulary::from_counts(names, counts, 1);
  s.corpus.line_offsets = {0};
  for (std::size_t i = 0; i < draws.size(); ++i) {
    s.corpus.ids.push_back(s.vocab.find(names[static_cast<std::size_t>(draws[i])]));
    if ((i + 1) % word2vec::kMaxSentenceLength == 0 || i + 1 == draws.size()) {
      s.corpus.line_offsets.push_back(s.corpus.num_words());
    }
  }
  s.corpus.sentence_offsets = s.corpus.line_offsets;
  return s;
}

// Bytes one trained word moves in the fast trainer's model (the kernels' headers): its syn0 row
// in and out and its positive syn1neg row in and out, plus K negative rows read and added: per
// pair (the pair kernel) or per word (window_negatives: the window kernel).
inline double w2v_train_bytes(std::int64_t words_trained, std::int64_t pairs, int E, int K,
                              bool window_negatives = false) {
  const double row = 4.0 * E;
  const auto negative_sets = static_cast<double>(window_negatives ? words_trained : pairs);
  return static_cast<double>(words_trained) * 4 * row + negative_sets * K * 2 * row;
}

}  // namespace curnn::bench
