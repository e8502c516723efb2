// Running a built application (build/bin, next to the test executables) as a child process
// whose output the test reads line by line while it runs, so a test can send it a signal at a
// chosen point (after its first progress line, ...) and then collect its exit status.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

extern char** environ;

namespace curnn::test {

class AppProcess {
 public:
  // Starts build/bin/<name> with `args`; stdout and stderr both go to one pipe.
  AppProcess(const std::string& name, const std::vector<std::string>& args) {
    const std::string path =
        (std::filesystem::read_symlink("/proc/self/exe").parent_path() / name).string();
    int fds[2];
    if (::pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv{const_cast<char*>(path.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~AppProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  AppProcess(const AppProcess&) = delete;
  AppProcess& operator=(const AppProcess&) = delete;

  bool started() const { return pid_ > 0; }

  // Reads output until a line matches `pattern` (true) or the output ends or `timeout_s` passes
  // (false).
  bool wait_for_line(const std::regex& pattern, double timeout_s = 120) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      for (std::size_t end; (end = output_.find('\n', scanned_)) != std::string::npos;) {
        const std::string line = output_.substr(scanned_, end - scanned_);
        scanned_ = end + 1;
        if (std::regex_search(line, pattern)) return true;
      }
      const auto left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(left.count())) return false;
    }
  }

  void send(int sig) const { ::kill(pid_, sig); }

  // Reads the rest of the output and waits; the exit status (128 + signal when killed by one).
  int finish() {
    while (read_some(600)) {
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    exited_ = WIFEXITED(status);
    return exited_ ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // After finish(): true when the process called exit, false when a signal ended it.
  bool exited_normally() const { return exited_; }
  // Everything the process wrote so far.
  const std::string& output() const { return output_; }

 private:
  // Appends what the pipe has within timeout_s; false at the end of the output or on timeout.
  bool read_some(double timeout_s) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout_s * 1000)) <= 0) return false;
    char buffer[4096];
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n <= 0) return false;
    output_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false, exited_ = false;
  std::string output_;
  std::size_t scanned_ = 0;  // output_ before this offset was matched line by line
};

// Files under `dir` whose name contains ".tmp." (AtomicOutputFile's temporaries).
inline std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) {
      found.push_back(e.path().string());
    }
  }
  return found;
}

}  // namespace curnn::test
