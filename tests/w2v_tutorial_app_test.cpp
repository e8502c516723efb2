// curnn-word2vec --tutorial as a program (apps/w2v_tutorial.hpp): the book's printed lines, the
// JSON log, the output files, the t-SNE plot (a missing plotter is a warning), divergence, and
// an unusable output folder reported before any work. Short CPU runs on a synthetic corpus.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>

#include "curnn/word2vec/tutorial.hpp"
#include "curnn/word2vec/vectors.hpp"
#include "json_text.hpp"
#include "support/run_app.hpp"
#include "w2v_test_util.hpp"
#include "w2v_tutorial_runs.hpp"

namespace curnn::word2vec {
namespace {

using nlohmann::json;
using test::lines_matching;

class TutorialApp : public test::TempFiles {
 protected:
  void SetUp() override {
    TempFiles::SetUp();
    if (!std::filesystem::exists(curnn::test::app_path("curnn-word2vec"))) {
      GTEST_SKIP() << "curnn-word2vec is not built next to this test";
    }
    corpus_ = write("corpus.txt", test::synthetic_corpus());
  }
  // The short run of tests/w2v_tutorial_runs.hpp, as flags.
  std::string flags(int steps = 300, int vocabulary = 500, const std::string& out = "out") const {
    return "--tutorial -train '" + corpus_ + "' --device cpu --steps " + std::to_string(steps) +
           " --vocabulary-size " + std::to_string(vocabulary) +
           " --batch-size 16 --embedding-size 16 --num-sampled 8 --eval-every 100 --output-dir '" +
           path(out) + "' --log-json '" + path(out + ".jsonl") + "'";
  }
  // The records of a JSON-lines log of one type.
  std::vector<json> records(const std::string& log, const std::string& type) const {
    std::vector<json> found;
    std::istringstream lines(read(log));
    for (std::string line; std::getline(lines, line);) {
      const json record = app::parse_json_text(line, log);
      if (record.at("type") == type) found.push_back(record);
    }
    return found;
  }
  std::string corpus_;
};

TEST_F(TutorialApp, PrintsTheBooksLinesAndWritesTheOutputs) {
  const auto run = curnn::test::run_app("curnn-word2vec", flags() + " --no-plot --log-every 50");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string& out = run.output;
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

  // The demo batch generate_batch(8, 2, 1): "centre word -> context word", ids matching words.
  const auto ds = build_tutorial_dataset(corpus_, 500);
  const auto demo = lines_matching(out, R"(\d+ \S+ -> \d+ \S+)");
  ASSERT_EQ(demo.size(), 8u) << out;
  for (int i = 0; i < 8; ++i) {
    int centre = 0, context = 0;
    char word[64], word2[64];
    ASSERT_EQ(std::sscanf(demo[i].c_str(), "%d %63s -> %d %63s", &centre, word, &context, word2),
              4);
    EXPECT_EQ(centre, ds.data[i / 2 + 1]);
    EXPECT_EQ(word, ds.words[centre]);
    EXPECT_EQ(word2, ds.words[context]);
  }

  // The loss lines at steps 0, 50, ..., 250 and their records.
  const auto loss_lines = lines_matching(out, R"(Average loss at step \d+ : [0-9.e+-]+)");
  ASSERT_EQ(loss_lines.size(), 6u) << out;
  EXPECT_EQ(loss_lines[1].rfind("Average loss at step 50 : ", 0), 0u) << loss_lines[1];
  const auto losses = records(path("out.jsonl"), "loss");
  ASSERT_EQ(losses.size(), 6u);
  for (std::size_t k = 0; k < losses.size(); ++k) {
    EXPECT_EQ(losses[k].at("step"), 50 * k);
    EXPECT_EQ(losses[k].at("steps_averaged"), k == 0 ? 1 : 50);
  }
  EXPECT_LT(losses.back().at("average_loss").get<double>(),
            0.7 * losses.front().at("average_loss").get<double>());

  // 16 nearest-words lines at steps 0, 100 and 200, 8 words each with the book's commas.
  EXPECT_EQ(lines_matching(out, R"(Nearest to \S+:( \S+,){8})").size(), 3u * 16u) << out;
  const auto nearest = records(path("out.jsonl"), "nearest");
  ASSERT_EQ(nearest.size(), 3u);
  EXPECT_EQ(nearest[2].at("step"), 200);
  EXPECT_EQ(nearest[2].at("words").size(), 16u);
  EXPECT_EQ(
      lines_matching(out, R"(Trained 300 steps \(4800 pairs\) in .*steps/s, \d+ pairs/s)").size(),
      1u)
      << out;

  // The normalised embeddings: every word of the vocabulary, unit rows.
  const auto vectors = read_word_vectors(path("out/embeddings.txt"));
  ASSERT_EQ(vectors.size(), ds.vocabulary_size());
  EXPECT_EQ(vectors.dim, 16);
  EXPECT_EQ(vectors.words, ds.words);
  for (std::int64_t i = 0; i < vectors.size(); ++i) {
    double norm = 0;
    for (std::int64_t d = 0; d < vectors.dim; ++d)
      norm += double(vectors.row(i)[d]) * vectors.row(i)[d];
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5) << vectors.words[i];
  }
  const auto summary = records(path("out.jsonl"), "summary");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].at("steps"), 300);
  EXPECT_GT(summary[0].at("words_per_s").get<double>(), 0);
  EXPECT_TRUE(summary[0].at("tsne").is_null());
  EXPECT_FALSE(std::filesystem::exists(path("out/tsne.png")));  // --no-plot
  EXPECT_EQ(records(path("out.jsonl"), "dataset").at(0).at("train"), corpus_);
}

