// libFuzzer harness: word-similarity pair files (curnn/word2vec/eval.hpp): read_word_pairs, then
// the Spearman evaluation over a small fixed vocabulary.
#include <cmath>
#include <string>
#include <vector>

#include "curnn/word2vec/eval.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  static fuzz::InputFile file;
  static const word2vec::NormalizedVectors vectors(
      std::vector<std::string>{"tiger", "cat", "car", "money", "cash"},
      std::vector<float>{1, 0, 0.9f, 0.2f, 0, 1, -1, 0.3f, -0.9f, 0.2f}.data(), 2);
  const std::string& path = file.set(data, size);
  fuzz::only_curnn_errors([&] {
    const std::vector<word2vec::WordPair> pairs = word2vec::read_word_pairs(path);
    const word2vec::WordSimilarityResult r =
        word2vec::evaluate_word_similarity(vectors, pairs, static_cast<std::int64_t>(size % 6));
    fuzz::require(r.found <= r.total, "wordsim: found <= total");
    fuzz::require(std::isnan(r.spearman) || std::fabs(r.spearman) <= 1.0 + 1e-9,
                  "wordsim: |rho| <= 1");
  });
  return 0;
}
