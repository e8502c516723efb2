// Numeric divergence: every trainer stops on NaN/Inf with the step named, exit 1, and writes
// nothing as if it had succeeded (no checkpoint over the one it started from, no vectors).
// PTB and MNIST: weights blown up to 3e38 (finite, so the checkpoint loads) make the next step
// overflow; word2vec (fast trainer): -alpha 10 on ordinary text. The tutorial trainer's case is
// tests/w2v_tutorial_trainer_test.cpp (DivergenceReportsTheStepAndFails). Flags in the ranges
// measured to diverge are warned about.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "curnn/data/checkpoint.hpp"
#include "support/app_fixtures.hpp"
#include "support/checkpoint_files.hpp"
#include "support/data_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

using json = nlohmann::json;

using PtbDivergence = test::AppTest<test::PtbRuns>;

using MnistDivergence = test::AppTest<test::MnistRuns>;

// Scales every parameter (the first `count` values) of a checkpoint: finite weights whose
// products overflow.
void blow_up(const std::string& path, std::size_t count) {
  test::edit_checkpoint(path, [count](json&, std::vector<float>& d) {
    for (std::size_t i = 0; i < count && i < d.size(); ++i) d[i] = d[i] >= 0 ? 3e38f : -3e38f;
  });
}

// One error line "training diverged: ... step N ...", exit 1, nothing saved over the checkpoint.
void expect_divergence(const test::AppResult& r, const std::string& ckpt, const std::string& before,
                       const std::string& step_pattern) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(
      std::regex_search(r.output, std::regex("error: training diverged: .*" + step_pattern)))
      << r.output;
  EXPECT_TRUE(test::read_bytes(ckpt) == before) << "the diverged state was saved";
}

TEST_F(PtbDivergence, DivergenceStopsWithTheStepAndSavesNothing) {
  const std::string flags = test::ptb_flags(dir_ / "data") + " --save-path '" + (dir_ / "ck") + "'";
  ASSERT_EQ(test::run_app("curnn-ptb", flags + " --stop-after 30").exit_code, 0);
  const std::string ckpt = dir_ / "ck/ptb-lm.ckpt";
  blow_up(ckpt, 300);  // the whole model: 2 V H + V + 8 H^2 + 4 H = 283 values
  const std::string before = test::read_bytes(ckpt);
  expect_divergence(test::run_app("curnn-ptb", flags + " --resume --save-every 1"), ckpt, before,
                    "at epoch 1 step 30");
}

// On this tiny corpus even --learning-rate 100 saturates instead of overflowing (on PTB it
// overflows: see the measurements in apps/curnn-ptb.cpp), so only the warning is checked here.
TEST_F(PtbDivergence, LearningRatesThatDivergeAreWarned) {
  const std::string flags = test::ptb_flags(dir_ / "data", 5, 1) + " --max-steps 3";
  const auto high = test::run_app("curnn-ptb", flags + " --learning-rate 100");
  EXPECT_NE(high.output.find("warning: --learning-rate 100 is far above"), std::string::npos)
      << high.output;
  const auto book = test::run_app("curnn-ptb", flags + " --learning-rate 1");
  EXPECT_EQ(book.output.find("warning"), std::string::npos) << book.output;
}

TEST_F(MnistDivergence, DivergenceStopsWithTheStepAndSavesNothing) {
  const std::string flags =
      test::mnist_flags(dir_ / "data") + " --save-path '" + (dir_ / "ck") + "'";
  ASSERT_EQ(test::run_app("curnn-mnist", flags + " --stop-after 9").exit_code, 0);
  const std::string ckpt = dir_ / "ck/mnist-bilstm.ckpt";
  const data::Checkpoint ck = data::load_checkpoint(ckpt);
  blow_up(ckpt, ck.data.size() / 3);  // the parameters, not Adam's moments
  const std::string before = test::read_bytes(ckpt);
  expect_divergence(test::run_app("curnn-mnist", flags + " --resume --save-every 1"), ckpt, before,
                    "at step 10");
}

TEST(Word2vecDivergence, HugeAlphaStopsWithTheWordCountAndWritesNothing) {
  if (!std::filesystem::exists(test::app_path("curnn-word2vec"))) GTEST_SKIP() << "no app";
  test::TempDir dir;
  test::write_file(dir / "corpus.txt", test::synthetic_ptb(300, 4));
  const std::string args = "-train '" + (dir / "corpus.txt") + "' -output '" + (dir / "v.txt") +
                           "' -device cpu -threads 2 -size 10 -min-count 1 -iter 5 -cbow 0";
  const auto r = test::run_app("curnn-word2vec", args + " -alpha 10");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("warning: -alpha 10 is far above"), std::string::npos) << r.output;
  EXPECT_TRUE(std::regex_search(
      r.output, std::regex(R"(error: training diverged: .* after about \d+ of \d+ words)")))
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "v.txt"));
  // The default rate trains the same corpus without a warning.
  const auto ok = test::run_app("curnn-word2vec", args);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(ok.output.find("warning"), std::string::npos) << ok.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "v.txt"));
}

}  // namespace
}  // namespace curnn
