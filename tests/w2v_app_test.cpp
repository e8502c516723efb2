// The word2vec apps run as programs (build/bin/curnn-word2vec, curnn-analogy, curnn-wordsim,
// curnn-distance, found next to this test's executable): training end to end on tiny corpora with
// text and binary output (finite vectors that separate a two-topic corpus's topics),
// -save-vocab / -read-vocab, bad corpora and absurd flags (one-line errors, a clean exit 1: a
// crash fails), and the evaluation tools on hand-made vectors. Training runs on the CPU.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "curnn/word2vec/vectors.hpp"
#include "support/run_app.hpp"
#include "w2v_test_util.hpp"

namespace curnn::word2vec {
namespace {

// How the app ended (app), its exit code (-1 after a signal), stdout and stderr.
struct RunResult {
  ::curnn::test::AppResult app;
  int exit_code = -1;
  std::string out, err;
};

class App : public test::TempFiles {
 protected:
  void SetUp() override {
    test::TempFiles::SetUp();
    if (!std::filesystem::exists(curnn::test::app_path("curnn-word2vec"))) {
      GTEST_SKIP() << "curnn-word2vec is not built next to this test";
    }
  }

  // Runs `app` with `args` (a shell-quoted string), stdin from `input` if given; stdout and
  // stderr are kept apart.
  RunResult run(const std::string& app, const std::string& args, const std::string& input = "") {
    const ::curnn::test::AppResult r = ::curnn::test::run_app_split(
        app, args, dir_.string(), input.empty() ? "" : write("stdin.txt", input));
    return {r, r.exit_code, r.output, r.err};
  }

  // A corpus of `lines` lines over a 30-word vocabulary with two topics.
  std::string corpus(int lines = 200) {
    std::mt19937 rng(1);
    std::string text;
    for (int l = 0; l < lines; ++l) {
      for (int i = 0; i < 20; ++i) {
        text += (l % 2 ? "red" : "blue") + std::to_string(rng() % 15) + (i < 19 ? " " : "\n");
      }
    }
    return write("corpus.txt", text);
  }

  static std::string train_flags() {
    return " --device cpu -threads 2 -size 12 -window 3 -iter 2 -min-count 1 -negative 3";
  }

