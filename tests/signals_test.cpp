// Clean stops (apps/stop_signal.hpp): SIGTERM/SIGINT sent to a training app after its first
// progress line make it finish the current step, save a checkpoint that resumes (exactly: the
// resumed run ends where an uninterrupted run stopped at the same step does), exit normally with
// 143/130 and leave no temporary files; curnn-word2vec writes nothing (as word2vec.c). And the
// handler itself: a second signal goes to the handler installed before (run_main's cleanup, or
// the default), and a signal ignored by whoever started the program stays ignored.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "../apps/stop_signal.hpp"
#include "curnn/data/checkpoint.hpp"
#include "support/app_fixtures.hpp"
#include "support/app_process.hpp"
#include "support/checkpoint_files.hpp"
#include "support/data_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

using json = nlohmann::json;

// "--a 'b c' --d" -> {"--a", "b c", "--d"} (the fixtures' flags use single quotes).
std::vector<std::string> split_args(const std::string& flags) {
  std::vector<std::string> args;
  std::string current;
  bool quoted = false, any = false;
  for (const char c : flags) {
    if (c == '\'') {
      quoted = !quoted, any = true;
    } else if (c == ' ' && !quoted) {
      if (any) args.push_back(current);
      current.clear(), any = false;
    } else {
      current += c, any = true;
    }
  }
  if (any) args.push_back(current);
  return args;
}

// Starts `app`, sends `sig` after the first line matching `progress`, and checks the stop: a
// normal exit with 128 + sig, the stop line, and no temporary files under `save_dir`.
void stop_after_first_progress(const std::string& app, const std::string& flags,
                               const std::regex& progress, int sig, const std::string& save_dir) {
  test::AppProcess p(app, split_args(flags));
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_for_line(progress)) << p.output();
  p.send(sig);
  EXPECT_EQ(p.finish(), 128 + sig) << p.output();
  EXPECT_TRUE(p.exited_normally()) << "killed by the signal instead of stopping: " << p.output();
  EXPECT_NE(p.output().find(std::string("stopped by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM")),
            std::string::npos)
      << p.output();
  EXPECT_EQ(test::temp_files(save_dir), std::vector<std::string>{}) << p.output();
}

// A run that goes on until stopped, stopped by `sig` after its first `progress` line; its
// checkpoint, resumed for 13 more steps, ends byte for byte as a run that went there without a
// stop. `step_field`: the checkpoint's count of steps done.
template <class Runs>
void expect_stop_and_exact_resume(const std::regex& progress, int sig,
                                  const std::string& step_field) {
  test::TempDir dir;
  Runs::write_data(dir / "data");
  const std::string all = Runs::long_flags(dir / "data");
  stop_after_first_progress(Runs::kName, all + " --save-path '" + (dir / "ck") + "'", progress, sig,
                            dir / "ck");
  const std::string ckpt = std::string("/") + Runs::kCheckpoint;
  const std::int64_t stopped = json::parse(data::load_checkpoint(dir / ("ck" + ckpt)).meta)
                                   .at(step_field)
                                   .get<std::int64_t>();
  ASSERT_GT(stopped, 0);  // at or after the step of the first progress line
  const std::string until = " --stop-after " + std::to_string(stopped + 13);
  const auto resumed =
      test::run_app(Runs::kName, all + " --resume --save-path '" + (dir / "ck") + "'" + until);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("Resumed from"), std::string::npos);
  const auto straight =
      test::run_app(Runs::kName, all + " --save-path '" + (dir / "straight") + "'" + until);
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  EXPECT_TRUE(test::read_bytes(dir / ("ck" + ckpt)) == test::read_bytes(dir / ("straight" + ckpt)));
}

TEST(Signals, PtbStopsSavesAndResumesExactly) {
  if (!std::filesystem::exists(test::app_path("curnn-ptb"))) GTEST_SKIP() << "no curnn-ptb";
  expect_stop_and_exact_resume<test::PtbRuns>(std::regex("perplexity: "), SIGTERM, "global_step");
}

TEST(Signals, MnistStopsOnSigintSavesAndResumesExactly) {
  if (!std::filesystem::exists(test::app_path("curnn-mnist"))) GTEST_SKIP() << "no curnn-mnist";
  expect_stop_and_exact_resume<test::MnistRuns>(std::regex("^Iter \\d+"), SIGINT, "steps_done");
}

