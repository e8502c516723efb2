// The fast trainer's kernel (cuda::w2v_train_chunks) against ref::train_sentence in double, with
// injected window shrinks and negatives: single chunks and several chunks over disjoint words
// (where the kernel must equal the sequential reference), skip-gram and CBOW, E from 1 to 512;
// then the whole GPU trainer (hashed draws) on a corpus with known structure.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/cuda/w2v_train.hpp"
#include "curnn/ref/w2v_train.hpp"
#include "curnn/word2vec/trainer.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "w2v_train_util.hpp"

namespace curnn {
namespace {

struct ArrayDraws {
  const std::vector<std::int32_t>& shrinks;
  const std::vector<std::int32_t>& negatives;
  std::int64_t base;  // the chunk's first position in the batch
  int P, K;
  int shrink(int p) { return shrinks[static_cast<std::size_t>(base + p)]; }
  std::int32_t negative(int p, int slot, int k) {
    return negatives[static_cast<std::size_t>(((base + p) * P + slot) * K + k)];
  }
};

struct Case {
  int E, K, W;
  bool cbow;
  int chunks, length;
};

// Chunk s uses words [1 + s * span, 1 + (s + 1) * span): disjoint between chunks; inside a chunk
// a word never repeats within 2W + 1 positions (the kernel's exactness condition).
void expect_kernel_matches_reference(const Case& c) {
  const int span = 2 * c.W + 1 + 7;
  const std::int32_t V = 1 + c.chunks * span;
  std::mt19937 rng(static_cast<std::uint32_t>(c.E * 131 + c.K * 7 + c.W + c.cbow));
  std::vector<std::int32_t> ids;
  std::vector<std::int64_t> offsets{0};
  std::vector<float> alphas;
  for (int s = 0; s < c.chunks; ++s) {
    for (int p = 0; p < c.length; ++p) ids.push_back(1 + s * span + p % span);
    offsets.push_back(static_cast<std::int64_t>(ids.size()));
    alphas.push_back(0.05f + 0.01f * static_cast<float>(s % 5));
  }
  const int P = c.cbow ? 1 : 2 * c.W;
  std::vector<std::int32_t> shrinks(ids.size()), negatives(ids.size() * P * c.K);
  for (auto& b : shrinks) b = static_cast<std::int32_t>(rng() % c.W);
  for (std::size_t n = 0; n < ids.size(); ++n) {
    const std::int32_t first = 1 + static_cast<std::int32_t>(n / c.length) * span;
    for (int i = 0; i < P * c.K; ++i) {
      // Words of the same chunk: the centre itself and repeated negatives occur.
      negatives[n * P * c.K + i] = first + static_cast<std::int32_t>(rng() % 4);
    }
  }
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> syn0(static_cast<std::size_t>(V) * c.E), syn1neg(syn0.size());
  for (auto& x : syn0) x = u(rng);
  for (auto& x : syn1neg) x = u(rng);

  // Reference, chunk by chunk (they touch disjoint rows).
  std::vector<double> ref0(syn0.begin(), syn0.end()), ref1(syn1neg.begin(), syn1neg.end());
  std::vector<double> neu1(c.E), neu1e(c.E), ref_loss(c.chunks);
  std::vector<std::int32_t> ref_pairs(c.chunks);
  for (int s = 0; s < c.chunks; ++s) {
    ArrayDraws draws{shrinks, negatives, offsets[s], P, c.K};
    ref::SgnsLossSum loss;
    ref::train_sentence(c.E, c.K, c.W, c.cbow, c.length, ids.data() + offsets[s], draws,
                        static_cast<double>(alphas[s]), ref0.data(), ref1.data(), neu1.data(),
                        neu1e.data(), &loss);
    ref_loss[s] = loss.sum;
    ref_pairs[s] = static_cast<std::int32_t>(loss.pairs);
  }

  Context ctx = Context::cuda();
  auto d_ids = test::device_copy(ids);
  auto d_offsets = test::device_copy(offsets);
  auto d_alpha = test::device_copy(alphas);
  auto d_shrinks = test::device_copy(shrinks);
  auto d_negatives = test::device_copy(negatives);
  auto d_syn0 = test::device_copy(syn0), d_syn1neg = test::device_copy(syn1neg);
  auto d_loss = test::device_poisoned<float>(c.chunks);
  auto d_pairs = test::device_poisoned<std::int32_t>(c.chunks, -1);
  cuda::W2vTrainDraws draws;
  draws.shrink = d_shrinks.data();
  draws.negatives = d_negatives.data();
  cuda::w2v_train_chunks(c.E, c.K, c.W, c.cbow, V, c.chunks, d_ids.data(), d_offsets.data(),
                         d_alpha.data(), draws, d_syn0.data(), d_syn1neg.data(), d_loss.data(),
                         d_pairs.data(), static_cast<cudaStream_t>(ctx.stream()));
  const std::string what = std::string(c.cbow ? "cbow" : "skip-gram") + " E " +
                           std::to_string(c.E) + " K " + std::to_string(c.K) + " W " +
                           std::to_string(c.W);
  EXPECT_TRUE(test::expect_close(what + " syn0", test::host_copy(ctx, d_syn0), ref0));
  EXPECT_TRUE(test::expect_close(what + " syn1neg", test::host_copy(ctx, d_syn1neg), ref1));
  EXPECT_TRUE(test::expect_close(what + " loss", test::host_copy(ctx, d_loss), ref_loss));
  EXPECT_EQ(test::host_copy(ctx, d_pairs), ref_pairs);
}

TEST(W2vTrainCuda, SingleChunkSkipGramMatchesReference) {
  CURNN_REQUIRE_CUDA();
  expect_kernel_matches_reference({128, 5, 5, false, 1, 300});
}

TEST(W2vTrainCuda, SingleChunkCbowMatchesReference) {
  CURNN_REQUIRE_CUDA();
  expect_kernel_matches_reference({128, 5, 5, true, 1, 300});
}

TEST(W2vTrainCuda, ManyDisjointChunksMatchReference) {
  CURNN_REQUIRE_CUDA();
  expect_kernel_matches_reference({100, 5, 5, false, 64, 97});
  expect_kernel_matches_reference({300, 7, 3, true, 16, 50});
}

TEST(W2vTrainCuda, EveryRowWidthAndLargeK) {
  CURNN_REQUIRE_CUDA();
  for (const int E : {1, 31, 33, 64, 200, 257, 512}) {
    expect_kernel_matches_reference({E, 3, 2, false, 3, 40});
  }
  expect_kernel_matches_reference({128, 25, 4, false, 2, 60});  // several negative groups
  expect_kernel_matches_reference({128, 5, 5, false, 2, 3});    // shorter than the window
}

TEST(W2vTrainCuda, GpuTrainerAccountsWordsAndLearnsTopics) {
  CURNN_REQUIRE_CUDA();
  using namespace word2vec;
  std::vector<std::string> words;
  std::vector<std::int64_t> counts;
  for (int w = 1; w <= 20; ++w) words.push_back("t" + std::to_string(w)), counts.push_back(1000);
  const Vocabulary vocab = Vocabulary::from_counts(words, counts, 1);
  Corpus corpus;
  corpus.line_offsets = {0};
  std::mt19937 rng(5);
  for (int line = 0; line < 400; ++line) {
    for (int i = 0; i < 50; ++i) {
      corpus.ids.push_back(vocab.find("t" + std::to_string(1 + (line % 2) * 10 + rng() % 10)));
    }
    corpus.line_offsets.push_back(corpus.num_words());
  }
  corpus.sentence_offsets = corpus.line_offsets;
  Context ctx = Context::cuda();
  ctx.set_deterministic(false);  // the GPU trainer is Hogwild
  TrainOptions o;
  o.size = 16, o.window = 3, o.negative = 3, o.iter = 5, o.sample = 0, o.cbow = false;
  o.alpha = 0.025, o.table_size = 100000, o.gpu_concurrent_chunks = 7;
  const TrainResult r = train(ctx, vocab, corpus, o);
  EXPECT_EQ(r.words_read, 5 * corpus.num_words());
  EXPECT_EQ(r.words_trained, 5 * corpus.num_words());
  EXPECT_TRUE(std::isfinite(r.loss));
  const auto cosine = [&](const std::string& a, const std::string& b) {
    return word2vec::test::syn0_cosine(r, vocab, o.size, a, b);
  };
  EXPECT_GT(cosine("t1", "t2"), cosine("t1", "t12") + 0.3);
  EXPECT_GT(cosine("t13", "t17"), cosine("t13", "t7") + 0.3);
}

}  // namespace
// The GPU trainer is Hogwild: on a deterministic context (the default) train() refuses it with a
// one-line ArgumentError instead of silently giving run-to-run different vectors.
TEST(W2vTrainCuda, RefusesADeterministicContext) {
  CURNN_REQUIRE_CUDA();
  using namespace word2vec;
  const Vocabulary vocab = Vocabulary::from_counts({"a", "b"}, {5, 5}, 1);
  Corpus corpus;
  corpus.ids = {1, 2, 1, 2, 1};
  corpus.line_offsets = {0, 5};
  corpus.sentence_offsets = corpus.line_offsets;
  Context ctx = Context::cuda();
  TrainOptions o;
  o.size = 8, o.table_size = 1000;
  ASSERT_TRUE(ctx.deterministic());
  EXPECT_THROW(train(ctx, vocab, corpus, o), ArgumentError);
  ctx.set_deterministic(false);
  EXPECT_NO_THROW(train(ctx, vocab, corpus, o));
}

}  // namespace curnn
