// The readers against crafted input (issue 14): counts and sizes from files are checked with the
// value out of range named (vector headers, vocabulary counts, IDX dimensions); vector files
// with NaN or infinite values are refused naming the file and the word; echoed input in error
// messages is escaped and bounded (a 5 MB word gives a short line); degenerate but legal
// evaluation input gets a clear report, never "nan".
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "curnn/data/mnist.hpp"
#include "curnn/data/ptb.hpp"
#include "curnn/word2vec/eval.hpp"
#include "curnn/word2vec/vectors.hpp"
#include "curnn/word2vec/vocab.hpp"
#include "support/data_files.hpp"
#include "support/idx_files.hpp"

namespace curnn {
namespace {

using test::error_of;
using test::expect_contains;
using test::TempDir;

// ---- integer overflow ------------------------------------------------------------------------

TEST(ReaderLimits, VectorHeaderValuesOutOfRangeAreNamed) {
  TempDir dir;
  const auto header_error = [&](const std::string& text) {
    test::write_file(dir / "v.txt", text);
    return error_of([&] { word2vec::read_word_vectors(dir / "v.txt"); });
  };
  std::string e = header_error("4000000000 4000000000\na 1\n");
  expect_contains(e, "v.txt: bad header");
  expect_contains(e, "the dimension \"4000000000\" is out of range [1, 16777216]");
  e = header_error("9223372036854775808 3\n");
  expect_contains(e, "the word count \"9223372036854775808\" is out of range");
  e = header_error("5 99999999999999999999\n");
  expect_contains(e, "the dimension \"99999999999999999999\" is out of range");
  e = header_error("0 3\n");
  expect_contains(e, "the word count \"0\" is out of range");
  // The largest legal header on a tiny file: words * dimension overflows int64, which must not
  // reach an allocation size; the file is simply too short.
  e = header_error("9223372036854775807 16777216\nw 1\n");
  expect_contains(e, "v.txt: truncated");
}

TEST(ReaderLimits, VocabularyCountsThatOverflowAreAnError) {
  TempDir dir;
  test::write_file(dir / "vocab.txt", "a 9223372036854775807\nb 1\n");
  std::string e = error_of([&] { word2vec::read_vocab(dir / "vocab.txt", 0); });
  expect_contains(e, "vocab.txt: the word counts add up beyond 2^63 - 1");
  expect_contains(e, "\"b\" with count 1");
  test::write_file(dir / "vocab.txt", "a 99999999999999999999\n");
  e = error_of([&] { word2vec::read_vocab(dir / "vocab.txt", 0); });
  expect_contains(e, "vocab.txt:1: count \"99999999999999999999\" is out of range");
}

TEST(ReaderLimits, IdxDimensionsOutOfRangeAreNamed) {
  TempDir dir;
  using test::be32;
  // Each dimension fits an int32; their product (2^48 bytes) does not fit the file.
  test::write_file(dir / "i", be32(2051) + be32(65536) + be32(65536) + be32(65536) + "xx");
  expect_contains(error_of([&] { data::read_idx_images(dir / "i"); }),
                  "absurd size (cols = 65536)");
  test::write_file(dir / "i", be32(2051) + be32(0xFFFFFFFFu) + be32(1) + be32(1));
  expect_contains(error_of([&] { data::read_idx_images(dir / "i"); }),
                  "invalid IDX image header: count = 4294967295");
  test::write_file(dir / "l", be32(2049) + be32(0x80000000u));
  expect_contains(error_of([&] { data::read_idx_labels(dir / "l"); }),
                  "invalid IDX label header: count = 2147483648");
}

// ---- NaN and infinity in vector files ---------------------------------------------------------

TEST(ReaderLimits, VectorFilesWithNanOrInfinityAreRefused) {
  TempDir dir;
  for (const std::string bad : {"nan", "inf", "-inf", "NAN", "infinity"}) {
    test::write_file(dir / "v.txt", "2 2\nok 1 2\nbad 0.5 " + bad + "\n");
    const std::string e = error_of([&] { word2vec::read_word_vectors(dir / "v.txt"); });
    expect_contains(e, "v.txt:3: value 2 of word \"bad\" is \"" + bad + "\"");
    expect_contains(e, "vectors must be finite");
  }
  const float values[2] = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  std::string binary = "1 2\nword ";
  binary.append(reinterpret_cast<const char*>(values), sizeof values);
  test::write_file(dir / "v.bin", binary + "\n", /*gzip=*/true);
  const std::string e = error_of([&] { word2vec::read_word_vectors(dir / "v.bin"); });
  expect_contains(e,
                  "v.bin: the vector of word 1 \"word\" has the non-finite value nan at "
                  "component 2");
  // Nor are they written.
  expect_contains(
      error_of([&] { word2vec::write_word_vectors(dir / "out.bin", {"w"}, values, 2, true); }),
      "the vector of word 0 \"w\" has the non-finite value nan");
}

// ---- short messages ---------------------------------------------------------------------------

TEST(ReaderLimits, AFiveMegabyteWordGivesAShortMessage) {
  TempDir dir;
  const std::string huge(5 << 20, 'z');
  test::write_file(dir / "ptb.train.txt", " a b \n");
  test::write_file(dir / "ptb.valid.txt", " a " + huge + " \n");
  test::write_file(dir / "ptb.test.txt", " b \n");
  std::string e = error_of([&] { data::load_ptb(dir.str()); });
  EXPECT_LT(e.size(), 400u) << e.substr(0, 400);
  expect_contains(e, "ptb.valid.txt:1: word \"zzzz");
  expect_contains(e, "...\" (5242880 bytes) is not in the training vocabulary");

  const std::vector<float> two = {1, 0, 0, 1};
  const word2vec::NormalizedVectors v({"a", "b"}, two.data(), 2);
  e = error_of([&] { word2vec::nearest(v, huge + "\n\x01", 1); });
  EXPECT_LT(e.size(), 400u) << e.substr(0, 400);
  expect_contains(e, "...\" (5242882 bytes) is not in the vocabulary");
}

// ---- degenerate evaluation input ---------------------------------------------------------------

TEST(ReaderLimits, AnalogyWithoutUsableQuestionsSaysSoAndNeverNan) {
  TempDir dir;
  const std::vector<float> values = {1, 0, 0, 1, 1, 1};
  const word2vec::NormalizedVectors v({"a", "b", "c"}, values.data(), 2);
  test::write_file(dir / "q.txt",
                   ": capital-common-countries\nathens greece baghdad iraq\n"
                   ": gram1-adjective-to-adverb\nx y z w\n");
  auto result = word2vec::evaluate_analogies(v, word2vec::read_analogy_questions(dir / "q.txt"));
  EXPECT_EQ(result.seen, 0);
  std::string report = word2vec::format_analogy_report(result);
  EXPECT_EQ(report.find("nan"), std::string::npos) << report;
  expect_contains(report, "Total accuracy: n/a   Semantic accuracy: n/a   Syntactic accuracy: n/a");
  expect_contains(report, "Questions seen / total: 0 2   0.00 %");
  expect_contains(report, "No question was usable");

  test::write_file(dir / "q.txt", ": only-a-section\n\n");
  result = word2vec::evaluate_analogies(v, word2vec::read_analogy_questions(dir / "q.txt"));
  report = word2vec::format_analogy_report(result);
  EXPECT_EQ(report.find("nan"), std::string::npos) << report;
  expect_contains(report, "Questions seen / total: 0 0   n/a");
  expect_contains(report, "No analogy questions");
}

}  // namespace
}  // namespace curnn
