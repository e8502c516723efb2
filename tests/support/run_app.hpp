// Runs one of the built applications (they sit next to the test executables, in build/bin) and
// captures its exit code and output, for end-to-end and bad-input tests of the apps.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace curnn::test {

struct AppResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline std::string app_path(const std::string& name) {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / name).string();
}

// `args` is appended to the command line as is (quote it as a shell would need).
inline AppResult run_app(const std::string& name, const std::string& args) {
  AppResult r;
  const std::string command = "'" + app_path(name) + "' " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// The number of lines of `text` (a trailing newline does not start a new line).
inline int count_lines(const std::string& text) {
  int lines = 0;
  for (char ch : text) lines += ch == '\n';
  return lines + (!text.empty() && text.back() != '\n');
}

}  // namespace curnn::test
