// word2vec.c text and binary vector files (curnn/word2vec/vectors.hpp).
#include "curnn/word2vec/vectors.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "support/random.hpp"
#include "w2v_test_util.hpp"

namespace curnn::word2vec {
namespace {

using Vectors = test::TempFiles;

std::string float_bytes_le(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i)
    s[static_cast<std::size_t>(i)] = static_cast<char>((u >> (8 * i)) & 0xFF);
  return s;
}

TEST_F(Vectors, TextFormatIsByteExact) {
  const std::vector<std::string> words = {"</s>", "a\xC3\xA9"};
  const std::vector<float> v = {0.5f, -1.25f, 0.1f, 3.0f};  // [2, 2]
  write_word_vectors(path("v.txt"), words, v.data(), 2, /*binary=*/false);
  // word2vec.c: fprintf("%lld %lld\n"), then per word "%s " and "%lf " per value, then "\n".
  EXPECT_EQ(read(path("v.txt")), "2 2\n</s> 0.500000 -1.250000 \na\xC3\xA9 0.100000 3.000000 \n");
}

TEST_F(Vectors, BinaryFormatIsByteExact) {
  const std::vector<std::string> words = {"</s>", "b"};
  const std::vector<float> v = {0.5f, -1.25f, 0.1f, 3.0f};
  write_word_vectors(path("v.bin"), words, v.data(), 2, /*binary=*/true);
  // 0.5f = 0x3F000000, -1.25f = 0xBFA00000, 0.1f = 0x3DCCCCCD, 3.0f = 0x40400000 (little-endian).
  const std::string expected = std::string("2 2\n</s> ") + std::string("\x00\x00\x00\x3F", 4) +
                               std::string("\x00\x00\xA0\xBF", 4) + "\nb " +
                               std::string("\xCD\xCC\xCC\x3D", 4) +
                               std::string("\x00\x00\x40\x40", 4) + "\n";
  EXPECT_EQ(read(path("v.bin")), expected);
  EXPECT_EQ(float_bytes_le(0.1f), std::string("\xCD\xCC\xCC\x3D", 4));
}

TEST_F(Vectors, RoundTripsTextAndBinaryWithAutoDetection) {
  const std::int64_t V = 57, D = 13;
  WordVectors v;
  v.dim = D;
  for (std::int64_t i = 0; i < V; ++i) v.words.push_back("w" + std::to_string(i) + "\xE2\x82\xAC");
  v.values = curnn::test::random_uniform(static_cast<std::size_t>(V * D), -2, 2, 11);
  write_word_vectors(path("v.bin"), v, true);
  write_word_vectors(path("v.txt"), v, false);
  for (const auto format : {VectorFormat::Auto, VectorFormat::Binary}) {
    const WordVectors b = read_word_vectors(path("v.bin"), format);
    EXPECT_EQ(b.words, v.words);
    EXPECT_EQ(b.values, v.values);  // bit-exact
    EXPECT_EQ(b.dim, D);
  }
  for (const auto format : {VectorFormat::Auto, VectorFormat::Text}) {
    const WordVectors t = read_word_vectors(path("v.txt"), format);
    EXPECT_EQ(t.words, v.words);
    ASSERT_EQ(t.values.size(), v.values.size());
    for (std::size_t i = 0; i < v.values.size(); ++i)
      EXPECT_NEAR(t.values[i], v.values[i], 7e-7);  // "%f": 6 decimals
  }
  // Gzip files read the same; max_words reads a prefix.
  write_gz("v.bin.gz", read(path("v.bin")));
  EXPECT_EQ(read_word_vectors(path("v.bin.gz")).values, v.values);
  const WordVectors head = read_word_vectors(path("v.txt"), VectorFormat::Auto, 5);
  EXPECT_EQ(head.size(), 5);
  EXPECT_EQ(head.values.size(), 5u * D);
  // Hand-written text with runs of spaces, tabs, CRLF, no trailing space, exponents.
  const WordVectors h = read_word_vectors(write("h.txt", "2 3\r\nx  1 -2.5\t+3e-1\r\ny 0 0 1\n\n"));
  EXPECT_EQ(h.words, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(h.values, (std::vector<float>{1, -2.5f, 0.3f, 0, 0, 1}));
  // A binary file whose records lack the final '\n' still reads.
  const std::string no_newline = "2 1\na " + float_bytes_le(1.5f) + "b " + float_bytes_le(-2.0f);
  EXPECT_EQ(read_word_vectors(write("n.bin", no_newline), VectorFormat::Binary).values,
            (std::vector<float>{1.5f, -2.0f}));
}

TEST_F(Vectors, AutoDetectsBinaryWhoseFirstByteIsANewline) {
  // 0x0A as the first value byte must not make the record look like an (empty) text line.
  float f;
  const unsigned char bytes[4] = {0x0A, 0x00, 0x80, 0x3F};
  std::memcpy(&f, bytes, 4);
  const std::vector<float> v = {f, 2.0f};
  write_word_vectors(path("v.bin"), {"a", "b"}, v.data(), 1, true);
  EXPECT_EQ(read_word_vectors(path("v.bin")).values, v);
}

TEST_F(Vectors, BadFilesGiveClearErrors) {
  using test::expect_error;
  const std::string good_bin = "2 2\na " + float_bytes_le(1) + float_bytes_le(2) + "\nb " +
                               float_bytes_le(3) + float_bytes_le(4) + "\n";
  expect_error([&] { read_word_vectors(write("e.txt", "")); }, {"e.txt", "empty"});
  expect_error([&] { read_word_vectors(write("h.txt", "abc def\n")); }, {"h.txt", "bad header"});
  expect_error([&] { read_word_vectors(write("h.txt", "2\n")); }, {"h.txt", "bad header"});
  expect_error([&] { read_word_vectors(write("h.txt", "2 0\n")); }, {"h.txt", "bad header"});
  expect_error([&] { read_word_vectors(write("h.txt", "-1 3\n")); }, {"h.txt", "bad header"});
  expect_error([&] { read_word_vectors(write("t.bin", good_bin.substr(0, good_bin.size() - 3))); },
               {"t.bin", "truncated", "word 2", "\"b\""});
  expect_error([&] { read_word_vectors(write("t.bin", good_bin.substr(0, 12))); },
               {"t.bin", "truncated"});
  expect_error([&] { read_word_vectors(write("x.bin", "3" + good_bin.substr(1))); },
               {"x.bin", "truncated", "3 words"});
  expect_error([&] { read_word_vectors(write("x.bin", good_bin + "c 12345678\n")); },
               {"x.bin", "trailing data"});
  expect_error([&] { read_word_vectors(write("n.txt", "2 2\na 1 2\nb 3 x\n")); },
               {"n.txt:3", "value 2", "\"b\"", "not a number", "\"x\""});
  expect_error([&] { read_word_vectors(write("n.txt", "2 2\na 1 2\nb 3\n")); },
               {"n.txt:3", "expected a word and 2 values, got 2 fields"});
  expect_error([&] { read_word_vectors(write("n.txt", "2 2\na 1 2\n")); },
               {"n.txt", "truncated text file", "header declares 2 words, the file has 1"});
  expect_error([&] { read_word_vectors(write("n.txt", "1 2\na 1 2\nb 3 4\n")); },
               {"n.txt", "trailing data"});
  expect_error(
      [&] { read_word_vectors(write("n.txt", "2 2\na 1 2\nb 1 2 3\n"), VectorFormat::Text); },
      {"n.txt:3", "got 4 fields"});
  expect_error([&] { read_word_vectors(path("missing.bin")); }, {"missing.bin"});
}

TEST_F(Vectors, WritingRejectsBadWordsAndLeavesNoFile) {
  const std::vector<float> v = {1, 2};
  EXPECT_THROW(write_word_vectors(path("o.txt"), {"a b", "c"}, v.data(), 1, false), ArgumentError);
  EXPECT_THROW(write_word_vectors(path("o.txt"), {"", "c"}, v.data(), 1, false), ArgumentError);
  EXPECT_THROW(write_word_vectors(path("o.txt"), {"a\n", "c"}, v.data(), 1, true), ArgumentError);
  EXPECT_THROW(write_word_vectors(path("o.txt"), {"a", "c"}, v.data(), 0, true), ArgumentError);
  EXPECT_THROW(write_word_vectors(path("o.txt"), {}, v.data(), 1, true), ArgumentError);
  EXPECT_FALSE(std::filesystem::exists(path("o.txt")));
  EXPECT_THROW(write_word_vectors(path("no/dir/o.txt"), {"a", "c"}, v.data(), 1, true), Error);
}

TEST_F(Vectors, RandomGarbageOnlyEverThrowsCurnnErrors) {
  std::mt19937_64 rng(17);
  const std::string good_bin = "2 2\na " + float_bytes_le(1) + float_bytes_le(2) + "\nb " +
                               float_bytes_le(3) + float_bytes_le(4) + "\n";
  const std::string good_txt = "2 2\na 1.000000 2.000000 \nb 3.000000 4.000000 \n";
  int failures = 0;
  for (int trial = 0; trial < 120; ++trial) {
    std::string bytes = trial % 2 ? good_bin : good_txt;
    // Corrupt a few bytes, or cut the file, or append garbage.
    const int kind = trial % 3;
    if (kind == 0) {
      for (int k = 0; k < 3; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
    } else if (kind == 1) {
      bytes.resize(rng() % bytes.size());
    } else {
      for (int k = 0; k < 20; ++k) bytes.push_back(static_cast<char>(rng() & 0xFF));
    }
    const std::string p = write("g" + std::to_string(trial), bytes);
    for (const auto format : {VectorFormat::Auto, VectorFormat::Text, VectorFormat::Binary}) {
      try {
        const WordVectors v = read_word_vectors(p, format);
        EXPECT_EQ(v.values.size(), static_cast<std::size_t>(v.size() * v.dim));
      } catch (const Error& e) {
        ++failures;
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "multi-line message";
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      }
    }
  }
  EXPECT_GT(failures, 120);  // most corruptions are detected
}

// Interoperability with gensim, driven by tests/w2v_gensim_compat.py (skipped otherwise): writes
// curnn.txt / curnn.bin for gensim to load, and reads gensim.txt / gensim.bin when present.
TEST(VectorsCompat, GensimFiles) {
  const char* dir = std::getenv("CURNN_W2V_COMPAT_DIR");
  if (dir == nullptr) GTEST_SKIP() << "run by tests/w2v_gensim_compat.py (CURNN_W2V_COMPAT_DIR)";
  WordVectors v;
  v.words = {"</s>", "the", "caf\xC3\xA9", std::string(99, 'L'), "x"};
  v.dim = 7;
  for (std::int64_t i = 0; i < v.size() * v.dim; ++i) {
    v.values.push_back(static_cast<float>(i) * 0.25f - 3.0f);  // exact in float and in "%f"
  }
  const std::string d(dir);
  write_word_vectors(d + "/curnn.txt", v, false);
  write_word_vectors(d + "/curnn.bin", v, true);
  for (const char* name : {"gensim.txt", "gensim.bin"}) {
    if (!std::filesystem::exists(d + "/" + name)) continue;
    const WordVectors g = read_word_vectors(d + "/" + name);
    EXPECT_EQ(g.words, v.words) << name;
    EXPECT_EQ(g.values, v.values) << name;
  }
}

}  // namespace
}  // namespace curnn::word2vec
