// Errors early and short, through the apps (issue 14, class 7): an output that cannot be written
// (a folder that cannot be created, a log in a missing folder) is reported before any training
// or evaluation; a 5 MB word in the input gives a short error line; degenerate but legal
// evaluation input (no usable analogy question, no word pair found) gets a clear message and a
// null in the JSON record, never "nan".
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "curnn/data/io.hpp"
#include "json_text.hpp"
#include "support/data_files.hpp"
#include "support/idx_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

using test::run_app;
using test::TempDir;

class ErrorsEarly : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* app : {"curnn-ptb", "curnn-mnist", "curnn-word2vec", "curnn-analogy",
                            "curnn-wordsim", "curnn-distance"}) {
      if (!std::filesystem::exists(test::app_path(app))) GTEST_SKIP() << app << " is not built";
    }
    test::write_file(dir_ / "file", "a regular file, not a folder");
  }
  // A path whose folder cannot be created (a regular file is in the way; root cannot either).
  std::string unusable(const std::string& name) const { return dir_ / ("file/sub/" + name); }

  static void expect_one_line_error(const test::AppResult& r, const std::string& part) {
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(test::count_lines(r.output), 1) << r.output;
    EXPECT_NE(r.output.find(part), std::string::npos) << "'" << part << "' not in: " << r.output;
  }

  TempDir dir_;
};

void write_ptb(const TempDir& dir, const std::string& valid_extra = "") {
  std::string text;
  for (int l = 0; l < 200; ++l) text += " the cat sat on a mat \n";
  test::write_file(dir / "ptb.train.txt", text);
  test::write_file(dir / "ptb.valid.txt", " the cat sat " + valid_extra + "\n" + text);
  test::write_file(dir / "ptb.test.txt", text);
}

TEST_F(ErrorsEarly, PtbReportsAnUnusableSavePathBeforeTraining) {
  write_ptb(dir_);
  const auto r =
      run_app("curnn-ptb", "--data-path '" + dir_.str() +
                               "' --model test --device cpu --save-path '" + unusable("ck") + "'");
  expect_one_line_error(r, "file/sub/ck: cannot create the output folder");
  EXPECT_EQ(r.output.find("Epoch"), std::string::npos) << "it trained first";
}

TEST_F(ErrorsEarly, MnistReportsAnUnusableSavePathBeforeTraining) {
  std::vector<int> labels(36);
  for (int i = 0; i < 36; ++i) labels[i] = i % 10;
  test::write_file(dir_ / "train-images-idx3-ubyte", test::idx_images(36, 4, 5, 1));
  test::write_file(dir_ / "train-labels-idx1-ubyte", test::idx_labels(labels));
  test::write_file(dir_ / "t10k-images-idx3-ubyte", test::idx_images(20, 4, 5, 2));
  test::write_file(dir_ / "t10k-labels-idx1-ubyte",
                   test::idx_labels(std::vector<int>(labels.begin(), labels.begin() + 20)));
  const auto r = run_app("curnn-mnist", "--data-path '" + dir_.str() +
                                            "' --device cpu --validation-size 8 --batch-size 4 "
                                            "--hidden 6 --max-samples 200 --save-path '" +
                                            unusable("ck") + "'");
  expect_one_line_error(r, "file/sub/ck: cannot create the output folder");
  EXPECT_EQ(r.output.find("Optimization Finished"), std::string::npos) << "it trained first";
}

TEST_F(ErrorsEarly, Word2vecReportsUnusableOutputsBeforeTraining) {
  std::string text;
  for (int l = 0; l < 100; ++l) text += "red blue green red blue\n";
  test::write_file(dir_ / "corpus.txt", text);
  const std::string train =
      "-train '" + (dir_ / "corpus.txt") + "' --device cpu -threads 2 -size 8 -min-count 1 ";
  for (const std::string flag : {"-output", "-save-vocab", "--log-json"}) {
    const std::string output = flag == "-output" ? "" : "-output '" + (dir_ / "v.txt") + "' ";
    const auto r = run_app("curnn-word2vec", train + output + flag + " '" + unusable("x") + "'");
    expect_one_line_error(r, "file/sub/x: cannot");
    EXPECT_EQ(r.output.find("Vocab size"), std::string::npos) << flag << ": it read the corpus";
  }
}

