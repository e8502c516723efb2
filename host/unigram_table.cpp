// word2vec.c's unigram noise table and subsampling probability (see curnn/unigram_table.hpp).
#include "curnn/unigram_table.hpp"

#include <cmath>
#include <limits>

#include "curnn/error.hpp"

namespace curnn {

double keep_probability(std::int64_t count, double sample, std::int64_t train_words) {
  if (!(sample > 0.0)) return 1.0;
  CURNN_CHECK_ARG(count >= 1 && train_words >= 1, "keep_probability: count "
                                                      << count << " and train_words " << train_words
                                                      << " must be >= 1 when sample > 0");
  const double st = sample * static_cast<double>(train_words);
  const double cn = static_cast<double>(count);
  return (std::sqrt(cn / st) + 1.0) * st / cn;
}

UnigramTable::UnigramTable(const std::vector<std::int64_t>& counts, double power,
                           std::int64_t table_size) {
  const std::int64_t V = static_cast<std::int64_t>(counts.size());
  CURNN_CHECK_ARG(V >= 1 && V <= std::numeric_limits<std::int32_t>::max(),
                  "UnigramTable: vocabulary of " << V << " words");
  CURNN_CHECK_ARG(table_size >= 1, "UnigramTable: table_size " << table_size);
  CURNN_CHECK_ARG(std::isfinite(power), "UnigramTable: power " << power);
  // word2vec.c: for (a = 0; a < vocab_size; a++) train_words_pow += pow(vocab[a].cn, power);
  double total = 0.0;
  for (std::int64_t w = 0; w < V; ++w) {
    CURNN_CHECK_ARG(counts[w] >= 0, "UnigramTable: counts[" << w << "] = " << counts[w]);
    total += std::pow(static_cast<double>(counts[w]), power);
  }
  CURNN_CHECK_ARG(total > 0.0 && std::isfinite(total),
                  "UnigramTable: sum of count^power is " << total);
  const auto share = [&](std::int64_t w) {
    return w < V ? std::pow(static_cast<double>(counts[w]), power) / total : 0.0;
  };
  vocab_size_ = static_cast<std::int32_t>(V);
  table_.resize(static_cast<std::size_t>(table_size));
  std::int64_t i = 0;
  double d1 = share(0);
  for (std::int64_t a = 0; a < table_size; ++a) {
    table_[static_cast<std::size_t>(a)] = static_cast<std::int32_t>(i);
    if (static_cast<double>(a) / static_cast<double>(table_size) > d1) {
      ++i;
      d1 += share(i);  // word2vec.c reads vocab[vocab_size].cn here when i reaches V
    }
    if (i >= V) i = V - 1;
  }
}

}  // namespace curnn
