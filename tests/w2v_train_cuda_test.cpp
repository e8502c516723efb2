// The fast trainer's kernels (cuda::w2v_train_chunks, W2vTrainKernel::kPairs and kWindow)
// against ref::train_sentence in double, with injected window shrinks and negatives: single
// chunks and several chunks over disjoint words (where the kernel must equal the sequential
// reference), skip-gram and CBOW, E from 1 to 512, negatives that repeat and that hit the centre
// word; for kWindow the reference gets the same K negatives for every pair slot of a window. Then
// the whole GPU trainer (hashed draws) on a corpus with known structure, with either kernel.
#include <gtest/gtest.h>

#include <algorithm>
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
  int P, K;           // P = 1: one set of negatives per window (every slot reads slot 0's)
  int shrink(int p) { return shrinks[static_cast<std::size_t>(base + p)]; }
  std::int32_t negative(int p, int slot, int k) {
    return negatives[static_cast<std::size_t>(((base + p) * P + (P == 1 ? 0 : slot)) * K + k)];
  }
};

struct Case {
  int E, K, W;
  bool cbow;
  int chunks, length;
  cuda::W2vTrainKernel kernel = cuda::W2vTrainKernel::kPairs;
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
  const bool window = c.kernel == cuda::W2vTrainKernel::kWindow;
  const int P = c.cbow || window ? 1 : 2 * c.W;
  const int candidates = std::min(span, 4 + c.K / 4);  // negatives per chunk: few, so repeats
  std::vector<std::int32_t> shrinks(ids.size()), negatives(ids.size() * P * c.K);
  for (auto& b : shrinks) b = static_cast<std::int32_t>(rng() % c.W);
  for (std::size_t n = 0; n < ids.size(); ++n) {
    const std::int32_t first = 1 + static_cast<std::int32_t>(n / c.length) * span;
    for (int i = 0; i < P * c.K; ++i) {
      // Words of the same chunk: the centre itself and repeated negatives occur.
      negatives[n * P * c.K + i] = first + static_cast<std::int32_t>(rng() % candidates);
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
                         d_pairs.data(), static_cast<cudaStream_t>(ctx.stream()), c.kernel);
  const std::string what =
      std::string(window ? "window " : "pairs ") + std::string(c.cbow ? "cbow" : "skip-gram") +
      " E " + std::to_string(c.E) + " K " + std::to_string(c.K) + " W " + std::to_string(c.W);
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

void expect_trainer_learns_topics(bool window_negatives) {
  using namespace word2vec;
  const word2vec::test::TopicCorpus t = word2vec::test::two_topic_corpus();
  Context ctx = Context::cuda();
  ctx.set_deterministic(false);  // the GPU trainer is Hogwild
  TrainOptions o;
  o.size = 16, o.window = 3, o.negative = 3, o.iter = 5, o.sample = 0, o.cbow = false;
  o.alpha = 0.025, o.table_size = 100000, o.gpu_concurrent_chunks = 7;
  o.window_negatives = window_negatives;
  const TrainResult r = train(ctx, t.vocab, t.corpus, o);
  EXPECT_EQ(r.words_read, 5 * t.corpus.num_words());
  EXPECT_EQ(r.words_trained, 5 * t.corpus.num_words());
  EXPECT_TRUE(std::isfinite(r.loss));
  word2vec::test::expect_topics_separated(r, t.vocab, o.size);
}

TEST(W2vTrainCuda, GpuTrainerAccountsWordsAndLearnsTopics) {
  CURNN_REQUIRE_CUDA();
  expect_trainer_learns_topics(false);
}

constexpr auto kWindow = cuda::W2vTrainKernel::kWindow;

TEST(W2vTrainWindowCuda, SingleChunkSkipGramMatchesReference) {
  CURNN_REQUIRE_CUDA();
  expect_kernel_matches_reference({128, 5, 5, false, 1, 300, kWindow});
}

TEST(W2vTrainWindowCuda, SingleChunkCbowMatchesReference) {
  CURNN_REQUIRE_CUDA();
  expect_kernel_matches_reference({128, 5, 5, true, 1, 300, kWindow});
}

TEST(W2vTrainWindowCuda, ManyDisjointChunksMatchReference) {
  CURNN_REQUIRE_CUDA();
  expect_kernel_matches_reference({100, 5, 5, false, 64, 97, kWindow});
  expect_kernel_matches_reference({300, 7, 3, true, 16, 50, kWindow});
}

// Every float4 width (E <= 128, 256, 512, with lanes past the row's end), several groups of
// negatives (K 25: groups of 8, 4 and 2 rows), K = 32 (the most), shorter than the window.
TEST(W2vTrainWindowCuda, EveryRowWidthAndLargeK) {
  CURNN_REQUIRE_CUDA();
  for (const int E : {4, 36, 64, 128, 132, 256, 260, 512}) {
    expect_kernel_matches_reference({E, 3, 2, false, 3, 40, kWindow});
  }
  for (const int E : {128, 256, 512}) {
    expect_kernel_matches_reference({E, 25, 4, false, 2, 60, kWindow});
  }
  expect_kernel_matches_reference({64, 32, 2, false, 2, 30, kWindow});
  expect_kernel_matches_reference({128, 5, 5, false, 2, 3, kWindow});
}

TEST(W2vTrainWindowCuda, RefusesShapesItCannotTake) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  auto ids = test::device_copy(std::vector<std::int32_t>{1, 2, 1});
  auto offsets = test::device_copy(std::vector<std::int64_t>{0, 3});
  auto alpha = test::device_copy(std::vector<float>{0.025f});
  auto negatives = test::device_copy(std::vector<std::int32_t>(3 * 33, 1));
  auto shrinks = test::device_copy(std::vector<std::int32_t>(3, 0));
  auto syn0 = test::device_copy(std::vector<float>(3 * 32 + 4, 0.1f));
  auto syn1neg = test::device_copy(std::vector<float>(3 * 32, 0.1f));
  cuda::W2vTrainDraws draws;
  draws.shrink = shrinks.data();
  draws.negatives = negatives.data();
  const auto run = [&](int E, int K, float* syn0_rows) {
    cuda::w2v_train_chunks(E, K, 1, false, 3, 1, ids.data(), offsets.data(), alpha.data(), draws,
                           syn0_rows, syn1neg.data(), nullptr, nullptr,
                           static_cast<cudaStream_t>(ctx.stream()), kWindow);
  };
  EXPECT_THROW(run(30, 5, syn0.data()), ArgumentError);      // E % 4 != 0
  EXPECT_THROW(run(32, 33, syn0.data()), ArgumentError);     // K > 32
  EXPECT_THROW(run(32, 5, syn0.data() + 1), ArgumentError);  // rows not 16-byte aligned
  EXPECT_NO_THROW(run(32, 5, syn0.data()));
  ctx.synchronize();
}

TEST(W2vTrainWindowCuda, GpuTrainerAccountsWordsAndLearnsTopics) {
  CURNN_REQUIRE_CUDA();
  expect_trainer_learns_topics(true);
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
