// Every float input, 2^32 of them, through the vector implementations of host::vec::exp and
// host::vec::tanh against libm's expf and tanhf: prints the number of inputs whose bits differ
// (0 expected) and the time per element of each. Not a ctest (a minute or so per implementation
// on 2 cores): build the target vec_exhaustive and run it.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "../../host/vec_exp.hpp"
#include "../../host/vec_tanh.hpp"

namespace {

using Vectorized = bool (*)(std::int64_t, const float*, float*);
using Libm = float (*)(float);

// Mismatches over the bit patterns [begin, end), in blocks; the seconds spent in `run` and libm.
void check_range(Vectorized run, Libm libm, std::uint64_t begin, std::uint64_t end,
                 std::uint64_t* bad, double* vec_s, double* libm_s) {
  constexpr std::size_t kBlock = 1 << 16;
  std::vector<float> x(kBlock), y(kBlock), want(kBlock);
  using Clock = std::chrono::steady_clock;
  for (std::uint64_t u = begin; u < end; u += kBlock) {
    for (std::size_t i = 0; i < kBlock; ++i) {
      const auto bits = static_cast<std::uint32_t>(u + i);
      std::memcpy(&x[i], &bits, sizeof(bits));
    }
    const auto t0 = Clock::now();
    run(static_cast<std::int64_t>(kBlock), x.data(), y.data());
    const auto t1 = Clock::now();
    for (std::size_t i = 0; i < kBlock; ++i) want[i] = libm(x[i]);
    const auto t2 = Clock::now();
    *vec_s += std::chrono::duration<double>(t1 - t0).count();
    *libm_s += std::chrono::duration<double>(t2 - t1).count();
    if (std::memcmp(y.data(), want.data(), kBlock * sizeof(float)) != 0) {
      for (std::size_t i = 0; i < kBlock; ++i) {
        if (std::memcmp(&y[i], &want[i], sizeof(float)) != 0 && (*bad)++ < 5) {
          std::printf("  differs: f(%a) = %a, got %a\n", static_cast<double>(x[i]),
                      static_cast<double>(want[i]), static_cast<double>(y[i]));
        }
      }
    }
  }
}

}  // namespace

int main() {
  const struct {
    const char* name;
    Vectorized run;
    Libm libm;
  } impls[] = {{"exp avx512", curnn::host::vec::exp_avx512, [](float x) { return std::exp(x); }},
               {"exp avx2", curnn::host::vec::exp_avx2, [](float x) { return std::exp(x); }},
               {"tanh avx2", curnn::host::vec::tanh_avx2, [](float x) { return std::tanh(x); }}};
  float probe = 0;
  int status = 0;
  for (const auto& impl : impls) {
    if (!impl.run(1, &probe, &probe)) {
      std::printf("%s: not run (this CPU lacks it)\n", impl.name);
      continue;
    }
    constexpr int kThreads = 2;
    std::uint64_t bad[kThreads] = {};
    double vec_s[kThreads] = {}, libm_s[kThreads] = {};
    std::vector<std::thread> threads;
    const std::uint64_t total = std::uint64_t{1} << 32;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back(check_range, impl.run, impl.libm, total / kThreads * t,
                           total / kThreads * (t + 1), &bad[t], &vec_s[t], &libm_s[t]);
    }
    for (auto& th : threads) th.join();
    std::uint64_t mismatched = 0;
    double v = 0, l = 0;
    for (int t = 0; t < kThreads; ++t) mismatched += bad[t], v += vec_s[t], l += libm_s[t];
    std::printf("%s: %llu of 2^32 inputs differ from libm; %.2f ns per element (libm %.2f)\n",
                impl.name, static_cast<unsigned long long>(mismatched), v * 1e9 / total,
                l * 1e9 / total);
    if (mismatched) status = 1;
  }
  std::printf("exp() runs %s, tanh() runs %s\n", curnn::host::vec::exp_implementation(),
              curnn::host::vec::tanh_implementation());
  return status;
}
