// host::vec::exp (host/vec_exp.cpp) against libm's expf, bit for bit: a strided sweep of all 2^32
// float bit patterns (every 127th: signs, exponents, NaNs and denormals alike), the edges of
// glibc's special cases, every length 0..67 (the vector tails), unaligned and in-place arrays;
// each vector implementation this CPU runs, and the one exp() chose. All 2^32 inputs:
// tests/exhaustive/vec_exhaustive.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../host/vec_exp.hpp"

namespace curnn {
namespace {

using ExpFn = std::function<bool(std::int64_t, const float*, float*)>;

struct Implementation {
  const char* name;
  ExpFn run;
};

std::vector<Implementation> implementations() {
  return {{"exp()",
           [](std::int64_t n, const float* x, float* y) {
             host::vec::exp(n, x, y);
             return true;
           }},
          {"avx512", host::vec::exp_avx512},
          {"avx2", host::vec::exp_avx2}};
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

// The number of x whose result differs from std::exp in its bits; the first few in `first`.
int mismatches(const ExpFn& run, const std::vector<float>& x, std::string* first) {
  std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
  if (!run(static_cast<std::int64_t>(x.size()), x.data(), y.data())) return -1;
  int bad = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float want = std::exp(x[i]);
    if (std::memcmp(&want, &y[i], sizeof(float)) != 0 && bad++ < 3) {
      *first += " exp(" + std::to_string(x[i]) + ") = " + std::to_string(want) + ", got " +
                std::to_string(y[i]) + ";";
    }
  }
  return bad;
}

TEST(VecExp, ASweepOfAllFloatsEqualsLibm) {
  std::vector<float> x;
  for (std::uint64_t u = 0; u <= 0xffffffffu; u += 127)
    x.push_back(from_bits(static_cast<std::uint32_t>(u)));
  int ran = 0;
  for (const Implementation& impl : implementations()) {
    std::string first;
    const int bad = mismatches(impl.run, x, &first);
    if (bad < 0) continue;  // this CPU cannot run it
    ++ran;
    EXPECT_EQ(bad, 0) << impl.name << " on " << x.size() << " inputs:" << first;
  }
  EXPECT_GE(ran, 1);
  std::printf("exp() runs %s\n", host::vec::exp_implementation());
}

TEST(VecExp, TheEdgesOfTheSpecialCasesEqualLibm) {
  std::vector<float> x;
  const float edges[] = {88.0f,
                         -88.0f,
                         88.72283935546875f,
                         -87.33654022216797f,
                         -103.97207641601562f,
                         -103.27892303466797f,
                         0.0f,
                         1.0f};
  for (const float e : edges) {
    float below = e, above = e;
    for (int k = 0; k < 40; ++k) {  // 40 neighbours either side, and their negatives
      below = std::nextafter(below, -INFINITY), above = std::nextafter(above, INFINITY);
      x.insert(x.end(), {below, above, -below, -above});
    }
  }
  x.insert(x.end(), {INFINITY, -INFINITY, std::numeric_limits<float>::quiet_NaN(), -0.0f,
                     std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
                     -std::numeric_limits<float>::max(), std::numeric_limits<float>::min(),
                     // where glibc's expf without FMA differs from its FMA build (this one)
                     0x1.04845ep+5f, -0x1.f8cbb2p+5f});
  for (const Implementation& impl : implementations()) {
    std::string first;
    const int bad = mismatches(impl.run, x, &first);
    if (bad >= 0) EXPECT_EQ(bad, 0) << impl.name << ":" << first;
  }
}

// Each lane alone among ordinary ones takes libm's special case (the formula itself would give
// NaN for -inf and garbage above |x| ~ 1400).
TEST(VecExp, EachLaneAloneTakesTheSpecialCase) {
  for (const Implementation& impl : implementations()) {
    for (const float special : {-INFINITY, 3000.0f, -3000.0f}) {
      for (int lane = 0; lane < 8; ++lane) {
        std::vector<float> x(16, 0.5f);
        x[static_cast<std::size_t>(8 + lane)] = special;
        std::string first;
        const int bad = mismatches(impl.run, x, &first);
        if (bad < 0) break;
        EXPECT_EQ(bad, 0) << impl.name << ", lane " << lane << ":" << first;
      }
    }
  }
}

TEST(VecExp, EveryLengthUnalignedAndInPlace) {
  std::vector<float> x(80);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = -20.0f + 0.61f * static_cast<float>(i);
  x[8] = -INFINITY;  // through libm (the vector formula would give NaN): lane 0 of offset 0
  for (const Implementation& impl : implementations()) {
    for (int n = 0; n <= 67; ++n) {
      for (int offset = 0; offset < 3; ++offset) {
        std::vector<float> in(x.begin() + offset, x.begin() + offset + n + 1);
        const float guard = in[static_cast<std::size_t>(n)];
        std::vector<float> y = in;  // in place: y is both input and output
        if (!impl.run(n, y.data(), y.data())) break;
        for (int i = 0; i < n; ++i) {
          const float want = std::exp(in[static_cast<std::size_t>(i)]);
          ASSERT_EQ(std::memcmp(&want, &y[static_cast<std::size_t>(i)], sizeof(float)), 0)
              << impl.name << ", n " << n << ", offset " << offset << ", element " << i;
        }
        ASSERT_EQ(std::memcmp(&guard, &y[static_cast<std::size_t>(n)], sizeof(float)), 0)
            << impl.name << " wrote past n = " << n;
      }
    }
  }
}

}  // namespace
}  // namespace curnn
