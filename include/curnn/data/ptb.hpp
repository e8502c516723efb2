// Penn Treebank (Mikolov's simple-examples) reader and batcher, exactly as TensorFlow's
// models/tutorials/rnn/ptb/reader.py (experiment 2 of /work/shared/docs/EXPERIMENTS.md).
//
//  - Tokens: `f.read().replace("\n", "<eos>").split()`. Every newline is replaced *textually* by
//    "<eos>", then the text is split on whitespace. In PTB every line is " w1 w2 ... wn \n", so
//    this is "the words of each line, then <eos>"; in a file whose lines do not end in a space
//    the "<eos>" sticks to the neighbouring words ("a\nb" is the one token "a<eos>b"), as in
//    TensorFlow. Whitespace is ASCII (space, \t, \n, \v, \f, \r).
//  - Words are byte strings: invalid UTF-8 is not detected and not special. Python's str.split()
//    would also split on non-ASCII Unicode spaces (U+00A0, U+3000, ...); we do not (PTB is ASCII).
//  - Vocabulary: the training file's words sorted by (descending count, then word), ids 0..V-1.
//    Words compare as unsigned bytes, which for valid UTF-8 is Python's code-point order.
//  - TensorFlow silently drops a valid/test word missing from the training vocabulary; here it is
//    an error naming the file, the line and the word (PTB has none: <unk> is in the vocabulary).
//  - Batching (ptb_producer): the ids are cut to batch_size * batch_len and reshaped row-major to
//    [batch_size, batch_len]; step i reads columns [i*T, (i+1)*T) as inputs and the same columns
//    shifted by one as targets; epoch_size = (batch_len - 1) / T.
// Tests: tests/data_ptb_test.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace curnn::data {

struct PtbCorpus {
  std::vector<std::string> id_to_word;                  // [V]
  std::unordered_map<std::string, int32_t> word_to_id;  // V entries
  std::vector<int32_t> train, valid, test;              // token ids, <eos> included
  int32_t vocab_size() const { return static_cast<int32_t>(id_to_word.size()); }
};

// The tokens of one text (TensorFlow's _read_words), and the 1-based line each starts on.
// `name` only labels errors. An empty text, or one without any token, is an error.
struct PtbTokens {
  std::vector<std::string> words;
  std::vector<int64_t> lines;  // lines[k] = line of words[k]
};
PtbTokens ptb_tokenize(const std::string& text, const std::string& name);

// Vocabulary of a token list sorted by (descending count, then word) (TensorFlow's _build_vocab).
std::vector<std::string> ptb_build_vocab(const std::vector<std::string>& words);

// Reads <dir>/ptb.{train,valid,test}.txt, each plain or gzipped (ptb.train.txt.gz, ...).
PtbCorpus load_ptb(const std::string& dir);

// TensorFlow's ptb_producer over one id sequence, deterministic (no queue, no shuffling).
// With B = batch_size, T = num_steps, L = batch_len = data.size() / B, the data is the matrix
// D[B, L] (row-major, D[b][l] = data[b * L + l]; the last data.size() - B * L ids are unused),
// and step i in [0, epoch_size) is
//   x[b][t] = D[b][i * T + t],   y[b][t] = D[b][i * T + t + 1]   (b < B, t < T).
class PtbBatcher {
 public:
  // Throws when epoch_size == 0 ("decrease batch_size or num_steps").
  PtbBatcher(const std::vector<int32_t>& data, int batch_size, int num_steps);

  int batch_size() const { return batch_size_; }
  int num_steps() const { return num_steps_; }
  int64_t batch_len() const { return batch_len_; }
  int64_t epoch_size() const { return epoch_size_; }

  // Batch-major, as ptb_producer returns them: x[b * T + t], y[b * T + t]  (x, y: [B, T]).
  void batch(int64_t i, int32_t* x, int32_t* y) const;
  // Time-major, the engine's layout: x_tm[t * B + b], y_tm[t * B + b]  (x_tm, y_tm: [T, B]).
  void batch_time_major(int64_t i, int32_t* x_tm, int32_t* y_tm) const;

 private:
  void check_step(int64_t i, const int32_t* x, const int32_t* y) const;
  std::vector<int32_t> data_;  // [B, L]
  int batch_size_, num_steps_;
  int64_t batch_len_, epoch_size_;
};

}  // namespace curnn::data
