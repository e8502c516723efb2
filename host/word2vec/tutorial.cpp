// The book's tutorial pipeline: build_dataset and generate_batch (curnn/word2vec/tutorial.hpp).
#include "curnn/word2vec/tutorial.hpp"

#include <algorithm>
#include <numeric>

#include "byte_reader.hpp"
#include "curnn/error.hpp"

namespace curnn::word2vec {

namespace {

// Length in bytes of the Python str.split() separator starting at the next byte; 0 if none.
std::size_t separator_length(detail::ByteReader& in) {
  const int c = in.peek(0);
  if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c == 0xC2) {  // U+0085, U+00A0
    const int d = in.peek(1);
    return d == 0x85 || d == 0xA0 ? 2 : 0;
  }
  if (c == 0xE1) return in.peek(1) == 0x9A && in.peek(2) == 0x80 ? 3 : 0;  // U+1680
  if (c == 0xE2) {
    const int d = in.peek(1), e = in.peek(2);
    if (d == 0x80 && ((e >= 0x80 && e <= 0x8A) || e == 0xA8 || e == 0xA9 || e == 0xAF)) {
      return 3;  // U+2000-U+200A, U+2028, U+2029, U+202F
    }
    return d == 0x81 && e == 0x9F ? 3 : 0;  // U+205F
  }
  if (c == 0xE3) return in.peek(1) == 0x80 && in.peek(2) == 0x80 ? 3 : 0;  // U+3000
  return 0;
}

bool next_python_word(detail::ByteReader& in, std::string& word) {
  word.clear();
  for (;;) {
    const int c = in.peek(0);
    if (c < 0) return !word.empty();
    if (const std::size_t sep = separator_length(in)) {
      for (std::size_t i = 0; i < sep; ++i) in.get();
      if (!word.empty()) return true;
      continue;
    }
    word.push_back(static_cast<char>(in.get()));
  }
}

TutorialDataset build_dataset(detail::ByteReader& in, std::int32_t vocabulary_size) {
  CURNN_CHECK_ARG(vocabulary_size >= 1, "vocabulary_size must be >= 1, got " << vocabulary_size);
  // Counter(words), insertion-ordered, and the words as first-occurrence indices.
  std::unordered_map<std::string, std::int32_t> first;
  std::vector<std::string> distinct;
  std::vector<std::int64_t> counts;
  std::vector<std::int32_t> stream;
  std::string word;
  while (next_python_word(in, word)) {
    const auto [it, fresh] = first.emplace(word, static_cast<std::int32_t>(distinct.size()));
    if (fresh) {
      CURNN_CHECK(distinct.size() < static_cast<std::size_t>(INT32_MAX),
                  in.name() << ": more than 2^31-1 distinct words");
      distinct.push_back(word);
      counts.push_back(0);
    }
    ++counts[static_cast<std::size_t>(it->second)];
    stream.push_back(it->second);
  }
  CURNN_CHECK(!stream.empty(), in.name() << ": empty text (no words)");
  first.clear();

  // most_common(vocabulary_size - 1): stable sort by descending count.
  std::vector<std::int32_t> order(distinct.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int32_t a, std::int32_t b) { return counts[a] > counts[b]; });
  const std::size_t kept = std::min(order.size(), static_cast<std::size_t>(vocabulary_size) - 1);

  TutorialDataset ds;
  ds.words.reserve(kept + 1);
  ds.counts.reserve(kept + 1);
  ds.words.emplace_back("UNK");
  ds.counts.push_back(0);
  std::vector<std::int32_t> new_id(distinct.size(), 0);
  for (std::size_t r = 0; r < kept; ++r) {
    const std::int32_t i = order[r];
    new_id[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(r + 1);
    ds.words.push_back(std::move(distinct[static_cast<std::size_t>(i)]));
    ds.counts.push_back(counts[static_cast<std::size_t>(i)]);
  }
  for (auto& id : stream) {
    id = new_id[static_cast<std::size_t>(id)];
    if (id == 0) ++ds.counts[0];
  }
  ds.data = std::move(stream);
  ds.dictionary.reserve(ds.words.size());
  ds.dictionary.emplace("UNK", 0);
  for (std::size_t i = 1; i < ds.words.size(); ++i) {
    ds.dictionary[ds.words[i]] = static_cast<std::int32_t>(i);  // a corpus "UNK" wins the name
  }
  return ds;
}

}  // namespace