// word2vec.c writes its vectors only after training: a stopped run writes nothing.
TEST(Signals, Word2vecStopsWritingNothing) {
  if (!std::filesystem::exists(test::app_path("curnn-word2vec"))) GTEST_SKIP() << "no app";
  test::TempDir dir;
  test::write_file(dir / "corpus.txt", test::synthetic_ptb(2000, 4));
  const std::string flags = "-train '" + (dir / "corpus.txt") + "' -output '" +
                            (dir / "out/vectors.txt") +
                            "' -device cpu -threads 2 -iter 100000 -size 10 -min-count 1";
  std::filesystem::create_directories(dir / "out");
  stop_after_first_progress("curnn-word2vec", flags, std::regex("^curnn-word2vec: cbow"), SIGTERM,
                            dir.str());
  EXPECT_FALSE(std::filesystem::exists(dir / "out/vectors.txt"));
}

TEST(Signals, Word2vecTutorialStopsWritingNothing) {
  if (!std::filesystem::exists(test::app_path("curnn-word2vec"))) GTEST_SKIP() << "no app";
  test::TempDir dir;
  std::vector<std::string> words;  // more than the tutorial's 64 sampled classes
  for (int i = 0; i < 200; ++i) words.push_back("w" + std::to_string(i));
  test::write_file(dir / "corpus.txt", test::synthetic_ptb(2000, 4, words));
  const std::string flags = "--tutorial -train '" + (dir / "corpus.txt") +
                            "' --device cpu --steps 100000000 --no-plot --output-dir '" +
                            (dir / "out") + "'";
  stop_after_first_progress("curnn-word2vec", flags, std::regex("^Initialized"), SIGTERM,
                            dir.str());
  EXPECT_FALSE(std::filesystem::exists(dir / "out/embeddings.txt"));
}

// ---- the handler ------------------------------------------------------------------------------

// Runs `body` in a child process; its exit status (128 + signal when killed by one).
template <class Body>
int in_child(Body&& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void exit_42(int) {
  ::_exit(42);
}
volatile sig_atomic_t g_previous_calls = 0;
void count_call(int) {
  g_previous_calls = g_previous_calls + 1;
}

TEST(StopSignals, FirstSignalIsRecordedSecondGoesToTheHandlerBefore) {
  const int status = in_child([] {
    ::signal(SIGTERM, &count_call);  // stands for run_main's cleanup handler
    app::StopSignals stop;
    ::raise(SIGTERM);
    if (stop.requested() != SIGTERM || g_previous_calls != 0) ::_exit(1);
    ::raise(SIGTERM);  // the hard stop: count_call runs, once
    ::_exit(10 + g_previous_calls);
  });
  EXPECT_EQ(status, 11) << "1: the first signal was not recorded, or went to the old handler";
  // Without a handler before: the default action, killed by the second signal only.
  int survived[2];
  ASSERT_EQ(::pipe(survived), 0);
  EXPECT_EQ(in_child([&] {
              app::StopSignals stop;
              ::raise(SIGINT);
              if (stop.requested() == SIGINT) (void)!::write(survived[1], "1", 1);
              ::raise(SIGINT);
              ::_exit(2);
            }),
            128 + SIGINT);
  ::close(survived[1]);
  char byte = 0;
  EXPECT_EQ(::read(survived[0], &byte, 1), 1) << "the first SIGINT killed the process";
  ::close(survived[0]);
}

TEST(StopSignals, IgnoredSignalStaysIgnoredAndHandlersAreRestored) {
  EXPECT_EQ(in_child([] {
              ::signal(SIGINT, SIG_IGN);  // a background job of a non-interactive shell
              app::StopSignals stop;
              ::raise(SIGINT);
              ::_exit(stop.requested() == 0 ? 0 : 1);
            }),
            0);
  EXPECT_EQ(in_child([] {
              ::signal(SIGTERM, &exit_42);
              { app::StopSignals stop; }
              ::raise(SIGTERM);  // the handler from before the StopSignals again
              ::_exit(3);
            }),
            42);
}

}  // namespace
}  // namespace curnn
