// Corpus, vocabulary and id stream with word2vec.c's semantics (tmikolov/word2vec, last commit):
// ReadWord, LearnVocabFromTrainFile, SortVocab, SaveVocab/ReadVocab and the sentence reading of
// TrainModelThread. Implementation: host/word2vec/vocab.cpp; tests: tests/w2v_vocab_test.cpp.
//
// Words (WordReader), as word2vec.c's ReadWord:
//  - separated by space, tab and newline; '\r' bytes are dropped wherever they are (so "a\rb" is
//    "ab"); every other byte, including '\v', '\f' and non-ASCII bytes, belongs to a word;
//  - each newline also yields the sentence-end token "</s>" (after the word it terminates);
//  - a word longer than kMaxWordBytes = 99 bytes (MAX_STRING - 1) is truncated. word2vec.c keeps
//    its first 98 bytes plus its last byte, cutting UTF-8 characters apart; WE keep the longest
//    prefix of at most 99 bytes that does not end inside a UTF-8 character cut by the limit (a
//    multi-byte character straddling byte 99 is dropped whole). The rest of the run is skipped in
//    constant memory, so a 10 MB run without separators is one truncated word;
//  - invalid UTF-8 is not an error: bytes are kept as they are (only a well-formed lead byte whose
//    continuation bytes were cut by the limit triggers the character-boundary rule);
//  - a final word not followed by a separator is kept (word2vec.c drops it: its ReadWord reports
//    end-of-file together with the word).
//
// Vocabulary (learn_vocab / read_vocab), as SortVocab:
//  - "</s>" is always id 0 (count = number of newlines, possibly 0) and is never pruned;
//  - the other words are sorted by descending count, ties in first-occurrence order (word2vec.c
//    uses qsort, whose tie order is unspecified; glibc's qsort, a merge sort before glibc 2.37,
//    gives this order), then words with count < min_count are dropped; ids are positions;
//  - train_words = sum of the kept counts, "</s>" included (word2vec.c's train_words).
//  - Not reproduced: ReduceVocab (word2vec.c prunes rare words once the vocabulary reaches 21M
//    entries; we keep counting exactly).
//
// Corpus (read_corpus), as TrainModelThread reads sentences: out-of-vocabulary words are dropped
// (and do not count towards sentence length), "</s>" ends a sentence and is not stored, a
// sentence is also cut after max_sentence_length = 1000 stored words (MAX_SENTENCE_LENGTH).
// Empty sentences and lines are not stored.
// word2vec.c cuts at 1000 words *after* subsampling; read_corpus stores the corpus before
// subsampling, and subsample() applies word2vec.c's subsampling and re-cuts at 1000 words.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace curnn::word2vec {

inline constexpr int kMaxWordBytes = 99;         // word2vec.c MAX_STRING - 1
inline constexpr int kMaxSentenceLength = 1000;  // word2vec.c MAX_SENTENCE_LENGTH
inline constexpr const char* kSentenceEnd = "</s>";

namespace detail {
class ByteReader;
}

// Streams the words of a plain or gzip file by the rules above.
class WordReader {
 public:
  explicit WordReader(const std::string& path);
  ~WordReader();
  WordReader(const WordReader&) = delete;
  WordReader& operator=(const WordReader&) = delete;

  // Stores the next word (or "</s>") in `word`; false at the end of the file.
  bool next(std::string& word);
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::unique_ptr<detail::ByteReader> in_;
  bool pending_sentence_end_ = false;
};

class Vocabulary {
 public:
  Vocabulary() = default;
  // SortVocab on (word, count) entries given in first-occurrence order. "</s>" is put at id 0
  // (count 0 when absent); words must be distinct and non-empty, counts >= 0.
  static Vocabulary from_counts(std::vector<std::string> words, std::vector<std::int64_t> counts,
                                std::int64_t min_count);

