// What host/vec_exp.cpp and host/vec_tanh.cpp share: running a kernel of 8 lanes over an array,
// and the check at first use that a kernel gives libm's bits.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace curnn::host::vec::detail {

using Kernel8 = void (*)(const float* x, float* y);  // y[0, 8) from x[0, 8); x == y allowed

// y[i] from x[i] for i < n, 8 at a time; the tail through a padded block, so that it takes the
// same vector path.
inline void apply_by_8(Kernel8 kernel8, std::int64_t n, const float* x, float* y) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) kernel8(x + i, y + i);
  if (i < n) {
    float in[8] = {}, out[8];
    std::memcpy(in, x + i, static_cast<std::size_t>(n - i) * sizeof(float));
    kernel8(in, out);
    std::memcpy(y + i, out, static_cast<std::size_t>(n - i) * sizeof(float));
  }
}

// Does kernel8 give libm(x)'s bits on 2^16 inputs: `edges` first, then every sign and exponent
// with several mantissas each?
template <std::size_t kEdges>
bool agrees_with_libm(Kernel8 kernel8, float (*libm)(float), const float (&edges)[kEdges]) {
  constexpr int kCount = 1 << 16;
  std::vector<float> in(kCount), got(kCount);
  std::uint32_t bits = 0x9e3779b9u;
  for (int i = 0; i < kCount; ++i) {
    bits = bits * 1664525u + 1013904223u;  // mantissa noise under a swept sign and exponent
    const std::uint32_t u = (static_cast<std::uint32_t>(i) << 16 & 0xff800000u) |
                            (bits >> 9 & 0x7fffffu) | (static_cast<std::uint32_t>(i) & 0x7fu);
    std::memcpy(&in[static_cast<std::size_t>(i)], &u, sizeof(u));
  }
  for (std::size_t i = 0; i < kEdges; ++i) in[i] = edges[i];
  apply_by_8(kernel8, kCount, in.data(), got.data());
  for (int i = 0; i < kCount; ++i) {
    const float want = libm(in[static_cast<std::size_t>(i)]);
    if (std::memcmp(&want, &got[static_cast<std::size_t>(i)], sizeof(float)) != 0) return false;
  }
  return true;
}

}  // namespace curnn::host::vec::detail
