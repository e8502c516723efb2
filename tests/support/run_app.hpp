// Runs one of the built applications (they sit next to the test executables, in build/bin) and
// captures how it ended and what it printed, for end-to-end and bad-input tests of the apps.
//
// The shell `exec`s the app, so the wait status is the app's own: a crash (SIGSEGV, abort(),
// an uncaught exception's SIGABRT) shows as `signal`, never as an exit code; exit_code is -1
// then. exited_with_error() is the check of every bad-input case: a normal exit with a non-zero
// code, so a crash fails it.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace curnn::test {

struct AppResult {
  int exit_code = -1;  // when it exited normally, else -1
  int signal = 0;      // the signal that ended it, else 0
  std::string output;  // stdout and stderr together (run_app), or stdout (run_app_split)
  std::string err;     // stderr (run_app_split only)

  bool exited() const { return signal == 0 && exit_code >= 0; }
  std::string how() const {
    if (signal != 0)
      return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    return "exit code " + std::to_string(exit_code);
  }
};

inline void decode_wait_status(int status, AppResult* r) {
  if (status == -1) return;  // could not run the shell: exit_code stays -1
  if (WIFEXITED(status)) r->exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r->signal = WTERMSIG(status);
}

inline std::string app_path(const std::string& name) {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / name).string();
}

// Runs `shell_command` (through /bin/sh; it should `exec` its program) and decodes the status.
inline AppResult run_shell(const std::string& shell_command) {
  AppResult r;
  FILE* pipe = ::popen(shell_command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    r.output.append(buffer.data(), n);
  }
  decode_wait_status(::pclose(pipe), &r);
  return r;
}

// `args` is appended to the command line as is (quote it as a shell would need). Output is
// stdout and stderr together.
inline AppResult run_app(const std::string& name, const std::string& args) {
  return run_shell("exec '" + app_path(name) + "' " + args + " 2>&1");
}

inline std::string read_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// As run_app, with stdout in `output` and stderr in `err` (through files under `scratch_dir`),
// and stdin from `stdin_path` when given.
inline AppResult run_app_split(const std::string& name, const std::string& args,
                               const std::string& scratch_dir, const std::string& stdin_path = "") {
  const std::string out = scratch_dir + "/app.stdout", err = scratch_dir + "/app.stderr";
  std::string command = "exec '" + app_path(name) + "' " + args + " >'" + out + "' 2>'" + err + "'";
  if (!stdin_path.empty()) command += " <'" + stdin_path + "'";
  AppResult r = run_shell(command);
  r.output = read_file_text(out);
  r.err = read_file_text(err);
  return r;
}

// A bad-input case: the app exited normally with a non-zero code (a crash fails this).
inline ::testing::AssertionResult exited_with_error(const AppResult& r) {
  if (r.exited() && r.exit_code != 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected a clean error exit, got " << r.how() << "; output: " << r.output << r.err;
}

// The number of lines of `text` (a trailing newline does not start a new line).
inline int count_lines(const std::string& text) {
  int lines = 0;
  for (char ch : text) lines += ch == '\n';
  return lines + (!text.empty() && text.back() != '\n');
}

}  // namespace curnn::test
