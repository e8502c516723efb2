// host::parallel_for on the CPU backend's worker threads (host/parallel.cpp): every item runs
// exactly once, whichever thread takes it; the workers really take parts; loops nested in a part,
// loops from several threads at once, exceptions and fork() leave the pool working. Thread-start
// failures and exceptions on a worker are also in tests/resources_test.cpp; that results do not
// depend on the thread count is tests/threads_test.cpp.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../host/parallel.hpp"
#include "curnn/threads.hpp"

namespace curnn {
namespace {

// Runs the test body with `threads` CPU threads, then restores the default.
class WithThreads {
 public:
  explicit WithThreads(int threads) { set_cpu_threads(threads); }
  ~WithThreads() { set_cpu_threads(0); }
};

// Counts how often each item of [0, n) is visited by parallel_for(n, grain).
std::vector<int> visits(std::int64_t n, std::int64_t grain) {
  std::vector<std::atomic<int>> counts(static_cast<std::size_t>(n));
  host::parallel_for(n, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) counts[static_cast<std::size_t>(i)]++;
  });
  std::vector<int> out;
  for (const auto& c : counts) out.push_back(c.load());
  return out;
}

TEST(ParallelFor, EveryItemExactlyOnceOverManyLoops) {
  for (const int threads : {1, 2, 3, 8}) {
    WithThreads with(threads);
    for (int round = 0; round < 2000; ++round) {  // back-to-back jobs: stale-job races show here
      const std::int64_t n = 1 + (round * 7919) % 257, grain = 1 + round % 5;
      const std::vector<int> counts = visits(n, grain);
      for (std::int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(counts[static_cast<std::size_t>(i)], 1)
            << "item " << i << " of " << n << ", grain " << grain << ", " << threads
            << " threads, round " << round;
      }
    }
  }
}

// Whether a worker takes part of a two-part loop: part 0 waits (up to `patience`) until another
// thread has entered a part, which the caller cannot do while it waits in part 0.
bool a_worker_takes_a_part(std::chrono::seconds patience) {
  std::atomic<int> entered{0};
  std::atomic<bool> timed_out{false};
  std::mutex m;
  std::set<std::thread::id> ids;
  host::parallel_for(2, 1, [&](std::int64_t begin, std::int64_t) {
    {
      std::lock_guard<std::mutex> lock(m);
      ids.insert(std::this_thread::get_id());
    }
    entered++;
    if (begin != 0) return;
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (entered.load() < 2) {
      if (std::chrono::steady_clock::now() > deadline) {
        timed_out = true;
        return;
      }
      std::this_thread::yield();
    }
  });
  return !timed_out && ids.size() == 2;
}

TEST(ParallelFor, WorkersRunParts) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one hardware thread";
  WithThreads with(2);
  for (int round = 0; round < 50; ++round) {
    ASSERT_TRUE(a_worker_takes_a_part(std::chrono::seconds(10)))
        << "round " << round << ": no worker took the second part in 10 s";
  }
}

TEST(ParallelFor, NestedLoopsRunOnTheirThread) {
  WithThreads with(3);
  std::vector<std::atomic<int>> counts(64 * 64);
  host::parallel_for(64, 1, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      host::parallel_for(64, 1, [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t c = c0; c < c1; ++c) counts[static_cast<std::size_t>(r * 64 + c)]++;
      });
    }
  });
  for (std::size_t i = 0; i < counts.size(); ++i) ASSERT_EQ(counts[i].load(), 1) << "item " << i;
}

TEST(ParallelFor, LoopsFromSeveralThreadsAtOnce) {
  WithThreads with(2);
  constexpr int kCallers = 4;
  std::vector<std::vector<int>> results(kCallers);
  std::vector<std::thread> callers;
  for (int k = 0; k < kCallers; ++k) {
    callers.emplace_back([&results, k] {
      std::vector<int> sums;
      for (int round = 0; round < 300; ++round) {
        const std::vector<int> counts = visits(100 + k, 1);
        int sum = 0;
        for (const int c : counts) sum += c;
        sums.push_back(sum);
      }
      results[static_cast<std::size_t>(k)] = sums;
    });
  }
  for (auto& c : callers) c.join();
  for (int k = 0; k < kCallers; ++k) {
    ASSERT_EQ(results[static_cast<std::size_t>(k)].size(), 300u);
    for (const int sum : results[static_cast<std::size_t>(k)]) ASSERT_EQ(sum, 100 + k);
  }
}

TEST(ParallelFor, TheLowestFailingPartIsRethrownAndThePoolGoesOn) {
  WithThreads with(3);
  try {
    host::parallel_for(3, 1, [](std::int64_t begin, std::int64_t) {
      if (begin > 0) throw std::runtime_error("part " + std::to_string(begin));
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "part 1");
  }
  const std::vector<int> counts = visits(1000, 1);
  for (const int c : counts) ASSERT_EQ(c, 1);
}

// A forked child has none of the parent's workers: it starts its own (a fresh pool, which also
// keeps it clear of a lock a parent's worker held at the fork), and its loops finish.
TEST(ParallelFor, WorksInAForkedChild) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one hardware thread";
  WithThreads with(2);
  (void)visits(1000, 1);  // the parent's workers exist now
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    alarm(20);  // a hang is a failure (SIGALRM), not a stuck test
    if (!a_worker_takes_a_part(std::chrono::seconds(5))) ::_exit(4);
    for (int round = 0; round < 100; ++round) {
      for (const int c : visits(1000, 1)) {
        if (c != 1) ::_exit(3);
      }
    }
    ::_exit(0);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the child was killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "3: items skipped or repeated in the child, 4: no worker in the child";
}

}  // namespace
}  // namespace curnn
