// Synthetic MNIST-format IDX files for tests: the bytes of an image file (n images of
// rows x cols pixels, deterministic values) and of a label file, with a settable magic number.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace curnn::test {

// v as 4 big-endian bytes (IDX header fields).
inline std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

inline std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols,
                              std::uint64_t seed, std::uint32_t magic = 2051) {
  std::string s = be32(magic) + be32(n) + be32(rows) + be32(cols);
  for (std::uint64_t i = 0; i < std::uint64_t{n} * rows * cols; ++i)
    s += static_cast<char>((i * 37 + seed * 101 + i / 7) % 256);
  return s;
}

inline std::string idx_labels(const std::vector<int>& labels, std::uint32_t magic = 2049) {
  std::string s = be32(magic) + be32(static_cast<std::uint32_t>(labels.size()));
  for (int l : labels) s += static_cast<char>(l);
  return s;
}

}  // namespace curnn::test
