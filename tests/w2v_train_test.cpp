// The fast word2vec trainer on the CPU (curnn/word2vec/trainer.hpp) and its per-sentence
// reference (curnn/ref/w2v_train.hpp): the reference against ref::sgns_step, the learning-rate
// schedule, word2vec.c's initialisation, exact iter x words accounting for any thread count,
// subsampling rate, reproducibility.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "curnn/ref/w2v_train.hpp"
#include "curnn/ref/word2vec.hpp"
#include "curnn/unigram_table.hpp"
#include "curnn/word2vec/trainer.hpp"
#include "w2v_train_util.hpp"

namespace curnn::word2vec {
namespace {

// Injected draws: shrink[p] and negatives[(p * P + slot) * K + k].
struct ArrayDraws {
  const std::vector<int>& shrinks;
  const std::vector<std::int32_t>& negatives;
  int P, K;
  int shrink(int p) { return shrinks[static_cast<std::size_t>(p)]; }
  std::int32_t negative(int p, int slot, int k) {
    return negatives[static_cast<std::size_t>((p * P + slot) * K + k)];
  }
};

// The same sentence as a list of ref::sgns_step items, built from the window rules directly.
void train_as_items(int E, int K, int W, bool cbow, const std::vector<std::int32_t>& ids,
                    const std::vector<int>& shrinks, const std::vector<std::int32_t>& negatives,
                    double alpha, std::vector<double>& syn0, std::vector<double>& syn1neg,
                    double& loss_sum, std::int64_t& pairs) {
  const int L = static_cast<int>(ids.size()), P = cbow ? 1 : 2 * W;
  for (int p = 0; p < L; ++p) {
    std::vector<std::int32_t> contexts;
    std::vector<int> slots;
    for (int a = shrinks[p]; a < 2 * W + 1 - shrinks[p]; ++a) {
      const int c = p - W + a;
      if (a == W || c < 0 || c >= L) continue;
      contexts.push_back(ids[c]);
      slots.push_back(a < W ? a : a - 1);
    }
    const auto item = [&](const std::vector<std::int32_t>& inputs, int slot) {
      const auto m = static_cast<std::int32_t>(inputs.size());
      std::vector<std::int32_t> neg(negatives.begin() + (p * P + slot) * K,
                                    negatives.begin() + (p * P + slot + 1) * K);
      double loss = 0;
      ref::sgns_step<double>(E, K, std::max<int>(m, 1), 1, inputs.data(), &m, &ids[p], neg.data(),
                             alpha, syn0.data(), syn1neg.data(), &loss);
      loss_sum += loss;
      ++pairs;
    };
    if (cbow) {
      if (!contexts.empty()) item(contexts, 0);
    } else {
      for (std::size_t i = 0; i < contexts.size(); ++i) item({contexts[i]}, slots[i]);
    }
  }
}

void expect_reference_matches_items(bool cbow) {
  const int E = 19, K = 4, W = 3, V = 11;
  std::mt19937 rng(cbow ? 7 : 3);
  std::vector<std::int32_t> ids(37);
  for (auto& id : ids) id = 1 + static_cast<std::int32_t>(rng() % (V - 1));
  const int P = cbow ? 1 : 2 * W;
  std::vector<int> shrinks(ids.size());
  for (auto& b : shrinks) b = static_cast<int>(rng() % W);
  std::vector<std::int32_t> negatives(ids.size() * P * K);
  for (auto& n : negatives) n = static_cast<std::int32_t>(rng() % V);  // repeats and centres too
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> syn0(V * E), syn1neg(V * E);
  for (auto& x : syn0) x = u(rng);
  for (auto& x : syn1neg) x = u(rng);
  std::vector<double> syn0_items = syn0, syn1neg_items = syn1neg;

  std::vector<double> neu1(E), neu1e(E);
  ArrayDraws draws{shrinks, negatives, P, K};
  ref::SgnsLossSum loss;
  ref::train_sentence(E, K, W, cbow, static_cast<int>(ids.size()), ids.data(), draws, 0.3,
                      syn0.data(), syn1neg.data(), neu1.data(), neu1e.data(), &loss);
  double loss_items = 0;
  std::int64_t pairs_items = 0;
  train_as_items(E, K, W, cbow, ids, shrinks, negatives, 0.3, syn0_items, syn1neg_items, loss_items,
                 pairs_items);
  EXPECT_EQ(loss.pairs, pairs_items);
  EXPECT_NEAR(loss.sum, loss_items, 1e-10);
  for (std::size_t i = 0; i < syn0.size(); ++i) ASSERT_NEAR(syn0[i], syn0_items[i], 1e-12) << i;
  for (std::size_t i = 0; i < syn1neg.size(); ++i) {
    ASSERT_NEAR(syn1neg[i], syn1neg_items[i], 1e-12) << i;
  }
}

TEST(W2vTrainReference, SkipGramSentenceIsOneSgnsItemPerContext) {
  expect_reference_matches_items(false);
}

TEST(W2vTrainReference, CbowSentenceIsOneSgnsItemPerPosition) {
  expect_reference_matches_items(true);
}

TEST(W2vTrainReference, DotInterleavedSumsEveryElement) {
  std::vector<float> x(37), y(37);
  double expected = 0;
  for (int i = 0; i < 37; ++i) {
    x[i] = 0.25f * static_cast<float>(i), y[i] = 2.0f - 0.125f * static_cast<float>(i);
    expected += static_cast<double>(x[i]) * y[i];
  }
  EXPECT_FLOAT_EQ(ref::dot_interleaved(x.data(), y.data(), 37), static_cast<float>(expected));
}

TEST(W2vTrainSchedule, LearningRateDecaysLinearlyToTheFloor) {
  EXPECT_DOUBLE_EQ(learning_rate(0.025, 0, 1000), 0.025);
  EXPECT_DOUBLE_EQ(learning_rate(0.025, 500, 999), 0.0125);
  EXPECT_NEAR(learning_rate(0.025, 1000, 1000), 0.025 / 1001, 1e-15);
  EXPECT_DOUBLE_EQ(learning_rate(0.025, 100000000, 100000000), 0.025e-4);  // the floor
  EXPECT_DOUBLE_EQ(learning_rate(0.025, 200000000, 100000000), 0.025e-4);
}

TEST(W2vTrainInit, Syn0IsWord2vecCsInitNet) {
  const std::vector<float> syn0 = initial_syn0(3, 5, 1);
  ASSERT_EQ(syn0.size(), 15u);
  std::uint64_t r = 1;  // word2vec.c: next_random = 1
  for (std::size_t i = 0; i < syn0.size(); ++i) {
    r = r * 25214903917ull + 11;
    EXPECT_EQ(syn0[i], ((r & 0xFFFF) / 65536.0f - 0.5f) / 5.0f) << i;
    EXPECT_LE(std::abs(syn0[i]), 0.5f / 5);
  }
  EXPECT_NE(initial_syn0(3, 5, 2), syn0);
}

TEST(W2vTrainShards, ContiguousAndBalanced) {
  for (int t = 1; t <= 5; ++t) {
    const auto s = shard_ranges(103, t);
    ASSERT_EQ(s.size(), static_cast<std::size_t>(t));
    EXPECT_EQ(s.front().first, 0);
    EXPECT_EQ(s.back().second, 103);
    for (int i = 0; i < t; ++i) {
      if (i > 0) EXPECT_EQ(s[i].first, s[i - 1].second);
      EXPECT_LE(std::abs((s[i].second - s[i].first) - 103 / t), 1);
    }
  }
}

// A Zipf-like corpus over `V - 1` words in lines of 1 to 300 words.
Corpus zipf_corpus(const Vocabulary& vocab, std::int64_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<double> weights;
  for (std::int32_t w = 1; w < vocab.size(); ++w) weights.push_back(vocab.count(w));
  std::discrete_distribution<int> pick(weights.begin(), weights.end());
  Corpus c;
  c.line_offsets = {0};
  c.sentence_offsets = {0};
  while (c.num_words() < n) {
    const std::int64_t len = std::min<std::int64_t>(1 + rng() % 300, n - c.num_words());
    for (std::int64_t i = 0; i < len; ++i) c.ids.push_back(1 + pick(rng));
    c.line_offsets.push_back(c.num_words());
    c.sentence_offsets.push_back(c.num_words());
    ++c.sentence_ends;
  }
  return c;
}

Vocabulary zipf_vocab(int V) {
  std::vector<std::string> words;
  std::vector<std::int64_t> counts;
  for (int w = 1; w < V; ++w) {
    words.push_back("w" + std::to_string(w));
    counts.push_back(100000 / w);
  }
  return Vocabulary::from_counts(words, counts, 1);
}

TrainOptions small_options() {
  TrainOptions o;
  o.size = 16;
  o.window = 3;
  o.negative = 3;
  o.iter = 3;
  o.threads = 1;
  o.alpha = 0.025;
  o.cbow = false;
  o.table_size = 100000;
  return o;
}

TEST(W2vTrainCpu, TrainsExactlyIterTimesWordsForAnyThreadCount) {
  const Vocabulary vocab = zipf_vocab(200);
  const Corpus corpus = zipf_corpus(vocab, 20011, 1);
  Context ctx = Context::cpu();
  for (const bool cbow : {false, true}) {
    for (int threads = 1; threads <= 3; ++threads) {
      TrainOptions o = small_options();
      o.threads = threads, o.cbow = cbow, o.iter = 4;
      TrainProgress last;
      int reports = 0;
      const TrainResult r = train(
          ctx, vocab, corpus, o, [&](const TrainProgress& p) { last = p, ++reports; }, 0.0);
      EXPECT_EQ(r.words_read, 4 * corpus.num_words()) << threads << " threads";
      EXPECT_EQ(last.words_done, 4 * corpus.num_words());
      EXPECT_EQ(last.total_words, 4 * corpus.num_words());
      EXPECT_GE(reports, 1);
      EXPECT_GT(r.pairs, 0);
      EXPECT_TRUE(std::isfinite(r.loss));
      EXPECT_EQ(r.syn0.size(), static_cast<std::size_t>(vocab.size()) * 16);
    }
  }
}

TEST(W2vTrainCpu, OneThreadIsReproducibleAndSeedMatters) {
  const Vocabulary vocab = zipf_vocab(100);
  const Corpus corpus = zipf_corpus(vocab, 5000, 2);
  Context ctx = Context::cpu();
  TrainOptions o = small_options();
  o.sample = 1e-3;
  const TrainResult a = train(ctx, vocab, corpus, o), b = train(ctx, vocab, corpus, o);
  EXPECT_EQ(a.syn0, b.syn0);
  EXPECT_EQ(a.syn1neg, b.syn1neg);
  EXPECT_EQ(a.words_trained, b.words_trained);
  o.seed = 2;
  const TrainResult c = train(ctx, vocab, corpus, o);
  EXPECT_NE(a.syn0, c.syn0);
}

TEST(W2vTrainCpu, SubsamplingKeepsTheExpectedShare) {
  const Vocabulary vocab = zipf_vocab(300);
  const Corpus corpus = zipf_corpus(vocab, 50000, 3);
  Context ctx = Context::cpu();
  TrainOptions o = small_options();
  o.iter = 2, o.sample = 1e-3, o.size = 4, o.window = 1;
  const TrainResult r = train(ctx, vocab, corpus, o);
  double expected = 0;
  for (const std::int32_t id : corpus.ids) {
    expected += std::min(1.0, keep_probability(vocab.count(id), o.sample, vocab.train_words()));
  }
  expected *= o.iter;
  const double sd = std::sqrt(expected);  // a loose binomial bound
  EXPECT_NEAR(static_cast<double>(r.words_trained), expected, 6 * sd + 0.01 * expected);
  EXPECT_LT(r.words_trained, r.words_read);
  o.sample = 0;
  EXPECT_EQ(train(ctx, vocab, corpus, o).words_trained, 2 * corpus.num_words());
}

TEST(W2vTrainCpu, ProgressLearningRateFallsToTheFloor) {
  const Vocabulary vocab = zipf_vocab(100);
  const Corpus corpus = zipf_corpus(vocab, 60000, 4);
  Context ctx = Context::cpu();
  TrainOptions o = small_options();
  o.iter = 2, o.size = 4;
  std::vector<TrainProgress> reports;
  train(
      ctx, vocab, corpus, o, [&](const TrainProgress& p) { reports.push_back(p); }, 0.0);
  ASSERT_GE(reports.size(), 1u);
  for (std::size_t i = 1; i < reports.size(); ++i) {
    EXPECT_LE(reports[i].alpha, reports[i - 1].alpha);
    EXPECT_GE(reports[i].words_done, reports[i - 1].words_done);
  }
  EXPECT_DOUBLE_EQ(reports.back().alpha, learning_rate(o.alpha, 120000, 120000));
  EXPECT_NEAR(reports.back().alpha, o.alpha * 1e-4, o.alpha * 1e-4);
}

TEST(W2vTrainCpu, LearnsCooccurrence) {
  const test::TopicCorpus t = test::two_topic_corpus();
  Context ctx = Context::cpu();
  TrainOptions o = small_options();
  o.iter = 5, o.sample = 0;
  test::expect_topics_separated(train(ctx, t.vocab, t.corpus, o), t.vocab, o.size);
  o.window_negatives = true;
  test::expect_topics_separated(train(ctx, t.vocab, t.corpus, o), t.vocab, o.size);
}

// One set of negatives per window: CBOW (one pair per window) draws and trains exactly as with a
// set per pair; skip-gram draws fewer, so its vectors differ, reproducibly with one thread.
TEST(W2vTrainCpu, WindowNegativesLeaveCbowUnchangedAndChangeSkipGram) {
  const Vocabulary vocab = zipf_vocab(100);
  const Corpus corpus = zipf_corpus(vocab, 5000, 2);
  Context ctx = Context::cpu();
  for (const bool cbow : {true, false}) {
    TrainOptions o = small_options();
    o.sample = 1e-3, o.cbow = cbow;
    const TrainResult pair = train(ctx, vocab, corpus, o);
    o.window_negatives = true;
    const TrainResult a = train(ctx, vocab, corpus, o), b = train(ctx, vocab, corpus, o);
    EXPECT_TRUE(a.syn0 == b.syn0 && a.syn1neg == b.syn1neg) << "cbow " << cbow;
    if (cbow) {
      EXPECT_TRUE(a.syn0 == pair.syn0 && a.syn1neg == pair.syn1neg);
      EXPECT_EQ(a.loss, pair.loss);
      EXPECT_EQ(a.pairs, pair.pairs);
    } else {
      EXPECT_NE(a.syn0, pair.syn0);
      EXPECT_TRUE(std::isfinite(a.loss));
    }
  }
}

TEST(W2vTrainOptions, AbsurdValuesAreOneLineErrors) {
  const auto expect_bad = [](auto change, const char* flag) {
    TrainOptions o;
    change(o);
    try {
      validate(o);
      ADD_FAILURE() << "accepted " << flag;
    } catch (const ArgumentError& e) {
      EXPECT_NE(e.message().find(flag), std::string::npos) << e.message();
      EXPECT_EQ(e.message().find('\n'), std::string::npos);
    }
  };
  expect_bad([](TrainOptions& o) { o.size = 0; }, "-size");
  expect_bad([](TrainOptions& o) { o.window = -1; }, "-window");
  expect_bad([](TrainOptions& o) { o.window = 0; }, "-window");
  expect_bad([](TrainOptions& o) { o.negative = 10000; }, "-negative");
  expect_bad([](TrainOptions& o) { o.negative = 0; }, "-negative");
  expect_bad([](TrainOptions& o) { o.threads = 0; }, "-threads");
  expect_bad([](TrainOptions& o) { o.sample = -1; }, "-sample");
  expect_bad([](TrainOptions& o) { o.alpha = 0; }, "-alpha");
  expect_bad([](TrainOptions& o) { o.iter = 0; }, "-iter");
  expect_bad([](TrainOptions& o) { o.window_negatives = true, o.negative = 33; }, "-negative");
  EXPECT_NO_THROW(validate(TrainOptions()));
  TrainOptions window;
  window.window_negatives = true, window.size = 128, window.negative = kWindowNegativesMax;
  EXPECT_NO_THROW(validate(window));
}

}  // namespace
}  // namespace curnn::word2vec
