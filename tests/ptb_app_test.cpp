// curnn-ptb end to end: the `test` config on synthetic PTB files (and on the real ones when
// present), checkpoints and resume, generation, and bad input (each a one-line error with a
// non-zero exit, never a crash).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "support/data_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

using test::run_app;

// A tiny corpus in PTB's format (each line " w1 ... wn \n").
std::string synthetic_ptb(int lines, int seed) {
  const char* words[] = {"the", "cat", "sat", "on", "mat", "a", "dog", "ran", "<unk>", "N"};
  std::string text;
  unsigned s = static_cast<unsigned>(seed);
  for (int l = 0; l < lines; ++l) {
    text += " ";
    for (int w = 0; w < 6 + l % 5; ++w) {
      s = s * 1103515245u + 12345u;
      text += std::string(words[(s >> 16) % 10]) + " ";
    }
    text += "\n";
  }
  return text;
}

void write_corpus(const test::TempDir& dir, bool gzip_train = false) {
  test::write_file(dir / (gzip_train ? "ptb.train.txt.gz" : "ptb.train.txt"),
                   synthetic_ptb(400, 1), gzip_train);
  test::write_file(dir / "ptb.valid.txt", synthetic_ptb(60, 2));
  test::write_file(dir / "ptb.test.txt", synthetic_ptb(60, 3));
}

TEST(PtbApp, TestConfigRunsEndToEndWithTheBookLines) {
  test::TempDir dir;
  write_corpus(dir, /*gzip_train=*/true);
  const auto r = run_app("curnn-ptb", "--data-path " + dir.str() +
                                          " --model test --device cpu --log-json " +
                                          (dir / "log.jsonl") + " --save-path " + (dir / "ck"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\d\.\d{3} perplexity: [\d.]+ speed: \d+ wps)")))
      << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(Epoch: 1 Learning rate: 1\.000)")));
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(Epoch: 1 Train Perplexity: [\d.]+)")));
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(Epoch: 1 Valid Perplexity: [\d.]+)")));
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(Test Perplexity: [\d.]+)")));
  std::ifstream log(dir / "log.jsonl");
  std::string line, all;
  int lines = 0;
  while (std::getline(log, line)) ++lines, all += line + "\n";
  EXPECT_GE(lines, 4) << all;
  EXPECT_NE(all.find("\"type\":\"epoch\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"test_perplexity\""), std::string::npos) << all;
  EXPECT_TRUE(std::filesystem::exists(dir / "ck/ptb-lm.ckpt"));

  // Generation from the checkpoint, and resume (nothing left to train: straight to the test).
  const auto g = run_app("curnn-ptb", "--save-path " + (dir / "ck") +
                                          " --generate 20 --temperature 0.7 --device cpu");
  ASSERT_EQ(g.exit_code, 0) << g.output;
  EXPECT_GE(g.output.size(), 20u) << g.output;
  const auto resumed = run_app("curnn-ptb", "--data-path " + dir.str() +
                                                " --model test --device cpu --resume --save-path " +
                                                (dir / "ck"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("Resumed from"), std::string::npos) << resumed.output;
}

TEST(PtbApp, SameSeedSameRun) {
  test::TempDir dir;
  write_corpus(dir);
  const std::string args = "--data-path " + dir.str() +
                           " --model test --device cpu --seed 7 --hidden-size 8 --keep-prob 0.5";
  const auto a = run_app("curnn-ptb", args), b = run_app("curnn-ptb", args);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const std::regex speed(R"(speed: \d+ wps|total [\d.]+ s)");
  EXPECT_EQ(std::regex_replace(a.output, speed, ""), std::regex_replace(b.output, speed, ""));
}

// One line on stderr/stdout, naming the problem, and exit code 1 (CLI11's own errors: 105/109).
void expect_one_line_error(const test::AppResult& r, const std::string& part) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_LT(r.exit_code, 128) << "crashed: " << r.output;
  EXPECT_EQ(test::count_lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find(part), std::string::npos) << "'" << part << "' not in: " << r.output;
}

TEST(PtbApp, BadInputIsAOneLineError) {
  test::TempDir dir;
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + (dir / "missing") + " --device cpu"),
                        "missing");
  write_corpus(dir);
  test::write_file(dir / "ptb.valid.txt", "");
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() + " --device cpu"),
                        "ptb.valid.txt");
  test::write_file(dir / "ptb.valid.txt", " the cat zebra \n");
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() + " --device cpu"),
                        "zebra");
  test::TempDir gz;
  write_corpus(gz, /*gzip_train=*/true);
  std::filesystem::resize_file(gz / "ptb.train.txt.gz",
                               std::filesystem::file_size(gz / "ptb.train.txt.gz") / 2);
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + gz.str() + " --device cpu"),
                        "ptb.train.txt.gz");
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() + " --model huge"),
                        "--model");
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() + " --keep-prob 0"),
                        "--keep-prob");
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() + " --num-steps -3"),
                        "--num-steps");
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() + " --device tpu"),
                        "--device");
  // A batch that the data cannot fill.
  write_corpus(dir);
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() +
                                                 " --device cpu --model test --batch-size 60000"),
                        "batch");
  expect_one_line_error(run_app("curnn-ptb", "--generate 5 --save-path " + (dir / "none") +
                                                 " --device cpu"),
                        "ptb-lm.ckpt");
}

// The real PTB files, when present: the test config for 50 batches runs and gives finite,
// falling perplexity.
TEST(PtbApp, RealDataShortRun) {
  std::string why;
  const std::string ptb = test::find_dataset("ptb", &why);
  if (ptb.empty()) GTEST_SKIP() << why;
  const auto r = run_app("curnn-ptb", "--data-path " + ptb +
                                          " --model test --device cpu --max-steps 50");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Test Perplexity:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace curnn
