// Analogy accuracy, nearest words and word similarity (curnn/word2vec/eval.hpp).
#include "curnn/word2vec/eval.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <thread>

#include "byte_reader.hpp"
#include "curnn/error.hpp"
#include "curnn/text.hpp"
#include "curnn/threads.hpp"

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

struct SeenQuestion {
  std::size_t question;
  std::int64_t a, b, c;
};

// The restricted vocabulary packed in panels of kPanel rows, transposed: panel p holds
// packed[p][d][l] = row(p * kPanel + l)[d] (zero rows pad the last panel). Scoring then needs no
// horizontal reductions: each step broadcasts one query component against kPanel rows.
constexpr std::int64_t kPanel = 16;
constexpr std::int64_t kQueries = 4;     // queries per micro-kernel call
constexpr std::int64_t kBlock = 64;      // queries per block (kBlock x D floats stay in L2)
constexpr std::int64_t kTilePanels = 8;  // panels per tile (8 x 16 x D floats stay in L2)

std::vector<float> pack_panels(const NormalizedVectors& v, std::int64_t rows) {
  const std::int64_t dim = v.dim(), panels = (rows + kPanel - 1) / kPanel;
  std::vector<float> packed(static_cast<std::size_t>(panels * dim * kPanel), 0.0f);
  for (std::int64_t r = 0; r < rows; ++r) {
    float* panel = packed.data() + (r / kPanel) * dim * kPanel + r % kPanel;
    for (std::int64_t d = 0; d < dim; ++d) panel[d * kPanel] = v.row(r)[d];
  }
  return packed;
}

