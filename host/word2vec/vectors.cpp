// word2vec.c text and binary vector files (curnn/word2vec/vectors.hpp).
#include "curnn/word2vec/vectors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "byte_reader.hpp"
#include "curnn/data/io.hpp"
#include "curnn/error.hpp"
#include "curnn/text.hpp"

namespace curnn::word2vec {

namespace {

bool host_is_little_endian() {
  const std::uint32_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// Converts float32 between host order and little-endian (its own inverse).
void swap_to_little_endian(float* v, std::size_t n) {
  if (host_is_little_endian()) return;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char b[4];
    std::memcpy(b, v + i, 4);
    std::swap(b[0], b[3]);
    std::swap(b[1], b[2]);
    std::memcpy(v + i, b, 4);
  }
}

bool is_number_char(int c) {
  return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == ' ' || c == '\t' ||
         c == '\r' || std::strchr("eEnNaAiIfFtTyY", c) != nullptr;
}

// Parses the D values of a text record; returns false (and the failing field) on error.
bool parse_values(const std::vector<std::string_view>& fields, std::int64_t dim, float* out,
                  std::size_t& bad_field) {
  for (std::int64_t j = 0; j < dim; ++j) {
    if (!detail::parse_float(fields[static_cast<std::size_t>(j) + 1], out[j])) {
      bad_field = static_cast<std::size_t>(j) + 1;
      return false;
    }
  }
  return true;
}

constexpr std::int64_t kMaxDimension = std::int64_t{1} << 24;

// The index of the first NaN or infinite value of row [D], or -1.
std::int64_t first_non_finite(const float* row, std::int64_t dim) {
  for (std::int64_t j = 0; j < dim; ++j) {
    if (!std::isfinite(row[j])) return j;
  }
  return -1;
}

std::size_t text_line_limit(std::int64_t dim) {
  return static_cast<std::size_t>(dim) * 64 + 4096;
}

// Auto-detection: the first record is text when the bytes after its word form one line of
// exactly D numbers.
VectorFormat detect_format(detail::ByteReader& in, std::int64_t dim) {
  std::size_t k = 0;
  while (in.peek(k) >= 0 && in.peek(k) != ' ' && in.peek(k) != '\n' && k < (1u << 20)) ++k;
  if (in.peek(k) != ' ') return VectorFormat::Text;  // no word: the text parser says why
  std::string rest;
  const std::size_t limit = text_line_limit(dim);
  for (++k; rest.size() < limit; ++k) {
    const int c = in.peek(k);
    if (c < 0 || c == '\n') break;
    if (!is_number_char(c)) return VectorFormat::Binary;
    if (c != '\r') rest.push_back(static_cast<char>(c));
  }
  auto fields = detail::split_fields(rest);
  if (static_cast<std::int64_t>(fields.size()) != dim) return VectorFormat::Binary;
  fields.insert(fields.begin(), std::string_view());
  std::vector<float> values(static_cast<std::size_t>(dim));
  std::size_t bad = 0;
  return parse_values(fields, dim, values.data(), bad) ? VectorFormat::Text : VectorFormat::Binary;
}

void check_word(const std::string& word, std::size_t i) {
  CURNN_CHECK_ARG(!word.empty(), "write_word_vectors: word " << i << " is empty");
  CURNN_CHECK_ARG(
      word.find_first_of(" \t\r\n") == std::string::npos,
      "write_word_vectors: word " << i << " " << quote_input(word) << " contains whitespace");
}

}  // namespace

void write_word_vectors(const std::string& path, const std::vector<std::string>& words,
                        const float* vectors, std::int64_t dim, bool binary) {
  CURNN_CHECK_ARG(!words.empty(), "write_word_vectors: no words");
  CURNN_CHECK_ARG(dim >= 1, "write_word_vectors: dimension must be >= 1, got " << dim);
  CURNN_CHECK_ARG(vectors != nullptr, "write_word_vectors: null vectors");
  for (std::size_t i = 0; i < words.size(); ++i) {
    check_word(words[i], i);
    const std::int64_t j = first_non_finite(vectors + static_cast<std::int64_t>(i) * dim, dim);
    CURNN_CHECK_ARG(j < 0, "write_word_vectors: " << path << ": the vector of word " << i << " "
                                                  << quote_input(words[i])
                                                  << " has the non-finite value "
                                                  << vectors[static_cast<std::int64_t>(i) * dim + j]
                                                  << " at component " << j + 1);
  }
  data::AtomicOutputFile out(path, /*binary=*/true);
  out.write(std::to_string(words.size()) + " " + std::to_string(dim) + "\n");
  std::string line;
  std::vector<float> row(static_cast<std::size_t>(dim));
  char number[64];
  for (std::size_t i = 0; i < words.size(); ++i) {
    const float* v = vectors + static_cast<std::int64_t>(i) * dim;
    line = words[i];
    line += ' ';
    if (binary) {
      std::copy(v, v + dim, row.begin());
      swap_to_little_endian(row.data(), row.size());
      line.append(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(float));
    } else {
      for (std::int64_t j = 0; j < dim; ++j) {
        const int n = std::snprintf(number, sizeof number, "%f ", static_cast<double>(v[j]));
        line.append(number, static_cast<std::size_t>(std::min<int>(n, sizeof number - 1)));
      }
    }
    line += '\n';
    out.write(line);
  }
  out.commit();
}

WordVectors read_word_vectors(const std::string& path, VectorFormat format,
                              std::int64_t max_words) {
  CURNN_CHECK_ARG(max_words >= 0, "read_word_vectors: max_words must be >= 0, got " << max_words);
  detail::ByteReader in(path);
  std::string line;
  std::int64_t words = 0, dim = 0;
  {
    CURNN_CHECK(detail::read_line(in, line, 1, 4096),
                path << ": empty file, expected a \"V D\" header");
    const auto f = detail::split_fields(line);
    CURNN_CHECK(f.size() == 2 && detail::is_integer_text(f[0]) && detail::is_integer_text(f[1]),
                path << ": bad header " << quote_input(line)
                     << ", expected \"<words> <dimension>\" (two positive integers)");
    // Each value named when out of range: the sizes below are products of these two.
    CURNN_CHECK(detail::parse_int64(f[0], words) && words >= 1,
                path << ": bad header " << quote_input(line) << ": the word count "
                     << quote_input(f[0]) << " is out of range [1, 2^63 - 1]");
    CURNN_CHECK(detail::parse_int64(f[1], dim) && dim >= 1 && dim <= kMaxDimension,
                path << ": bad header " << quote_input(line) << ": the dimension "
                     << quote_input(f[1]) << " is out of range [1, " << kMaxDimension << "]");
  }
  if (format == VectorFormat::Auto) format = detect_format(in, dim);
  const bool binary = format == VectorFormat::Binary;
  const std::int64_t count = max_words > 0 ? std::min(words, max_words) : words;

  WordVectors v;
  v.dim = dim;
  // Memory grows with the records read, not with the header: at most 2^22 values (or one row)
  // are reserved up front (count * dim itself may overflow).
  const std::int64_t reserved_rows =
      std::min<std::int64_t>(count, std::max<std::int64_t>(1, (std::int64_t{1} << 22) / dim));
  v.words.reserve(static_cast<std::size_t>(std::min<std::int64_t>(count, 1 << 20)));
  v.values.reserve(static_cast<std::size_t>(reserved_rows * dim));
  const std::size_t row_bytes = static_cast<std::size_t>(dim) * sizeof(float);
  std::int64_t line_number = 1;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::size_t at = v.values.size();
    v.values.resize(at + static_cast<std::size_t>(dim));
    float* row = v.values.data() + at;
    if (binary) {
      while (in.peek() == '\n') in.get();
      std::string word;
      for (int c = in.get(); c != ' '; c = in.get()) {
        CURNN_CHECK(c >= 0, path << ": truncated binary file: header declares " << words
                                 << " words, the file ends in word " << i + 1);
        CURNN_CHECK(word.size() < (1u << 16), path << ": word " << i + 1
                                                   << " has no space within 64 KiB: not a "
                                                      "word2vec binary file?");
        word.push_back(static_cast<char>(c));
      }
      CURNN_CHECK(!word.empty(), path << ": word " << i + 1 << " is empty");
      const std::size_t got = in.read(row, row_bytes);
      CURNN_CHECK(got == row_bytes, path << ": truncated binary file: the vector of word " << i + 1
                                         << " " << quote_input(word) << " has " << got << " of "
                                         << row_bytes << " bytes");
      swap_to_little_endian(row, static_cast<std::size_t>(dim));
      if (const std::int64_t j = first_non_finite(row, dim); j >= 0) {
        CURNN_CHECK(false, path << ": the vector of word " << i + 1 << " " << quote_input(word)
                                << " has the non-finite value " << row[j] << " at component "
                                << j + 1 << ": vectors must be finite");
      }
      v.words.push_back(std::move(word));
    } else {
      ++line_number;
      CURNN_CHECK(detail::read_line(in, line, line_number, text_line_limit(dim)),
                  path << ": truncated text file: header declares " << words
                       << " words, the file has " << i);
      const auto fields = detail::split_fields(line);
      CURNN_CHECK(static_cast<std::int64_t>(fields.size()) == dim + 1,
                  path << ":" << line_number << ": expected a word and " << dim << " values, got "
                       << fields.size() << " fields" << (fields.empty() ? "" : " starting with ")
                       << (fields.empty() ? "" : quote_input(fields[0])));
      std::size_t bad = 0;
      CURNN_CHECK(parse_values(fields, dim, row, bad),
                  path << ":" << line_number << ": value " << bad << " of word "
                       << quote_input(fields[0])
                       << " is not a number: " << quote_input(fields[bad]));
      if (const std::int64_t j = first_non_finite(row, dim); j >= 0) {
        CURNN_CHECK(false, path << ":" << line_number << ": value " << j + 1 << " of word "
                                << quote_input(fields[0]) << " is " << quote_input(fields[j + 1])
                                << ": vectors must be finite");
      }
      v.words.emplace_back(fields[0]);
    }
  }
  if (count == words) {  // nothing but line ends may follow the declared records
    for (int c = in.get(); c >= 0; c = in.get()) {
      CURNN_CHECK(c == '\n' || c == '\r' || c == ' ' || c == '\t',
                  path << ": trailing data after the " << words << " words the header declares");
    }
  }
  return v;
}

}  // namespace curnn::word2vec
