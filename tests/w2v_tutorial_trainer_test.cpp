// The book's word2vec experiment as a library function (curnn/word2vec/tutorial_trainer.hpp):
// short CPU runs on a synthetic corpus — the printed lines, the falling loss, the outputs,
// reproducibility, divergence and bad input.
#include "curnn/word2vec/tutorial_trainer.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include "curnn/word2vec/tutorial.hpp"
#include "curnn/word2vec/vectors.hpp"
#include "w2v_test_util.hpp"
#include "w2v_tutorial_runs.hpp"

namespace curnn::word2vec {
namespace {

using test::expect_error;
using test::json_values;
using test::lines_matching;
using test::run_captured;
using test::short_run;
using test::synthetic_corpus;

class TutorialTrainer : public test::TempFiles {
 protected:
  void SetUp() override {
    TempFiles::SetUp();
    corpus_ = write("corpus.txt", synthetic_corpus());
  }
  TutorialOptions options(const std::string& out = "out") const {
    return short_run(corpus_, path(out));
  }
  std::string corpus_;
  Context cpu = Context::cpu();
};

TEST_F(TutorialTrainer, PrintsTheBooksLinesAndTheLossFalls) {
  const auto o = options();
  const auto run = run_captured(cpu, o);
  ASSERT_EQ(run.status, 0) << run.err;
  const std::string& out = run.out;
  EXPECT_EQ(lines_matching(out, R"(Data size 20000)").size(), 1u) << out;
  EXPECT_EQ(
      lines_matching(out, R"(Most common words \(\+UNK\) \[\['UNK', \d+\](, \('w\d+', \d+\)){4}\])")
          .size(),
      1u)
      << out;
  EXPECT_EQ(lines_matching(out, R"(Sample data \[\d+(, \d+){9}\] \['w\d+'(, 'w\d+'){9}\])").size(),
            1u)
      << out;
  EXPECT_EQ(lines_matching(out, "Initialized").size(), 1u);

  // The demo batch generate_batch(8, 2, 1): centre k (k = 1..4) with both of its neighbours.
  const auto demo = lines_matching(out, R"(\d+ \S+ -> \d+ \S+)");
  ASSERT_EQ(demo.size(), 8u) << out;
  const auto ds = build_tutorial_dataset(corpus_, o.vocabulary_size);
  for (int i = 0; i < 8; i += 2) {
    int centre[2], context[2];
    char word[2][64], word2[2][64];
    for (int j = 0; j < 2; ++j) {
      ASSERT_EQ(std::sscanf(demo[i + j].c_str(), "%d %63s -> %d %63s", &centre[j], word[j],
                            &context[j], word2[j]),
                4);
      EXPECT_EQ(centre[j], ds.data[i / 2 + 1]);
      EXPECT_EQ(word[j], ds.words[centre[j]]);
      EXPECT_EQ(word2[j], ds.words[context[j]]);
    }
    std::vector<int> contexts{context[0], context[1]},
        neighbours{ds.data[i / 2], ds.data[i / 2 + 2]};
    std::sort(contexts.begin(), contexts.end());
    std::sort(neighbours.begin(), neighbours.end());
    EXPECT_EQ(contexts, neighbours) << demo[i];
  }

  // The loss lines at steps 0, 50, ..., 250, falling.
  const auto loss_lines = lines_matching(out, R"(Average loss at step \d+ : [0-9.e+-]+)");
  ASSERT_EQ(loss_lines.size(), 6u) << out;
  EXPECT_EQ(loss_lines[1].rfind("Average loss at step 50 : ", 0), 0u) << loss_lines[1];
  const auto losses = json_values(o.log_json, "loss", "average_loss");
  ASSERT_EQ(losses.size(), 6u);
  EXPECT_LT(losses.back(), 0.7 * losses.front()) << out;
  EXPECT_LT(losses.back(), losses[1]) << out;
  EXPECT_EQ(json_values(o.log_json, "loss", "steps_averaged"),
            (std::vector<double>{1, 50, 50, 50, 50, 50}));

  // 16 nearest-words lines at steps 0, 100 and 200, 8 words each with the book's commas.
  EXPECT_EQ(lines_matching(out, R"(Nearest to \S+:( \S+,){8})").size(), 3u * 16u) << out;
  EXPECT_EQ(json_values(o.log_json, "nearest", "step"), (std::vector<double>{0, 100, 200}));
  EXPECT_EQ(
      lines_matching(out, R"(Trained 300 steps \(4800 pairs\) in .*steps/s, \d+ pairs/s)").size(),
      1u)
      << out;

  // The normalised embeddings: every word of the vocabulary, unit rows.
  const auto vectors = read_word_vectors(o.output_dir + "/embeddings.txt");
  ASSERT_EQ(vectors.size(), ds.vocabulary_size());
  EXPECT_EQ(vectors.dim, 16);
  EXPECT_EQ(vectors.words, ds.words);
  for (std::int64_t i = 0; i < vectors.size(); ++i) {
    double norm = 0;
    for (std::int64_t d = 0; d < vectors.dim; ++d)
      norm += double(vectors.row(i)[d]) * vectors.row(i)[d];
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5) << vectors.words[i];
  }
  const auto summary_steps = json_values(o.log_json, "summary", "steps");
  ASSERT_EQ(summary_steps.size(), 1u);
  EXPECT_EQ(summary_steps[0], 300);
  EXPECT_GT(json_values(o.log_json, "summary", "words_per_s").at(0), 0);
  EXPECT_FALSE(std::filesystem::exists(o.output_dir + "/tsne.png"));  // plot = false
}

TEST_F(TutorialTrainer, TheSameSeedGivesTheSameRun) {
  auto o = options("a");
  o.steps = 120;
  o.log_every = 10;
  const auto first = run_captured(cpu, o);
  o.output_dir = path("b");
  o.log_json = path("b.jsonl");
  const auto second = run_captured(cpu, o);
  ASSERT_EQ(first.status, 0);
  ASSERT_EQ(second.status, 0);
  const auto loss_lines = lines_matching(first.out, "Average loss at step .*");
  EXPECT_EQ(loss_lines.size(), 12u);
  EXPECT_EQ(loss_lines, lines_matching(second.out, "Average loss at step .*"));
  EXPECT_EQ(read(path("a/embeddings.txt")), read(path("b/embeddings.txt")));

  o.seed = 2;
  o.output_dir = path("c");
  const auto other = run_captured(cpu, o);
  EXPECT_NE(loss_lines, lines_matching(other.out, "Average loss at step .*"));
}

TEST_F(TutorialTrainer, DivergenceReportsTheStepAndFails) {
  auto o = options();
  o.learning_rate = 1e30;
  o.log_every = 10;
  const auto run = run_captured(cpu, o);
  EXPECT_EQ(run.status, 1);
  const std::regex report(
      R"(error: the loss is -?(nan|inf) at step (\d+): training diverged[^\n]*\n)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(run.err, match, report)) << run.err;
  const int step = std::stoi(match[2]);
  EXPECT_GE(step, 1);
  EXPECT_LT(step, 300);
  EXPECT_EQ(json_values(o.log_json, "diverged", "step"), (std::vector<double>{double(step)}));
  EXPECT_FALSE(std::filesystem::exists(o.output_dir + "/embeddings.txt"));
}

TEST_F(TutorialTrainer, BadInputIsAOneLineError) {
  auto with = [&](auto change) {
    auto o = options();
    change(o);
    return o;
  };
  auto expect_bad = [&](const TutorialOptions& o, std::initializer_list<std::string> parts) {
    ::testing::internal::CaptureStdout();
    expect_error([&] { run_tutorial(cpu, o); }, parts);
    ::testing::internal::GetCapturedStdout();
    try {
      run_tutorial(cpu, o);
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
  const auto tiny = write("tiny.txt", "a b a b c a b c a");
  auto o = options();
  o.train_path = tiny;
  o.num_sampled = 2;
  o.steps = 20;
  const auto run = run_captured(cpu, o);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(lines_matching(run.out, R"(Nearest to \S+:( \S+,){3})").size(), 4u) << run.out;
  EXPECT_EQ(
      lines_matching(
          run.out,
          R"(Most common words \(\+UNK\) \[\['UNK', 0\], \('a', 4\), \('b', 3\), \('c', 2\)\])")
          .size(),
      1u)
      << run.out;
}

TEST_F(TutorialTrainer, AMissingPlotterIsAWarningNotAFailure) {
  // A stand-in for tsne_plot.py that reports missing modules as the real script does.
  const auto fake = write("fake_tsne.py", "import sys\nsys.exit(3)\n");
  ASSERT_EQ(::setenv("CURNN_TSNE_SCRIPT", fake.c_str(), 1), 0);
  auto o = options();
  o.steps = 5;
  o.plot = true;
  const auto run = run_captured(cpu, o);
  ::unsetenv("CURNN_TSNE_SCRIPT");
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.err.find("warning: t-SNE plot skipped"), std::string::npos) << run.err;
  EXPECT_TRUE(std::filesystem::exists(o.output_dir + "/embeddings.txt"));
  const auto plotted = read_word_vectors(o.output_dir + "/tsne_input.txt");
  EXPECT_EQ(plotted.size(), 100);
  EXPECT_FALSE(std::filesystem::exists(o.output_dir + "/tsne.png"));
}

TEST_F(TutorialTrainer, PlotsTheMostFrequentWordsWithTsne) {
  const auto has_modules = [](const char* python) {
    return std::system((std::string(python) + " -c 'import sklearn, matplotlib' > /dev/null 2>&1")
                           .c_str()) == 0;
  };
  if (!has_modules("python3") && !has_modules("/usr/bin/python3")) {
    GTEST_SKIP() << "python3 with scikit-learn and matplotlib is not installed";
  }
  auto o = options();
  o.steps = 5;
  o.vocabulary_size = 40;  // a quick t-SNE
  o.plot = true;
  const auto run = run_captured(cpu, o);
  ASSERT_EQ(run.status, 0) << run.err;
  const std::string png = read(o.output_dir + "/tsne.png");
  ASSERT_GT(png.size(), 8u) << run.err;
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(run.out.find("t-SNE plot of the 40 most frequent words"), std::string::npos);
}

}  // namespace
}  // namespace curnn::word2vec
