// curnn-wordsim: word similarity (WordSim-353) of any vectors file in the word2vec text or
// binary format: Spearman's rho between the cosines and the human scores over the pairs whose
// words are both in the vocabulary (case-insensitive), and how many pairs were found
// (curnn/word2vec/eval.hpp).
//
//   curnn-wordsim vectors.bin [--pairs wordsim353.tsv] [--restrict-vocab N]
#include <cmath>
#include <cstdio>
#include <string>

#include "app_common.hpp"
#include "curnn/word2vec/eval.hpp"
#include "w2v_common.hpp"

int main(int argc, char** argv) {
  return curnn::app::run_main("curnn-wordsim", [&]() -> int {
    namespace w2v = curnn::word2vec;
    std::string vectors_path, pairs_path = curnn::app::kDefaultWordPairs, log_json;
    std::int64_t restrict_vocab = 0;
    CLI::App cli{
        "curnn-wordsim: Spearman correlation of word-vector cosines with human "
        "similarity scores (WordSim-353)"};
    cli.add_option("vectors", vectors_path, "word vectors (word2vec text or binary, or .gz)")
        ->required();
    cli.add_option("--pairs", pairs_path, "word pairs: word1 TAB word2 TAB score");
    cli.add_option("--restrict-vocab", restrict_vocab,
                   "use only the first N words of the file (0 = all)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    cli.add_option("--log-json", log_json, "write the result as one JSON object");
    try {
      cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return curnn::app::exit_on_parse_error(cli, e, "curnn-wordsim");
    }
    curnn::app::JsonLog log(log_json);  // an unusable log path is reported before any work
    const std::vector<w2v::WordPair> pairs =
        w2v::read_word_pairs(curnn::app::plain_or_gz(pairs_path));
    const w2v::NormalizedVectors vectors(
        w2v::read_word_vectors(vectors_path, w2v::VectorFormat::Auto, restrict_vocab));
    const w2v::WordSimilarityResult r =
        w2v::evaluate_word_similarity(vectors, pairs, restrict_vocab);
    if (std::isfinite(r.spearman)) {
      std::printf("Spearman correlation: %.4f (pairs found: %lld / %lld)\n", r.spearman,
                  static_cast<long long>(r.found), static_cast<long long>(r.total));
    } else {  // legal input with nothing to correlate: say why instead of "nan"
      std::printf("Spearman correlation: n/a (pairs found: %lld / %lld): %s\n",
                  static_cast<long long>(r.found), static_cast<long long>(r.total),
                  r.found < 2 ? "fewer than 2 pairs have both words in the vocabulary"
                              : "the cosines or the human scores of the pairs found are all equal");
    }
    log.write({{"type", "wordsim"},
               {"vectors", vectors_path},
               {"pairs", pairs_path},
               {"spearman", std::isfinite(r.spearman) ? nlohmann::json(r.spearman) : nullptr},
               {"found", r.found},
               {"total", r.total}});
    return 0;
  });
}
