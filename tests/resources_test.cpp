// Resource failures are clean errors, never std::terminate: a thread that cannot start
// (std::system_error) and an exception inside a thread of parallel_for or of the word2vec
// trainer; memory that cannot be allocated. Thread starts are made to fail without root
// privileges or test hooks: with RLIMIT_STACK (the default thread stack size) above RLIMIT_AS,
// every new thread's stack mapping fails (EAGAIN), while the main thread runs as usual.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#include "../host/parallel.hpp"
#include "support/app_fixtures.hpp"
#include "support/data_files.hpp"
#include "support/run_app.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define CURNN_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CURNN_TEST_ASAN 1
#endif
#endif

namespace curnn {
namespace {

// The shell prefix that makes thread starts fail (and keeps OpenBLAS from starting its own
// threads when the library loads: it raises SIGINT when it cannot).
const char* kNoThreads = "ulimit -s 4000000 && ulimit -v 3000000 && OPENBLAS_NUM_THREADS=1 ";

test::AppResult run_limited(const std::string& limits, const std::string& app,
                            const std::string& args) {
  test::AppResult r;
  const std::string command = "(" + limits + "'" + test::app_path(app) + "' " + args + ") 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string last_line(const std::string& text) {
  const std::size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  const std::size_t begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end - (begin + 1) + 1);
}

bool limits_work(std::string* why) {
#ifdef CURNN_TEST_ASAN
  *why = "address limits and AddressSanitizer's shadow memory do not mix";
  return false;
#endif
  *why = "the hard stack limit is below 4 GB: thread starts cannot be made to fail";
  return std::system("ulimit -s 4000000 2>/dev/null") == 0;
}

TEST(ParallelFor, ExceptionInAWorkerThreadReachesTheCaller) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one hardware thread";
  std::atomic<int> ranges{0};
  // The last range runs on a worker thread; its exception must not be std::terminate.
  EXPECT_THROW(host::parallel_for(1000, 1,
                                  [&](std::int64_t, std::int64_t end) {
                                    ++ranges;
                                    if (end == 1000) throw std::runtime_error("range failed");
                                  }),
               std::runtime_error);
  EXPECT_GE(ranges.load(), 2);  // every range ran, the others were joined
}

// In a child process under an address-space limit that leaves no room for a thread's stack:
// parallel_for runs every range on the calling thread, each item exactly once.
TEST(ParallelFor, ThreadsThatCannotStartRunTheirRangesOnTheCaller) {
  std::string why;
  if (!limits_work(&why)) GTEST_SKIP() << why;
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one hardware thread";
  std::vector<int> covered(1000, 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<std::thread> holders;
    holders.reserve(64);
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    const rlim_t limit = static_cast<rlim_t>(pages) * ::getpagesize() + (4u << 20);
    const rlimit as{limit, limit};
    if (::setrlimit(RLIMIT_AS, &as) != 0) ::_exit(77);
    // Threads until one cannot start: glibc reuses the stacks of finished threads (this test
    // process may have had some), so the holders stay alive until parallel_for is done.
    std::atomic<bool> release{false};
    bool full = false;
    for (int i = 0; i < 64 && !full; ++i) {
      try {
        holders.emplace_back([&release] {
          while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
      } catch (const std::system_error&) {
        full = true;
      }
    }
    if (!full) ::_exit(77);  // threads still start (a small RLIMIT_STACK): nothing to test
    try {
      host::parallel_for(1000, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) ++covered[static_cast<std::size_t>(i)];
      });
    } catch (...) {
      ::_exit(2);  // the failed start escaped
    }
    release = true;
    for (auto& h : holders) h.join();
    for (const int c : covered) {
      if (c != 1) ::_exit(3);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "could not make thread starts fail";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: the failure escaped, 3: items skipped or repeated";
}

// The word2vec trainer needs its -threads workers (their shards decide the result): a worker
// that cannot start is a one-line error naming the thread, and the started ones are stopped
// (joined, not destroyed while running: that was std::terminate).
TEST(Resources, Word2vecThreadStartFailureIsAOneLineError) {
  if (std::string why; !limits_work(&why)) GTEST_SKIP() << why;
  if (!std::filesystem::exists(test::app_path("curnn-word2vec"))) GTEST_SKIP() << "no app";
  test::TempDir dir;
  test::write_file(dir / "corpus.txt", test::synthetic_ptb(300, 4));
  const std::string args = "-train '" + (dir / "corpus.txt") + "' -output '" + (dir / "v.txt") +
                           "' -device cpu -iter 20 -size 10 -min-count 1";
  // No thread starts; then 1 GB stacks in 2.2 GB: the first worker starts (the program itself
  // maps well under 1.2 GB), the second cannot.
  for (const char* limits : {kNoThreads,
                             "ulimit -s 1000000 && ulimit -v 2200000 && "
                             "OPENBLAS_NUM_THREADS=1 "}) {
    const auto r = run_limited(limits, "curnn-word2vec", args + " -threads 3");
    EXPECT_EQ(r.exit_code, 1) << limits << "\n" << r.output;
    EXPECT_TRUE(std::regex_match(
        last_line(r.output),
        std::regex("curnn-word2vec: error: cannot start CPU worker thread [23] of 3: .*")))
        << limits << "\n"
        << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "v.txt"));
  }
  // With one worker, only the optional progress reporter needed a thread: training goes on.
  const auto one = run_limited(kNoThreads, "curnn-word2vec", args + " -threads 1");
  EXPECT_EQ(one.exit_code, 0) << one.output;
}

