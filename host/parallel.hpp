// parallel_for for the CPU backend's heavier loops: splits [0, n) into one contiguous range per
// thread (curnn::cpu_threads(): CURNN_NUM_THREADS or every core; at least `grain` items each)
// and runs fn(begin, end) on them, the first range on the calling thread. Ranges never overlap
// and each item is processed by exactly the code the serial loop would run, so results are
// identical to the serial loop whatever the thread count, as long as the items are independent
// (rows, or fixed-size blocks whose bounds depend on the shape alone: host/ops/gemm.cpp).
// Tests: tests/resources_test.cpp, tests/threads_test.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

#include "curnn/threads.hpp"

namespace curnn::host {

template <class Fn>
void parallel_for(std::int64_t n, std::int64_t grain, Fn&& fn) {
  const std::int64_t hw = cpu_threads();
  const std::int64_t parts =
      std::min(hw, std::max<std::int64_t>(1, n / std::max<std::int64_t>(1, grain)));
  if (parts <= 1) {
    if (n > 0) fn(std::int64_t{0}, n);
    return;
  }
  // An exception in a range is rethrown here after every thread joined (escaping a thread
  // would be std::terminate); a thread that cannot start (std::system_error: EAGAIN) has its
  // range run on the calling thread instead: the same ranges, so the same results.
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(parts));
  const auto run_part = [&fn, &errors, n, parts](std::int64_t p) noexcept {
    try {
      fn(n * p / parts, n * (p + 1) / parts);
    } catch (...) {
      errors[static_cast<std::size_t>(p)] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  std::int64_t started = 1;
  try {
    workers.reserve(static_cast<std::size_t>(parts - 1));
    for (; started < parts; ++started) workers.emplace_back(run_part, started);
  } catch (const std::exception&) {  // std::system_error, std::bad_alloc: fewer threads
  }
  for (std::int64_t p = started; p < parts; ++p) run_part(p);
  run_part(0);
  for (auto& w : workers) w.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace curnn::host
