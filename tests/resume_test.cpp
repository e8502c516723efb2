// Exact resume on the CPU (curnn-ptb, curnn-mnist): a run stopped at saved points (mid-epoch,
// at an epoch's end before its validation, several times) and resumed ends with checkpoint files
// byte for byte equal to an uninterrupted run's (parameters, Adam's moments and step, data order,
// position), and the printed figures of the pieces, put together, are the uninterrupted run's
// lines (only speeds and times differ). The PTB runs use dropout: the masks' Philox offset must
// continue, not restart (issue 10).
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "curnn/data/checkpoint.hpp"
#include "support/app_fixtures.hpp"
#include "support/checkpoint_files.hpp"
#include "support/data_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

// The figure lines of an app's output: without the lines that describe the run rather than its
// results ("<app>: ..." and "Resumed from ..."), with speeds and times removed.
std::vector<std::string> figures(const std::string& output, const std::string& app) {
  static const std::regex timing(R"(speed: \d+ wps)");
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(app + ":", 0) == 0 || line.rfind("Resumed from", 0) == 0) continue;
    lines.push_back(std::regex_replace(line, timing, ""));
  }
  return lines;
}

// Runs `app` with `flags` once uninterrupted and once in pieces that stop after each of
// `stops` training steps (--stop-after) and resume; checks the final checkpoints and the figures.
void expect_exact_resume(const std::string& app, const std::string& flags,
                         const std::vector<std::string>& checkpoints, const std::vector<int>& stops,
                         const test::TempDir& dir, const std::string& save_every = "") {
  const auto whole = test::run_app(app, flags + " --save-path '" + (dir / "whole") + "'");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i <= stops.size(); ++i) {
    std::string args = flags + " --save-path '" + (dir / "pieces") + "' " + save_every;
    if (i > 0) args += " --resume";
    if (i < stops.size()) args += " --stop-after " + std::to_string(stops[i]);
    const auto r = test::run_app(app, args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (i > 0) EXPECT_NE(r.output.find("Resumed from"), std::string::npos) << r.output;
    if (i < stops.size()) {
      EXPECT_NE(r.output.find("(--stop-after)"), std::string::npos) << r.output;
    }
    for (const std::string& line : figures(r.output, app)) pieces.push_back(line);
  }
  EXPECT_EQ(pieces, figures(whole.output, app));
  for (const std::string& name : checkpoints) {
    const std::string a = test::read_bytes(dir / ("whole/" + name));
    EXPECT_FALSE(a.empty()) << name;
    EXPECT_TRUE(a == test::read_bytes(dir / ("pieces/" + name)))
        << name << " differs from the uninterrupted run's";
  }
}

using PtbResume = test::AppTest<test::PtbRuns>;

// 89 steps per epoch, 3 epochs: stop at step 60 of epoch 1 (carried state, running cost).
TEST_F(PtbResume, MidEpochStopResumesBitForBit) {
  expect_exact_resume("curnn-ptb", test::ptb_flags(dir_ / "data"),
                      {"ptb-lm.ckpt", "ptb-lm.best.ckpt"}, {60}, dir_, "--save-every 7");
}

// After the last step of epoch 1 (its validation pending), in epoch 2 (another learning rate),
// and at the end of epoch 2's validation.
TEST_F(PtbResume, RepeatedStopsAtEpochEndsResumeBitForBit) {
  expect_exact_resume("curnn-ptb", test::ptb_flags(dir_ / "data"),
                      {"ptb-lm.ckpt", "ptb-lm.best.ckpt"}, {89, 131, 178}, dir_);
}

using MnistResume = test::AppTest<test::MnistRuns>;

// 28 training images in batches of 4: 7 steps per epoch; 49 steps in all. Step 17 is inside the
// third epoch (the shuffler's permutation and position, Adam's moments and step).
TEST_F(MnistResume, MidEpochStopResumesBitForBit) {
  expect_exact_resume("curnn-mnist", test::mnist_flags(dir_ / "data"), {"mnist-bilstm.ckpt"}, {17},
                      dir_, "--save-every 3");
}

TEST_F(MnistResume, RepeatedStopsResumeBitForBit) {
  expect_exact_resume("curnn-mnist", test::mnist_flags(dir_ / "data"), {"mnist-bilstm.ckpt"},
                      {5, 14, 30}, dir_);
}

}  // namespace
}  // namespace curnn