// The CPU ops' parallel_for falls back to the calling thread: the same figures as without limits.
TEST(Resources, PtbTrainsTheSameWhenThreadsCannotStart) {
  if (std::string why; !limits_work(&why)) GTEST_SKIP() << why;
  if (!std::filesystem::exists(test::app_path("curnn-ptb"))) GTEST_SKIP() << "no app";
  test::TempDir dir;
  test::write_ptb_corpus(dir / "data");
  const std::string args = "--data-path '" + (dir / "data") +
                           "' --model test --device cpu --hidden-size 64 --max-max-epoch 1";
  const auto limited = run_limited(kNoThreads, "curnn-ptb", args);
  const auto free = run_limited("OPENBLAS_NUM_THREADS=1 ", "curnn-ptb", args);
  ASSERT_EQ(limited.exit_code, 0) << limited.output;
  ASSERT_EQ(free.exit_code, 0) << free.output;
  const std::regex timing(R"(speed: \d+ wps|total [\d.]+ s)");
  EXPECT_EQ(std::regex_replace(limited.output, timing, ""),
            std::regex_replace(free.output, timing, ""));
}

// Memory: a model or tables too large for the address space (2 GB: room for the program and
// its libraries, CUDA's included) are a one-line error.
TEST(Resources, OutOfMemoryIsAOneLineError) {
  if (std::string why; !limits_work(&why)) GTEST_SKIP() << why;
  if (!std::filesystem::exists(test::app_path("curnn-ptb"))) GTEST_SKIP() << "no app";
  test::TempDir dir;
  test::write_ptb_corpus(dir / "data");
  // 2 x 16384 x 65536 floats per LSTM layer: 8 GB.
  const auto ptb = run_limited(
      "ulimit -v 2000000 && OPENBLAS_NUM_THREADS=1 ", "curnn-ptb",
      "--data-path '" + (dir / "data") + "' --model test --device cpu --hidden-size 16384");
  EXPECT_EQ(ptb.exit_code, 1) << ptb.output;
  EXPECT_EQ(last_line(ptb.output).rfind("curnn-ptb: error: out of", 0), 0u) << ptb.output;
  // 60,000 words of 10,000 dimensions: syn0 and syn1neg need 4.8 GB.
  std::string words;
  for (int i = 0; i < 60000; ++i) words += "w" + std::to_string(i) + (i % 20 == 19 ? "\n" : " ");
  test::write_file(dir / "corpus.txt", words);
  const auto w2v = run_limited("ulimit -v 2000000 && OPENBLAS_NUM_THREADS=1 ", "curnn-word2vec",
                               "-train '" + (dir / "corpus.txt") + "' -output '" + (dir / "v.txt") +
                                   "' -device cpu -threads 1 -size 10000 -min-count 1");
  EXPECT_EQ(w2v.exit_code, 1) << w2v.output;
  EXPECT_EQ(last_line(w2v.output).rfind("curnn-word2vec: error: out of", 0), 0u) << w2v.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "v.txt"));
}

}  // namespace
}  // namespace curnn
