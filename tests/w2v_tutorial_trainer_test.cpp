// The book's word2vec experiment as a library function (curnn/word2vec/tutorial_trainer.hpp):
// short CPU runs on a synthetic corpus — what the run reports to its observer (the demo batch,
// the falling loss, the nearest words), the normalised embeddings it returns, reproducibility,
// divergence and bad input; and that the library itself prints and writes nothing (the book's
// printouts and the files are the app's: tests/w2v_tutorial_app_test.cpp).
#include "curnn/word2vec/tutorial_trainer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "curnn/word2vec/tutorial.hpp"
#include "w2v_test_util.hpp"
#include "w2v_tutorial_runs.hpp"

namespace curnn::word2vec {
namespace {

using test::expect_error;
using test::run_recorded;
using test::short_run;
using test::synthetic_corpus;

class TutorialTrainer : public test::TempFiles {
 protected:
  void SetUp() override {
    TempFiles::SetUp();
    corpus_ = write("corpus.txt", synthetic_corpus());
  }
  TutorialOptions options() const { return short_run(corpus_); }
  std::string corpus_;
  Context cpu = Context::cpu();
};

TEST_F(TutorialTrainer, ReportsTheDemoBatchTheFallingLossAndTheNearestWords) {
  const auto o = options();
  const auto run = run_recorded(cpu, o);
  const TutorialResult& r = run.result;
  const test::Recorder& seen = run.record;
  ASSERT_FALSE(r.diverged()) << r.diverged_step;
  const auto ds = build_tutorial_dataset(corpus_, o.vocabulary_size);
  EXPECT_EQ(seen.words, ds.words);
  EXPECT_EQ(seen.data, ds.data);
  ASSERT_GE(seen.events.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(seen.events.begin(), seen.events.begin() + 3),
            (std::vector<std::string>{"dataset", "demo_batch", "initialized"}));

  // The demo batch generate_batch(8, 2, 1): centre k (k = 1..4) with both of its neighbours.
  ASSERT_EQ(seen.demo_batch_ids.size(), 8u);
  ASSERT_EQ(seen.demo_labels.size(), 8u);
  for (int i = 0; i < 8; i += 2) {
    EXPECT_EQ(seen.demo_batch_ids[i], ds.data[i / 2 + 1]);
    EXPECT_EQ(seen.demo_batch_ids[i + 1], ds.data[i / 2 + 1]);
    std::vector<int> contexts{seen.demo_labels[i], seen.demo_labels[i + 1]},
        neighbours{ds.data[i / 2], ds.data[i / 2 + 2]};
    std::sort(contexts.begin(), contexts.end());
    std::sort(neighbours.begin(), neighbours.end());
    EXPECT_EQ(contexts, neighbours) << "demo pair " << i;
  }

  // The losses at steps 0, 50, ..., 250, falling.
  ASSERT_EQ(seen.losses.size(), 6u);
  for (std::size_t k = 0; k < seen.losses.size(); ++k) {
    EXPECT_EQ(seen.losses[k].step, static_cast<std::int64_t>(50 * k));
    EXPECT_EQ(seen.losses[k].steps_averaged, k == 0 ? 1 : 50);
  }
  const auto losses = seen.loss_values();
  EXPECT_LT(losses.back(), 0.7 * losses.front());
  EXPECT_LT(losses.back(), losses[1]);
  EXPECT_EQ(r.final_average_loss, losses.back());

  // Nearest words at steps 0, 100 and 200: the 16 validation words (distinct ids below
  // valid_window), each with 8 distinct other words.
  ASSERT_EQ(seen.nearest_words.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& block = seen.nearest_words[k];
    EXPECT_EQ(block.step, static_cast<std::int64_t>(100 * k));
    EXPECT_EQ(block.valid_ids, seen.valid_ids);
    ASSERT_EQ(block.nearest.size(), 16u);
    for (std::size_t w = 0; w < 16; ++w) {
      const std::set<std::int32_t> distinct(block.nearest[w].begin(), block.nearest[w].end());
      EXPECT_EQ(distinct.size(), 8u);
      EXPECT_EQ(distinct.count(block.valid_ids[w]), 0u) << "a word is its own neighbour";
    }
  }
  EXPECT_EQ(std::set<std::int32_t>(seen.valid_ids.begin(), seen.valid_ids.end()).size(), 16u);
  for (const auto id : seen.valid_ids) EXPECT_LT(id, 100);

  // The result: every word of the vocabulary with a unit vector.
  EXPECT_EQ(r.steps, 300);
  EXPECT_EQ(r.pairs, 300 * 16);
  EXPECT_GT(r.train_seconds, 0);
  EXPECT_EQ(r.words, ds.words);
  ASSERT_EQ(r.embedding_size, 16);
  ASSERT_EQ(r.embeddings.size(), ds.words.size() * 16);
  for (std::size_t i = 0; i < ds.words.size(); ++i) {
    double norm = 0;
    for (int d = 0; d < 16; ++d)
      norm += double(r.embeddings[i * 16 + d]) * r.embeddings[i * 16 + d];
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5) << ds.words[i];
  }
}

TEST_F(TutorialTrainer, TheLibraryPrintsNothingAndWritesNoFile) {
  auto o = options();
  o.steps = 20;
  o.log_every = 5;
  o.eval_every = 10;
  const auto before = std::distance(std::filesystem::directory_iterator(dir_),
                                    std::filesystem::directory_iterator{});
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const auto run = run_recorded(cpu, o);
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(run.result.diverged());
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator{}),
            before);
  EXPECT_EQ(run.record.losses.size(), 4u);  // steps 0, 5, 10 and 15
}