  std::int32_t size() const noexcept { return static_cast<std::int32_t>(words_.size()); }
  const std::string& word(std::int32_t id) const { return words_.at(static_cast<std::size_t>(id)); }
  std::int64_t count(std::int32_t id) const { return counts_.at(static_cast<std::size_t>(id)); }
  // The id of `word`, or -1 when it is not in the vocabulary.
  std::int32_t find(const std::string& word) const;
  // Sum of all counts ("</s>" included): word2vec.c's train_words.
  std::int64_t train_words() const noexcept { return train_words_; }
  const std::vector<std::string>& words() const noexcept { return words_; }
  const std::vector<std::int64_t>& counts() const noexcept { return counts_; }  // [V]

 private:
  friend Vocabulary learn_vocab(const std::string&, std::int64_t);
  friend Vocabulary read_vocab(const std::string&, std::int64_t);
  // from_counts with `source` naming the input in error messages.
  static Vocabulary sorted(std::vector<std::string> words, std::vector<std::int64_t> counts,
                           std::int64_t min_count, const std::string& source);

  std::vector<std::string> words_;    // [V] id -> word
  std::vector<std::int64_t> counts_;  // [V]
  std::unordered_map<std::string, std::int32_t> index_;
  std::int64_t train_words_ = 0;
};

// word2vec -train FILE -min-count N: counts every word of the corpus (plain or .gz). Throws when
// the corpus has no words, or no word (other than "</s>") occurs min_count times.
Vocabulary learn_vocab(const std::string& corpus_path, std::int64_t min_count = 5);

// -save-vocab: one "word count\n" line per id, in id order.
void save_vocab(const Vocabulary& vocab, const std::string& path);

// -read-vocab: reads "word count" lines (space or tab separated; '\r' and blank lines ignored),
// then sorts and prunes by min_count as SortVocab does. If "</s>" is present it must be the
// first entry (as save_vocab writes it). Malformed lines, negative counts and duplicate words
// throw an error naming the file and the line.
Vocabulary read_vocab(const std::string& vocab_path, std::int64_t min_count = 5);

// The corpus as a stream of in-vocabulary ids, cut into sentences.
struct Corpus {
  std::vector<std::int32_t> ids;               // [N] word ids; no "</s>", no OOV words
  std::vector<std::int64_t> sentence_offsets;  // [S + 1] sentence s = ids[off[s], off[s+1])
  std::vector<std::int64_t> line_offsets;      // [L + 1] the same, cut only at "</s>"
  std::int64_t sentence_ends = 0;              // "</s>" tokens read
  std::int64_t dropped_words = 0;              // out-of-vocabulary tokens read and dropped

  std::int64_t num_words() const noexcept { return static_cast<std::int64_t>(ids.size()); }
  std::int64_t num_sentences() const noexcept {
    return sentence_offsets.empty() ? 0 : static_cast<std::int64_t>(sentence_offsets.size()) - 1;
  }
  // What word2vec.c counts per pass for its learning-rate schedule: the in-vocabulary tokens,
  // "</s>" included. Equals vocab.train_words() when the vocabulary was learnt from this corpus.
  std::int64_t counted_words() const noexcept { return num_words() + sentence_ends; }
};

// Reads the corpus (plain or .gz) as word2vec.c's training threads do (see above). Throws when no
// word of the corpus is in the vocabulary.
Corpus read_corpus(const std::string& corpus_path, const Vocabulary& vocab,
                   int max_sentence_length = kMaxSentenceLength);

// word2vec.c's subsampling of frequent words with threshold `sample` (> 0): a word with count c
// is kept when (sqrt(c / (sample * T)) + 1) * (sample * T) / c >= u, u = (r & 0xFFFF) / 65536
// from word2vec.c's linear congruential generator r = r * 25214903917 + 11 (starting at `seed`),
// T = vocab.train_words(). The kept words of each line are re-cut at max_sentence_length, as
// word2vec.c cuts after subsampling; sentence_ends and dropped_words are carried over.
Corpus subsample(const Corpus& corpus, const Vocabulary& vocab, double sample, std::uint64_t seed,
                 int max_sentence_length = kMaxSentenceLength);

}  // namespace curnn::word2vec