// acc[k][col0 + l] = query k . row col0 + l of a panel, l < 2W, for kQueries queries
// [kQueries][D] and one packed panel [D][kPanel]: 2 x kQueries accumulators of W lanes (GCC/Clang
// vector extensions, V = W floats: one SSE/NEON or AVX register), summed over d in order.
template <class V, int W>
__attribute__((always_inline)) inline void panel_dots(const float* panel, std::int64_t dim,
                                                      const float* q, std::int64_t col0,
                                                      float acc[kQueries][kPanel]) {
  static_assert(sizeof(V) == W * sizeof(float) && kQueries == 4, "4 queries x 2 vectors");
  V a00 = {}, a01 = {}, a10 = {}, a11 = {}, a20 = {}, a21 = {}, a30 = {}, a31 = {};
  const float *q0 = q, *q1 = q + dim, *q2 = q + 2 * dim, *q3 = q + 3 * dim;
  for (std::int64_t d = 0; d < dim; ++d) {
    V t0, t1;
    std::memcpy(&t0, panel + d * kPanel + col0, sizeof t0);
    std::memcpy(&t1, panel + d * kPanel + col0 + W, sizeof t1);
    a00 += q0[d] * t0;
    a01 += q0[d] * t1;
    a10 += q1[d] * t0;
    a11 += q1[d] * t1;
    a20 += q2[d] * t0;
    a21 += q2[d] * t1;
    a30 += q3[d] * t0;
    a31 += q3[d] * t1;
  }
  const V lanes[kQueries][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
  for (std::int64_t k = 0; k < kQueries; ++k) {
    std::memcpy(&acc[k][col0], &lanes[k][0], sizeof(V));
    std::memcpy(&acc[k][col0 + W], &lanes[k][1], sizeof(V));
  }
}

// Answers of a block of queries [n <= kBlock][D] (readable up to a multiple of kQueries rows)
// over rows [0, rows): the argmax of query . row with best starting at 0 (compute-accuracy),
// excluding each query's a, b, c; ties go to the lowest row. Every dot product is summed over d
// in order, so the result is deterministic and independent of the threading.
template <class V, int W>
__attribute__((always_inline)) inline void answer_block_impl(const float* packed, std::int64_t rows,
                                                             std::int64_t dim, const float* queries,
                                                             const SeenQuestion* seen,
                                                             std::int64_t n,
                                                             std::int64_t* answers) {
  float best[kBlock];
  std::fill(best, best + kBlock, 0.0f);
  std::fill(answers, answers + n, -1);
  const std::int64_t panels = (rows + kPanel - 1) / kPanel;
  for (std::int64_t tile = 0; tile < panels; tile += kTilePanels) {
    const std::int64_t tile_end = std::min(panels, tile + kTilePanels);
    for (std::int64_t q0 = 0; q0 < n; q0 += kQueries) {
      const std::int64_t nq = std::min(kQueries, n - q0);
      const float* q = queries + q0 * dim;
      for (std::int64_t p = tile; p < tile_end; ++p) {
        const float* panel = packed + p * dim * kPanel;
        float acc[kQueries][kPanel];
        for (std::int64_t col0 = 0; col0 < kPanel; col0 += 2 * W) {
          panel_dots<V, W>(panel, dim, q, col0, acc);
        }
        const std::int64_t first = p * kPanel, count = std::min(kPanel, rows - first);
        for (std::int64_t k = 0; k < nq; ++k) {
          const SeenQuestion& s = seen[q0 + k];
          for (std::int64_t l = 0; l < count; ++l) {
            const std::int64_t c = first + l;
            if (acc[k][l] > best[q0 + k] && c != s.a && c != s.b && c != s.c) {
              best[q0 + k] = acc[k][l];
              answers[q0 + k] = c;
            }
          }
        }
      }
    }
  }
}

using f32x4 = float __attribute__((vector_size(16)));

void answer_block_portable(const float* packed, std::int64_t rows, std::int64_t dim,
                           const float* queries, const SeenQuestion* seen, std::int64_t n,
                           std::int64_t* answers) {
  answer_block_impl<f32x4, 4>(packed, rows, dim, queries, seen, n, answers);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CURNN_W2V_AVX2 1
using f32x8 = float __attribute__((vector_size(32)));

// The same for CPUs with AVX2, chosen at run time. Without "fma" in the target no multiply-add
// can be fused, so both versions compute bit-identical dot products.
__attribute__((target("avx2"))) void answer_block_avx2(const float* packed, std::int64_t rows,
                                                       std::int64_t dim, const float* queries,
                                                       const SeenQuestion* seen, std::int64_t n,
                                                       std::int64_t* answers) {
  answer_block_impl<f32x8, 8>(packed, rows, dim, queries, seen, n, answers);
}
#else
#define CURNN_W2V_AVX2 0
#endif

using AnswerBlock = void (*)(const float*, std::int64_t, std::int64_t, const float*,
                             const SeenQuestion*, std::int64_t, std::int64_t*);

AnswerBlock pick_answer_block() {
#if CURNN_W2V_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return answer_block_avx2;
#endif
  return answer_block_portable;
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
  // As compute-accuracy.c and distance.c: a float sum of squares, its square root, a division.
  for (std::int64_t i = 0; i < size(); ++i) {
    float* r = v_.values.data() + i * v_.dim;
    float len = 0;
    for (std::int64_t d = 0; d < v_.dim; ++d) len += r[d] * r[d];
    len = std::sqrt(len);
    if (len > 0) {
      for (std::int64_t d = 0; d < v_.dim; ++d) r[d] /= len;
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
                                    << quote_input(line));
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

  const std::vector<float> packed = pack_panels(vectors, rows);             // [panels, D, kPanel]
  std::vector<std::int64_t> answers(static_cast<std::size_t>(n_seen), -1);  // [S]
  const std::int64_t blocks = (n_seen + kBlock - 1) / kBlock;
  static const AnswerBlock answer_block = pick_answer_block();
  std::atomic<std::int64_t> next_block{0};
  auto worker = [&] {
    for (std::int64_t blk; (blk = next_block.fetch_add(1)) < blocks;) {
      const std::int64_t first = blk * kBlock, n = std::min(kBlock, n_seen - first);
      answer_block(packed.data(), rows, dim, queries.data() + first * dim, seen.data() + first, n,
                   answers.data() + first);
    }
  };
  const auto n_threads = static_cast<int>(std::min<std::int64_t>(
      threads > 0 ? threads : cpu_threads(), std::max<std::int64_t>(blocks, 1)));
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

namespace {

// compute-accuracy's "%.2f %%" of num / den in float; "n/a" when den is 0 (compute-accuracy
// prints "-nan %" there).
std::string percent(std::int64_t num, std::int64_t den) {
  if (den == 0) return "n/a";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f %%",
                static_cast<double>(static_cast<float>(num) / static_cast<float>(den) * 100));
  return text;
}

}  // namespace

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
    out += one_line(s.name, 200) + ":\n";
    const auto tcn = static_cast<int>(std::max<std::int64_t>(s.seen, 1));
    std::snprintf(
        line, sizeof line, "ACCURACY TOP1: %.2f %%  (%d / %d)\n",
        static_cast<double>(static_cast<float>(s.correct) / static_cast<float>(tcn) * 100),
        static_cast<int>(s.correct), tcn);
    out += line;
    out += "Total accuracy: " + percent(total_correct, total_seen) +
           "   Semantic accuracy: " + percent(sem_correct, sem_seen) +
           "   Syntactic accuracy: " + percent(syn_correct, syn_seen) + " \n";
  }
  std::snprintf(line, sizeof line, "Questions seen / total: %d %d   %s \n",
                static_cast<int>(result.seen), static_cast<int>(result.questions),
                percent(result.seen, result.questions).c_str());
  out += line;
  if (result.questions == 0) {
    out += "No analogy questions: the file has none (only blank and \": section\" lines)\n";
  } else if (result.seen == 0) {
    out +=
        "No question was usable: none has all four words in the vocabulary (restricted to "
        "the most frequent words), so there is no accuracy to report\n";
  }
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
    CURNN_CHECK_ARG(i >= 0, "nearest: " << quote_input(w) << " is not in the vocabulary");
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
    CURNN_CHECK(f.size() == 3 && detail::parse_float(f[2], score) && std::isfinite(score),
                path << ":" << n << ": expected \"word1 word2 score\", got " << quote_input(line));
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