  // A one-line error on stderr mentioning `part`, a clean exit 1 (a crash fails).
  static void expect_one_line_error(const RunResult& r, const std::string& part) {
    EXPECT_TRUE(::curnn::test::exited_with_error(r.app));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
};

TEST_F(App, TrainsTextAndBinaryVectorsThatReadBack) {
  const std::string train = corpus();
  for (const int binary : {0, 1}) {
    const std::string out = path("vectors" + std::to_string(binary));
    const RunResult r =
        run("curnn-word2vec", "-train '" + train + "' -output '" + out + "' -binary " +
                                  std::to_string(binary) + " -cbow " + std::to_string(binary) +
                                  train_flags());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("words/s"), std::string::npos) << r.out;
    const WordVectors v =
        read_word_vectors(out, binary ? VectorFormat::Binary : VectorFormat::Text);
    EXPECT_EQ(v.size(), 31);  // </s> + 30 words
    EXPECT_EQ(v.dim, 12);
    EXPECT_EQ(v.words[0], "</s>");
    EXPECT_FALSE(std::filesystem::exists(out + ".tmp." + std::to_string(::getpid())));
  }
}

// Cosine similarity of rows i and j.
double cosine(const WordVectors& v, std::int64_t i, std::int64_t j) {
  double dot = 0, ni = 0, nj = 0;
  for (std::int64_t k = 0; k < v.dim; ++k) {
    dot += double(v.row(i)[k]) * v.row(j)[k];
    ni += double(v.row(i)[k]) * v.row(i)[k];
    nj += double(v.row(j)[k]) * v.row(j)[k];
  }
  return dot / std::sqrt(ni * nj);
}

// The two-topic corpus (red* words on odd lines, blue* on even ones; word2vec's windows stop at
// line ends, so the topics never share a context): both architectures give finite vectors whose
// nearest neighbours are in the word's own topic. Untrained (random) vectors would put about
// half of them in the other topic.
TEST_F(App, VectorsAreFiniteAndSeparateTheTwoTopics) {
  const std::string train = corpus(400);
  for (const int cbow : {0, 1}) {
    const std::string out = path("topics" + std::to_string(cbow));
    const RunResult r = run("curnn-word2vec", "-train '" + train + "' -output '" + out +
                                                  "' -cbow " + std::to_string(cbow) +
                                                  " --device cpu -threads 1 -size 16 -window 4 "
                                                  "-iter 8 -min-count 1 -negative 5 -sample 0");
    ASSERT_EQ(r.exit_code, 0) << r.app.how() << "\n" << r.err;
    const WordVectors v = read_word_vectors(out);
    ASSERT_EQ(v.size(), 31);
    for (const float x : v.values) ASSERT_TRUE(std::isfinite(x)) << "cbow " << cbow;
    const auto topic = [&](std::int64_t i) { return v.words[i].substr(0, 3); };  // red / blu
    int same = 0, total = 0;
    for (std::int64_t i = 1; i < v.size(); ++i) {  // row 0 is </s>
      std::vector<std::pair<double, std::int64_t>> near;
      for (std::int64_t j = 1; j < v.size(); ++j) {
        if (j != i) near.push_back({-cosine(v, i, j), j});
      }
      std::sort(near.begin(), near.end());
      for (int k = 0; k < 5; ++k) same += topic(near[k].second) == topic(i), ++total;
    }
    EXPECT_GE(same, 0.95 * total) << "cbow " << cbow << ": " << same << " of " << total
                                  << " nearest neighbours in the word's topic";
  }
}

TEST_F(App, SaveVocabReadVocabRoundTrip) {
  const std::string train = corpus(), vocab1 = path("vocab1.txt"), vocab2 = path("vocab2.txt");
  ASSERT_EQ(run("curnn-word2vec",
                "-train '" + train + "' -save-vocab '" + vocab1 + "' -min-count 1 --device cpu")
                .exit_code,
            0);
  const RunResult r =
      run("curnn-word2vec", "-train '" + train + "' -read-vocab '" + vocab1 + "' -save-vocab '" +
                                vocab2 + "' -output '" + path("v.txt") + "'" + train_flags());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read(vocab1), read(vocab2));
  EXPECT_EQ(read(vocab1).substr(0, 6), "</s> 2");  // 200 lines, 200 "</s>"; first line "</s> 200"
}

TEST_F(App, LogJsonHasProgressAndDone) {
  const std::string log = path("log.jsonl");
  ASSERT_EQ(run("curnn-word2vec", "-train '" + corpus() + "' -output '" + path("v") +
                                      "' --log-json '" + log + "'" + train_flags())
                .exit_code,
            0);
  const std::string text = read(log);
  EXPECT_NE(text.find("\"type\":\"config\""), std::string::npos);
  EXPECT_NE(text.find("\"type\":\"progress\""), std::string::npos);
  EXPECT_NE(text.find("\"type\":\"done\""), std::string::npos);
}

TEST_F(App, BadCorporaAreOneLineErrorsOrDocumentedBehaviour) {
  const std::string out = " -output '" + path("v") + "' --device cpu -threads 2";
  expect_one_line_error(run("curnn-word2vec", "-train '" + write("empty.txt", "") + "'" + out),
                        "empty");
  expect_one_line_error(
      run("curnn-word2vec", "-train '" + write("space.txt", " \n\t \n") + "'" + out), "min_count");
  // 10 MB without a separator: one word cut at 99 bytes, seen once (< min-count 5).
  expect_one_line_error(
      run("curnn-word2vec",
          "-train '" + write_gz("run.gz", std::string(10 << 20, 'x')) + "'" + out),
      "min_count");
  expect_one_line_error(
      run("curnn-word2vec", "-train '" + write("rare.txt", "a b c d e\n") + "'" + out),
      "min_count");
  expect_one_line_error(run("curnn-word2vec", "-train '" + path("missing.txt") + "'" + out),
                        "missing.txt");
  // Invalid UTF-8 and other non-ASCII bytes are kept as they are, in the output too.
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes += "caf\xc3\xa9 \xff\xfe x\x80y \xe4\xb8 ";
  const RunResult r = run("curnn-word2vec", "-train '" + write("bytes.txt", bytes) + "' -output '" +
                                                path("b.txt") + "'" + train_flags());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const WordVectors v = read_word_vectors(path("b.txt"));
  EXPECT_EQ(v.size(), 5);
  EXPECT_NE(std::find(v.words.begin(), v.words.end(), "\xff\xfe"), v.words.end());
}

TEST_F(App, AbsurdFlagsAreOneLineErrors) {
  const std::string base = "-train '" + corpus(10) + "' -output '" + path("v") + "' --device cpu ";
  expect_one_line_error(run("curnn-word2vec", base + "-size 0"), "-size");
  expect_one_line_error(run("curnn-word2vec", base + "-window -1"), "-window");
  expect_one_line_error(run("curnn-word2vec", base + "-negative 10000"), "-negative");
  expect_one_line_error(run("curnn-word2vec", base + "-threads 0"), "-threads");
  expect_one_line_error(run("curnn-word2vec", base + "-sample -1"), "-sample");
  expect_one_line_error(run("curnn-word2vec", base + "-alpha 0"), "-alpha");
  expect_one_line_error(run("curnn-word2vec", base + "-hs 1"), "not supported");
  expect_one_line_error(run("curnn-word2vec", base + "-classes 10"), "not supported");
  expect_one_line_error(run("curnn-word2vec", base + "-size abc"), "size");
  expect_one_line_error(run("curnn-word2vec", base + "-cbow 2"), "cbow");
  expect_one_line_error(run("curnn-word2vec", base + "--negatives-per sideways"), "negatives-per");
  expect_one_line_error(run("curnn-word2vec", base + "--negatives-per window -negative 33"),
                        "-negative");
  expect_one_line_error(run("curnn-word2vec", "-output x"), "train");
  const RunResult help = run("curnn-word2vec", "--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--negative"), std::string::npos);
  EXPECT_NE(help.out.find("--negatives-per"), std::string::npos);
}

