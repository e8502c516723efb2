// word2vec.c's samplers, reproduced exactly (tmikolov/word2vec, word2vec.c):
//   - UnigramTable: the negative-sampling table of InitUnigramTable, word i filling a share
//     count[i]^power / sum_j count[j]^power of `table_size` slots, with word2vec.c's rounding;
//     sample(r) = table[(r >> 16) % table_size] as TrainModelThread draws a negative;
//   - lcg_next: word2vec.c's random generator, next_random = next_random * 25214903917 + 11;
//   - keep_probability: the frequent-word subsampling probability of TrainModelThread.
// Host-side helpers for the trainers; the table goes to the GPU with to_buffer(ctx, table()).
// Tests: tests/word2vec_test.cpp (UnigramTable*, KeepProbability*, Lcg*).
#pragma once

#include <cstdint>
#include <vector>

namespace curnn {

// word2vec.c's linear congruential generator (modulo 2^64), used for the window shrink, the
// subsampling draw and the negative draws: next_random = next_random * 25214903917 + 11. Its low
// bits are weak (bit k has period 2^(k+1)): word2vec.c uses bits 16 and up for negatives and the
// low 16 bits for subsampling (see lcg_uniform16).
constexpr std::uint64_t lcg_next(std::uint64_t next_random) noexcept {
  return next_random * 25214903917ULL + 11ULL;
}

// word2vec.c's subsampling uniform, (next_random & 0xFFFF) / 65536, in [0, 65535/65536]. The low
// 16 bits of the LCG run through all 65,536 values once every 65,536 steps, so over any such
// stretch of draws a word is kept exactly (floor(65536 * p) + 1) times for 0 <= p < 1.
constexpr double lcg_uniform16(std::uint64_t next_random) noexcept {
  return static_cast<double>(next_random & 0xFFFFu) / 65536.0;
}

// word2vec.c's subsampling: a word of count `count` in a corpus of `train_words` words is kept
// when keep_probability(...) >= lcg_uniform16(next_random), where
//     keep = (sqrt(count / (sample * train_words)) + 1) * (sample * train_words) / count.
// Values above 1 mean "always kept"; sample <= 0 turns subsampling off and returns 1. Computed
// in double (word2vec.c forms sample * train_words in float and stores the result as float;
// the difference is below float precision). Requires count >= 1 and train_words >= 1 when
// sample > 0 (ArgumentError otherwise).
double keep_probability(std::int64_t count, double sample, std::int64_t train_words);

// word2vec.c's unigram^power noise table (InitUnigramTable), built with exactly its loop:
//     d1 = p(0); i = 0
//     for a in 0 .. table_size-1:
//       table[a] = i
//       if a / table_size > d1: i += 1; d1 += p(i)          (p(i) = count[i]^power / total)
//       if i >= V: i = V - 1
// Its rounding: word 0 gets between one and two slots more than its share, each later word
// floor(D_i * table_size) - floor(D_{i-1} * table_size) slots (D_i = the cumulative share, up to
// the rounding of a / table_size) while the walk keeps up, the last word about two fewer; the
// walk moves at most one word per slot, so every word gets at least one slot until the table
// runs out (a word of count 0 too), and then the last words get none: counts {1,1,1,1} in 8 slots
// give 0,0,0,0,1,1,2,2. word2vec.c reads count[V] (one past its vocabulary) when the walk passes
// the last word; here that term is 0, which changes nothing since i is clamped to V - 1 anyway.
class UnigramTable {
 public:
  // counts[i] >= 0 is the count of word id i (word2vec.c: vocab[i].cn, ids in its vocabulary
  // order), with at least one positive count; table_size >= 1 (word2vec.c: 1e8 slots, 400 MB).
  explicit UnigramTable(const std::vector<std::int64_t>& counts, double power = 0.75,
                        std::int64_t table_size = 100000000);

  // The table: table_size word ids.
  const std::vector<std::int32_t>& table() const noexcept { return table_; }
  std::int64_t size() const noexcept { return static_cast<std::int64_t>(table_.size()); }
  std::int32_t vocab_size() const noexcept { return vocab_size_; }

  // A negative as word2vec.c draws it from the current LCG state (advance the state with
  // lcg_next first, as word2vec.c does): table[(next_random >> 16) % table_size].
  // word2vec.c then replaces a draw of id 0 (its "</s>") by next_random % (V - 1) + 1 and skips
  // a draw equal to the centre word; both are the caller's business (sgns_step skips the latter).
  std::int32_t sample(std::uint64_t next_random) const noexcept {
    return table_[static_cast<std::size_t>((next_random >> 16) %
                                           static_cast<std::uint64_t>(table_.size()))];
  }

 private:
  std::vector<std::int32_t> table_;
  std::int32_t vocab_size_ = 0;
};

}  // namespace curnn
