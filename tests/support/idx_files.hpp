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

// Images a classifier can learn: image i of label l has a bright bar (200..255) across row l
// (rows >= 10) on dim noise (0..59), as tests/support/make_tiny_data.py draws its digits.
inline std::string idx_bar_images(const std::vector<int>& labels, std::uint32_t rows,
                                  std::uint32_t cols, std::uint64_t seed) {
  std::string s =
      be32(2051) + be32(static_cast<std::uint32_t>(labels.size())) + be32(rows) + be32(cols);
  std::uint64_t state = seed * 2654435761u + 1;
  const auto next = [&state](int range) {  // an LCG's top bits
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((state >> 33) % static_cast<std::uint64_t>(range));
  };
  for (const int label : labels) {
    for (std::uint32_t r = 0; r < rows; ++r)
      for (std::uint32_t c = 0; c < cols; ++c)
        s += static_cast<char>(static_cast<int>(r) == label ? 200 + next(56) : next(60));
  }
  return s;
}

inline std::string idx_labels(const std::vector<int>& labels, std::uint32_t magic = 2049) {
  std::string s = be32(magic) + be32(static_cast<std::uint32_t>(labels.size()));
  for (int l : labels) s += static_cast<char>(l);
  return s;
}

}  // namespace curnn::test
