// Shared by the libFuzzer harnesses of fuzz/ (one per reader; see fuzz/CMakeLists.txt).
//  - InputFile: the fuzz input as a file the readers can open by name: a memfd, named
//    /proc/self/fd/N, rewritten for each input (no disk I/O, nothing left behind).
//  - ScratchDir: a per-process folder in /dev/shm for harnesses that need several files or write
//    outputs (removed at exit).
//  - only_curnn_errors(f): runs f; a curnn::Error is the readers' documented answer to bad input
//    and is swallowed; any other exception escapes, and libFuzzer reports it as a crash (a reader
//    must never throw std::bad_alloc, std::length_error, nlohmann's exceptions, ...).
//  - require(cond, what): a property the harness checks (a round trip, a bound); aborts when false.
// The harnesses run under libFuzzer with ASan + UBSan (-DCURNN_FUZZ=ON), and in every other build
// as regression tests that run the seed corpus and the recorded crash inputs once
// (fuzz/standalone_main.cpp).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "curnn/error.hpp"

namespace curnn::fuzz {

class InputFile {
 public:
  InputFile() : fd_(::memfd_create("curnn-fuzz", 0)) {
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  // Replaces the file's content with the input; returns its path.
  const std::string& set(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size)) {
      std::perror("memfd write");
      std::abort();
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

class ScratchDir {
 public:
  ScratchDir() {
    path_ = "/dev/shm/curnn-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

template <class F>
void only_curnn_errors(F&& f) {
  try {
    f();
  } catch (const Error&) {
  }
}

inline void require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace curnn::fuzz
