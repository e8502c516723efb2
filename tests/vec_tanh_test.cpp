// host::vec::tanh (host/vec_tanh.cpp) against libm's tanhf, bit for bit: a strided sweep of all
// 2^32 float bit patterns (every 127th), the edges of every case of glibc's tanhf and expm1f (the
// thresholds on |x| and each k of the reduction), each lane alone taking libm's path, every length
// 0..67, unaligned and in place; the AVX2 code and the implementation tanh() chose. All 2^32
// inputs: tests/exhaustive/vec_exhaustive.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../host/vec_tanh.hpp"

namespace curnn {
namespace {

using TanhFn = bool (*)(std::int64_t, const float*, float*);

bool tanh_chosen(std::int64_t n, const float* x, float* y) {
  host::vec::tanh(n, x, y);
  return true;
}

const struct {
  const char* name;
  TanhFn run;
} kImplementations[] = {{"tanh()", tanh_chosen}, {"avx2", host::vec::tanh_avx2}};

// Inputs whose tanh differs from std::tanh in its bits (-1: the CPU cannot run `run`).
int mismatches(TanhFn run, const std::vector<float>& x, std::string* first) {
  std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
  if (!run(static_cast<std::int64_t>(x.size()), x.data(), y.data())) return -1;
  int bad = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float want = std::tanh(x[i]);
    if (std::memcmp(&want, &y[i], sizeof(float)) != 0 && bad++ < 3) {
      char line[120];
      std::snprintf(line, sizeof(line), " tanh(%a) = %a, got %a;", static_cast<double>(x[i]),
                    static_cast<double>(want), static_cast<double>(y[i]));
      *first += line;
    }
  }
  return bad;
}

void expect_libm_bits(const std::vector<float>& x, const char* what) {
  int ran = 0;
  for (const auto& impl : kImplementations) {
    std::string first;
    const int bad = mismatches(impl.run, x, &first);
    if (bad < 0) continue;
    ++ran;
    EXPECT_EQ(bad, 0) << impl.name << ", " << what << " (" << x.size() << " inputs):" << first;
  }
  EXPECT_GE(ran, 1);
}

TEST(VecTanh, ASweepOfAllFloatsEqualsLibm) {
  std::vector<float> x;
  for (std::uint64_t u = 0; u <= 0xffffffffu; u += 127) {
    const auto bits = static_cast<std::uint32_t>(u);
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    x.push_back(f);
  }
  expect_libm_bits(x, "the sweep");
  std::printf("tanh() runs %s\n", host::vec::tanh_implementation());
}

// Around each threshold of tanhf (2^-26 where libm takes over, 1, 22) and of expm1f's reduction
// as tanh drives it (|2x| = ln2 / 2, 1.5 ln2, and each k of 2|x| = k ln2 +- ln2 / 2 up to 63).
TEST(VecTanh, TheEdgesOfEveryCaseEqualLibm) {
  std::vector<float> edges = {0x1p-26f, 1.0f, 22.0f, 0.17328679f, 0.51986039f, 0.0f};
  for (int k = -3; k <= 63; ++k) edges.push_back((static_cast<float>(k) + 0.5f) * 0.34657359f);
  std::vector<float> x;
  for (const float e : edges) {
    float below = e, above = e;
    for (int i = 0; i < 64; ++i) {
      below = std::nextafter(below, -INFINITY), above = std::nextafter(above, INFINITY);
      x.insert(x.end(), {below, above, -below, -above});
    }
  }
  expect_libm_bits(x, "the edges");
}

TEST(VecTanh, EachLaneAloneTakesLibmsPath) {
  for (const float special : {0.0f, -0.0f, 1e-30f, NAN, INFINITY, -INFINITY, 40.0f}) {
    for (int lane = 0; lane < 8; ++lane) {
      std::vector<float> x(16, 0.75f);
      x[static_cast<std::size_t>(8 + lane)] = special;
      expect_libm_bits(x, ("lane " + std::to_string(lane)).c_str());
    }
  }
}

TEST(VecTanh, EveryLengthUnalignedAndInPlace) {
  std::vector<float> x(80);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = -12.0f + 0.3f * static_cast<float>(i);
  x[8] = 0.0f;  // through libm: lane 0 of offset 0
  for (const auto& impl : kImplementations) {
    for (int n = 0; n <= 67; ++n) {
      for (int offset = 0; offset < 3; ++offset) {
        const std::vector<float> in(x.begin() + offset, x.begin() + offset + n + 1);
        std::vector<float> y = in;  // in place
        if (!impl.run(n, y.data(), y.data())) break;
        for (int i = 0; i <= n; ++i) {
          const float want = i < n ? std::tanh(in[static_cast<std::size_t>(i)])
                                   : in[static_cast<std::size_t>(n)];  // past n: untouched
          ASSERT_EQ(std::memcmp(&want, &y[static_cast<std::size_t>(i)], sizeof(float)), 0)
              << impl.name << ", n " << n << ", offset " << offset << ", element " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace curnn