// Hand-made vectors: king - man + woman = queen (rome, of paris - france + italy, is missing).
constexpr const char* kRoyalVectors =
    "7 3\n"
    "man 1 0 0 \nwoman 0 1 0 \nking 1 0 1 \nqueen 0 1 1 \n"
    "france -1 0 0.2 \nitaly -1 1 0.1 \nparis -2 0 1 \n";

TEST_F(App, AnalogyToolReportsComputeAccuracyLines) {
  const std::string vectors = write("royal.txt", kRoyalVectors);
  const std::string questions = write("q.txt",
                                      ": capital-common-countries\nfrance paris italy rome\n"
                                      ": family\nman woman king queen\nwoman man queen king\n"
                                      ": gram1-adjective-to-adverb\nman king woman queen\n");
  const RunResult r = run("curnn-analogy", "'" + vectors + "' --questions '" + questions + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("family:\nACCURACY TOP1: 100.00 %  (2 / 2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Questions seen / total: 3 4   75.00 %"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Total accuracy: 100.00 %"), std::string::npos) << r.out;
  // --restrict-vocab 2: only man and woman remain, no question is seen.
  const RunResult small =
      run("curnn-analogy", "'" + vectors + "' --restrict-vocab 2 --questions '" + questions + "'");
  EXPECT_NE(small.out.find("Questions seen / total: 0 4"), std::string::npos) << small.out;
  expect_one_line_error(
      run("curnn-analogy", "'" + path("none.bin") + "' --questions '" + questions + "'"),
      "none.bin");
}

TEST_F(App, WordsimAndDistanceTools) {
  const std::string vectors = write("royal.txt", kRoyalVectors);
  const std::string pairs = write("pairs.tsv",
                                  "# w1\tw2\tscore\nking\tqueen\t9\nman\twoman\t8\n"
                                  "king\tparis\t1\nMan\tFrance\t2\nfoo\tbar\t5\n");
  const RunResult sim = run("curnn-wordsim", "'" + vectors + "' --pairs '" + pairs + "'");
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_NE(sim.out.find("pairs found: 4 / 5"), std::string::npos) << sim.out;
  const RunResult near = run("curnn-distance", "'" + vectors + "' king -n 2");
  ASSERT_EQ(near.exit_code, 0) << near.err;
  EXPECT_NE(near.out.find("queen"), std::string::npos) << near.out;
  const RunResult piped = run("curnn-distance", "'" + vectors + "' -n 1", "zebra\nman woman\n");
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_NE(piped.out.find("out of dictionary word: zebra"), std::string::npos) << piped.out;
}

}  // namespace
}  // namespace curnn::word2vec
