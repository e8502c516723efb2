// Text that is not UTF-8, through the apps: words, section names and paths with invalid UTF-8
// (and backslashes) go into the --log-json records and the checkpoint metadata as valid JSON and
// come back byte for byte (apps/json_text.hpp); no work is lost to them (the checkpoint is saved,
// the log is written), and an earlier log is never emptied by a failing run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "curnn/data/checkpoint.hpp"
#include "curnn/data/io.hpp"
#include "curnn/data/ptb.hpp"
#include "curnn/text.hpp"
#include "curnn/word2vec/tutorial.hpp"
#include "json_text.hpp"
#include "support/data_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

using nlohmann::json;
using test::TempDir;

// Words no JSON writer takes as they are, and one with a backslash.
const std::vector<std::string> kOddWords = {"caf\xe9", "\xff\xfe",     "x\x80y",
                                            "a\\b",    "na\xc3\xafve", "\xe4\xb8"};

// The records of a JSON-lines file; each line must be JSON for any reader (nlohmann's own
// parser), and decodes to the bytes the app had.
std::vector<json> read_records(const std::string& path) {
  std::vector<json> records;
  std::istringstream lines(data::read_file(path));
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(is_valid_utf8(line)) << quote_input(line);
    EXPECT_NO_THROW(json::parse(line)) << quote_input(line);
    records.push_back(app::parse_json_text(line, path));
  }
  return records;
}

class NonUtf8 : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* app : {"curnn-word2vec", "curnn-ptb", "curnn-analogy"}) {
      if (!std::filesystem::exists(test::app_path(app))) GTEST_SKIP() << app << " is not built";
    }
  }
};

TEST_F(NonUtf8, TutorialLogRoundTripsEveryWord) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += kOddWords[i % kOddWords.size()] + " w" + std::to_string(i % 5) + " ";
  }
  test::write_file(dir / "corpus.txt", text);
  test::write_file(dir / "log.jsonl", "the previous run's log\n");
  const auto r = test::run_app("curnn-word2vec",
                               "--tutorial -train '" + (dir / "corpus.txt") +
                                   "' --device cpu --steps 20 --batch-size 8 --embedding-size 8 "
                                   "--num-sampled 4 --log-every 5 --eval-every 10 --no-plot "
                                   "--output-dir '" +
                                   (dir / "out") + "' --log-json '" + (dir / "log.jsonl") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out/embeddings.txt"));
  // 12 words with UNK: every word is a validation word, so every word is in the nearest records.
  const auto ds = word2vec::build_tutorial_dataset(dir / "corpus.txt");
  ASSERT_EQ(ds.vocabulary_size(), 12);
  std::set<std::string> logged;
  int nearest_records = 0;
  for (const json& record : read_records(dir / "log.jsonl")) {
    if (record.at("type") != "nearest") continue;
    ++nearest_records;
    for (const json& block : record.at("words")) {
      logged.insert(block.at("word").get<std::string>());
      for (const json& n : block.at("nearest")) logged.insert(n.get<std::string>());
    }
  }
  EXPECT_EQ(nearest_records, 2);
  EXPECT_EQ(logged, std::set<std::string>(ds.words.begin(), ds.words.end()));
  for (const auto& w : kOddWords) EXPECT_EQ(logged.count(w), 1u) << quote_input(w);
}

TEST_F(NonUtf8, FastTrainerLogsAPathThatIsNotUtf8) {
  TempDir dir;
  const std::string corpus = dir / "corpus-\xff\\.txt";
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += kOddWords[i % kOddWords.size()] + " w" + std::to_string(i % 7) + "\n";
  test::write_file(corpus, text);
  const auto r = test::run_app(
      "curnn-word2vec", "-train '" + corpus + "' -output '" + (dir / "v.txt") +
                            "' --device cpu -threads 2 -size 8 -iter 1 -min-count 1 --log-json '" +
                            (dir / "log.jsonl") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto records = read_records(dir / "log.jsonl");
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records.front().at("type"), "config");
  EXPECT_EQ(records.front().at("train"), corpus);
  EXPECT_EQ(records.back().at("type"), "done");
}

TEST_F(NonUtf8, AFailingRunNeverEmptiesAnEarlierLog) {
  TempDir dir;
  test::write_file(dir / "empty.txt", "");
  test::write_file(dir / "log.jsonl", "{\"type\":\"done\"}\n");
  const auto r = test::run_app("curnn-word2vec", "-train '" + (dir / "empty.txt") + "' -output '" +
                                                     (dir / "v.txt") + "' --log-json '" +
                                                     (dir / "log.jsonl") + "' --device cpu");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(data::read_file(dir / "log.jsonl"), "{\"type\":\"done\"}\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.str()),
                          std::filesystem::directory_iterator{}),
            2);  // no temporary file either
}

// PTB files with the odd words: each line " w1 ... wn \n".
void write_odd_ptb(const TempDir& dir) {
  const auto lines = [](int count, int seed) {
    std::string text;
    for (int l = 0; l < count; ++l) {
      text += " ";
      for (int w = 0; w < 8; ++w) {
        text += (w % 2 ? kOddWords[(l * 3 + w + seed) % kOddWords.size()]
                       : "w" + std::to_string((l + w * seed) % 4)) +
                " ";
      }
      text += "\n";
    }
    return text;
  };
  test::write_file(dir / "ptb.train.txt", lines(300, 1));
  test::write_file(dir / "ptb.valid.txt", lines(40, 1));
  test::write_file(dir / "ptb.test.txt", lines(40, 1));
}

TEST_F(NonUtf8, PtbSavesAndReadsBackACheckpointWithInvalidUtf8Words) {
  TempDir dir;
  write_odd_ptb(dir);
  const auto r =
      test::run_app("curnn-ptb", "--data-path '" + dir.str() +
                                     "' --model test --device cpu --max-max-epoch 1 "
                                     "--save-path '" +
                                     (dir / "ck") + "' --log-json '" + (dir / "log.jsonl") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ck = data::load_checkpoint(dir / "ck/ptb-lm.ckpt");
  EXPECT_TRUE(is_valid_utf8(ck.meta));
  EXPECT_NO_THROW(json::parse(ck.meta));
  const json meta = app::parse_json_text(ck.meta, "metadata");
  const auto corpus = data::load_ptb(dir.str());
  EXPECT_EQ(meta.at("vocab").get<std::vector<std::string>>(), corpus.id_to_word);
  EXPECT_FALSE(read_records(dir / "log.jsonl").empty());

  const auto g =
      test::run_app("curnn-ptb", "--save-path '" + (dir / "ck") + "' --generate 30 --device cpu");
  ASSERT_EQ(g.exit_code, 0) << g.output;
}

TEST_F(NonUtf8, AnalogySectionNamesRoundTrip) {
  TempDir dir;
  test::write_file(dir / "v.txt", "4 2\nman 1 0\nwoman 0 1\nking 1 1\nqueen 0.1 1.9\n");
  const std::string section = "caf\xe9 \\ \xff";
  test::write_file(dir / "q.txt", ": " + section + "\nman woman king queen\n");
  const auto r =
      test::run_app("curnn-analogy", "'" + (dir / "v.txt") + "' --questions '" + (dir / "q.txt") +
                                         "' --log-json '" + (dir / "log.jsonl") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto records = read_records(dir / "log.jsonl");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].at("sections").at(0).at("name"), section);
}

}  // namespace
}  // namespace curnn
