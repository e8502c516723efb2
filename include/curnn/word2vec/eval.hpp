// Evaluation of word vectors: word2vec.c's compute-accuracy (analogies), distance (nearest
// words) and WordSim-353 (Spearman correlation). Implementation: host/word2vec/eval.cpp; tests:
// tests/w2v_eval_test.cpp.
//
// Analogy, exactly as compute-accuracy.c:
//  - only the first restrict_vocab words (its "threshold"; 0 = all) are used, as candidates and
//    for lookup; vectors are L2-normalised; words and questions are uppercased with ASCII
//    toupper; a word maps to its first (most frequent) uppercased match;
//  - a line ": name" starts section QID = 1, 2, ...; a question "a b c d" is "seen" when all four
//    words are in the restricted vocabulary; otherwise it is only counted in the total;
//  - answer = argmax over candidates c != a, b, c (by index) of (b - a + c) . M[c]; the best
//    score starts at 0, so an answer needs a positive score (ties: the lowest index); the
//    question is correct when the answer's uppercased word equals d;
//  - semantic = questions of sections QID <= 5 (questions before any ':' line count as QID 0),
//    syntactic = the rest; accuracies are correct / seen.
//  Vectors are normalised and dot products summed with the same float operations in the same
//  order as compute-accuracy.c, so the answers are the same: on questions-words.txt with
//  30,000-word binary files (D = 8, 37, 100) format_analogy_report's output was byte-identical
//  to compute-accuracy's. Differences: compute-accuracy truncates vocabulary words at 50 bytes
//  and question words at 2000; we compare whole words. A zero vector stays zero
//  (compute-accuracy divides by 0: NaN); either way it never wins.
// The scoring is a blocked product: 64-question blocks against the restricted vocabulary packed
// in transposed 16-word panels (no horizontal sums), spread over threads; each dot product is
// summed over d in order, so the result does not depend on the number of threads. On x86-64 an
// AVX2 version of the loop is chosen at run time where the CPU has it. About 2-5 s for
// questions-words.txt x 30,000 words x D = 128 on 2 cores (bench/w2v_host_bench.cpp).
//
// Nearest words, as distance.c: the query words' normalised vectors are summed and normalised;
// every other word (by index, query words excluded) ranked by cosine, ties by lowest index.
//
// WordSim-353: lines "word1<TAB>word2<TAB>score" ('#' lines and blank lines skipped; runs of
// spaces also separate); a pair is found when both words are in the (restricted) vocabulary,
// looked up case-insensitively (ASCII; first match = most frequent); Spearman's rho between the
// cosines and the human scores over the found pairs, ties given their average rank.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "curnn/word2vec/vectors.hpp"

namespace curnn::word2vec {

// Word vectors with every row L2-normalised (zero rows stay zero).
class NormalizedVectors {
 public:
  explicit NormalizedVectors(WordVectors vectors);
  // From memory, e.g. embeddings copied back from the device: vectors [V, D] row-major.
  NormalizedVectors(std::vector<std::string> words, const float* vectors, std::int64_t dim);

  std::int64_t size() const noexcept { return static_cast<std::int64_t>(v_.words.size()); }
  std::int64_t dim() const noexcept { return v_.dim; }
  const std::string& word(std::int64_t i) const { return v_.words.at(static_cast<std::size_t>(i)); }
  const float* row(std::int64_t i) const { return v_.row(i); }  // [D], unit length
  // Exact lookup (case-sensitive, as distance.c); the first match; -1 when absent.
  std::int64_t find(const std::string& word) const;
  // Cosine similarity of words i and j.
  float similarity(std::int64_t i, std::int64_t j) const;

 private:
  void normalize_and_index();
  WordVectors v_;
  std::unordered_map<std::string, std::int64_t> index_;
};

// ---- analogy ----------------------------------------------------------------------------------

struct AnalogyQuestion {
  std::int32_t section;    // index into AnalogyQuestions::sections
  std::string a, b, c, d;  // "a is to b as c is to d"
};

struct AnalogyQuestions {
  // Section names in file order; sections[0] is "" and holds the questions that precede the
  // first ':' line (QID 0), so sections[k] is compute-accuracy's QID k.
  std::vector<std::string> sections;
  std::vector<AnalogyQuestion> questions;
};

// Reads questions-words.txt (plain or .gz). Blank lines are skipped; a line that is neither
// ": section" nor four words is an error naming the line.
AnalogyQuestions read_analogy_questions(const std::string& path);

struct AnalogySectionResult {
  std::string name;
  std::int64_t questions = 0;  // in the file
  std::int64_t seen = 0;       // all four words in the restricted vocabulary
  std::int64_t correct = 0;
};

struct AnalogyResult {
  std::vector<AnalogySectionResult> sections;              // parallel to AnalogyQuestions::sections
  std::int64_t semantic_seen = 0, semantic_correct = 0;    // QID <= 5
  std::int64_t syntactic_seen = 0, syntactic_correct = 0;  // QID > 5
  std::int64_t questions = 0, seen = 0, correct = 0;

  double accuracy() const { return seen ? static_cast<double>(correct) / seen : 0.0; }
  double semantic_accuracy() const {
    return semantic_seen ? static_cast<double>(semantic_correct) / semantic_seen : 0.0;
  }
  double syntactic_accuracy() const {
    return syntactic_seen ? static_cast<double>(syntactic_correct) / syntactic_seen : 0.0;
  }
};

// threads = 0: curnn::cpu_threads() (CURNN_NUM_THREADS, else every core). The result does not
// depend on the thread count (the questions are independent).
AnalogyResult evaluate_analogies(const NormalizedVectors& vectors,
                                 const AnalogyQuestions& questions,
                                 std::int64_t restrict_vocab = 30000, int threads = 0);

// compute-accuracy's printout: per section "name:" then "ACCURACY TOP1: ..." and the running
// "Total accuracy: ... Semantic accuracy: ... Syntactic accuracy: ..." lines, then
// "Questions seen / total: ...", with its printf formats; except that a share of nothing (no
// question seen yet) is "n/a" where compute-accuracy prints "-nan %", and a file without
// questions, or without any usable one, ends with a line saying so. Section names are shown
// escaped and bounded (curnn::one_line).
std::string format_analogy_report(const AnalogyResult& result);

// ---- nearest words -----------------------------------------------------------------------------

struct Neighbor {
  std::int64_t index;
  std::string word;
  float cosine;
};

// The k nearest words of a word or of the sum of several (distance.c). Throws
// curnn::ArgumentError naming an out-of-vocabulary query word.
std::vector<Neighbor> nearest(const NormalizedVectors& vectors, const std::string& word, int k);
std::vector<Neighbor> nearest(const NormalizedVectors& vectors,
                              const std::vector<std::string>& words, int k);

// ---- word similarity
// -----------------------------------------------------------------------------

struct WordPair {
  std::string a, b;
  double score;
};

std::vector<WordPair> read_word_pairs(const std::string& path);

struct WordSimilarityResult {
  double spearman = 0;  // NaN when fewer than 2 pairs were found or a side is constant
  std::int64_t found = 0, total = 0;
};

// restrict_vocab = 0: all words.
WordSimilarityResult evaluate_word_similarity(const NormalizedVectors& vectors,
                                              const std::vector<WordPair>& pairs,
                                              std::int64_t restrict_vocab = 0);

// Ranks 1..n with ties given their average rank.
std::vector<double> average_ranks(const std::vector<double>& x);
// Spearman's rho = Pearson correlation of the average ranks; NaN when n < 2 or a side is
// constant.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace curnn::word2vec
