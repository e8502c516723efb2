// curnn-ptb end to end on a synthetic corpus with structure an LSTM can learn (and on the real
// PTB files when present), checking results, not formats: perplexities finite, in a plausible
// range and falling; generated text made of the vocabulary and following the corpus's word
// pairs; a resumed run continuing where the checkpoint stopped (the next epoch, the same
// perplexities as an uninterrupted run); bad input a one-line error with a clean non-zero exit
// (a crash fails).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/cuda_test.hpp"
#include "support/data_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

using test::run_app;

// A corpus in PTB's format (each line " w1 ... wn \n") from five sentence templates over twelve
// words: a language of low entropy (a trained model reaches perplexity ~1.4) whose unigram
// perplexity is 11.6, so a model that learns nothing stays far above what these tests ask.
const char* const kTemplates[] = {"the cat sat on the mat", "a dog ran to the cat",
                                  "the dog sat on a mat", "a cat ran to N dogs",
                                  "the <unk> sat on the mat"};
std::string structured_ptb(int lines, unsigned seed) {
  std::string text;
  for (int l = 0; l < lines; ++l) {
    seed = seed * 1103515245u + 12345u;
    text += std::string(" ") + kTemplates[(seed >> 16) % 5] + " \n";
  }
  return text;
}
// The corpus's words and <eos>.
constexpr int kVocabulary = 13;

void write_corpus(const test::TempDir& dir, bool gzip_train = false) {
  test::write_file(dir / (gzip_train ? "ptb.train.txt.gz" : "ptb.train.txt"),
                   structured_ptb(400, 1), gzip_train);
  test::write_file(dir / "ptb.valid.txt", structured_ptb(60, 2));
  test::write_file(dir / "ptb.test.txt", structured_ptb(60, 3));
}

// Every "<label> <number>" in `text`, in order (e.g. "Epoch: 2 Train Perplexity:").
std::vector<double> numbers_after(const std::string& text, const std::string& label_regex) {
  std::vector<double> values;
  const std::regex re(label_regex + R"(\s*(nan|-?inf|[-+0-9.eE]+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    values.push_back(std::strtod((*it)[1].str().c_str(), nullptr));
  }
  return values;
}

void expect_plausible_perplexity(double ppl, double upper, const std::string& what) {
  EXPECT_TRUE(std::isfinite(ppl)) << what << " = " << ppl;
  EXPECT_GT(ppl, 1.0) << what;  // exp(mean cross-entropy) >= 1; == 1 means no loss at all
  EXPECT_LT(ppl, upper) << what;
}

// The model the tests train: the `test` config, widened, with smaller batches and the learning
// rate kept at 1, so that three epochs learn the corpus (train perplexity ~12, 2.6, 1.5).
const std::string kModel =
    " --model test --device cpu --hidden-size 16 --num-steps 5 --batch-size 10 --max-epoch 10";