TEST_F(TutorialTrainer, TheSameSeedGivesTheSameRun) {
  auto o = options();
  o.steps = 120;
  o.log_every = 10;
  const auto first = run_recorded(cpu, o);
  const auto second = run_recorded(cpu, o);
  ASSERT_FALSE(first.result.diverged());
  EXPECT_EQ(first.record.losses.size(), 12u);
  EXPECT_EQ(first.record.loss_values(), second.record.loss_values());
  EXPECT_EQ(first.result.embeddings, second.result.embeddings);

  o.seed = 2;
  const auto other = run_recorded(cpu, o);
  EXPECT_NE(first.record.loss_values(), other.record.loss_values());
}

TEST_F(TutorialTrainer, DivergenceReportsTheStepAndNoEmbeddings) {
  auto o = options();
  o.learning_rate = 1e30;
  o.log_every = 10;
  const auto run = run_recorded(cpu, o);
  ASSERT_TRUE(run.result.diverged());
  EXPECT_GE(run.result.diverged_step, 1);
  EXPECT_LT(run.result.diverged_step, 300);
  EXPECT_FALSE(std::isfinite(run.result.diverged_loss));
  EXPECT_TRUE(run.result.embeddings.empty());
  for (const auto& l : run.record.losses) EXPECT_LT(l.step, run.result.diverged_step);
}

TEST_F(TutorialTrainer, BadInputIsAOneLineError) {
  auto with = [&](auto change) {
    auto o = options();
    change(o);
    return o;
  };
  auto expect_bad = [&](const TutorialOptions& o, std::initializer_list<std::string> parts) {
    expect_error([&] { train_tutorial(cpu, o); }, parts);
    try {
      train_tutorial(cpu, o);
    } catch (const Error& e) {
      EXPECT_EQ(e.message().find('\n'), std::string::npos) << e.message();
    }
  };
  expect_bad(with([&](TutorialOptions& o) { o.train_path = path("missing.txt"); }),
             {"missing.txt"});
  const auto empty = write("empty.txt", " \n\t ");
  expect_bad(with([&](TutorialOptions& o) { o.train_path = empty; }), {"empty.txt", "no words"});
  expect_bad(with([](TutorialOptions& o) { o.train_path.clear(); }), {"train_path"});
  expect_bad(with([](TutorialOptions& o) { o.vocabulary_size = 1; }), {"vocabulary_size", ">= 2"});
  expect_bad(with([](TutorialOptions& o) { o.batch_size = 15; }), {"batch_size", "num_skips"});
  expect_bad(with([](TutorialOptions& o) { o.num_skips = 3; }), {"num_skips"});
  expect_bad(with([](TutorialOptions& o) { o.learning_rate = 0; }), {"learning_rate"});
  expect_bad(with([](TutorialOptions& o) { o.learning_rate = std::nan(""); }), {"learning_rate"});
  expect_bad(with([](TutorialOptions& o) { o.embedding_size = 0; }), {"embedding_size"});
  expect_bad(with([](TutorialOptions& o) { o.steps = 0; }), {"steps"});
  expect_bad(with([](TutorialOptions& o) { o.log_every = 0; }), {"log_every"});
  expect_bad(with([](TutorialOptions& o) { o.valid_size = 101; }), {"valid_size"});
  const auto tiny = write("tiny.txt", "a b a b c");
  expect_bad(with([&](TutorialOptions& o) { o.train_path = tiny; }),
             {"num_sampled (8)", "tiny.txt", "(4 words with UNK)"});
}

TEST_F(TutorialTrainer, SmallVocabulariesClampTheValidationWindow) {
  // 4 words with UNK: the 16 validation words become 4, each with its 3 other words.
  auto o = options();
  o.train_path = write("tiny.txt", "a b a b c a b c a");
  o.num_sampled = 2;
  o.steps = 20;
  const auto run = run_recorded(cpu, o);
  ASSERT_FALSE(run.result.diverged());
  EXPECT_EQ(run.record.words, (std::vector<std::string>{"UNK", "a", "b", "c"}));
  ASSERT_EQ(run.record.nearest_words.size(), 1u);  // step 0 (eval_every 100 > 20 steps)
  const auto& block = run.record.nearest_words[0];
  ASSERT_EQ(block.valid_ids.size(), 4u);
  for (const auto& nearest : block.nearest) EXPECT_EQ(nearest.size(), 3u);
}

}  // namespace
}  // namespace curnn::word2vec
