// Analogy accuracy, nearest words and word similarity (curnn/word2vec/eval.hpp).
#include "curnn/word2vec/eval.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <thread>

#include "byte_reader.hpp"
#include "curnn/error.hpp"

namespace curnn::word2vec {

namespace {

std::string ascii_upper(std::string s) {
  for (char& ch : s) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  }
  return s;
}

std::string ascii_lower(std::string s) {
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return s;
}

std::int64_t restricted_size(const NormalizedVectors& v, std::int64_t restrict_vocab) {
  CURNN_CHECK_ARG(restrict_vocab >= 0, "restrict_vocab must be >= 0, got " << restrict_vocab);
  return restrict_vocab > 0 ? std::min(v.size(), restrict_vocab) : v.size();
}

// Map from a case-folded word to its first index among the first `n` words.
template <class Fold>
std::unordered_map<std::string, std::int64_t> folded_index(const NormalizedVectors& v,
                                                           std::int64_t n, Fold fold) {
  std::unordered_map<std::string, std::int64_t> index;
  index.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) index.emplace(fold(v.word(i)), i);
  return index;
}

template <class Map>
std::int64_t lookup(const Map& index, const std::string& key) {
  const auto it = index.find(key);
  return it == index.end() ? -1 : it->second;
}

// out[q] = dot(query q, row) for four queries [4][D] against one row [D]. Eight independent
// lanes per query so the compiler vectorises without reassociating a reduction; the summation
// order is fixed (deterministic, independent of threading).
__attribute__((always_inline)) inline void dot4(const float* q, std::int64_t dim, const float* row,
                                                float out[4]) {
  float acc[4][8] = {};
  std::int64_t d = 0;
  for (; d + 8 <= dim; d += 8) {
    for (int l = 0; l < 8; ++l) {
      const float r = row[d + l];
      acc[0][l] += q[d + l] * r;
      acc[1][l] += q[dim + d + l] * r;
      acc[2][l] += q[2 * dim + d + l] * r;
      acc[3][l] += q[3 * dim + d + l] * r;
    }
  }
  for (; d < dim; ++d) {
    for (int k = 0; k < 4; ++k) acc[k][0] += q[k * dim + d] * row[d];
  }
  for (int k = 0; k < 4; ++k) {
    out[k] = ((acc[k][0] + acc[k][4]) + (acc[k][1] + acc[k][5])) +
             ((acc[k][2] + acc[k][6]) + (acc[k][3] + acc[k][7]));
  }
}

struct SeenQuestion {
  std::size_t question;
  std::int64_t a, b, c;
};

// Answers of a block of queries [n <= kBlock][D] (readable up to a multiple of 4 rows) over
// rows [0, rows): the argmax of
// query . row with best starting at 0 (compute-accuracy), excluding each query's a, b, c.
constexpr std::int64_t kBlock = 64;     // queries per block (64 x D floats stay in L1/L2)
constexpr std::int64_t kRowTile = 128;  // rows per tile (kept in L2 across the block)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// Function multiversioning: an AVX2+FMA clone is picked at load time where the CPU has it.
#define CURNN_W2V_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CURNN_W2V_CLONES
#endif

CURNN_W2V_CLONES void answer_block(const NormalizedVectors& v, std::int64_t rows,
                                   const float* queries, const SeenQuestion* seen, std::int64_t n,
                                   std::int64_t* answers) {
  const std::int64_t dim = v.dim();
  float best[kBlock];
  std::fill(best, best + kBlock, 0.0f);
  std::fill(answers, answers + n, -1);
  for (std::int64_t tile = 0; tile < rows; tile += kRowTile) {
    const std::int64_t tile_end = std::min(rows, tile + kRowTile);
    for (std::int64_t q0 = 0; q0 < n; q0 += 4) {
      const std::int64_t nq = std::min<std::int64_t>(4, n - q0);
      const float* q = queries + q0 * dim;  // 4 rows: the query array is padded to 4
      for (std::int64_t c = tile; c < tile_end; ++c) {
        float dots[4];
        dot4(q, dim, v.row(c), dots);
        for (std::int64_t k = 0; k < nq; ++k) {
          const SeenQuestion& s = seen[q0 + k];
          if (c == s.a || c == s.b || c == s.c) continue;
          if (dots[k] > best[q0 + k]) {
            best[q0 + k] = dots[k];
            answers[q0 + k] = c;
          }
        }
      }
    }
  }
}

}  // namespace

// ---- NormalizedVectors
// ----------------------------------------------------------------------------