TEST(PtbApp, PerplexityFallsIntoAPlausibleRange) {
  test::TempDir dir;
  write_corpus(dir, /*gzip_train=*/true);
  const auto r = run_app("curnn-ptb", "--data-path " + dir.str() + kModel +
                                          " --max-max-epoch 3 --log-json " + (dir / "log.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.how() << "\n" << r.output;
  const auto train = numbers_after(r.output, R"(Epoch: \d+ Train Perplexity:)");
  const auto valid = numbers_after(r.output, R"(Epoch: \d+ Valid Perplexity:)");
  const auto test_ppl = numbers_after(r.output, "Test Perplexity:");
  const auto progress = numbers_after(r.output, R"(\d\.\d{3} perplexity:)");
  ASSERT_EQ(train.size(), 3u) << r.output;
  ASSERT_EQ(valid.size(), 3u) << r.output;
  ASSERT_EQ(test_ppl.size(), 1u) << r.output;
  ASSERT_GE(progress.size(), 20u) << r.output;  // ~10 per epoch
  // Untrained, a 13-way softmax is near uniform: the first progress value is about 13.
  expect_plausible_perplexity(progress.front(), 1.5 * kVocabulary, "first progress perplexity");
  for (std::size_t e = 0; e < 3; ++e) {
    const std::string epoch = "epoch " + std::to_string(e + 1);
    expect_plausible_perplexity(train[e], 1.5 * kVocabulary, epoch + " train perplexity");
    expect_plausible_perplexity(valid[e], 1.5 * kVocabulary, epoch + " valid perplexity");
    if (e > 0) EXPECT_LT(train[e], train[e - 1]) << "train perplexity did not fall: " << r.output;
  }
  EXPECT_LT(progress.back(), progress.front()) << r.output;
  // Learned: far below the unigram perplexity (11.6), on held-out text too.
  EXPECT_LT(valid.back(), 2.5) << r.output;
  expect_plausible_perplexity(test_ppl[0], 2.5, "test perplexity");
  // The JSON log carries the same numbers as the book's lines.
  std::ifstream log(dir / "log.jsonl");
  std::stringstream all;
  all << log.rdbuf();
  const auto json_train = numbers_after(all.str(), R"("train_perplexity":)");
  const auto json_test = numbers_after(all.str(), R"("test_perplexity":)");
  ASSERT_EQ(json_train.size(), 3u) << all.str();
  ASSERT_EQ(json_test.size(), 1u) << all.str();
  for (std::size_t e = 0; e < 3; ++e) EXPECT_NEAR(json_train[e], train[e], 5e-4);
  EXPECT_NEAR(json_test[0], test_ppl[0], 5e-4);
}

// Words of `text` (split on spaces and newlines).
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

TEST(PtbApp, GeneratedTextFollowsTheCorpus) {
  test::TempDir dir;
  write_corpus(dir);
  const auto train = run_app("curnn-ptb", "--data-path " + dir.str() + kModel +
                                              " --max-max-epoch 3 --save-path " + (dir / "ck"));
  ASSERT_EQ(train.exit_code, 0) << train.how() << "\n" << train.output;
  ASSERT_TRUE(std::filesystem::exists(dir / "ck/ptb-lm.ckpt"));
  const auto g = run_app("curnn-ptb", "--save-path " + (dir / "ck") +
                                          " --generate 200 --temperature 0.7 --device cpu");
  ASSERT_EQ(g.exit_code, 0) << g.how() << "\n" << g.output;
  // 200 samples: words, and <eos> printed as a line break.
  const std::vector<std::string> words = words_of(g.output);
  const int breaks = static_cast<int>(std::count(g.output.begin(), g.output.end(), '\n'));
  EXPECT_EQ(static_cast<int>(words.size()) + breaks - 1, 200) << g.output;  // + the final '\n'
  std::set<std::string> vocabulary;
  std::set<std::pair<std::string, std::string>> pairs;  // word pairs inside the sentences
  for (const char* t : kTemplates) {
    const auto ws = words_of(t);
    vocabulary.insert(ws.begin(), ws.end());
    for (std::size_t i = 1; i < ws.size(); ++i) pairs.insert({ws[i - 1], ws[i]});
  }
  for (const auto& w : words) EXPECT_EQ(vocabulary.count(w), 1u) << "'" << w << "' not a word";
  // Pairs of consecutive words on one line: a trained model follows the templates' pairs (an
  // untrained one, drawing ~uniformly from 12 words, would hit their 19 of 144 pairs, ~13%).
  int seen = 0, known = 0;
  std::istringstream lines(g.output);
  for (std::string line; std::getline(lines, line);) {
    const auto ws = words_of(line);
    for (std::size_t i = 1; i < ws.size(); ++i) ++seen, known += pairs.count({ws[i - 1], ws[i]});
  }
  ASSERT_GT(seen, 100) << g.output;
  std::printf("[ generated] %d of %d word pairs are the corpus's\n", known, seen);
  EXPECT_GT(known, 0.8 * seen) << known << " of " << seen << " pairs are the corpus's:\n"
                               << g.output;
}

// Two epochs in one run, or one epoch, a checkpoint and --resume for the second: the resumed run
// starts at epoch 2 and gives the same epoch-2 and test perplexities (no dropout in the test
// config, so the runs are the same computation).
TEST(PtbApp, ResumeContinuesWhereTheCheckpointStopped) {
  test::TempDir dir;
  write_corpus(dir);
  const std::string data = "--data-path " + dir.str() + kModel;
  const auto whole = run_app("curnn-ptb", data + " --max-max-epoch 2");
  ASSERT_EQ(whole.exit_code, 0) << whole.how() << "\n" << whole.output;
  const auto first = run_app("curnn-ptb", data + " --max-max-epoch 1 --save-path " + (dir / "ck"));
  ASSERT_EQ(first.exit_code, 0) << first.how() << "\n" << first.output;
  const auto resumed =
      run_app("curnn-ptb", data + " --max-max-epoch 2 --resume --save-path " + (dir / "ck"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.how() << "\n" << resumed.output;
  EXPECT_NE(resumed.output.find("at epoch 2 step 0"), std::string::npos) << resumed.output;
  // Epoch numbers: the resumed run trains epoch 2 only.
  EXPECT_EQ(numbers_after(resumed.output, R"(Epoch: 1 Train Perplexity:)").size(), 0u)
      << resumed.output;
  const auto epoch2 = numbers_after(resumed.output, R"(Epoch: 2 Train Perplexity:)");
  const auto whole_train = numbers_after(whole.output, R"(Epoch: \d Train Perplexity:)");
  const auto first_train = numbers_after(first.output, R"(Epoch: 1 Train Perplexity:)");
  ASSERT_EQ(epoch2.size(), 1u) << resumed.output;
  ASSERT_EQ(whole_train.size(), 2u) << whole.output;
  ASSERT_EQ(first_train.size(), 1u) << first.output;
  EXPECT_EQ(first_train[0], whole_train[0]);
  // Perplexity continuity: epoch 2 continues from the trained model, not from scratch.
  EXPECT_EQ(epoch2[0], whole_train[1]) << "whole:\n"
                                       << whole.output << "resumed:\n"
                                       << resumed.output;
  EXPECT_LT(epoch2[0], first_train[0]);
  EXPECT_EQ(numbers_after(resumed.output, R"(Epoch: 2 Valid Perplexity:)"),
            numbers_after(whole.output, R"(Epoch: 2 Valid Perplexity:)"));
  EXPECT_EQ(numbers_after(resumed.output, "Test Perplexity:"),
            numbers_after(whole.output, "Test Perplexity:"));
}

TEST(PtbApp, SameSeedSameRun) {
  test::TempDir dir;
  write_corpus(dir);
  const std::string args = "--data-path " + dir.str() +
                           " --model test --device cpu --seed 7 --hidden-size 8 --keep-prob 0.5";
  const auto a = run_app("curnn-ptb", args), b = run_app("curnn-ptb", args);
  ASSERT_EQ(a.exit_code, 0) << a.how() << "\n" << a.output;
  const std::regex speed(R"(speed: \d+ wps|total [\d.]+ s)");
  EXPECT_EQ(std::regex_replace(a.output, speed, ""), std::regex_replace(b.output, speed, ""));
}

// --graph on (each training and evaluation step a CUDA Graph replay) prints the perplexities of
// --graph off to the last digit, over two epochs with dropout (the training graph is captured
// again after each evaluation pass; the valid and the 1 x 1 test passes have their own graphs).
// Never run on a GPU yet.
TEST(PtbApp, CudaGraphStepsPrintTheSamePerplexities) {
  CURNN_REQUIRE_CUDA();
  test::TempDir dir;
  write_corpus(dir);
  const std::string args = "--data-path " + dir.str() +
                           " --model test --device cuda --seed 7 --hidden-size 8 --keep-prob 0.5 "
                           "--num-layers 2 --max-max-epoch 2";
  const auto off = run_app("curnn-ptb", args + " --graph off");
  const auto on = run_app("curnn-ptb", args + " --graph on");
  ASSERT_EQ(off.exit_code, 0) << off.how() << "\n" << off.output;
  ASSERT_EQ(on.exit_code, 0) << on.how() << "\n" << on.output;
  EXPECT_NE(on.output.find("steps replayed"), std::string::npos) << on.output;
  const std::regex extra(R"(speed: \d+ wps|total [\d.]+ s|, steps as CUDA Graph replays|)"
                         R"(curnn-ptb: CUDA Graph:[^\n]*\n)");
  EXPECT_EQ(std::regex_replace(off.output, extra, ""), std::regex_replace(on.output, extra, ""));
}

// One line naming the problem, and a clean non-zero exit (a crash fails).
void expect_one_line_error(const test::AppResult& r, const std::string& part) {
  EXPECT_TRUE(test::exited_with_error(r));
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
  expect_one_line_error(
      run_app("curnn-ptb", "--data-path " + dir.str() + " --device cpu --graph on"), "--graph on");
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() + " --graph maybe"),
                        "--graph");
  // A batch that the data cannot fill.
  write_corpus(dir);
  expect_one_line_error(run_app("curnn-ptb", "--data-path " + dir.str() +
                                                 " --device cpu --model test --batch-size 60000"),
                        "batch");
  expect_one_line_error(
      run_app("curnn-ptb", "--generate 5 --save-path " + (dir / "none") + " --device cpu"),
      "ptb-lm.ckpt");
}

// The real PTB files, when present: 50 batches of the test config learn the unigram
// distribution at least, so test perplexity ends well below the uniform 10,000 (and the
// progress perplexity falls).
TEST(PtbApp, RealDataShortRun) {
  std::string why;
  const std::string ptb = test::find_dataset("ptb", &why);
  if (ptb.empty()) GTEST_SKIP() << why;
  const auto r =
      run_app("curnn-ptb", "--data-path " + ptb + " --model test --device cpu --max-steps 50");
  ASSERT_EQ(r.exit_code, 0) << r.how() << "\n" << r.output;
  const auto progress = numbers_after(r.output, R"(\d\.\d{3} perplexity:)");
  const auto test_ppl = numbers_after(r.output, "Test Perplexity:");
  ASSERT_GE(progress.size(), 2u) << r.output;
  ASSERT_EQ(test_ppl.size(), 1u) << r.output;
  expect_plausible_perplexity(progress.front(), 20000, "first progress perplexity");
  EXPECT_LT(progress.back(), progress.front()) << r.output;
  expect_plausible_perplexity(test_ppl[0], 5000, "test perplexity");
}

}  // namespace
}  // namespace curnn
