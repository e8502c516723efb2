// Self-test of tests/support/run_app.hpp, which the app tests' error cases rely on: a program
// killed by a signal is reported as that signal, never as an exit code, and fails
// exited_with_error (a crash after printing a plausible error line must not pass as a clean
// error); a normal exit 1 passes it, exit 0 does not; stdout and stderr are kept apart.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "support/data_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

TEST(RunApp, SignalDeathIsNotAnExitCode) {
  for (const int sig : {SIGSEGV, SIGABRT, SIGKILL}) {
    // Prints a one-line error first, as a crash in cleanup after the message would.
    const test::AppResult r =
        test::run_shell("exec sh -c 'echo \"app: error: bad input\" >&2; kill -" +
                        std::to_string(sig) + " $$' 2>&1");
    EXPECT_EQ(r.signal, sig) << r.how();
    EXPECT_EQ(r.exit_code, -1) << r.how();
    EXPECT_FALSE(r.exited());
    EXPECT_EQ(r.output, "app: error: bad input\n");
    EXPECT_FALSE(test::exited_with_error(r)) << r.how();
    EXPECT_NE(r.how().find("signal " + std::to_string(sig)), std::string::npos) << r.how();
  }
}

TEST(RunApp, ExitCodesAreReportedAsSuch) {
  const test::AppResult error = test::run_shell("exec sh -c 'echo oops >&2; exit 1' 2>&1");
  EXPECT_EQ(error.exit_code, 1);
  EXPECT_EQ(error.signal, 0);
  EXPECT_TRUE(test::exited_with_error(error));
  const test::AppResult ok = test::run_shell("exec sh -c 'exit 0'");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_FALSE(test::exited_with_error(ok));
  // 139 is what a shell reports for a child killed by SIGSEGV; as a real exit code it stays one.
  EXPECT_EQ(test::run_shell("exec sh -c 'exit 139'").exit_code, 139);
}

TEST(RunApp, AppsRunInPlaceOfTheShell) {
  test::TempDir dir;
  // app_path() names a file next to this test; /bin/sh stands in for an app through a link.
  const std::string link = test::app_path("run_app_test_sh");
  std::filesystem::remove(link);
  std::filesystem::create_symlink("/bin/sh", link);
  test::write_file(dir / "in.txt", "from stdin\n");
  const test::AppResult r =
      test::run_app_split("run_app_test_sh", "-c 'cat; echo to-out; echo to-err >&2; exit 3'",
                          dir.str(), dir / "in.txt");
  // The shell execs the app: its crash is the wait status itself, in both helpers.
  const test::AppResult crash_split =
      test::run_app_split("run_app_test_sh", "-c 'kill -SEGV $$'", dir.str());
  const test::AppResult crash = test::run_app("run_app_test_sh", "-c 'kill -SEGV $$'");
  std::filesystem::remove(link);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "from stdin\nto-out\n");
  EXPECT_EQ(r.err, "to-err\n");
  EXPECT_EQ(crash_split.signal, SIGSEGV) << crash_split.how();
  EXPECT_EQ(crash.signal, SIGSEGV) << crash.how();
}

}  // namespace
}  // namespace curnn
