// Analogy accuracy, nearest words and word similarity (curnn/word2vec/eval.hpp).
#include "curnn/word2vec/eval.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "support/data_files.hpp"
#include "support/random.hpp"
#include "w2v_test_util.hpp"

namespace curnn::word2vec {
namespace {

using Eval = test::TempFiles;

NormalizedVectors make_vectors(const std::vector<std::string>& words,
                               const std::vector<std::pair<float, float>>& xy) {
  std::vector<float> v;
  for (const auto& [x, y] : xy) {
    v.push_back(x);
    v.push_back(y);
  }
  return NormalizedVectors(words, v.data(), 2);
}

// man = (1,0), woman = (0,1), king = (1,1)/sqrt2: king - man + woman points exactly at queen.
const float kQx = 0.70710678f - 1, kQy = 0.70710678f + 1;

NormalizedVectors royals() {
  return make_vectors({"man", "woman", "king", "queen", "apple", "paris"},
                      {{1, 0}, {0, 1}, {1, 1}, {kQx, kQy}, {-1, -0.2f}, {0.3f, -1}});
}

TEST_F(Eval, AnalogyKingManWomanQueenAndSectionBookkeeping) {
  const NormalizedVectors v = royals();
  const std::string correct = "Man Woman KING queen\n", wrong = "man woman king apple\n",
                    unseen = "man woman king zebra\n", correct2 = "woman man queen king\n";
  const std::string text = correct + ": s1\n" + correct + wrong + ": s2\n" + unseen + ": s3\n" +
                           correct2 + ": s4\n: s5\n" + wrong + "\n: s6\n" + correct + correct2 +
                           unseen + ": s7\n" + wrong;
  const AnalogyQuestions q = read_analogy_questions(write("q.txt", text));
  ASSERT_EQ(q.sections, (std::vector<std::string>{"", "s1", "s2", "s3", "s4", "s5", "s6", "s7"}));
  ASSERT_EQ(q.questions.size(), 10u);
  EXPECT_EQ(q.questions[0].section, 0);
  EXPECT_EQ(q.questions[9].section, 7);
  EXPECT_EQ(q.questions[0].c, "KING");

  const AnalogyResult r = evaluate_analogies(v, q);
  const std::vector<std::int64_t> questions = {1, 2, 1, 1, 0, 1, 3, 1},
                                  seen = {1, 2, 0, 1, 0, 1, 2, 1}, right = {1, 1, 0, 1, 0, 0, 2, 0};
  ASSERT_EQ(r.sections.size(), 8u);
  for (std::size_t k = 0; k < 8; ++k) {
    EXPECT_EQ(r.sections[k].questions, questions[k]) << k;
    EXPECT_EQ(r.sections[k].seen, seen[k]) << k;
    EXPECT_EQ(r.sections[k].correct, right[k]) << k;
  }
  EXPECT_EQ(r.semantic_seen, 5);
  EXPECT_EQ(r.semantic_correct, 3);
  EXPECT_EQ(r.syntactic_seen, 3);
  EXPECT_EQ(r.syntactic_correct, 2);
  EXPECT_EQ(r.questions, 10);
  EXPECT_EQ(r.seen, 8);
  EXPECT_EQ(r.correct, 5);
  EXPECT_DOUBLE_EQ(r.accuracy(), 5.0 / 8);

  const std::string expected =
      "s1:\nACCURACY TOP1: 50.00 %  (1 / 2)\n"
      "Total accuracy: 66.67 %   Semantic accuracy: 66.67 %   Syntactic accuracy: n/a \n"
      "s2:\nACCURACY TOP1: 0.00 %  (0 / 1)\n"
      "Total accuracy: 66.67 %   Semantic accuracy: 66.67 %   Syntactic accuracy: n/a \n"
      "s3:\nACCURACY TOP1: 100.00 %  (1 / 1)\n"
      "Total accuracy: 75.00 %   Semantic accuracy: 75.00 %   Syntactic accuracy: n/a \n"
      "s4:\nACCURACY TOP1: 0.00 %  (0 / 1)\n"
      "Total accuracy: 75.00 %   Semantic accuracy: 75.00 %   Syntactic accuracy: n/a \n"
      "s5:\nACCURACY TOP1: 0.00 %  (0 / 1)\n"
      "Total accuracy: 60.00 %   Semantic accuracy: 60.00 %   Syntactic accuracy: n/a \n"
      "s6:\nACCURACY TOP1: 100.00 %  (2 / 2)\n"
      "Total accuracy: 71.43 %   Semantic accuracy: 60.00 %   Syntactic accuracy: 100.00 % \n"
      "s7:\nACCURACY TOP1: 0.00 %  (0 / 1)\n"
      "Total accuracy: 62.50 %   Semantic accuracy: 60.00 %   Syntactic accuracy: 66.67 % \n"
      "Questions seen / total: 8 10   80.00 % \n";
  EXPECT_EQ(format_analogy_report(r), expected);
}

TEST(EvalAnalogy, RestrictVocabLimitsLookupAndCandidates) {
  // "decoy" (index 6) points exactly at king - man + woman; "queen" (index 3) nearly.
  const NormalizedVectors v = make_vectors(
      {"man", "woman", "king", "queen", "apple", "paris", "decoy", "rare"},
      {{1, 0}, {0, 1}, {1, 1}, {kQx, kQy + 0.05f}, {-1, -0.2f}, {0.3f, -1}, {kQx, kQy}, {0, -1}});
  AnalogyQuestions q;
  q.sections = {"", "s"};
  q.questions = {{1, "man", "woman", "king", "queen"}, {1, "man", "woman", "rare", "queen"}};
  const AnalogyResult all = evaluate_analogies(v, q, 0);
  EXPECT_EQ(all.seen, 2);
  EXPECT_EQ(all.correct, 0);  // decoy wins the first, the second is wrong too
  const AnalogyResult six = evaluate_analogies(v, q, 6);
  EXPECT_EQ(six.seen, 1);  // "rare" (index 7) is outside the first 6 words
  EXPECT_EQ(six.correct, 1);
  EXPECT_EQ(evaluate_analogies(v, q, 3).seen, 0);  // "queen" is index 3
  EXPECT_THROW(evaluate_analogies(v, q, -1), ArgumentError);
}

TEST(EvalAnalogy, UppercasedLookupUsesTheFirstMatchAndComparesWords) {
  // "Queen" (index 4) is the exact answer; its uppercased word equals the expected "QUEEN" even
  // though lookup maps QUEEN to "queen" (index 3): correct, as compute-accuracy's strcmp says.
  const NormalizedVectors v = make_vectors({"man", "woman", "king", "queen", "Queen"},
                                           {{1, 0}, {0, 1}, {1, 1}, {1, -1}, {kQx, kQy}});
  AnalogyQuestions q;
  q.sections = {"", "s"};
  q.questions = {{1, "MAN", "woman", "King", "queen"}};
  EXPECT_EQ(evaluate_analogies(v, q).correct, 1);
  // An answer needs a positive score (compute-accuracy starts its best at 0).
  const NormalizedVectors neg =
      make_vectors({"a", "b", "c", "d"}, {{1, 0}, {1, 0.001f}, {0, 1}, {0, -1}});
  q.questions = {{1, "a", "b", "c", "d"}};
  // b - a + c ~ (0, 1): d = (0, -1) scores -1 < 0, so no answer: wrong, but seen.
  const AnalogyResult r = evaluate_analogies(neg, q);
  EXPECT_EQ(r.seen, 1);
  EXPECT_EQ(r.correct, 0);
}

// Brute-force compute-accuracy in double: the argmax of (b - a + c) . row over the first `rows`
// words, excluding a, b, c, best starting at 0; -1 when none is positive. Also the runner-up.
std::pair<std::int64_t, std::int64_t> brute_force(const NormalizedVectors& v, std::int64_t rows,
                                                  std::int64_t a, std::int64_t b, std::int64_t c) {
  double best = 0, second = 0;
  std::int64_t bi = -1, si = -1;
  for (std::int64_t w = 0; w < rows; ++w) {
    if (w == a || w == b || w == c) continue;
    double s = 0;
    for (std::int64_t d = 0; d < v.dim(); ++d) {
      s += (static_cast<double>(v.row(b)[d]) - v.row(a)[d] + v.row(c)[d]) * v.row(w)[d];
    }
    if (s > best) {
      second = best;
      si = bi;
      best = s;
      bi = w;
    } else if (s > second) {
      second = s;
      si = w;
    }
  }
  return {bi, si};
}

TEST(EvalAnalogy, MatchesBruteForceForAnyThreadCount) {
  const std::int64_t V = 700, D = 37, rows = 500;  // odd D exercises the tail loop
  std::vector<std::string> words;
  for (std::int64_t i = 0; i < V; ++i) words.push_back("w" + std::to_string(i));
  const auto values = curnn::test::random_uniform(static_cast<std::size_t>(V * D), -1, 1, 5);
  const NormalizedVectors v(words, values.data(), D);
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<std::int64_t> pick(0, 599);
  AnalogyQuestions q;
  q.sections = {"", "a", "b", "c", "d", "e", "f", "g"};
  std::int64_t expected_correct = 0, expected_seen = 0;
  for (int i = 0; i < 333; ++i) {  // 333 = 5 full blocks of 64 plus a ragged one
    const std::int64_t a = pick(rng), b = pick(rng), c = pick(rng);
    if (a == b || b == c || a == c) continue;
    const auto [best, second] = brute_force(v, rows, a, b, c);
    ASSERT_GE(second, 0);
    const bool want_correct = i % 3 != 0;
    const std::int64_t d = want_correct ? best : second;
    const auto section = static_cast<std::int32_t>(i % 8);
    q.questions.push_back({section, words[a], words[b], words[c], words[d]});
    if (a < rows && b < rows && c < rows) {
      ++expected_seen;
      expected_correct += want_correct;
    }
  }
  for (const int threads : {1, 2, 3}) {
    const AnalogyResult r = evaluate_analogies(v, q, rows, threads);
    EXPECT_EQ(r.seen, expected_seen) << threads;
    EXPECT_EQ(r.correct, expected_correct) << threads;
  }
  EXPECT_GT(expected_seen, 150);
}

TEST(EvalNearest, RanksByCosineExcludingTheQuery) {
  auto at = [](double deg) {
    return std::pair<float, float>(static_cast<float>(std::cos(deg * M_PI / 180)),
                                   static_cast<float>(std::sin(deg * M_PI / 180)));
  };
  const NormalizedVectors v =
      make_vectors({"e0", "e10", "e30", "e90", "e180"}, {at(0), at(10), at(30), at(90), at(180)});
  const auto n = nearest(v, "e0", 3);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0].word, "e10");
  EXPECT_EQ(n[1].word, "e30");
  EXPECT_EQ(n[2].word, "e90");
  EXPECT_NEAR(n[0].cosine, std::cos(10 * M_PI / 180), 1e-6);
  EXPECT_NEAR(n[2].cosine, 0, 1e-6);
  EXPECT_EQ(n[1].index, 2);
  // Two words: their normalised sum points at 45 degrees.
  const auto m = nearest(v, std::vector<std::string>{"e0", "e90"}, 10);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].word, "e30");
  EXPECT_EQ(m[1].word, "e10");
  EXPECT_NEAR(m[2].cosine, std::cos(135 * M_PI / 180), 1e-6);
  EXPECT_THROW(nearest(v, "E0", 3), ArgumentError);  // exact, case-sensitive lookup
  EXPECT_THROW(nearest(v, "e0", 0), ArgumentError);
  EXPECT_NEAR(v.similarity(0, 3), 0, 1e-6);
}

