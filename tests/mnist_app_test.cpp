// build/bin/curnn-mnist end to end on tiny synthetic IDX files (4 x 5 pixel "images", a few dozen
// of them): the book's log lines, the JSON log, both heads, checkpoint + resume continuing the
// same run exactly; on learnable 10 x 6 images (a bar on the label's row) the test accuracy well
// above chance and the loss falling; bad input (corrupt magic, truncated file, mismatched counts,
// missing folder, bad flags) giving a clean non-zero exit (a crash fails) and a one-line error.
// Runs on the CPU backend.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/cuda_test.hpp"
#include "support/data_files.hpp"
#include "support/idx_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

namespace fs = std::filesystem;

// All executables go to build/bin: the app sits next to this test.
std::string app_path() {
  return test::app_path("curnn-mnist");
}

// How the app ended, its stdout (out) and stderr (err).
struct RunResult {
  test::AppResult app;
  int exit_code;
  std::string out, err;
  std::vector<std::string> out_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

std::string read_text(const std::string& path) {
  return test::read_file_text(path);
}

class MnistApp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(app_path())) GTEST_SKIP() << app_path() << " is not built";
    data_ = dir_ / "data";
    fs::create_directories(data_);
  }

  // 36 training images (8 of them the validation split) and 20 test images.
  void write_dataset(bool gzip) {
    std::vector<int> train_labels(36), test_labels(20);
    for (int i = 0; i < 36; ++i) train_labels[i] = (i * 3) % 10;
    for (int i = 0; i < 20; ++i) test_labels[i] = (i * 7 + 1) % 10;
    write("train-images-idx3-ubyte", test::idx_images(36, 4, 5, 1), gzip);
    write("train-labels-idx1-ubyte", test::idx_labels(train_labels), gzip);
    write("t10k-images-idx3-ubyte", test::idx_images(20, 4, 5, 2), gzip);
    write("t10k-labels-idx1-ubyte", test::idx_labels(test_labels), gzip);
  }
  void write(const std::string& name, const std::string& bytes, bool gzip = false) {
    test::write_file(data_ + "/" + name + (gzip ? ".gz" : ""), bytes, gzip);
  }

  // Runs the app with the small model's flags plus `args`.
  RunResult run(const std::string& args, bool small_model = true) {
    const std::string flags =
        small_model ? " --device cpu --validation-size 8 --batch-size 4 --hidden 6 --seed 3" : "";
    const test::AppResult r = test::run_app_split("curnn-mnist", flags + " " + args, dir_.str());
    return {r, r.exit_code, r.output, r.err};
  }

  // A clean exit with an error code (a crash fails) and one line naming the problem.
  void expect_one_line_error(const RunResult& r, const std::string& part) {
    EXPECT_TRUE(test::exited_with_error(r.app));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << "'" << part << "' not in: " << r.err;
  }

  test::TempDir dir_;
  std::string data_;
};

const std::regex kIterLine(
    R"(Iter (\d+), Minibatch Loss= \d+\.\d{6}, Training Accuracy= [01]\.\d{5})");
const std::regex kTestLine(R"(Testing Accuracy: (0|1|0\.\d+))");

// step = 1; while step * 4 < 100: steps 1..24, lines at steps 10 and 20 (Iter 40, Iter 80).
TEST_F(MnistApp, PrintsTheBooksLinesAndTheJsonLog) {
  write_dataset(/*gzip=*/true);
  const RunResult r =
      run("--data-path '" + data_ + "' --max-samples 100 --log-json '" + (dir_ / "log.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = r.out_lines();
  std::vector<std::string> iters;
  std::size_t finished = 0, tested = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_match(lines[i], m, kIterLine)) iters.push_back(m[1]);
    if (lines[i] == "Optimization Finished!") finished = i;
    if (std::regex_match(lines[i], kTestLine)) tested = i;
  }
  EXPECT_EQ(iters, (std::vector<std::string>{"40", "80"})) << r.out;
  ASSERT_GT(finished, 0u) << r.out;
  EXPECT_EQ(tested, finished + 1) << r.out;
  EXPECT_NE(r.out.find("samples/s"), std::string::npos) << r.out;
  std::istringstream log(read_text(dir_ / "log.json"));
  std::vector<std::string> records;
  for (std::string line; std::getline(log, line);) records.push_back(line);
  ASSERT_EQ(records.size(), 4u);  // config, 2 progress lines, final
  EXPECT_NE(records[1].find("\"iter\":40"), std::string::npos) << records[1];
  EXPECT_NE(records[3].find("\"test_accuracy\""), std::string::npos) << records[3];
  EXPECT_NE(records[3].find("\"samples_per_s\""), std::string::npos) << records[3];
}

