// parallel_for for the CPU backend's heavier loops: splits [0, n) into one contiguous range per
// thread (curnn::cpu_threads(): CURNN_NUM_THREADS or every core; at least `grain` items each)
// and runs fn(begin, end) on them, each range on the calling thread or one of the backend's
// worker threads, whichever claims it first (host/parallel.cpp: started once, kept). Ranges never
// overlap and each item is processed by exactly the code the serial loop would run, so results
// are identical to the serial loop whatever the thread count and whichever thread runs a range,
// as long as the items are independent (rows, or fixed-size blocks whose bounds depend on the
// shape alone: host/ops/gemm.cpp).
// Tests: tests/resources_test.cpp, tests/threads_test.cpp, tests/parallel_test.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "curnn/threads.hpp"

namespace curnn::host {

// Runs part(context, p) once for every p in [0, parts), on the calling thread and the worker
// threads, and returns when all have finished. An exception in a part is rethrown here (the
// lowest part's) after every part has finished. Called from inside a part (a nested loop), or
// while another thread's loop holds the workers, or when no worker thread can start, it runs
// every part on the calling thread: the same parts, so the same results.
void run_parts(std::int64_t parts, void (*part)(void* context, std::int64_t p), void* context);

// The grain of elementwise loops (SGD, Adam, fills, bias adds): 32K elements, tens of
// microseconds of work, well above the cost of handing a range to a worker.
inline constexpr std::int64_t kElementGrain = std::int64_t{1} << 15;

template <class Fn>
void parallel_for(std::int64_t n, std::int64_t grain, Fn&& fn) {
  const std::int64_t hw = cpu_threads();
  const std::int64_t parts =
      std::min(hw, std::max<std::int64_t>(1, n / std::max<std::int64_t>(1, grain)));
  if (parts <= 1) {
    if (n > 0) fn(std::int64_t{0}, n);
    return;
  }
  struct Loop {
    std::remove_reference_t<Fn>* fn;
    std::int64_t n, parts;
  } loop{&fn, n, parts};
  run_parts(
      parts,
      [](void* context, std::int64_t p) {
        const Loop& l = *static_cast<const Loop*>(context);
        (*l.fn)(l.n * p / l.parts, l.n * (p + 1) / l.parts);
      },
      &loop);
}

}  // namespace curnn::host