std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // accept [0, limit)
  std::uint64_t x = rng();
  while (x >= limit) x = rng();
  return x % n;
}

std::int32_t TutorialDataset::id(const std::string& word) const {
  const auto it = dictionary.find(word);
  return it == dictionary.end() ? 0 : it->second;
}

TutorialDataset build_tutorial_dataset(const std::string& path, std::int32_t vocabulary_size) {
  detail::ByteReader in(path);
  return build_dataset(in, vocabulary_size);
}

TutorialDataset build_tutorial_dataset_from_text(const std::string& text,
                                                 std::int32_t vocabulary_size) {
  detail::ByteReader in(text, "<text>");
  return build_dataset(in, vocabulary_size);
}

SkipGramBatcher::SkipGramBatcher(const std::vector<std::int32_t>& data, int batch_size,
                                 int num_skips, int skip_window, std::uint64_t seed)
    : data_(&data),
      batch_size_(batch_size),
      num_skips_(num_skips),
      skip_window_(skip_window),
      span_(2 * skip_window + 1),
      rng_(seed) {
  CURNN_CHECK_ARG(!data.empty(), "SkipGramBatcher: empty data");
  CURNN_CHECK_ARG(batch_size >= 1 && num_skips >= 1 && skip_window >= 1,
                  "SkipGramBatcher: batch_size, num_skips and skip_window must be >= 1, got "
                      << batch_size << ", " << num_skips << ", " << skip_window);
  CURNN_CHECK_ARG(batch_size % num_skips == 0,
                  "SkipGramBatcher: batch_size % num_skips == 0 fails (" << batch_size << " % "
                                                                         << num_skips << ")");
  CURNN_CHECK_ARG(num_skips <= 2 * skip_window,
                  "SkipGramBatcher: num_skips <= 2 * skip_window fails (" << num_skips << " > 2 * "
                                                                          << skip_window << ")");
  window_.resize(static_cast<std::size_t>(span_));
  avoid_.reserve(static_cast<std::size_t>(num_skips_) + 1);
}

void SkipGramBatcher::set_data_index(std::int64_t data_index) {
  CURNN_CHECK_ARG(0 <= data_index && data_index < static_cast<std::int64_t>(data_->size()),
                  "SkipGramBatcher::set_data_index: " << data_index << " is outside [0, "
                                                      << data_->size() << ")");
  data_index_ = data_index;
}

void SkipGramBatcher::next(std::int32_t* batch, std::int32_t* labels) {
  CURNN_CHECK_ARG(batch != nullptr && labels != nullptr, "SkipGramBatcher::next: null output");
  const auto& data = *data_;
  const auto n = static_cast<std::int64_t>(data.size());
  auto append = [&] {  // buffer.append(data[data_index]); data_index = (data_index + 1) % n
    window_[static_cast<std::size_t>(window_start_)] = data[static_cast<std::size_t>(data_index_)];
    window_start_ = (window_start_ + 1) % span_;
    data_index_ = (data_index_ + 1) % n;
  };
  auto buffer = [&](int k) {
    return window_[static_cast<std::size_t>((window_start_ + k) % span_)];
  };
  window_start_ = 0;
  for (int k = 0; k < span_; ++k) append();
  for (int i = 0; i < batch_size_ / num_skips_; ++i) {
    int target = skip_window_;
    avoid_.assign(1, skip_window_);
    for (int j = 0; j < num_skips_; ++j) {
      while (std::find(avoid_.begin(), avoid_.end(), target) != avoid_.end()) {
        target = static_cast<int>(uniform_below(rng_, static_cast<std::uint64_t>(span_)));
      }
      avoid_.push_back(target);
      batch[i * num_skips_ + j] = buffer(skip_window_);
      labels[i * num_skips_ + j] = buffer(target);
    }
    append();
  }
}

void SkipGramBatcher::next(std::vector<std::int32_t>& batch, std::vector<std::int32_t>& labels) {
  batch.resize(static_cast<std::size_t>(batch_size_));
  labels.resize(static_cast<std::size_t>(batch_size_));
  next(batch.data(), labels.data());
}

}  // namespace curnn::word2vec
