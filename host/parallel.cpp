// The CPU backend's worker threads (host/parallel.hpp's run_parts). Starting a thread per loop
// cost tens of microseconds, which ruled out splitting the small per-time-step loops (an LSTM
// cell over [20, 200] takes about 100 us); the workers below are started once and kept.
//
// A loop (a "job") is published under `mutex_` with a new `generation_`; idle workers spin on
// the generation for kSpin after their last job, then sleep on `wake_`. Parts are claimed from
// an atomic counter, so any thread may run any part (a part's result does not depend on the
// thread). A worker copies the job under the mutex and counts itself `inside_`; the caller
// retires the job under the mutex once every part has finished and no worker is inside, so a
// late worker finds no job instead of a stale one.
//
// After fork() the child has none of the parent's threads: a fresh pool replaces the old one
// there (pthread_atfork). The pool is never destroyed, so workers outlive static destructors.
#include "parallel.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace curnn::host {
namespace {

using PartFn = void (*)(void*, std::int64_t);

// How long an idle worker spins before it sleeps: longer than the serial stretches between the
// loops of one training step (a recurrent GEMM of the PTB small model takes ~200 us), shorter
// than anything a user would notice as a busy core.
constexpr auto kSpin = std::chrono::microseconds(300);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

thread_local bool t_inside_part = false;  // this thread is running a part (nested loops: serial)

void run_serially(std::int64_t parts, PartFn part, void* context) {
  std::exception_ptr first;
  for (std::int64_t p = 0; p < parts; ++p) {
    try {
      part(context, p);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

class WorkerPool {
 public:
  void run(std::int64_t parts, PartFn part, void* context) {
    std::unique_lock<std::mutex> submit(submit_, std::try_to_lock);
    if (t_inside_part || !submit.owns_lock()) return run_serially(parts, part, context);
    if (!grow(static_cast<int>(std::min<std::int64_t>(parts, cpu_threads())) - 1)) {
      return run_serially(parts, part, context);
    }
    errors_.assign(static_cast<std::size_t>(parts), nullptr);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      part_ = part, context_ = context, parts_ = parts;
      next_.store(0, std::memory_order_relaxed);
      finished_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    claim_parts(part, context, parts);
    for (int spins = 0; finished_.load(std::memory_order_acquire) < parts; ++spins) {
      if (spins < 4096) {
        cpu_relax();
      } else {
        std::this_thread::yield();  // a worker holding a part was descheduled
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (inside_.load(std::memory_order_acquire) > 0) cpu_relax();  // leaving, nothing left
      part_ = nullptr, context_ = nullptr, parts_ = 0;
    }
    for (const auto& e : errors_) {
      if (e) std::rethrow_exception(e);
    }
  }

 private:
  // Starts workers up to `wanted` (under submit_). False when none can start at all.
  bool grow(int wanted) {
    while (!start_failed_ && started_ < wanted) {
      try {
        const std::uint64_t seen = generation_.load(std::memory_order_relaxed);
        std::thread([this, seen] { work(seen); }).detach();
        ++started_;
      } catch (const std::system_error&) {  // EAGAIN: the threads that started share the parts
        start_failed_ = true;
      }
    }
    return started_ > 0;
  }

  void claim_parts(PartFn part, void* context, std::int64_t parts) {
    t_inside_part = true;
    for (;;) {
      const std::int64_t p = next_.fetch_add(1, std::memory_order_relaxed);
      if (p >= parts) break;
      try {
        part(context, p);
      } catch (...) {
        errors_[static_cast<std::size_t>(p)] = std::current_exception();
      }
      finished_.fetch_add(1, std::memory_order_release);
    }
    t_inside_part = false;
  }

  [[noreturn]] void work(std::uint64_t seen) {
    for (;;) {
      const auto idle_since = std::chrono::steady_clock::now();
      for (int spins = 1; generation_.load(std::memory_order_acquire) == seen; ++spins) {
        cpu_relax();
        if (spins % 256 == 0 && std::chrono::steady_clock::now() - idle_since > kSpin) {
          std::unique_lock<std::mutex> lock(mutex_);
          wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
          break;
        }
      }
      PartFn part;
      void* context;
      std::int64_t parts;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        seen = generation_.load(std::memory_order_relaxed);
        part = part_, context = context_, parts = parts_;
        inside_.fetch_add(1, std::memory_order_relaxed);
      }
      if (part) claim_parts(part, context, parts);
      inside_.fetch_sub(1, std::memory_order_release);
    }
  }

  std::mutex submit_;  // one job at a time; held by the calling thread for the whole job
  int started_ = 0;    // worker threads (detached: they run until the process ends)
  bool start_failed_ = false;
  std::vector<std::exception_ptr> errors_;  // [parts] of the current job

  std::mutex mutex_;  // guards the job fields below and the sleep
  std::condition_variable wake_;
  PartFn part_ = nullptr;
  void* context_ = nullptr;
  std::int64_t parts_ = 0;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::int64_t> next_{0};      // the next unclaimed part
  std::atomic<std::int64_t> finished_{0};  // parts done
  std::atomic<int> inside_{0};             // workers holding a copy of the job
};

std::atomic<WorkerPool*> g_pool{nullptr};

WorkerPool& pool() {
  static const bool created = [] {
    g_pool.store(new WorkerPool, std::memory_order_release);
    // The child of a fork has no workers: it gets a fresh pool (the old one is left alone).
    pthread_atfork(nullptr, nullptr, [] { g_pool.store(new WorkerPool); });
    return true;
  }();
  (void)created;
  return *g_pool.load(std::memory_order_acquire);
}

}  // namespace

void run_parts(std::int64_t parts, PartFn part, void* context) {
  if (parts <= 0) return;
  if (parts == 1) return run_serially(parts, part, context);
  pool().run(parts, part, context);
}

}  // namespace curnn::host
