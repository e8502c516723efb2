// curnn::cpu_threads(): CURNN_NUM_THREADS, parsed once, or every core; set_cpu_threads()
// overrides it (include/curnn/threads.hpp). Tests: tests/threads_test.cpp.
#include "curnn/threads.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>

#include "curnn/error.hpp"

namespace curnn {
namespace {

constexpr const char* kVariable = "CURNN_NUM_THREADS";

int all_cores() {
  return static_cast<int>(
      std::clamp(std::thread::hardware_concurrency(), 1u, static_cast<unsigned>(kMaxCpuThreads)));
}

// CURNN_NUM_THREADS as a thread count; every core when it is unset or empty.
int from_environment() {
  const char* value = std::getenv(kVariable);
  if (value == nullptr || *value == '\0') return all_cores();
  const std::string text = value;
  // Digits only (no sign, no spaces, no "2.5" or "4x"), and in range.
  const bool digits = text.find_first_not_of("0123456789") == std::string::npos;
  errno = 0;
  const long n = digits ? std::strtol(text.c_str(), nullptr, 10) : -1;
  CURNN_CHECK_ARG(digits && errno == 0 && n >= 1 && n <= kMaxCpuThreads,
                  kVariable << "='" << text << "': expected a whole number of threads from 1 to "
                            << kMaxCpuThreads << " (unset: all " << all_cores() << " cores)");
  return static_cast<int>(n);
}

std::atomic<int> override_threads{0};

}  // namespace

int cpu_threads() {
  if (const int n = override_threads.load(std::memory_order_relaxed); n > 0) return n;
  // Parsed once; a bad value throws here on every call (a throwing initialiser is retried).
  static const int environment = from_environment();
  return environment;
}

void set_cpu_threads(int n) {
  CURNN_CHECK_ARG(n >= 0 && n <= kMaxCpuThreads, "set_cpu_threads(" << n << "): expected 1 to "
                                                                    << kMaxCpuThreads
                                                                    << ", or 0 for the default");
  override_threads.store(n, std::memory_order_relaxed);
}

}  // namespace curnn