TEST_F(TutorialApp, DivergenceIsAnErrorNamingTheStep) {
  const auto run = curnn::test::run_app("curnn-word2vec",
                                        flags() + " --no-plot --learning-rate 1e30 --log-every 10");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  const std::regex report(
      R"(error: the loss is -?(nan|inf) at step (\d+): training diverged[^\n]*\n)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(run.output, match, report)) << run.output;
  const int step = std::stoi(match[2]);
  EXPECT_GE(step, 1);
  EXPECT_LT(step, 300);
  const auto diverged = records(path("out.jsonl"), "diverged");
  ASSERT_EQ(diverged.size(), 1u);
  EXPECT_EQ(diverged[0].at("step"), step);
  EXPECT_FALSE(std::filesystem::exists(path("out/embeddings.txt")));
}

TEST_F(TutorialApp, GraphNeedsTheGpuAndTheTutorial) {
  const auto on_cpu = curnn::test::run_app("curnn-word2vec", flags() + " --graph on");
  EXPECT_EQ(on_cpu.exit_code, 1) << on_cpu.output;
  EXPECT_NE(on_cpu.output.find("--graph on needs the GPU"), std::string::npos) << on_cpu.output;
  EXPECT_EQ(curnn::test::count_lines(on_cpu.output), 1) << on_cpu.output;
  const auto fast = curnn::test::run_app(
      "curnn-word2vec", "-train '" + corpus_ + "' -output '" + path("v.txt") + "' --graph on");
  EXPECT_EQ(fast.exit_code, 1) << fast.output;
  EXPECT_NE(fast.output.find("--graph applies to --tutorial only"), std::string::npos)
      << fast.output;
}

TEST_F(TutorialApp, AnUnusableOutputFolderFailsBeforeAnyWork) {
  write("file", "not a folder");
  const auto run = curnn::test::run_app(
      "curnn-word2vec", "--tutorial -train '" + corpus_ +
                            "' --device cpu --steps 5 --output-dir '" + path("file/sub") + "'");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("file/sub: cannot create the output folder"), std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("Data size"), std::string::npos) << "it read the corpus first";
  EXPECT_EQ(curnn::test::count_lines(run.output), 1) << run.output;
}

TEST_F(TutorialApp, AMissingPlotterIsAWarningNotAFailure) {
  // A stand-in for tsne_plot.py that reports missing modules as the real script does.
  const auto fake = write("fake_tsne.py", "import sys\nsys.exit(3)\n");
  ASSERT_EQ(::setenv("CURNN_TSNE_SCRIPT", fake.c_str(), 1), 0);
  const auto run = curnn::test::run_app("curnn-word2vec", flags(5));
  ::unsetenv("CURNN_TSNE_SCRIPT");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("warning: t-SNE plot skipped"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::exists(path("out/embeddings.txt")));
  const auto plotted = read_word_vectors(path("out/tsne_input.txt"));
  EXPECT_EQ(plotted.size(), 100);
  EXPECT_FALSE(std::filesystem::exists(path("out/tsne.png")));

  ASSERT_EQ(::setenv("CURNN_TSNE_SCRIPT", path("nowhere.py").c_str(), 1), 0);
  const auto missing = curnn::test::run_app("curnn-word2vec", flags(5, 500, "out2"));
  ::unsetenv("CURNN_TSNE_SCRIPT");
  ASSERT_EQ(missing.exit_code, 0) << missing.output;
  EXPECT_NE(missing.output.find("tsne_plot.py not found (looked for " + path("nowhere.py")),
            std::string::npos)
      << missing.output;
}

TEST_F(TutorialApp, PlotsTheMostFrequentWordsWithTsne) {
  const auto has_modules = [](const char* python) {
    return std::system((std::string(python) + " -c 'import sklearn, matplotlib' > /dev/null 2>&1")
                           .c_str()) == 0;
  };
  if (!has_modules("python3") && !has_modules("/usr/bin/python3")) {
    GTEST_SKIP() << "python3 with scikit-learn and matplotlib is not installed";
  }
  // The script is found beside the executable (build/share/curnn/), not through the source tree.
  const auto run = curnn::test::run_app("curnn-word2vec", flags(5, 40));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string png = read(path("out/tsne.png"));
  ASSERT_GT(png.size(), 8u) << run.output;
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(run.output.find("t-SNE plot of the 40 most frequent words"), std::string::npos);
  EXPECT_EQ(records(path("out.jsonl"), "summary").at(0).at("tsne"), path("out/tsne.png"));
}

}  // namespace
}  // namespace curnn::word2vec
