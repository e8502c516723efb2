// word2vec.c-compatible words, vocabulary and corpus id stream (curnn/word2vec/vocab.hpp).
#include "curnn/word2vec/vocab.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>

#include "byte_reader.hpp"
#include "curnn/data/io.hpp"
#include "curnn/error.hpp"
#include "curnn/text.hpp"

namespace curnn::word2vec {

namespace {

bool is_continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

// After a word was cut at kMaxWordBytes with `next` the first byte dropped: when `next`
// continues a well-formed multi-byte character whose lead byte was kept, drop that character.
void trim_cut_character(std::string& word, unsigned char next) {
  if (!is_continuation(next)) return;
  const std::size_t n = word.size();
  for (std::size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto b = static_cast<unsigned char>(word[n - back]);
    if (is_continuation(b)) continue;
    const std::size_t length = b >= 0xF8 ? 0 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (length > back) word.resize(n - back);  // its remaining bytes were cut
    return;
  }
}

}  // namespace

WordReader::WordReader(const std::string& path)
    : path_(path), in_(std::make_unique<detail::ByteReader>(path)) {}

WordReader::~WordReader() = default;

bool WordReader::next(std::string& word) {
  word.clear();
  if (pending_sentence_end_) {
    pending_sentence_end_ = false;
    word = kSentenceEnd;
    return true;
  }
  int dropped = -1;  // the first byte beyond kMaxWordBytes, if any
  for (;;) {
    const int ch = in_->get();
    if (ch < 0) break;
    if (ch == '\r') continue;
    if (ch == ' ' || ch == '\t' || ch == '\n') {
      if (!word.empty()) {
        pending_sentence_end_ = ch == '\n';
        break;
      }
      if (ch == '\n') {
        word = kSentenceEnd;
        return true;
      }
      continue;
    }
    if (word.size() < static_cast<std::size_t>(kMaxWordBytes)) {
      word.push_back(static_cast<char>(ch));
    } else if (dropped < 0) {
      dropped = ch;
    }
  }
  if (word.empty()) return false;
  if (dropped >= 0) trim_cut_character(word, static_cast<unsigned char>(dropped));
  return true;
}

Vocabulary Vocabulary::from_counts(std::vector<std::string> words, std::vector<std::int64_t> counts,
                                   std::int64_t min_count) {
  return sorted(std::move(words), std::move(counts), min_count, "Vocabulary::from_counts");
}

// SortVocab: "</s>" first, the rest by descending count (stable), then pruning below min_count.
Vocabulary Vocabulary::sorted(std::vector<std::string> words, std::vector<std::int64_t> counts,
                              std::int64_t min_count, const std::string& source) {
  CURNN_CHECK_ARG(min_count >= 0, "min_count must be >= 0, got " << min_count);
  CURNN_CHECK_ARG(words.size() == counts.size(),
                  source << ": " << words.size() << " words but " << counts.size() << " counts");
  const auto end = std::find(words.begin(), words.end(), kSentenceEnd);
  if (end == words.end()) {
    words.insert(words.begin(), kSentenceEnd);
    counts.insert(counts.begin(), 0);
  } else if (end != words.begin()) {
    const auto at = end - words.begin();
    std::rotate(words.begin(), end, end + 1);
    std::rotate(counts.begin(), counts.begin() + at, counts.begin() + at + 1);
  }
  std::vector<std::size_t> order(words.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin() + 1, order.end(),
                   [&](std::size_t a, std::size_t b) { return counts[a] > counts[b]; });
  Vocabulary v;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t i = order[k];
    CURNN_CHECK_ARG(!words[i].empty(), source << ": empty word");
    CURNN_CHECK_ARG(counts[i] >= 0, source << ": negative count for " << quote_input(words[i]));
    if (k > 0 && counts[i] < min_count) continue;
    const auto id = static_cast<std::int32_t>(v.words_.size());
    CURNN_CHECK_ARG(v.index_.emplace(words[i], id).second,
                    source << ": duplicate word " << quote_input(words[i]));
    CURNN_CHECK(!__builtin_add_overflow(v.train_words_, counts[i], &v.train_words_),
                source << ": the word counts add up beyond 2^63 - 1 (at " << quote_input(words[i])
                       << " with count " << counts[i] << ")");
    v.words_.push_back(std::move(words[i]));
    v.counts_.push_back(counts[i]);
  }
  CURNN_CHECK(v.words_.size() > 1, source << ": no word occurs at least min_count = " << min_count
                                          << " times (" << words.size() - 1
                                          << " distinct words besides </s>)");
  CURNN_CHECK(v.words_.size() <= static_cast<std::size_t>(INT32_MAX),
              source << ": more than 2^31-1 vocabulary words");
  return v;
}