NormalizedVectors::NormalizedVectors(WordVectors vectors) : v_(std::move(vectors)) {
  normalize_and_index();
}

NormalizedVectors::NormalizedVectors(std::vector<std::string> words, const float* vectors,
                                     std::int64_t dim) {
  CURNN_CHECK_ARG(dim >= 1, "NormalizedVectors: dimension must be >= 1, got " << dim);
  CURNN_CHECK_ARG(vectors != nullptr || words.empty(), "NormalizedVectors: null vectors");
  v_.dim = dim;
  v_.values.assign(vectors, vectors + static_cast<std::int64_t>(words.size()) * dim);
  v_.words = std::move(words);
  normalize_and_index();
}

void NormalizedVectors::normalize_and_index() {
  CURNN_CHECK_ARG(
      v_.dim >= 1 && v_.values.size() == v_.words.size() * static_cast<std::size_t>(v_.dim),
      "NormalizedVectors: " << v_.words.size() << " words but " << v_.values.size()
                            << " values for dimension " << v_.dim);
  for (std::int64_t i = 0; i < size(); ++i) {
    float* r = v_.values.data() + i * v_.dim;
    double len = 0;
    for (std::int64_t d = 0; d < v_.dim; ++d) len += static_cast<double>(r[d]) * r[d];
    if (len > 0) {
      const auto inv = static_cast<float>(1.0 / std::sqrt(len));
      for (std::int64_t d = 0; d < v_.dim; ++d) r[d] *= inv;
    }
  }
  index_.reserve(v_.words.size());
  for (std::size_t i = 0; i < v_.words.size(); ++i) {
    index_.emplace(v_.words[i], static_cast<std::int64_t>(i));
  }
}

std::int64_t NormalizedVectors::find(const std::string& word) const {
  return lookup(index_, word);
}

float NormalizedVectors::similarity(std::int64_t i, std::int64_t j) const {
  CURNN_CHECK_ARG(i >= 0 && i < size() && j >= 0 && j < size(),
                  "similarity: index out of range (" << i << ", " << j << " of " << size() << ")");
  double s = 0;
  for (std::int64_t d = 0; d < dim(); ++d) s += static_cast<double>(row(i)[d]) * row(j)[d];
  return static_cast<float>(s);
}

// ---- analogy
// --------------------------------------------------------------------------------------

AnalogyQuestions read_analogy_questions(const std::string& path) {
  detail::ByteReader in(path);
  AnalogyQuestions out;
  out.sections.emplace_back();
  std::string line;
  for (std::int64_t n = 1; detail::read_line(in, line, n); ++n) {
    const auto f = detail::split_fields(line);
    if (f.empty()) continue;
    if (f[0].front() == ':') {
      std::string name(f[0].substr(1));
      for (std::size_t k = 1; k < f.size(); ++k)
        name += (name.empty() ? "" : " ") + std::string(f[k]);
      out.sections.push_back(std::move(name));
      continue;
    }
    CURNN_CHECK(f.size() == 4, path << ":" << n << ": expected \": section\" or four words, got "
                                    << detail::quoted(line));
    out.questions.push_back({static_cast<std::int32_t>(out.sections.size() - 1), std::string(f[0]),
                             std::string(f[1]), std::string(f[2]), std::string(f[3])});
  }
  return out;
}

