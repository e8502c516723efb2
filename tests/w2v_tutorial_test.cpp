// The book's tutorial pipeline: build_dataset and generate_batch (curnn/word2vec/tutorial.hpp).
#include "curnn/word2vec/tutorial.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "w2v_test_util.hpp"

namespace curnn::word2vec {
namespace {

using Tutorial = test::TempFiles;

TEST(TutorialDataset, UnkCountAndMostCommonTieOrder) {
  // Counts: b 2, a 2 (b occurs first), c 1, d 1, e 1.
  const auto ds = build_tutorial_dataset_from_text(" b a c a b d e\n", 3);
  EXPECT_EQ(ds.words, (std::vector<std::string>{"UNK", "b", "a"}));
  EXPECT_EQ(ds.counts, (std::vector<std::int64_t>{3, 2, 2}));
  EXPECT_EQ(ds.data, (std::vector<std::int32_t>{1, 2, 0, 2, 1, 0, 0}));
  EXPECT_EQ(ds.id("a"), 2);
  EXPECT_EQ(ds.id("zzz"), 0);
  EXPECT_EQ(ds.id("UNK"), 0);
  // Ties among the count-1 words keep first-occurrence order; a large vocabulary keeps all.
  const auto all = build_tutorial_dataset_from_text("b a c a b d e", 50000);
  EXPECT_EQ(all.words, (std::vector<std::string>{"UNK", "b", "a", "c", "d", "e"}));
  EXPECT_EQ(all.counts[0], 0);
  // vocabulary_size 4 cuts inside the tie: c (first of the count-1 words) is kept.
  const auto four = build_tutorial_dataset_from_text("b a c a b d e", 4);
  EXPECT_EQ(four.words.back(), "c");
  EXPECT_EQ(four.counts[0], 2);
}

TEST(TutorialDataset, SplitsLikePythonStrSplit) {
  // ASCII whitespace, \x1c-\x1f and UTF-8 encoded Unicode spaces separate; U+00A9 does not.
  const std::string text =
      "a\x1c"
      "b\xC2\xA0"
      "c\xE3\x80\x80"
      "d\xE2\x80\x89"
      "e\v\f\r\nf\xE2\x81\x9Fg\xC2\x85h x\xC2\xA9y \xE1\x9A\x80z\xE2\x80\xAF";
  const auto ds = build_tutorial_dataset_from_text(text, 100);
  std::vector<std::string> words;
  for (const auto id : ds.data) words.push_back(ds.words[static_cast<std::size_t>(id)]);
  EXPECT_EQ(words,
            (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g", "h", "x\xC2\xA9y", "z"}));
}

TEST_F(Tutorial, FileAndGzipGiveTheSameDataset) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "w" + std::to_string(i * i % 97) + (i % 13 ? " " : "\n");
  const auto mem = build_tutorial_dataset_from_text(text, 50);
  const auto plain = build_tutorial_dataset(write("t.txt", text), 50);
  const auto gz = build_tutorial_dataset(write_gz("t.gz", text), 50);
  EXPECT_EQ(plain.data, mem.data);
  EXPECT_EQ(gz.data, mem.data);
  EXPECT_EQ(gz.words, mem.words);
  EXPECT_EQ(gz.counts, mem.counts);
  ASSERT_EQ(mem.words.size(), 50u);
  std::int64_t total = 0;
  for (const auto c : mem.counts) total += c;
  EXPECT_EQ(total, 5000);
  for (std::size_t i = 2; i < mem.counts.size(); ++i) EXPECT_GE(mem.counts[i - 1], mem.counts[i]);
  test::expect_error([&] { build_tutorial_dataset(write("e.txt", " \n\t")); }, {"e.txt", "empty"});
  EXPECT_THROW(build_tutorial_dataset_from_text("a", 0), ArgumentError);
}

std::vector<std::int32_t> iota_data(int n) {
  std::vector<std::int32_t> d(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) d[static_cast<std::size_t>(i)] = i;
  return d;
}

TEST(SkipGramBatcher, PairsStayInsideTheWindowWithDistinctContexts) {
  const auto data = iota_data(10);  // ids = positions
  SkipGramBatcher batcher(data, 8, 2, 1, 42);
  std::vector<std::int32_t> batch, labels;
  batcher.next(batch, labels);
  EXPECT_EQ(batch, (std::vector<std::int32_t>{1, 1, 2, 2, 3, 3, 4, 4}));
  for (int i = 0; i < 8; i += 2) {  // num_skips = 2 = 2 * skip_window: both neighbours
    EXPECT_EQ(std::set<std::int32_t>({labels[i], labels[i + 1]}),
              std::set<std::int32_t>({batch[i] - 1, batch[i] + 1}));
  }
  EXPECT_EQ(batcher.data_index(), 7);  // span + 4 slides; not moved back (book's version)
  // The second batch refills the window from data_index and wraps around the end of data.
  batcher.next(batch, labels);
  EXPECT_EQ(batch, (std::vector<std::int32_t>{8, 8, 9, 9, 0, 0, 1, 1}));
  EXPECT_EQ(std::set<std::int32_t>({labels[2], labels[3]}), std::set<std::int32_t>({8, 0}));
  EXPECT_EQ(std::set<std::int32_t>({labels[4], labels[5]}), std::set<std::int32_t>({9, 1}));
  EXPECT_EQ(batcher.data_index(), 4);
}

TEST(SkipGramBatcher, ContextsAreDistinctAndUniformOverTheWindow) {
  const auto data = iota_data(1000);
  const int skip_window = 3, num_skips = 4, batch_size = 128;
  SkipGramBatcher batcher(data, batch_size, num_skips, skip_window, 7);
  std::map<int, int> offsets;
  std::vector<std::int32_t> batch(batch_size), labels(batch_size);
  for (int step = 0; step < 200; ++step) {
    batcher.next(batch.data(), labels.data());
    for (int i = 0; i < batch_size; i += num_skips) {
      std::set<int> seen;
      for (int j = 0; j < num_skips; ++j) {
        EXPECT_EQ(batch[i + j], batch[i]);
        int off = labels[i + j] - batch[i];
        if (off > 500) off -= 1000;  // wrapped around
        if (off < -500) off += 1000;
        EXPECT_GE(off, -skip_window);
        EXPECT_LE(off, skip_window);
        EXPECT_NE(off, 0);
        EXPECT_TRUE(seen.insert(off).second) << "repeated context";
        ++offsets[off];
      }
    }
  }
  // 200 * 128 draws spread over 6 positions: each about 1/6 (binomial sd ~ 60).
  ASSERT_EQ(offsets.size(), 6u);
  for (const auto& [off, n] : offsets) EXPECT_NEAR(n, 200 * 128 / 6.0, 400) << "offset " << off;
}

TEST(SkipGramBatcher, ReproducibleBySeed) {
  const auto data = iota_data(300);
  auto run = [&](std::uint64_t seed) {
    SkipGramBatcher b(data, 64, 1, 2, seed);
    std::vector<std::int32_t> batch, labels, all;
    for (int i = 0; i < 10; ++i) {
      b.next(batch, labels);
      all.insert(all.end(), labels.begin(), labels.end());
    }
    return all;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

TEST(SkipGramBatcher, AssertsAreArgumentErrors) {
  const auto data = iota_data(10);
  EXPECT_THROW(SkipGramBatcher(data, 9, 2, 1, 0), ArgumentError);  // 9 % 2 != 0
  EXPECT_THROW(SkipGramBatcher(data, 8, 4, 1, 0), ArgumentError);  // 4 > 2 * 1
  EXPECT_THROW(SkipGramBatcher(data, 8, 0, 1, 0), ArgumentError);
  EXPECT_THROW(SkipGramBatcher(data, 8, 2, 0, 0), ArgumentError);
  const std::vector<std::int32_t> empty;
  EXPECT_THROW(SkipGramBatcher(empty, 8, 2, 1, 0), ArgumentError);
  EXPECT_NO_THROW(SkipGramBatcher(data, 8, 2, 1, 0));
}

TEST(SkipGramBatcher, SetDataIndexContinuesLikeTheBooksGlobalCursor) {
  const auto data = iota_data(20);  // data[i] = i
  SkipGramBatcher demo(data, 8, 2, 1, 5);
  std::vector<std::int32_t> batch, labels;
  demo.next(batch, labels);
  EXPECT_EQ(demo.data_index(), 7);  // span 3 + 4 centre words
  // A second batcher (another batch size) takes the cursor over; the window wraps at the end.
  SkipGramBatcher training(data, 4, 2, 1, 6);
  training.set_data_index(demo.data_index());
  training.next(batch, labels);
  EXPECT_EQ(batch, (std::vector<std::int32_t>{8, 8, 9, 9}));
  training.set_data_index(19);
  training.next(batch, labels);
  EXPECT_EQ(batch, (std::vector<std::int32_t>{0, 0, 1, 1}));
  EXPECT_THROW(training.set_data_index(20), ArgumentError);
  EXPECT_THROW(training.set_data_index(-1), ArgumentError);
}

TEST(SkipGramBatcher, UniformBelowStaysInRangeAndCoversIt) {
  std::mt19937_64 rng(9);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const auto x = uniform_below(rng, 7);
    ASSERT_LT(x, 7u);
    ++seen[x];
  }
  for (const int n : seen) EXPECT_NEAR(n, 1000, 150);
  EXPECT_EQ(uniform_below(rng, 1), 0u);
}

}  // namespace
}  // namespace curnn::word2vec
