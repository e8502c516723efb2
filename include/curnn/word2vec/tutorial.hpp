// The book's tutorial data pipeline (TensorFlow's word2vec_basic.py, "TensorFlow in Action"
// §7.1; /work/shared/docs/EXPERIMENTS.md §1). Implementation: host/word2vec/tutorial.cpp; tests:
// tests/w2v_tutorial_test.cpp.
//
// build_dataset, exactly:
//   words = text.split()
//   count = [['UNK', -1]] + Counter(words).most_common(vocabulary_size - 1)
//   dictionary = {word: position in count}; data = [dictionary.get(w, 0) for w in words]
//   count[0][1] = number of words that mapped to 0
// Counter.most_common orders by descending count, ties in first-occurrence order (it is a
// stable sort of the insertion-ordered counter); implemented exactly so.
// Differences, all outside text8's alphabet: Python decodes the file as UTF-8 and fails on
// invalid bytes, we keep the bytes; a literal "UNK" in the corpus is an ordinary word here
// (in Python it would overwrite dictionary['UNK'] and shift the ids after it). str.split()
// separators are implemented exactly: ASCII \t \n \v \f \r space, \x1c-\x1f and the Unicode
// spaces U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (UTF-8
// encoded). Words are not truncated (as in Python).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace curnn::word2vec {

struct TutorialDataset {
  std::vector<std::int32_t> data;    // [N] the id of every word of the text; 0 = UNK
  std::vector<std::string> words;    // [V] reverse_dictionary; words[0] = "UNK"
  std::vector<std::int64_t> counts;  // [V] count; counts[0] = number of UNK words in data
  std::unordered_map<std::string, std::int32_t> dictionary;  // word -> id (UNK included)

  std::int32_t vocabulary_size() const noexcept { return static_cast<std::int32_t>(words.size()); }
  // dictionary.get(word, 0)
  std::int32_t id(const std::string& word) const;
};

// build_dataset over a plain or .gz file (text8: the whole file is one line). vocabulary_size
// >= 1 counts UNK; when the text has fewer distinct words the vocabulary is smaller. Throws on
// an empty text.
TutorialDataset build_tutorial_dataset(const std::string& path,
                                       std::int32_t vocabulary_size = 50000);
// The same over text in memory.
TutorialDataset build_tutorial_dataset_from_text(const std::string& text,
                                                 std::int32_t vocabulary_size = 50000);

// generate_batch of the book (word2vec_basic.py of 2016-2017, as printed in the book):
//   assert batch_size % num_skips == 0; assert num_skips <= 2 * skip_window
//   span = 2 * skip_window + 1; buffer = deque(maxlen=span)
//   fill buffer with span words from data_index (wrapping around the end of data)
//   for each of batch_size // num_skips centre words: draw num_skips distinct context positions
//     (uniform, rejection as random.randint does, never the centre), emit (buffer[skip_window],
//     buffer[target]); then append the next word (sliding the window by one)
// Like the book's version, data_index is not moved back at the end of a batch, so each call
// starts span words after the previous call's last centre. The random numbers come from a
// std::mt19937_64 seeded with `seed` (Python's `random` stream is not reproduced): the same seed
// gives the same batches. `data` must outlive the batcher. Violated asserts and an empty data
// throw curnn::ArgumentError.
// A uniform integer in [0, n) (n >= 1) from rng, unbiased (rejection) and identical on every
// standard library (unlike std::uniform_int_distribution).
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n);

class SkipGramBatcher {
 public:
  SkipGramBatcher(const std::vector<std::int32_t>& data, int batch_size, int num_skips,
                  int skip_window, std::uint64_t seed);
  SkipGramBatcher(std::vector<std::int32_t>&&, int, int, int, std::uint64_t) = delete;  // dangling

  // One batch: batch [batch_size] centre ids, labels [batch_size] context ids (the book's
  // labels have shape [batch_size, 1]: the same memory).
  void next(std::int32_t* batch, std::int32_t* labels);
  void next(std::vector<std::int32_t>& batch, std::vector<std::int32_t>& labels);

  // The cursor into data (the book's global data_index). The book's demo batch of 8 moves it
  // before training starts; set_data_index lets the training batcher continue from there.
  // 0 <= data_index < data.size(), else ArgumentError.
  std::int64_t data_index() const noexcept { return data_index_; }
  void set_data_index(std::int64_t data_index);
  int batch_size() const noexcept { return batch_size_; }

 private:
  const std::vector<std::int32_t>* data_;
  int batch_size_, num_skips_, skip_window_, span_;
  std::int64_t data_index_ = 0;
  std::mt19937_64 rng_;
  std::vector<std::int32_t> window_;  // [span] the deque, as a ring starting at window_start_
  std::vector<int> avoid_;            // targets_to_avoid
  int window_start_ = 0;
};

}  // namespace curnn::word2vec