TEST_F(ErrorsEarly, AnalogyReportsAnUnusableLogBeforeEvaluating) {
  test::write_file(dir_ / "v.txt", "2 2\na 1 0\nb 0 1\n");
  test::write_file(dir_ / "q.txt", "a b a b\n");
  const auto r =
      run_app("curnn-analogy", "'" + (dir_ / "v.txt") + "' --questions '" + (dir_ / "q.txt") +
                                   "' --log-json '" + unusable("log.jsonl") + "'");
  expect_one_line_error(r, "file/sub/log.jsonl: cannot");
  EXPECT_EQ(r.output.find("Questions seen"), std::string::npos) << "it evaluated first";
}

TEST_F(ErrorsEarly, AFiveMegabyteWordGivesAShortLine) {
  const std::string huge(5 << 20, 'q');
  write_ptb(dir_, huge);
  const auto ptb =
      run_app("curnn-ptb", "--data-path '" + dir_.str() + "' --model test --device cpu");
  // ("<eos>" sticks to the word: TensorFlow's reader replaces the newline textually.)
  expect_one_line_error(ptb, "...\" (5242885 bytes) is not in the training vocabulary");
  EXPECT_LT(ptb.output.size(), 500u);

  test::write_file(dir_ / "v.txt", "2 2\na 1 0\nb 0 1\n");
  test::write_file(dir_ / "queries.txt", huge + "\n");
  const auto distance =
      run_app("curnn-distance", "'" + (dir_ / "v.txt") + "' < '" + (dir_ / "queries.txt") + "'");
  EXPECT_EQ(distance.exit_code, 0) << distance.output.substr(0, 500);
  EXPECT_LT(distance.output.size(), 500u) << distance.output.substr(0, 500);
  EXPECT_NE(distance.output.find("out of dictionary word: qqqq"), std::string::npos);
}

// The one JSON record of a log.
nlohmann::json only_record(const std::string& path) {
  std::istringstream lines(data::read_file(path));
  std::string line;
  std::getline(lines, line);
  return app::parse_json_text(line, path);
}

TEST_F(ErrorsEarly, NoUsableAnalogyQuestionIsSaidClearly) {
  test::write_file(dir_ / "v.txt", "3 2\na 1 0\nb 0 1\nc 1 1\n");
  test::write_file(dir_ / "q.txt", ": capital-common-countries\nathens greece baghdad iraq\n");
  const auto r =
      run_app("curnn-analogy", "'" + (dir_ / "v.txt") + "' --questions '" + (dir_ / "q.txt") +
                                   "' --log-json '" + (dir_ / "log.jsonl") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("nan"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No question was usable"), std::string::npos) << r.output;
  const auto record = only_record(dir_ / "log.jsonl");
  EXPECT_TRUE(record.at("accuracy").is_null()) << record.dump();
  EXPECT_EQ(record.at("seen"), 0);
}

TEST_F(ErrorsEarly, NoWordPairFoundIsSaidClearly) {
  test::write_file(dir_ / "v.txt", "3 2\na 1 0\nb 0 1\nc 1 1\n");
  test::write_file(dir_ / "pairs.tsv", "tiger\tcat\t7.35\na\tb\t3\n");
  const auto r =
      run_app("curnn-wordsim", "'" + (dir_ / "v.txt") + "' --pairs '" + (dir_ / "pairs.tsv") +
                                   "' --log-json '" + (dir_ / "log.jsonl") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("nan"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Spearman correlation: n/a (pairs found: 1 / 2): fewer than 2 pairs"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(only_record(dir_ / "log.jsonl").at("spearman").is_null());
}

}  // namespace
}  // namespace curnn
