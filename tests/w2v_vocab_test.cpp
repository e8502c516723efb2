// word2vec.c-compatible words, vocabulary and corpus (curnn/word2vec/vocab.hpp).
#include "curnn/word2vec/vocab.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "w2v_test_util.hpp"

namespace curnn::word2vec {
namespace {

using Vocab = test::TempFiles;

std::vector<std::string> read_words(const std::string& path) {
  WordReader reader(path);
  std::vector<std::string> words;
  std::string w;
  while (reader.next(w)) words.push_back(w);
  return words;
}

TEST_F(Vocab, WordReaderSplitsLikeReadWord) {
  const std::string text = "a b\tc\nd\r\ne  \n\n f\vg h\ri\n  last";
  const std::vector<std::string> expected = {"a",    "b",    "c",    "</s>", "d",    "</s>", "e",
                                             "</s>", "</s>", "f\vg", "hi",   "</s>", "last"};
  EXPECT_EQ(read_words(write("a.txt", text)), expected);
  EXPECT_EQ(read_words(write_gz("a.txt.gz", text)), expected);
  EXPECT_TRUE(read_words(write("empty.txt", "")).empty());
  EXPECT_EQ(read_words(write("nl.txt", "\n \n")), (std::vector<std::string>{"</s>", "</s>"}));
}

TEST_F(Vocab, WordReaderTruncatesAtUtf8CharacterBoundary) {
  const std::string a97(97, 'a'), a98(98, 'a'), a99(99, 'a');
  const std::string e_acute = "\xC3\xA9", euro = "\xE2\x82\xAC";
  struct Case {
    std::string word, expected;
  };
  const std::vector<Case> cases = {
      {a99, a99},                             // exactly at the limit
      {a99 + "xyz", a99},                     // ASCII cut
      {a98 + e_acute + "b", a98},             // 2-byte character straddles byte 99
      {a97 + e_acute + "b", a97 + e_acute},   // complete at 99 bytes, next byte is ASCII
      {a97 + euro, a97},                      // 3-byte character cut after 2 bytes
      {a97 + e_acute + euro, a97 + e_acute},  // cut between characters
      {std::string(120, '\xFF'), std::string(99, '\xFF')},  // invalid bytes are kept as bytes
      {std::string(120, '\x80'), std::string(99, '\x80')},  // stray continuation bytes too
  };
  std::string text;
  for (const auto& c : cases) text += c.word + " ";
  const auto words = read_words(write("long.txt", text));
  ASSERT_EQ(words.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(words[i], cases[i].expected) << "case " << i;
    EXPECT_LE(words[i].size(), 99u);
  }
}

TEST_F(Vocab, TenMegabyteRunIsOneTruncatedWordInBoundedTime) {
  std::string text(10 << 20, 'x');
  text += " y\n";
  const auto start = std::chrono::steady_clock::now();
  const auto words = read_words(write_gz("run.gz", text));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(words, (std::vector<std::string>{std::string(99, 'x'), "y", "</s>"}));
  EXPECT_LT(seconds, 10.0);
}

TEST_F(Vocab, LearnVocabSortsCountsKeepsSentenceEndFirstAndPrunes) {
  // counts: b 3, a 3 (b first), c 2, d 2 (c first), e 1; 2 newlines.
  const std::string corpus = write("c.txt", "b a c\nd a b e\nc b a d");
  const Vocabulary v = learn_vocab(corpus, 2);
  EXPECT_EQ(v.words(), (std::vector<std::string>{"</s>", "b", "a", "c", "d"}));
  EXPECT_EQ(v.counts(), (std::vector<std::int64_t>{2, 3, 3, 2, 2}));
  EXPECT_EQ(v.train_words(), 12);
  EXPECT_EQ(v.find("a"), 2);
  EXPECT_EQ(v.find("e"), -1);
  EXPECT_EQ(v.find("</s>"), 0);
  // min_count 3: "</s>" is kept below min_count, as word2vec.c does.
  const Vocabulary v3 = learn_vocab(corpus, 3);
  EXPECT_EQ(v3.words(), (std::vector<std::string>{"</s>", "b", "a"}));
  EXPECT_EQ(v3.train_words(), 8);
  // No newline at all: "</s>" is still id 0, with count 0.
  const Vocabulary v0 = learn_vocab(write("one_line.txt", "x y x"), 1);
  EXPECT_EQ(v0.words(), (std::vector<std::string>{"</s>", "x", "y"}));
  EXPECT_EQ(v0.count(0), 0);
}

TEST_F(Vocab, LearnVocabErrorsNameTheFile) {
  test::expect_error([&] { learn_vocab(write("empty.txt", "")); }, {"empty.txt", "empty corpus"});
  test::expect_error([&] { learn_vocab(write("rare.txt", "a b c a\n"), 5); },
                     {"rare.txt", "min_count = 5", "3 distinct"});
  test::expect_error([&] { learn_vocab(path("missing.txt")); }, {"missing.txt"});
  EXPECT_THROW(learn_vocab(write("x.txt", "a"), -1), ArgumentError);
}

TEST_F(Vocab, SaveVocabWritesWord2vecFormatAndReadVocabRoundTrips) {
  const Vocabulary v = learn_vocab(write("c.txt", "b a c\nd a b e\nc b a d"), 2);
  save_vocab(v, path("vocab.txt"));
  EXPECT_EQ(read(path("vocab.txt")), "</s> 2\nb 3\na 3\nc 2\nd 2\n");
  const Vocabulary r = read_vocab(path("vocab.txt"), 2);
  EXPECT_EQ(r.words(), v.words());
  EXPECT_EQ(r.counts(), v.counts());
  EXPECT_EQ(r.train_words(), v.train_words());
  // read_vocab sorts and prunes as SortVocab; "\r\n", tabs and blank lines are tolerated.
  const Vocabulary s = read_vocab(write("v2.txt", "</s> 0\r\nz 1\n\ny\t4\nx 4\n"), 2);
  EXPECT_EQ(s.words(), (std::vector<std::string>{"</s>", "y", "x"}));
  EXPECT_EQ(s.train_words(), 8);
  // Without "</s>": it is added at id 0 with count 0.
  EXPECT_EQ(read_vocab(write("v3.txt", "q 7\n"), 1).words(),
            (std::vector<std::string>{"</s>", "q"}));
}

TEST_F(Vocab, ReadVocabBadLinesNameTheLine) {
  test::expect_error([&] { read_vocab(write("v.txt", "</s> 1\nthe x\n")); },
                     {"v.txt:2", "not a non-negative integer"});
  test::expect_error([&] { read_vocab(write("v.txt", "</s> 1\nthe 3 4\n")); },
                     {"v.txt:2", "expected \"word count\""});
  test::expect_error([&] { read_vocab(write("v.txt", "the 3\na -2\n")); }, {"v.txt:2"});
  test::expect_error([&] { read_vocab(write("v.txt", "the 3\nof 2\nthe 9\n")); },
                     {"v.txt:3", "duplicate", "line 1"});
  test::expect_error([&] { read_vocab(write("v.txt", "the 3\n</s> 2\n")); },
                     {"v.txt:2", "first entry"});
  test::expect_error([&] { read_vocab(write("v.txt", "the\n")); }, {"v.txt:1"});
  test::expect_error([&] { read_vocab(write("e.txt", "\n")); }, {"e.txt", "empty vocabulary"});
  test::expect_error([&] { read_vocab(write("v.txt", "a 1\n"), 5); }, {"v.txt", "min_count"});
}

TEST_F(Vocab, ReadCorpusDropsOovAndCutsSentences) {
  // vocab (min_count 2): </s> b a c d; "e" is OOV.
  const std::string corpus = write("c.txt", "b a c\nd a b e\nc b a d");
  const Vocabulary v = learn_vocab(corpus, 2);
  const Corpus c = read_corpus(corpus, v);
  EXPECT_EQ(c.ids, (std::vector<std::int32_t>{1, 2, 3, 4, 2, 1, 3, 1, 2, 4}));
  EXPECT_EQ(c.sentence_offsets, (std::vector<std::int64_t>{0, 3, 6, 10}));
  EXPECT_EQ(c.line_offsets, c.sentence_offsets);
  EXPECT_EQ(c.sentence_ends, 2);
  EXPECT_EQ(c.dropped_words, 1);
  EXPECT_EQ(c.counted_words(), v.train_words());
  // Sentences are also cut every max_sentence_length kept words; OOV words do not count; empty
  // lines make no sentence.
  const Corpus c2 = read_corpus(write("c2.txt", "b e a c d a\n\n\nb"), v, 2);
  EXPECT_EQ(c2.ids, (std::vector<std::int32_t>{1, 2, 3, 4, 2, 1}));
  EXPECT_EQ(c2.sentence_offsets, (std::vector<std::int64_t>{0, 2, 4, 5, 6}));
  EXPECT_EQ(c2.line_offsets, (std::vector<std::int64_t>{0, 5, 6}));
  test::expect_error([&] { read_corpus(write("oov.txt", "e e\n"), v); }, {"oov.txt", "no word"});
  EXPECT_THROW(read_corpus(corpus, v, 0), ArgumentError);
}

TEST_F(Vocab, ReadCorpusCutsAtMaxSentenceLength1000) {
  std::string text;
  for (int i = 0; i < 2500; ++i) text += (i % 2 ? "x " : "y ");
  text += "\nx y\n";
  const std::string corpus = write("long.txt", text);
  const Corpus c = read_corpus(corpus, learn_vocab(corpus, 1));
  EXPECT_EQ(c.sentence_offsets, (std::vector<std::int64_t>{0, 1000, 2000, 2500, 2502}));
  EXPECT_EQ(c.line_offsets, (std::vector<std::int64_t>{0, 2500, 2502}));
}

TEST_F(Vocab, SubsampleMatchesWord2vecKeepProbabilityAndRecutsLines) {
  // "f" is frequent (10,000 of 20,000 words), the 10,000 others are distinct.
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "f w" + std::to_string(i) + " ";
  const std::string corpus = write("s.txt", text);
  const Vocabulary v = learn_vocab(corpus, 1);
  const Corpus c = read_corpus(corpus, v);
  const double sample = 0.1, st = sample * 20000;
  const double keep_f = (std::sqrt(10000 / st) + 1) * st / 10000;  // 0.647...
  const Corpus s = subsample(c, v, sample, 1);
  std::int64_t kept_f = 0, kept_rare = 0;
  for (const auto id : s.ids) (id == v.find("f") ? kept_f : kept_rare) += 1;
  EXPECT_EQ(kept_rare, 10000);  // keep probability >= 1 for count 1
  const double sd = std::sqrt(10000 * keep_f * (1 - keep_f));
  EXPECT_NEAR(static_cast<double>(kept_f), 10000 * keep_f, 5 * sd);
  // One line: re-cut every 1000 kept words.
  ASSERT_EQ(s.line_offsets.size(), 2u);
  for (std::size_t k = 1; k + 1 < s.sentence_offsets.size(); ++k) {
    EXPECT_EQ(s.sentence_offsets[k], static_cast<std::int64_t>(k) * 1000);
  }
  EXPECT_EQ(s.sentence_offsets.back(), s.num_words());
  // Deterministic by seed; another seed differs.
  EXPECT_EQ(subsample(c, v, sample, 1).ids, s.ids);
  EXPECT_NE(subsample(c, v, sample, 2).ids, s.ids);
  EXPECT_THROW(subsample(c, v, 0.0, 1), ArgumentError);
}

}  // namespace
}  // namespace curnn::word2vec