std::int32_t Vocabulary::find(const std::string& word) const {
  const auto it = index_.find(word);
  return it == index_.end() ? -1 : it->second;
}

Vocabulary learn_vocab(const std::string& corpus_path, std::int64_t min_count) {
  CURNN_CHECK_ARG(min_count >= 0, "min_count must be >= 0, got " << min_count);
  WordReader reader(corpus_path);
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::string> words{kSentenceEnd};
  std::vector<std::int64_t> counts{0};
  index.emplace(kSentenceEnd, 0);
  std::string word;
  std::int64_t tokens = 0;
  while (reader.next(word)) {
    ++tokens;
    const auto it = index.find(word);
    if (it != index.end()) {
      ++counts[it->second];
    } else {
      index.emplace(word, words.size());
      words.push_back(word);
      counts.push_back(1);
    }
  }
  CURNN_CHECK(tokens > 0, corpus_path << ": empty corpus (no words)");
  return Vocabulary::sorted(std::move(words), std::move(counts), min_count, corpus_path);
}

void save_vocab(const Vocabulary& vocab, const std::string& path) {
  data::AtomicOutputFile out(path, /*binary=*/true);
  std::string line;
  for (std::int32_t i = 0; i < vocab.size(); ++i) {
    line = vocab.word(i);
    line += ' ';
    line += std::to_string(vocab.count(i));
    line += '\n';
    out.write(line);
  }
  out.commit();
}

Vocabulary read_vocab(const std::string& vocab_path, std::int64_t min_count) {
  CURNN_CHECK_ARG(min_count >= 0, "min_count must be >= 0, got " << min_count);
  detail::ByteReader in(vocab_path);
  std::unordered_map<std::string, std::int64_t> first_line;
  std::vector<std::string> words;
  std::vector<std::int64_t> counts;
  std::string line;
  for (std::int64_t n = 1; detail::read_line(in, line, n); ++n) {
    const auto fields = detail::split_fields(line);
    if (fields.empty()) continue;
    CURNN_CHECK(fields.size() == 2,
                vocab_path << ":" << n << ": expected \"word count\", got " << quote_input(line));
    std::int64_t count = 0;
    CURNN_CHECK(detail::is_integer_text(fields[1]), vocab_path << ":" << n << ": count "
                                                               << quote_input(fields[1])
                                                               << " is not a non-negative integer");
    CURNN_CHECK(detail::parse_int64(fields[1], count) && count >= 0,
                vocab_path << ":" << n << ": count " << quote_input(fields[1])
                           << " is out of range [0, 2^63 - 1]");
    std::string word(fields[0]);
    const auto [it, fresh] = first_line.emplace(word, n);
    CURNN_CHECK(fresh, vocab_path << ":" << n << ": duplicate word " << quote_input(word)
                                  << " (first on line " << it->second << ")");
    CURNN_CHECK(word != kSentenceEnd || words.empty(),
                vocab_path << ":" << n << ": \"</s>\" must be the first entry");
    words.push_back(std::move(word));
    counts.push_back(count);
  }
  CURNN_CHECK(!words.empty(), vocab_path << ": empty vocabulary file");
  return Vocabulary::sorted(std::move(words), std::move(counts), min_count, vocab_path);
}