// --eval-every 30 (batch 4): the test accuracy after the steps that reach 32, 60 and 92 samples,
// printed and logged; the book's lines and the final test accuracy are those of the same run
// without it (evaluating does not change the training).
TEST_F(MnistApp, EvalEveryLogsTheTestAccuracyAndLeavesTheRunUnchanged) {
  write_dataset(false);
  const std::string data = "--data-path '" + data_ + "' --max-samples 100";
  const RunResult plain = run(data);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const RunResult evaluated =
      run(data + " --eval-every 30 --log-json '" + (dir_ / "log.json") + "'");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const std::regex eval_line(R"(Iter (\d+), Testing Accuracy= ([01]\.\d{5}))");
  std::vector<std::string> book_lines, eval_iters;
  for (const std::string& line : evaluated.out_lines()) {
    std::smatch m;
    if (std::regex_match(line, m, eval_line)) {
      eval_iters.push_back(m[1]);
    } else if (std::regex_match(line, kIterLine) || std::regex_match(line, kTestLine)) {
      book_lines.push_back(line);
    }
  }
  EXPECT_EQ(eval_iters, (std::vector<std::string>{"32", "60", "92"})) << evaluated.out;
  std::vector<std::string> plain_book_lines;
  for (const std::string& line : plain.out_lines()) {
    if (std::regex_match(line, kIterLine) || std::regex_match(line, kTestLine)) {
      plain_book_lines.push_back(line);
    }
  }
  EXPECT_EQ(plain_book_lines.size(), 3u) << plain.out;  // Iter 40, Iter 80, Testing Accuracy
  EXPECT_EQ(book_lines, plain_book_lines) << evaluated.out;
  const std::string log = read_text(dir_ / "log.json");
  std::size_t evals = 0;
  for (std::size_t at = 0; (at = log.find("\"type\":\"eval\"", at)) != std::string::npos; ++at) {
    ++evals;
  }
  EXPECT_EQ(evals, 3u) << log;
  EXPECT_NE(log.find("\"iter\":60"), std::string::npos) << log;
}

// The test accuracy that a run prints, or NaN.
double test_accuracy(const RunResult& r) {
  std::smatch m;
  return std::regex_search(r.out, m, kTestLine) ? std::stod(m[1]) : NAN;
}

// 300 training images (50 of them the validation split) whose label is the row of a bright bar,
// 60 test images: 750 steps of batch 4 learn them, for either head, far above chance (0.1).
TEST_F(MnistApp, LearnsBarImagesFarAboveChance) {
  std::vector<int> train_labels(300), test_labels(60);
  for (std::size_t i = 0; i < train_labels.size(); ++i) train_labels[i] = (i * 7 + i / 10) % 10;
  for (std::size_t i = 0; i < test_labels.size(); ++i) test_labels[i] = (i * 3 + 1) % 10;
  write("train-images-idx3-ubyte", test::idx_bar_images(train_labels, 10, 6, 1));
  write("train-labels-idx1-ubyte", test::idx_labels(train_labels));
  write("t10k-images-idx3-ubyte", test::idx_bar_images(test_labels, 10, 6, 2));
  write("t10k-labels-idx1-ubyte", test::idx_labels(test_labels));
  for (const char* head : {"outputs-last", "final-states"}) {
    const RunResult r =
        run("--data-path '" + data_ +
                "' --device cpu --batch-size 4 --hidden 16 "
                "--seed 3 --max-samples 3000 --lr 0.01 --validation-size 50 --head " +
                head + " --log-json '" + (dir_ / "log.json") + "'",
            /*small_model=*/false);
    ASSERT_EQ(r.exit_code, 0) << r.app.how() << "\n" << r.err;
    const double accuracy = test_accuracy(r);
    EXPECT_GE(accuracy, 0.8) << head << ": chance is 0.1\n" << r.out;
    EXPECT_LE(accuracy, 1.0) << r.out;
    std::vector<double> losses;
    for (const auto& line : r.out_lines()) {
      std::smatch m;
      if (std::regex_search(line, m, std::regex(R"(Minibatch Loss= ([\d.]+))"))) {
        losses.push_back(std::stod(m[1]));
      }
    }
    ASSERT_GE(losses.size(), 5u) << r.out;
    for (const double loss : losses) EXPECT_TRUE(std::isfinite(loss)) << r.out;
    EXPECT_GT(losses.front(), 1.0) << "near ln 10 = 2.3 untrained\n" << r.out;
    EXPECT_LT(losses.back(), 0.5 * losses.front()) << r.out;
    // The JSON log's final record carries the printed accuracy.
    const std::string log = read_text(dir_ / "log.json");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(log, m, std::regex(R"("test_accuracy":([\d.eE+-]+))"))) << log;
    EXPECT_NEAR(std::stod(m[1]), accuracy, 1e-5);
  }
}

TEST_F(MnistApp, FinalStatesHeadRuns) {
  write_dataset(false);
  const RunResult r = run("--data-path '" + data_ + "' --max-samples 48 --head final-states");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("head final-states"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Iter 40, Minibatch Loss= "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Testing Accuracy: "), std::string::npos) << r.out;
}

