// PTB reader and ptb_producer batcher (curnn/data/ptb.hpp) against hand-computed cases, bad input,
// and the real simple-examples files when present (skipped with the reason when absent).
#include "curnn/data/ptb.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "curnn/error.hpp"
#include "support/data_files.hpp"

namespace curnn::data {
namespace {

using test::error_of;
using test::expect_contains;

using Words = std::vector<std::string>;

TEST(PtbTokenize, NewlinesBecomeEosAndLinesAreCounted) {
  const PtbTokens t = ptb_tokenize(" a b \n c\t\r\n \n d", "x");
  EXPECT_EQ(t.words, (Words{"a", "b", "<eos>", "c", "<eos>", "<eos>", "d"}));
  EXPECT_EQ(t.lines, (std::vector<int64_t>{1, 1, 1, 2, 2, 3, 4}));
}

TEST(PtbTokenize, EosIsTextualLikeTensorFlow) {
  // replace("\n", "<eos>").split(): a newline without surrounding spaces glues words together.
  EXPECT_EQ(ptb_tokenize("a\nb\n\nc", "x").words, (Words{"a<eos>b<eos><eos>c"}));
  EXPECT_EQ(ptb_tokenize("\n", "x").words, (Words{"<eos>"}));
  // Bytes are bytes: non-ASCII (even invalid UTF-8) is part of a word; \v and \f separate.
  EXPECT_EQ(ptb_tokenize("caf\xc3\xa9\v\xff\xfe\fz", "x").words,
            (Words{"caf\xc3\xa9", "\xff\xfe", "z"}));
}

TEST(PtbTokenize, EmptyOrBlankTextIsAnError) {
  expect_contains(error_of([] { ptb_tokenize("", "some/ptb.train.txt"); }),
                  "some/ptb.train.txt: empty file");
  expect_contains(error_of([] { ptb_tokenize(" \t \r ", "f.txt"); }), "f.txt: no words");
}

TEST(PtbVocab, DescendingCountThenWord) {
  // counts: b 3, a 2, c 2, B 2, z 1, \xc3\xa9 1, ~ 1
  const Words words = {"c", "b", "z", "a", "b", "\xc3\xa9", "B", "c", "~", "a", "b", "B"};
  // Ties in byte (= code point) order: "B" < "a" < "c"; "z" < "~" < "\xc3\xa9".
  EXPECT_EQ(ptb_build_vocab(words), (Words{"b", "B", "a", "c", "z", "~", "\xc3\xa9"}));
}

class PtbFiles : public ::testing::Test {
 protected:
  void write(const std::string& name, const std::string& text, bool gzip = false) {
    test::write_file(dir_ / (gzip ? name + ".gz" : name), text, gzip);
  }
  test::TempDir dir_;
};

TEST_F(PtbFiles, LoadsPlainAndGzipWithTensorFlowIds) {
  write("ptb.train.txt", " the cat sat \n the dog \n");  // the 2, <eos> 2, cat dog sat 1
  write("ptb.valid.txt", " dog sat \n", /*gzip=*/true);
  write("ptb.test.txt", " the \n cat", /*gzip=*/true);
  const PtbCorpus c = load_ptb(dir_.str());
  EXPECT_EQ(c.id_to_word, (Words{"<eos>", "the", "cat", "dog", "sat"}));
  EXPECT_EQ(c.vocab_size(), 5);
  ASSERT_EQ(c.word_to_id.size(), 5u);
  for (int32_t i = 0; i < c.vocab_size(); ++i) EXPECT_EQ(c.word_to_id.at(c.id_to_word[i]), i);
  EXPECT_EQ(c.train, (std::vector<int32_t>{1, 2, 4, 0, 1, 3, 0}));
  EXPECT_EQ(c.valid, (std::vector<int32_t>{3, 4, 0}));
  EXPECT_EQ(c.test, (std::vector<int32_t>{1, 0, 2}));
}

TEST_F(PtbFiles, BadInputIsAOneLineErrorNamingTheFile) {
  expect_contains(error_of([&] { load_ptb(dir_ / "missing"); }), "ptb.train.txt");

  write("ptb.train.txt", " a b \n b c \n");
  write("ptb.valid.txt", "");
  write("ptb.test.txt", " a \n");
  expect_contains(error_of([&] { load_ptb(dir_.str()); }), "ptb.valid.txt: empty file");

  // A word missing from the training vocabulary: file, line and word.
  write("ptb.valid.txt", " a b \n c a \n b zebra\xff a \n");
  expect_contains(error_of([&] { load_ptb(dir_.str()); }),
                  "ptb.valid.txt:3: word \"zebra\\xff\" is not in the training vocabulary");

  // A truncated gzip file (the plain file is preferred, so remove it).
  std::string big;
  for (int i = 0; i < 20000; ++i) big += " w" + std::to_string(i * 7919 % 1000) + " \n";
  write("ptb.valid.txt", big, /*gzip=*/true);
  std::filesystem::remove(dir_ / "ptb.valid.txt");
  const std::string gz = dir_ / "ptb.valid.txt.gz";
  std::filesystem::resize_file(gz, std::filesystem::file_size(gz) / 2);
  expect_contains(error_of([&] { load_ptb(dir_.str()); }), "ptb.valid.txt.gz: truncated");
}

std::vector<int32_t> iota_ids(int n) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(PtbBatcher, MatchesHandComputedProducer) {
  // 25 ids, B 2, T 3: batch_len 12, rows 0..11 and 12..23 (24 unused), epoch_size (12-1)/3 = 3.
  const PtbBatcher p(iota_ids(25), 2, 3);
  EXPECT_EQ(p.batch_len(), 12);
  EXPECT_EQ(p.epoch_size(), 3);
  std::vector<int32_t> x(6, -1), y(6, -1);
  p.batch(1, x.data(), y.data());
  EXPECT_EQ(x, (std::vector<int32_t>{3, 4, 5, 15, 16, 17}));
  EXPECT_EQ(y, (std::vector<int32_t>{4, 5, 6, 16, 17, 18}));
  p.batch_time_major(1, x.data(), y.data());
  EXPECT_EQ(x, (std::vector<int32_t>{3, 15, 4, 16, 5, 17}));
  EXPECT_EQ(y, (std::vector<int32_t>{4, 16, 5, 17, 6, 18}));
  p.batch(2, x.data(), y.data());  // the last step reaches column 9 (targets) of 12
  EXPECT_EQ(x, (std::vector<int32_t>{6, 7, 8, 18, 19, 20}));
  EXPECT_EQ(y, (std::vector<int32_t>{7, 8, 9, 19, 20, 21}));
  EXPECT_THROW(p.batch(3, x.data(), y.data()), ArgumentError);
  EXPECT_THROW(p.batch(-1, x.data(), y.data()), ArgumentError);
}

TEST(PtbBatcher, EpochSizeFormulaAndLayouts) {
  for (const int n : {2, 3, 10, 41, 100, 1001}) {
    for (const int b : {1, 2, 3, 7}) {
      for (const int t : {1, 2, 5, 35}) {
        const int64_t batch_len = n / b, epoch_size = batch_len > 0 ? (batch_len - 1) / t : 0;
        if (epoch_size == 0) {
          expect_contains(error_of([&] { PtbBatcher(iota_ids(n), b, t); }),
                          "decrease batch_size or num_steps");
          continue;
        }
        const PtbBatcher p(iota_ids(n), b, t);
        ASSERT_EQ(p.batch_len(), batch_len);
        ASSERT_EQ(p.epoch_size(), epoch_size);
        std::vector<int32_t> x(b * t), y(b * t), xt(b * t), yt(b * t);
        for (int64_t i = 0; i < epoch_size; ++i) {
          p.batch(i, x.data(), y.data());
          p.batch_time_major(i, xt.data(), yt.data());
          for (int r = 0; r < b; ++r) {
            for (int s = 0; s < t; ++s) {
              const int32_t want = static_cast<int32_t>(r * batch_len + i * t + s);  // D[r][i*T+s]
              ASSERT_EQ(x[r * t + s], want);
              ASSERT_EQ(y[r * t + s], want + 1);
              ASSERT_EQ(xt[s * b + r], want);
              ASSERT_EQ(yt[s * b + r], want + 1);
            }
          }
        }
      }
    }
  }
  EXPECT_THROW(PtbBatcher(iota_ids(100), 0, 5), ArgumentError);
  EXPECT_THROW(PtbBatcher(iota_ids(100), 5, 0), ArgumentError);
  EXPECT_THROW(PtbBatcher({}, 1, 1), ArgumentError);
}

TEST(PtbReal, TokenCountsVocabularyAndIds) {
  std::string why;
  const std::string dir = test::find_dataset("ptb", &why);
  if (dir.empty()) GTEST_SKIP() << why;
  const PtbCorpus c = load_ptb(dir);
  EXPECT_EQ(c.train.size(), 929589u);
  EXPECT_EQ(c.valid.size(), 73760u);
  EXPECT_EQ(c.test.size(), 82430u);
  ASSERT_EQ(c.vocab_size(), 10000);
  EXPECT_EQ(c.id_to_word[0], "the");
  EXPECT_EQ(c.id_to_word[1], "<unk>");
  EXPECT_EQ(c.id_to_word[2], "<eos>");
  EXPECT_EQ(c.id_to_word[3], "N");
  EXPECT_EQ(c.id_to_word[9999], "wachter");
  EXPECT_EQ(c.train[0], c.word_to_id.at("aer"));
  EXPECT_EQ(c.train[0], 9970);
  // Sums of the ids from an independent Python run of TensorFlow's reader.py logic.
  const auto sum = [](const std::vector<int32_t>& v) {
    return std::accumulate(v.begin(), v.end(), int64_t{0});
  };
  EXPECT_EQ(sum(c.train), 759998516);
  EXPECT_EQ(sum(c.valid), 64187385);
  EXPECT_EQ(sum(c.test), 63559387);
  // The experiments' epoch sizes: small config (B 20, T 20), medium/large (T 35), test (1, 1).
  EXPECT_EQ(PtbBatcher(c.train, 20, 20).epoch_size(), 2323);
  EXPECT_EQ(PtbBatcher(c.valid, 20, 20).epoch_size(), 184);
  EXPECT_EQ(PtbBatcher(c.train, 20, 35).epoch_size(), 1327);
  EXPECT_EQ(PtbBatcher(c.test, 1, 1).epoch_size(), 82429);
}

}  // namespace
}  // namespace curnn::data