namespace {

// Appends `id` to `corpus`, closing the sentence at `max_sentence_length` words.
struct SentenceBuilder {
  Corpus& corpus;
  int max_sentence_length;
  std::int64_t sentence_length = 0;
  std::int64_t line_length = 0;

  void add(std::int32_t id) {
    corpus.ids.push_back(id);
    ++line_length;
    if (++sentence_length == max_sentence_length) close_sentence();
  }
  void close_sentence() {
    if (sentence_length > 0) corpus.sentence_offsets.push_back(corpus.num_words());
    sentence_length = 0;
  }
  void close_line() {
    close_sentence();
    if (line_length > 0) corpus.line_offsets.push_back(corpus.num_words());
    line_length = 0;
  }
};

}  // namespace

Corpus read_corpus(const std::string& corpus_path, const Vocabulary& vocab,
                   int max_sentence_length) {
  CURNN_CHECK_ARG(max_sentence_length >= 1,
                  "max_sentence_length must be >= 1, got " << max_sentence_length);
  CURNN_CHECK_ARG(vocab.size() > 0 && vocab.word(0) == kSentenceEnd,
                  "read_corpus: the vocabulary must start with </s> (use learn_vocab/read_vocab)");
  WordReader reader(corpus_path);
  Corpus corpus;
  corpus.sentence_offsets = {0};
  corpus.line_offsets = {0};
  SentenceBuilder builder{corpus, max_sentence_length};
  std::string word;
  while (reader.next(word)) {
    const std::int32_t id = vocab.find(word);
    if (id < 0) {
      ++corpus.dropped_words;
    } else if (id == 0) {
      ++corpus.sentence_ends;
      builder.close_line();
    } else {
      builder.add(id);
    }
  }
  builder.close_line();
  CURNN_CHECK(corpus.num_words() > 0, corpus_path << ": no word of the corpus is in the "
                                                  << vocab.size() << "-word vocabulary");
  return corpus;
}

Corpus subsample(const Corpus& corpus, const Vocabulary& vocab, double sample, std::uint64_t seed,
                 int max_sentence_length) {
  CURNN_CHECK_ARG(sample > 0, "subsample: sample must be > 0, got " << sample);
  CURNN_CHECK_ARG(max_sentence_length >= 1,
                  "max_sentence_length must be >= 1, got " << max_sentence_length);
  CURNN_CHECK_ARG(
      corpus.line_offsets.size() >= 1 && corpus.line_offsets.back() == corpus.num_words(),
      "subsample: corpus line_offsets do not cover its ids");
  // word2vec.c: real ran = (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn
  const float sample_words = static_cast<float>(sample) * static_cast<float>(vocab.train_words());
  std::vector<float> keep(static_cast<std::size_t>(vocab.size()), 1.0f);  // [V]
  for (std::int32_t w = 0; w < vocab.size(); ++w) {
    const auto cn = static_cast<float>(vocab.count(w));
    if (cn > 0)
      keep[w] = static_cast<float>((std::sqrt(cn / sample_words) + 1) * sample_words / cn);
  }
  Corpus out;
  out.sentence_offsets = {0};
  out.line_offsets = {0};
  out.sentence_ends = corpus.sentence_ends;
  out.dropped_words = corpus.dropped_words;
  SentenceBuilder builder{out, max_sentence_length};
  std::uint64_t next_random = seed;
  for (std::size_t line = 0; line + 1 < corpus.line_offsets.size(); ++line) {
    for (std::int64_t i = corpus.line_offsets[line]; i < corpus.line_offsets[line + 1]; ++i) {
      const std::int32_t id = corpus.ids[static_cast<std::size_t>(i)];
      CURNN_CHECK_ARG(id > 0 && id < vocab.size(), "subsample: id " << id << " out of range");
      next_random = next_random * 25214903917ull + 11;
      if (keep[id] < static_cast<float>(next_random & 0xFFFF) / 65536.0f) continue;
      builder.add(id);
    }
    builder.close_line();
  }
  return out;
}

}  // namespace curnn::word2vec
