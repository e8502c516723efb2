// PTB reader and ptb_producer batcher; the semantics are in include/curnn/data/ptb.hpp.
#include "curnn/data/ptb.hpp"

#include <algorithm>
#include <limits>

#include "curnn/data/io.hpp"
#include "curnn/error.hpp"
#include "curnn/text.hpp"
#include "dataset_files.hpp"

namespace curnn::data {

namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::vector<int32_t> to_ids(const PtbTokens& tokens,
                            const std::unordered_map<std::string, int32_t>& word_to_id,
                            const std::string& path) {
  std::vector<int32_t> ids(tokens.words.size());
  for (std::size_t k = 0; k < tokens.words.size(); ++k) {
    const auto it = word_to_id.find(tokens.words[k]);
    CURNN_CHECK(it != word_to_id.end(), path << ":" << tokens.lines[k] << ": word "
                                             << quote_input(tokens.words[k])
                                             << " is not in the training vocabulary");
    ids[k] = it->second;
  }
  return ids;
}

}  // namespace

PtbTokens ptb_tokenize(const std::string& text, const std::string& name) {
  CURNN_CHECK(!text.empty(), name << ": empty file");
  PtbTokens tokens;
  std::string word;
  int64_t line = 1, word_line = 1;
  const auto flush = [&] {
    if (word.empty()) return;
    tokens.words.push_back(word);
    tokens.lines.push_back(word_line);
    word.clear();
  };
  for (const char ch : text) {
    if (ch == '\n') {  // replace("\n", "<eos>"): the newline becomes (part of) a word
      if (word.empty()) word_line = line;
      word += "<eos>";
      ++line;
    } else if (is_space(static_cast<unsigned char>(ch))) {
      flush();
    } else {
      if (word.empty()) word_line = line;
      word += ch;
    }
  }
  flush();
  CURNN_CHECK(!tokens.words.empty(), name << ": no words (only whitespace)");
  return tokens;
}

std::vector<std::string> ptb_build_vocab(const std::vector<std::string>& words) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& w : words) ++counts[w];
  std::vector<std::pair<std::string, int64_t>> pairs(counts.begin(), counts.end());
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> vocab;
  vocab.reserve(pairs.size());
  for (auto& p : pairs) vocab.push_back(std::move(p.first));
  return vocab;
}

PtbCorpus load_ptb(const std::string& dir) {
  const auto read_tokens = [&](const char* name, std::string* path) {
    *path = detail::dataset_file(dir, name, "PTB");
    return ptb_tokenize(read_file(*path), *path);
  };
  std::string train_path, valid_path, test_path;
  const PtbTokens train = read_tokens("ptb.train.txt", &train_path);
  const PtbTokens valid = read_tokens("ptb.valid.txt", &valid_path);
  const PtbTokens test = read_tokens("ptb.test.txt", &test_path);

  PtbCorpus corpus;
  corpus.id_to_word = ptb_build_vocab(train.words);
  CURNN_CHECK(
      corpus.id_to_word.size() <= static_cast<std::size_t>(std::numeric_limits<int32_t>::max()),
      train_path << ": more than 2^31 - 1 distinct words");
  for (std::size_t i = 0; i < corpus.id_to_word.size(); ++i)
    corpus.word_to_id.emplace(corpus.id_to_word[i], static_cast<int32_t>(i));
  corpus.train = to_ids(train, corpus.word_to_id, train_path);
  corpus.valid = to_ids(valid, corpus.word_to_id, valid_path);
  corpus.test = to_ids(test, corpus.word_to_id, test_path);
  return corpus;
}

PtbBatcher::PtbBatcher(const std::vector<int32_t>& data, int batch_size, int num_steps)
    : batch_size_(batch_size), num_steps_(num_steps) {
  CURNN_CHECK_ARG(batch_size >= 1, "PtbBatcher: batch_size must be >= 1, got " << batch_size);
  CURNN_CHECK_ARG(num_steps >= 1, "PtbBatcher: num_steps must be >= 1, got " << num_steps);
  batch_len_ = static_cast<int64_t>(data.size()) / batch_size;
  epoch_size_ = batch_len_ > 0 ? (batch_len_ - 1) / num_steps : 0;
  CURNN_CHECK_ARG(epoch_size_ > 0, "PtbBatcher: epoch_size == 0 for "
                                       << data.size() << " ids, batch_size " << batch_size
                                       << " and num_steps " << num_steps
                                       << ": decrease batch_size or num_steps");
  data_.assign(data.begin(), data.begin() + batch_size * batch_len_);
}

void PtbBatcher::check_step(int64_t i, const int32_t* x, const int32_t* y) const {
  CURNN_CHECK_ARG(i >= 0 && i < epoch_size_,
                  "PtbBatcher: step " << i << " outside [0, " << epoch_size_ << ")");
  CURNN_CHECK_ARG(x != nullptr && y != nullptr, "PtbBatcher: null output pointer");
}

void PtbBatcher::batch(int64_t i, int32_t* x, int32_t* y) const {
  check_step(i, x, y);
  for (int b = 0; b < batch_size_; ++b) {
    const int32_t* row = data_.data() + b * batch_len_ + i * num_steps_;
    std::copy(row, row + num_steps_, x + static_cast<int64_t>(b) * num_steps_);
    std::copy(row + 1, row + 1 + num_steps_, y + static_cast<int64_t>(b) * num_steps_);
  }
}

void PtbBatcher::batch_time_major(int64_t i, int32_t* x_tm, int32_t* y_tm) const {
  check_step(i, x_tm, y_tm);
  for (int b = 0; b < batch_size_; ++b) {
    const int32_t* row = data_.data() + b * batch_len_ + i * num_steps_;
    for (int t = 0; t < num_steps_; ++t) {
      x_tm[static_cast<int64_t>(t) * batch_size_ + b] = row[t];
      y_tm[static_cast<int64_t>(t) * batch_size_ + b] = row[t + 1];
    }
  }
}

}  // namespace curnn::data