TEST(EvalSpearman, AverageRanksForTies) {
  EXPECT_EQ(average_ranks({3, 1, 3, 2}), (std::vector<double>{3.5, 1, 3.5, 2}));
  EXPECT_EQ(average_ranks({5, 5, 5}), (std::vector<double>{2, 2, 2}));
  // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 3, 2, 4}), 0.9486832980505138, 1e-12);
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {10, 20, 30, 400}), 1.0, 1e-12);
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
  // Ties on both sides: ranks x = 1, 3.5, 3.5, 2, 5 and y = 2, 1, 3.5, 3.5, 5 give
  // sum dx*dy = 4.75, sum dx^2 = sum dy^2 = 9.5: rho = 0.5 (scipy.stats.spearmanr agrees).
  EXPECT_NEAR(spearman({0.1, 0.4, 0.4, 0.2, 0.9}, {2, 1, 3, 3, 5}), 0.5, 1e-12);
  EXPECT_TRUE(std::isnan(spearman({1, 1, 1}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(spearman({1}, {1})));
  EXPECT_THROW(spearman({1, 2}, {1}), ArgumentError);
}

TEST_F(Eval, WordSimilarityCaseInsensitiveWithFoundCounts) {
  const NormalizedVectors v = make_vectors({"tiger", "Cat", "car", "cat", "train"},
                                           {{1, 0}, {1, 0.2f}, {0, 1}, {-1, 0}, {0.5f, 1}});
  const std::string file = write("ws.tsv",
                                 "# comment\n# Word 1\tWord 2\tHuman (mean)\n"
                                 "Tiger\tcat\t7.35\ntiger\ttiger\t10.00\ncar\ttrain\t6.31\n"
                                 "tiger\tcar\t1.0\nzebra\ttiger\t8\n");
  const auto pairs = read_word_pairs(file);
  ASSERT_EQ(pairs.size(), 5u);
  EXPECT_DOUBLE_EQ(pairs[0].score, static_cast<double>(7.35f));
  const WordSimilarityResult r = evaluate_word_similarity(v, pairs);
  EXPECT_EQ(r.found, 4);
  EXPECT_EQ(r.total, 5);
  // "cat" resolves to "Cat" (index 1, the first case-insensitive match).
  const std::vector<double> model = {v.similarity(0, 1), 1.0, v.similarity(2, 4), 0.0};
  EXPECT_NEAR(r.spearman, spearman(model, {7.35, 10, 6.31, 1}), 1e-12);
  EXPECT_NEAR(r.spearman, 1.0, 1e-12);                        // same order as the human scores
  EXPECT_EQ(evaluate_word_similarity(v, pairs, 2).found, 2);  // tiger/cat and tiger/tiger
  test::expect_error([&] { read_word_pairs(write("bad.tsv", "a\tb\tx\n")); },
                     {"bad.tsv:1", "expected"});
  test::expect_error([&] { read_word_pairs(write("empty.tsv", "# only\n")); },
                     {"empty.tsv", "no word pairs"});
}

TEST_F(Eval, AnalogyFileErrorsNameTheLine) {
  test::expect_error([&] { read_analogy_questions(write("q.txt", ": s\na b c d\na b c\n")); },
                     {"q.txt:3", "four words"});
  test::expect_error([&] { read_analogy_questions(path("none.txt")); }, {"none.txt"});
}

// The real evaluation files, found as the other dataset tests find theirs
// (tests/support/data_files.hpp: $CURNN_DATA_DIR, or shared/data or data next to the source).
// Skips with where it looked when the folder or the file is absent.
std::string eval_file(const std::string& name, std::string* why) {
  const std::string dir = ::curnn::test::find_dataset("word2vec-eval", why);
  if (dir.empty()) return "";
  const std::string p = dir + "/" + name;
  if (std::filesystem::exists(p) || std::filesystem::exists(p + ".gz")) return p;
  *why = "no " + p + " (nor .gz)";
  return "";
}

TEST(EvalRealFiles, QuestionsWordsParses19544QuestionsIn14Sections) {
  std::string why;
  const std::string p = eval_file("questions-words.txt", &why);
  if (p.empty()) GTEST_SKIP() << why;
  const AnalogyQuestions q = read_analogy_questions(data::find_plain_or_gz(p));
  EXPECT_EQ(q.questions.size(), 19544u);
  ASSERT_EQ(q.sections.size(), 15u);  // "" (no question before the first ':') + 14
  EXPECT_EQ(q.sections[1], "capital-common-countries");
  EXPECT_EQ(q.sections[5], "family");
  EXPECT_EQ(q.sections[14], "gram9-plural-verbs");
  std::int64_t semantic = 0;
  for (const auto& question : q.questions) semantic += question.section <= 5;
  EXPECT_EQ(semantic, 8869);  // the 5 semantic sections; 10,675 syntactic
  EXPECT_EQ(q.questions[0].a, "Athens");
  EXPECT_EQ(q.questions[0].b, "Greece");
  EXPECT_EQ(q.questions[0].d, "Iraq");
}

TEST(EvalRealFiles, WordSim353Parses353Pairs) {
  std::string why;
  const std::string p = eval_file("wordsim353.tsv", &why);
  if (p.empty()) GTEST_SKIP() << why;
  const auto pairs = read_word_pairs(data::find_plain_or_gz(p));
  EXPECT_EQ(pairs.size(), 353u);
  EXPECT_EQ(pairs[0].a, "love");
  EXPECT_EQ(pairs[0].b, "sex");
  EXPECT_NEAR(pairs[0].score, 6.77, 1e-6);
}

}  // namespace
}  // namespace curnn::word2vec