AnalogyResult evaluate_analogies(const NormalizedVectors& vectors,
                                 const AnalogyQuestions& questions, std::int64_t restrict_vocab,
                                 int threads) {
  CURNN_CHECK_ARG(threads >= 0, "threads must be >= 0, got " << threads);
  const std::int64_t rows = restricted_size(vectors, restrict_vocab);
  const auto index = folded_index(vectors, rows, ascii_upper);
  std::vector<std::string> upper(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i)
    upper[static_cast<std::size_t>(i)] = ascii_upper(vectors.word(i));

  AnalogyResult result;
  result.sections.resize(questions.sections.size());
  for (std::size_t s = 0; s < questions.sections.size(); ++s) {
    result.sections[s].name = questions.sections[s];
  }
  // Which questions are seen, and their query vectors b - a + c.
  const std::int64_t dim = vectors.dim();
  std::vector<SeenQuestion> seen;
  std::vector<std::string> expected;  // uppercased d per seen question
  for (std::size_t qi = 0; qi < questions.questions.size(); ++qi) {
    const AnalogyQuestion& q = questions.questions[qi];
    CURNN_CHECK_ARG(q.section >= 0 && static_cast<std::size_t>(q.section) < result.sections.size(),
                    "evaluate_analogies: question " << qi << " has section " << q.section);
    ++result.sections[static_cast<std::size_t>(q.section)].questions;
    ++result.questions;
    const std::int64_t a = lookup(index, ascii_upper(q.a)), b = lookup(index, ascii_upper(q.b)),
                       c = lookup(index, ascii_upper(q.c));
    std::string d = ascii_upper(q.d);
    if (a < 0 || b < 0 || c < 0 || lookup(index, d) < 0) continue;
    seen.push_back({qi, a, b, c});
    expected.push_back(std::move(d));
  }
  const auto n_seen = static_cast<std::int64_t>(seen.size());
  std::vector<float> queries(static_cast<std::size_t>((n_seen + 3) / 4 * 4 * dim));  // [S, D]
  for (std::int64_t s = 0; s < n_seen; ++s) {
    const float *a = vectors.row(seen[s].a), *b = vectors.row(seen[s].b),
                *c = vectors.row(seen[s].c);
    for (std::int64_t d = 0; d < dim; ++d) queries[s * dim + d] = (b[d] - a[d]) + c[d];
  }

  std::vector<std::int64_t> answers(static_cast<std::size_t>(n_seen), -1);  // [S]
  const std::int64_t blocks = (n_seen + kBlock - 1) / kBlock;
  std::atomic<std::int64_t> next_block{0};
  auto worker = [&] {
    for (std::int64_t blk; (blk = next_block.fetch_add(1)) < blocks;) {
      const std::int64_t first = blk * kBlock, n = std::min(kBlock, n_seen - first);
      answer_block(vectors, rows, queries.data() + first * dim, seen.data() + first, n,
                   answers.data() + first);
    }
  };
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto n_threads = static_cast<int>(
      std::min<std::int64_t>(threads > 0 ? threads : hw, std::max<std::int64_t>(blocks, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  for (std::int64_t s = 0; s < n_seen; ++s) {
    const std::int32_t section = questions.questions[seen[s].question].section;
    const bool correct =
        answers[s] >= 0 && upper[static_cast<std::size_t>(answers[s])] == expected[s];
    AnalogySectionResult& r = result.sections[static_cast<std::size_t>(section)];
    ++r.seen;
    r.correct += correct;
    ++result.seen;
    result.correct += correct;
    if (section <= 5) {
      ++result.semantic_seen;
      result.semantic_correct += correct;
    } else {
      ++result.syntactic_seen;
      result.syntactic_correct += correct;
    }
  }
  return result;
}

std::string format_analogy_report(const AnalogyResult& result) {
  std::string out;
  char line[512];
  std::int64_t total_seen = 0, total_correct = 0, sem_seen = 0, sem_correct = 0, syn_seen = 0,
               syn_correct = 0;
  for (std::size_t k = 0; k < result.sections.size(); ++k) {
    const AnalogySectionResult& s = result.sections[k];
    total_seen += s.seen;
    total_correct += s.correct;
    (k <= 5 ? sem_seen : syn_seen) += s.seen;
    (k <= 5 ? sem_correct : syn_correct) += s.correct;
    if (k == 0) continue;  // questions before the first section are only counted
    out += s.name + ":\n";
    const auto tcn = static_cast<int>(std::max<std::int64_t>(s.seen, 1));
    std::snprintf(
        line, sizeof line, "ACCURACY TOP1: %.2f %%  (%d / %d)\n",
        static_cast<double>(static_cast<float>(s.correct) / static_cast<float>(tcn) * 100),
        static_cast<int>(s.correct), tcn);
    out += line;
    auto pct = [](std::int64_t num, std::int64_t den) {
      return static_cast<double>(static_cast<float>(num) / static_cast<float>(den) * 100);
    };
    std::snprintf(line, sizeof line,
                  "Total accuracy: %.2f %%   Semantic accuracy: %.2f %%   Syntactic accuracy: "
                  "%.2f %% \n",
                  pct(total_correct, total_seen), pct(sem_correct, sem_seen),
                  pct(syn_correct, syn_seen));
    out += line;
  }
  std::snprintf(line, sizeof line, "Questions seen / total: %d %d   %.2f %% \n",
                static_cast<int>(result.seen), static_cast<int>(result.questions),
                static_cast<double>(static_cast<float>(result.seen) /
                                    static_cast<float>(result.questions) * 100));
  out += line;
  return out;
}

// ---- nearest words
// --------------------------------------------------------------------------------

std::vector<Neighbor> nearest(const NormalizedVectors& vectors, const std::string& word, int k) {
  return nearest(vectors, std::vector<std::string>{word}, k);
}

std::vector<Neighbor> nearest(const NormalizedVectors& vectors,
                              const std::vector<std::string>& words, int k) {
  CURNN_CHECK_ARG(k >= 1, "nearest: k must be >= 1, got " << k);
  CURNN_CHECK_ARG(!words.empty(), "nearest: no query word");
  const std::int64_t dim = vectors.dim();
  std::vector<std::int64_t> query;
  std::vector<double> sum(static_cast<std::size_t>(dim), 0.0);
  for (const auto& w : words) {
    const std::int64_t i = vectors.find(w);
    CURNN_CHECK_ARG(i >= 0, "nearest: " << detail::quoted(w) << " is not in the vocabulary");
    query.push_back(i);
    for (std::int64_t d = 0; d < dim; ++d) sum[d] += vectors.row(i)[d];
  }
  double len = 0;
  for (double x : sum) len += x * x;
  len = std::sqrt(len);
  std::vector<float> vec(static_cast<std::size_t>(dim));
  for (std::int64_t d = 0; d < dim; ++d) vec[d] = static_cast<float>(len > 0 ? sum[d] / len : 0.0);

  std::vector<std::pair<float, std::int64_t>> scored;
  scored.reserve(static_cast<std::size_t>(vectors.size()));
  for (std::int64_t c = 0; c < vectors.size(); ++c) {
    if (std::find(query.begin(), query.end(), c) != query.end()) continue;
    double dot = 0;
    const float* r = vectors.row(c);
    for (std::int64_t d = 0; d < dim; ++d) dot += static_cast<double>(vec[d]) * r[d];
    scored.emplace_back(static_cast<float>(dot), c);
  }
  const auto take = std::min<std::size_t>(static_cast<std::size_t>(k), scored.size());
  std::partial_sort(scored.begin(), scored.begin() + take, scored.end(),
                    [](const auto& x, const auto& y) {
                      return x.first > y.first || (x.first == y.first && x.second < y.second);
                    });
  std::vector<Neighbor> out;
  for (std::size_t i = 0; i < take; ++i) {
    out.push_back({scored[i].second, vectors.word(scored[i].second), scored[i].first});
  }
  return out;
}

// ---- word similarity
// ------------------------------------------------------------------------------

std::vector<WordPair> read_word_pairs(const std::string& path) {
  detail::ByteReader in(path);
  std::vector<WordPair> pairs;
  std::string line;
  for (std::int64_t n = 1; detail::read_line(in, line, n); ++n) {
    const auto f = detail::split_fields(line);
    if (f.empty() || f[0].front() == '#') continue;
    float score = 0;
    CURNN_CHECK(
        f.size() == 3 && detail::parse_float(f[2], score) && std::isfinite(score),
        path << ":" << n << ": expected \"word1 word2 score\", got " << detail::quoted(line));
    pairs.push_back({std::string(f[0]), std::string(f[1]), static_cast<double>(score)});
  }
  CURNN_CHECK(!pairs.empty(), path << ": no word pairs");
  return pairs;
}

WordSimilarityResult evaluate_word_similarity(const NormalizedVectors& vectors,
                                              const std::vector<WordPair>& pairs,
                                              std::int64_t restrict_vocab) {
  const std::int64_t rows = restricted_size(vectors, restrict_vocab);
  const auto index = folded_index(vectors, rows, ascii_lower);
  std::vector<double> model, human;
  for (const WordPair& p : pairs) {
    const std::int64_t a = lookup(index, ascii_lower(p.a)), b = lookup(index, ascii_lower(p.b));
    if (a < 0 || b < 0) continue;
    model.push_back(vectors.similarity(a, b));
    human.push_back(p.score);
  }
  WordSimilarityResult r;
  r.total = static_cast<std::int64_t>(pairs.size());
  r.found = static_cast<std::int64_t>(model.size());
  r.spearman = spearman(model, human);
  return r;
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> rank(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double average = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2;
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = average;
    i = j + 1;
  }
  return rank;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  CURNN_CHECK_ARG(x.size() == y.size(),
                  "spearman: " << x.size() << " vs " << y.size() << " values");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (x.size() < 2) return nan;
  const auto rx = average_ranks(x), ry = average_ranks(y);
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n;
  const double my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return nan;
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace curnn::word2vec
