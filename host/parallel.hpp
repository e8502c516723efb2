// parallel_for for the CPU backend's heavier loops: splits [0, n) into one contiguous range per
// thread (curnn::cpu_threads(): CURNN_NUM_THREADS or every core; at least `grain` items each)
// and runs fn(begin, end) on them, the first range on the calling thread. Ranges never overlap
// and each item is processed by exactly the code the serial loop would run, so results are
// identical to the serial loop whatever the thread count, as long as the items are independent
// (rows, or fixed-size blocks whose bounds depend on the shape alone: host/ops/gemm.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
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
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(parts - 1));
  for (std::int64_t p = 1; p < parts; ++p) {
    workers.emplace_back([&fn, n, parts, p] { fn(n * p / parts, n * (p + 1) / parts); });
  }
  fn(std::int64_t{0}, n / parts);
  for (auto& w : workers) w.join();
}

}  // namespace curnn::host