// Training 24 steps in one go, or 12 steps, a checkpoint, and 12 more after --resume, gives the
// same step-20 line and the same test accuracy (model, Adam state and data order all restored).
TEST_F(MnistApp, ResumeContinuesTheSameRun) {
  write_dataset(false);
  const std::string data = "--data-path '" + data_ + "'";
  const RunResult whole = run(data + " --max-samples 100");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const std::string ckpt = "--save-path '" + (dir_ / "ckpt") + "'";
  const RunResult first = run(data + " --max-samples 52 " + ckpt);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const RunResult second = run(data + " --max-samples 100 --resume " + ckpt);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("Resumed from"), std::string::npos) << second.out;
  const auto line_with = [](const std::string& out, const std::string& start) {
    const std::size_t at = out.find(start);
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  EXPECT_EQ(line_with(second.out, "Iter 40,"), "");  // done before the checkpoint
  EXPECT_EQ(line_with(second.out, "Iter 80,"), line_with(whole.out, "Iter 80,"));
  EXPECT_NE(line_with(whole.out, "Iter 80,"), "");
  EXPECT_EQ(line_with(second.out, "Testing Accuracy:"), line_with(whole.out, "Testing Accuracy:"));
  // A checkpoint of another model size is refused.
  expect_one_line_error(run(data +
                                " --max-samples 100 --resume --device cpu --validation-size 8 "
                                "--batch-size 4 --hidden 7 " +
                                ckpt,
                            /*small_model=*/false),
                        "differs from the flags'");
}

// --graph on (each training step a CUDA Graph replay) prints the lines of --graph off to the
// last digit. Never run on a GPU yet.
TEST_F(MnistApp, CudaGraphStepsPrintTheSameLines) {
  CURNN_REQUIRE_CUDA();
  write_dataset(false);
  const std::string args = "--data-path '" + data_ +
                           "' --device cuda --validation-size 8 --batch-size 4 --hidden 6 "
                           "--seed 3 --max-samples 100";
  const RunResult off = run(args + " --graph off", false), on = run(args + " --graph on", false);
  ASSERT_EQ(off.exit_code, 0) << off.err;
  ASSERT_EQ(on.exit_code, 0) << on.err;
  EXPECT_NE(on.out.find("training steps replayed"), std::string::npos) << on.out;
  const std::regex varying(R"(trained \d+ samples in [^\n]*|curnn-mnist: CUDA Graph:[^\n]*\n)");
  EXPECT_EQ(std::regex_replace(off.out, varying, ""), std::regex_replace(on.out, varying, ""));
}

TEST_F(MnistApp, BadDataIsAOneLineErrorAndNonZeroExit) {
  const std::string data = "--data-path '" + data_ + "' --max-samples 20";
  // Corrupt magic: the training labels file carries the image magic.
  write_dataset(false);
  write("train-labels-idx1-ubyte", test::idx_labels(std::vector<int>(36, 1), 2051));
  expect_one_line_error(run(data), "not an IDX label file (magic 2051, expected 2049)");
  // Truncated image file.
  write_dataset(false);
  const std::string images = test::idx_images(20, 4, 5, 2);
  write("t10k-images-idx3-ubyte", images.substr(0, images.size() - 3));
  expect_one_line_error(run(data), "truncated");
  // Mismatched image and label counts.
  write_dataset(false);
  write("t10k-labels-idx1-ubyte", test::idx_labels(std::vector<int>(19, 2)));
  expect_one_line_error(run(data), "has 20 images but");
  // Missing folder.
  expect_one_line_error(run("--data-path '" + (dir_ / "nowhere") + "'"), "no such MNIST folder");
  // Fewer training images than one batch.
  write_dataset(false);
  expect_one_line_error(run(data + " --device cpu --validation-size 34 --batch-size 4", false),
                        "fewer than --batch-size 4");
}

TEST_F(MnistApp, BadFlagsAreAOneLineErrorAndNonZeroExit) {
  write_dataset(false);
  const std::string data = "--data-path '" + data_ + "' ";
  expect_one_line_error(run(data + "--head middle"), "--head");
  expect_one_line_error(run(data + "--batch-size 0"), "--batch-size");
  expect_one_line_error(run(data + "--device tpu"), "--device");
  expect_one_line_error(run(data + "--max-samples lots"), "--max-samples");
  expect_one_line_error(run(data + "--no-such-flag"), "--no-such-flag");
  expect_one_line_error(run(data + "--resume --max-samples 20"), "--resume needs --save-path");
  expect_one_line_error(run(data + "--graph on"), "--graph on");  // --device cpu
  expect_one_line_error(run(data + "--graph sometimes"), "--graph");
  const RunResult help = run("--help", false);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--max-samples"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace curnn
