// curnn-distance: word2vec.c's distance on any vectors file in the word2vec text or binary
// format: the nearest words (cosine) of a word or of the sum of several, query words excluded
// (curnn/word2vec/eval.hpp). Queries come from the command line, or one per line from stdin
// (several words on a line are summed; "EXIT" or the end of input stops).
//
//   curnn-distance vectors.bin france            curnn-distance vectors.bin < queries.txt
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "app_common.hpp"
#include "curnn/word2vec/eval.hpp"
#include "w2v_common.hpp"

namespace {

namespace w2v = curnn::word2vec;

void print_neighbors(const w2v::NormalizedVectors& vectors, const std::vector<std::string>& query,
                     int top) {
  for (const std::string& word : query) {
    const std::int64_t i = vectors.find(word);
    CURNN_CHECK_ARG(i >= 0,
                    "out of dictionary word: " << curnn::one_line(word, curnn::kQuotedBytes));
    std::printf("\nWord: %s  Position in vocabulary: %lld\n", word.c_str(),
                static_cast<long long>(i));
  }
  std::printf("\n%50s\t\tCosine distance\n", "Word");
  std::printf("------------------------------------------------------------------------\n");
  for (const w2v::Neighbor& n : w2v::nearest(vectors, query, top)) {
    std::printf("%50s\t\t%f\n", n.word.c_str(), static_cast<double>(n.cosine));
  }
}

}  // namespace

int main(int argc, char** argv) {
  return curnn::app::run_main("curnn-distance", [&]() -> int {
    std::string vectors_path;
    std::vector<std::string> query;
    int top = 40;
    CLI::App cli{"curnn-distance: nearest words by cosine similarity, as word2vec.c's distance"};
    cli.add_option("vectors", vectors_path, "word vectors (word2vec text or binary, or .gz)")
        ->required();
    cli.add_option("words", query, "query words, summed (default: read queries from stdin)");
    cli.add_option("-n,--top", top, "number of nearest words (default 40)")
        ->check(CLI::Range(1, 1000000));
    try {
      cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return curnn::app::exit_on_parse_error(cli, e, "curnn-distance");
    }
    const w2v::NormalizedVectors vectors(w2v::read_word_vectors(vectors_path));
    if (!query.empty()) {
      print_neighbors(vectors, query, top);
      return 0;
    }
    // Interactive / piped: a bad query is reported and the next line read.
    std::string line;
    for (;;) {
      std::printf("Enter word or sentence (EXIT to break): ");
      std::fflush(stdout);
      if (!std::getline(std::cin, line) || line == "EXIT") break;
      std::istringstream words(line);
      std::vector<std::string> q;
      for (std::string w; words >> w;) q.push_back(w);
      if (q.empty()) continue;
      try {
        print_neighbors(vectors, q, top);
      } catch (const curnn::Error& e) {
        std::printf("%s\n", curnn::one_line(e.message()).c_str());
      }
    }
    std::printf("\n");
    return 0;
  });
}
