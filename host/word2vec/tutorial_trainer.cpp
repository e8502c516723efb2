// The book's word2vec experiment, end to end (curnn/word2vec/tutorial_trainer.hpp).
#include "curnn/word2vec/tutorial_trainer.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/error.hpp"
#include "curnn/log_uniform_sampler.hpp"
#include "curnn/ops/embedding.hpp"
#include "curnn/ops/gemm.hpp"
#include "curnn/ops/nce.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ops/reduce.hpp"
#include "curnn/word2vec/eval.hpp"
#include "curnn/word2vec/tutorial.hpp"
#include "curnn/word2vec/vectors.hpp"

namespace curnn::word2vec {

namespace {

constexpr int kTopK = 8;            // nearest words per validation word (the book's top_k)
constexpr int kPlotWords = 100;     // words in the t-SNE plot (the book's plot_only)
constexpr int kDemoBatchSize = 8;   // the book's demo: generate_batch(8, 2, 1)
constexpr int kDemoNumSkips = 2;    //
constexpr int kDemoSkipWindow = 1;  //
constexpr int kSampleDataWords = 10;
constexpr int kMostCommonWords = 5;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- random draws, identical on every standard library -----------------------------------------

// u in [0, 1) with 53 random bits (the formula LogUniformSampler uses).
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// A standard normal value (Box-Muller, one value per pair of uniforms).
double standard_normal(std::mt19937_64& rng) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform01(rng)));  // 1 - u in (0, 1]
  return radius * std::cos(kTwoPi * uniform01(rng));
}

// tf.random_uniform([n], low, high).
std::vector<float> uniform_values(std::size_t n, double low, double high, std::mt19937_64& rng) {
  std::vector<float> values(n);
  for (float& v : values) v = static_cast<float>(low + (high - low) * uniform01(rng));
  return values;
}

// tf.truncated_normal([n], stddev=stddev): normal values, those beyond 2 stddev redrawn.
std::vector<float> truncated_normal_values(std::size_t n, double stddev, std::mt19937_64& rng) {
  std::vector<float> values(n);
  for (float& v : values) {
    double z = standard_normal(rng);
    while (std::fabs(z) > 2.0) z = standard_normal(rng);
    v = static_cast<float>(z * stddev);
  }
  return values;
}

// np.random.choice(n, k, replace=False): k distinct values of [0, n) (partial Fisher-Yates).
std::vector<std::int32_t> choose_without_replacement(int n, int k, std::mt19937_64& rng) {
  std::vector<std::int32_t> pool(static_cast<std::size_t>(n));
  std::iota(pool.begin(), pool.end(), 0);
  for (int i = 0; i < k; ++i) {
    const auto j = i + static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(n - i)));
    std::swap(pool[static_cast<std::size_t>(i)], pool[static_cast<std::size_t>(j)]);
  }
  pool.resize(static_cast<std::size_t>(k));
  return pool;
}

// One independent generator per use, derived from the run's seed.
struct RandomStreams {
  explicit RandomStreams(std::uint64_t seed) {
    std::mt19937_64 master(seed);
    for (auto* stream : {&parameters, &validation, &demo_batch, &batches, &negatives}) {
      stream->seed(master());
    }
  }
  std::mt19937_64 parameters, validation, demo_batch, batches, negatives;
};

// ---- text output
// ---------------------------------------------------------------------------------

// Python's repr() of a str as print() shows it inside a list: quoted, with escapes.
std::string python_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += ch;  // other bytes as they are (Python would show the decoded character)
    }
  }
  return out + quote;
}

// A JSON string literal. Bytes >= 0x80 are copied as they are (valid JSON for UTF-8 words).
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char escaped[7];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += ch;
    }
  }
  return out + '"';
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

std::string json_string_array(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + json_string(values[i]);
  return out + "]";
}

// One JSON object, built field by field.
class JsonObject {
 public:
  JsonObject() = default;
  explicit JsonObject(const char* type) { add_string("type", type); }
  JsonObject& add_string(const char* key, const std::string& value) {
    return add_raw(key, json_string(value));
  }
  JsonObject& add_number(const char* key, double value) { return add_raw(key, json_number(value)); }
  JsonObject& add_integer(const char* key, std::int64_t value) {
    return add_raw(key, std::to_string(value));
  }
  JsonObject& add_raw(const char* key, const std::string& json) {
    body_ += (body_.empty() ? "" : ",") + json_string(key) + ":" + json;
    return *this;
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

// The JSON-lines log: one object per line, flushed as written; no file when the path is empty.
class JsonLines {
 public:
  explicit JsonLines(const std::string& path) {
    if (path.empty()) return;
    out_.open(path, std::ios::out | std::ios::trunc);
    CURNN_CHECK(out_.good(), path << ": cannot open the JSON log for writing");
  }
  void write(const JsonObject& record) {
    if (!out_.is_open()) return;
    out_ << record.str() << '\n';
    out_.flush();
  }

 private:
  std::ofstream out_;
};

// ---- options
// -------------------------------------------------------------------------------------

void check_options(const TutorialOptions& o) {
  CURNN_CHECK_ARG(!o.train_path.empty(), "no training corpus given (train_path is empty)");
  CURNN_CHECK_ARG(!o.output_dir.empty(), "output_dir is empty");
  CURNN_CHECK_ARG(o.vocabulary_size >= 2,
                  "vocabulary_size must be >= 2 (UNK and one word), got " << o.vocabulary_size);
  CURNN_CHECK_ARG(o.steps >= 1, "steps must be >= 1, got " << o.steps);
  CURNN_CHECK_ARG(o.batch_size >= 1, "batch_size must be >= 1, got " << o.batch_size);
  CURNN_CHECK_ARG(o.skip_window >= 1, "skip_window must be >= 1, got " << o.skip_window);
  CURNN_CHECK_ARG(1 <= o.num_skips && o.num_skips <= 2 * o.skip_window,
                  "num_skips must be in [1, 2 * skip_window = " << 2 * o.skip_window << "], got "
                                                                << o.num_skips);
  CURNN_CHECK_ARG(o.batch_size % o.num_skips == 0, "batch_size (" << o.batch_size
                                                                  << ") must be a multiple of "
                                                                     "num_skips ("
                                                                  << o.num_skips << ")");
  CURNN_CHECK_ARG(
      1 <= o.embedding_size && o.embedding_size <= ops::kNceMaxEmbedding,
      "embedding_size must be in [1, " << ops::kNceMaxEmbedding << "], got " << o.embedding_size);
  CURNN_CHECK_ARG(o.num_sampled >= 1, "num_sampled must be >= 1, got " << o.num_sampled);
  CURNN_CHECK_ARG(o.valid_window >= 1, "valid_window must be >= 1, got " << o.valid_window);
  CURNN_CHECK_ARG(
      0 <= o.valid_size && o.valid_size <= o.valid_window,
      "valid_size must be in [0, valid_window = " << o.valid_window << "], got " << o.valid_size);
  CURNN_CHECK_ARG(std::isfinite(o.learning_rate) && o.learning_rate > 0,
                  "learning_rate must be a positive number, got " << o.learning_rate);
  CURNN_CHECK_ARG(o.log_every >= 1, "log_every must be >= 1, got " << o.log_every);
}

// ---- the book's first printouts
// ------------------------------------------------------------------

void print_dataset(const TutorialDataset& ds) {
  std::printf("Data size %zu\n", ds.data.size());
  std::string common;
  const int shown = std::min(kMostCommonWords, ds.vocabulary_size());
  for (int i = 0; i < shown; ++i) {
    // count[0] is the list ['UNK', n]; the others are most_common's tuples.
    const std::string open = i == 0 ? "[" : "(", close = i == 0 ? "]" : ")";
    common += (i ? ", " : "") + open + python_repr(ds.words[static_cast<std::size_t>(i)]) + ", " +
              std::to_string(ds.counts[static_cast<std::size_t>(i)]) + close;
  }
  std::printf("Most common words (+UNK) [%s]\n", common.c_str());
  std::string ids, words;
  const std::size_t sample = std::min<std::size_t>(kSampleDataWords, ds.data.size());
  for (std::size_t i = 0; i < sample; ++i) {
    const std::int32_t id = ds.data[i];
    ids += (i ? ", " : "") + std::to_string(id);
    words += (i ? ", " : "") + python_repr(ds.words[static_cast<std::size_t>(id)]);
  }
  std::printf("Sample data [%s] [%s]\n", ids.c_str(), words.c_str());
}

// The demo batch, "3084 originated -> 12 as"; returns the data_index it stopped at.
std::int64_t print_demo_batch(const TutorialDataset& ds, std::mt19937_64& rng) {
  SkipGramBatcher demo(ds.data, kDemoBatchSize, kDemoNumSkips, kDemoSkipWindow, rng());
  std::vector<std::int32_t> batch, labels;
  demo.next(batch, labels);
  for (int i = 0; i < kDemoBatchSize; ++i) {
    const auto centre = batch[static_cast<std::size_t>(i)];
    const auto context = labels[static_cast<std::size_t>(i)];
    std::printf("%d %s -> %d %s\n", centre, ds.words[static_cast<std::size_t>(centre)].c_str(),
                context, ds.words[static_cast<std::size_t>(context)].c_str());
  }
  return demo.data_index();
}

// ---- the model and one training step
// -------------------------------------------------------------

struct Shape {
  int V, E, B, S;  // vocabulary, embedding size, batch size, sampled classes
};

// One step's inputs on the host, laid out as on the device.
struct HostBatch {
  explicit HostBatch(const Shape& n)
      : ids(static_cast<std::size_t>(2 * n.B + n.S)), log_q(static_cast<std::size_t>(n.B + n.S)) {}
  std::vector<std::int32_t> ids;  // [2B + S] centre ids [B], labels [B], sampled ids [S]
  std::vector<float> log_q;       // [B + S]  log Q of the labels, then of the sampled ids
};

// The parameters and the per-step buffers, on the context's device.
class SkipGramModel {
 public:
  SkipGramModel(Context& ctx, const Shape& n, std::int64_t loss_slots, std::mt19937_64& rng)
      : n_(n),
        embeddings_(ctx.device(), static_cast<std::size_t>(n.V) * n.E),
        nce_weights_(ctx.device(), static_cast<std::size_t>(n.V) * n.E),
        nce_biases_(ctx.device(), static_cast<std::size_t>(n.V)),
        ids_(ctx.device(), static_cast<std::size_t>(2 * n.B + n.S)),
        log_q_(ctx.device(), static_cast<std::size_t>(n.B + n.S)),
        embed_(ctx.device(), static_cast<std::size_t>(n.B) * n.E),
        loss_(ctx.device(), static_cast<std::size_t>(n.B)),
        dx_(ctx.device(), static_cast<std::size_t>(n.B) * n.E),
        dw_classes_(ctx.device(), static_cast<std::size_t>(n.B + n.S) * n.E),
        db_classes_(ctx.device(), static_cast<std::size_t>(n.B + n.S)),
        step_loss_sums_(ctx.device(), static_cast<std::size_t>(loss_slots)) {
    const auto table = static_cast<std::size_t>(n.V) * n.E;
    copy(ctx, ConstTensor(uniform_values(table, -1.0, 1.0, rng).data(), {n.V, n.E}, Device::CPU),
         embeddings());
    copy(ctx,
         ConstTensor(truncated_normal_values(table, 1.0 / std::sqrt(double(n.E)), rng).data(),
                     {n.V, n.E}, Device::CPU),
         nce_weights_.view({n.V, n.E}));
    ops::fill(ctx, nce_biases_.view(), 0.0f);
  }

  Tensor embeddings() { return embeddings_.view({n_.V, n_.E}); }

  // One SGD step on `batch`; the sum of its per-example losses goes to step_loss_sums[slot].
  void train_step(Context& ctx, const HostBatch& batch, float learning_rate, std::int64_t slot) {
    const auto B = n_.B, S = n_.S;
    // Copies from pageable memory return once staged: the host buffers may be refilled then.
    copy(ctx, ConstIds(batch.ids.data(), {2 * B + S}, Device::CPU), ids_.view());
    copy(ctx, ConstTensor(batch.log_q.data(), {B + S}, Device::CPU), log_q_.view());
    const Ids ids = ids_.view();
    const ConstIds centre = ids.rows(0, B), classes = ids.rows(B, 2 * B + S);
    const Tensor log_q = log_q_.view();
    const Tensor dw_classes = dw_classes_.view({B + S, n_.E});
    const Tensor db_classes = db_classes_.view();
    const Tensor embed = embed_.view({B, n_.E}), dx = dx_.view({B, n_.E});
    const Tensor nce_weights = nce_weights_.view({n_.V, n_.E});

    ops::embedding_gather(ctx, centre, embeddings(), embed);
    const ops::NceGradients grads{dx, dw_classes.rows(0, B), db_classes.rows(0, B),
                                  dw_classes.rows(B, B + S), db_classes.rows(B, B + S)};
    ops::nce_loss(ctx, embed, nce_weights, nce_biases_.view(), ids.rows(B, 2 * B),
                  ids.rows(2 * B, 2 * B + S), log_q.rows(0, B), log_q.rows(B, B + S), loss_.view(),
                  1.0f / static_cast<float>(B), grads);
    ops::sum(ctx, loss_.view(), step_loss_sums_.view().rows(slot, slot + 1));
    // Sparse SGD, as TF applies the IndexedSlices gradients: repeated rows are summed.
    ops::sgd_update_rows(ctx, learning_rate, centre, dx, embeddings());
    ops::sgd_update_rows(ctx, learning_rate, classes, dw_classes, nce_weights);
    ops::sgd_update_rows(ctx, learning_rate, classes, db_classes.reshape({B + S, 1}),
                         nce_biases_.view({n_.V, 1}));
  }

  // The mean loss of each step in slots [0, count) (synchronises the context).
  std::vector<double> step_losses(Context& ctx, std::int64_t count) {
    const auto sums = to_vector(ctx, step_loss_sums_.view().rows(0, count));
    std::vector<double> means(sums.size());
    for (std::size_t i = 0; i < sums.size(); ++i) means[i] = double(sums[i]) / n_.B;
    return means;
  }

 private:
  Shape n_;
  Buffer<float> embeddings_;      // [V, E]
  Buffer<float> nce_weights_;     // [V, E]
  Buffer<float> nce_biases_;      // [V]
  Buffer<std::int32_t> ids_;      // [2B + S] as HostBatch::ids
  Buffer<float> log_q_;           // [B + S]  as HostBatch::log_q
  Buffer<float> embed_;           // [B, E]   the centre words' embedding rows
  Buffer<float> loss_;            // [B]      per-example NCE loss
  Buffer<float> dx_;              // [B, E]   gradient of the embedding rows
  Buffer<float> dw_classes_;      // [B + S, E] gradient rows of nce_weights: labels, then sampled
  Buffer<float> db_classes_;      // [B + S]  the same for nce_biases
  Buffer<float> step_loss_sums_;  // [slots]  sum of the per-example losses of each unlogged step
};

// Draws one step's batch and negative classes on the host.
class BatchSource {
 public:
  BatchSource(const TutorialDataset& ds, const Shape& n, int num_skips, int skip_window,
              std::int64_t start_index, std::mt19937_64& batch_rng, std::mt19937_64& negatives)
      : n_(n),
        batcher_(ds.data, n.B, num_skips, skip_window, batch_rng()),
        sampler_(n.V),
        negatives_(negatives) {
    batcher_.set_data_index(start_index);
  }

  void next(HostBatch& batch) {
    std::int32_t* ids = batch.ids.data();
    batcher_.next(ids, ids + n_.B);
    const UniqueSample sample = sampler_.sample_unique(n_.S, negatives_);
    std::copy(sample.ids.begin(), sample.ids.end(), ids + 2 * n_.B);
    sampler_.log_expected_counts(sample, ids + n_.B, n_.B, batch.log_q.data(),
                                 batch.log_q.data() + n_.B);
  }

 private:
  Shape n_;
  SkipGramBatcher batcher_;
  LogUniformSampler sampler_;
  std::mt19937_64& negatives_;
};

// ---- nearest words
// -------------------------------------------------------------------------------

// The validation words' nearest words by cosine: the dot products with every row and the
// squared row norms are GEMMs on the context; the ranking is done on the host.
class NearestWords {
 public:
  NearestWords(Context& ctx, const Shape& n, const std::vector<std::int32_t>& valid_ids)
      : n_(n),
        W_(static_cast<int>(valid_ids.size())),
        valid_ids_(to_buffer(ctx, valid_ids)),
        valid_rows_(ctx.device(), static_cast<std::size_t>(W_) * n.E),
        squares_(ctx.device(), static_cast<std::size_t>(n.V) * n.E),
        ones_(ctx.device(), static_cast<std::size_t>(n.E)),
        squared_norms_(ctx.device(), static_cast<std::size_t>(n.V)),
        dots_(ctx.device(), static_cast<std::size_t>(W_) * n.V) {
    ops::fill(ctx, ones_.view(), 1.0f);
  }

  // For each validation word, the ids of its k nearest words (itself excluded), nearest first.
  std::vector<std::vector<std::int32_t>> compute(Context& ctx, ConstTensor embeddings, int k) {
    const Tensor valid_rows = valid_rows_.view({W_, n_.E}), squares = squares_.view({n_.V, n_.E});
    ops::embedding_gather(ctx, valid_ids_.view(), embeddings, valid_rows);
    ops::gemm(ctx, ops::Transpose::No, ops::Transpose::Yes, valid_rows, embeddings,
              dots_.view({W_, n_.V}), ops::Write::Overwrite);
    ops::mul(ctx, embeddings, embeddings, squares);
    ops::gemm(ctx, ops::Transpose::No, ops::Transpose::No, squares, ones_.view({n_.E, 1}),
              squared_norms_.view({n_.V, 1}), ops::Write::Overwrite);
    const auto dots = to_vector(ctx, dots_.view());
    const auto squared_norms = to_vector(ctx, squared_norms_.view());
    const auto valid_ids = to_vector(ctx, valid_ids_.view());

    std::vector<double> norms(squared_norms.size());
    for (std::size_t j = 0; j < norms.size(); ++j) norms[j] = std::sqrt(double(squared_norms[j]));
    const int top = std::min(k, n_.V - 1);
    std::vector<std::vector<std::int32_t>> nearest(static_cast<std::size_t>(W_));
    std::vector<double> cosine(static_cast<std::size_t>(n_.V));
    std::vector<std::int32_t> order;  // every id but the validation word's
    order.reserve(static_cast<std::size_t>(n_.V));
    for (int w = 0; w < W_; ++w) {
      const auto self = valid_ids[static_cast<std::size_t>(w)];
      const double self_norm = norms[static_cast<std::size_t>(self)];
      for (int j = 0; j < n_.V; ++j) {
        const double denominator = self_norm * norms[static_cast<std::size_t>(j)];
        const double dot = dots[static_cast<std::size_t>(w) * n_.V + j];
        cosine[static_cast<std::size_t>(j)] = denominator > 0 ? dot / denominator : 0.0;
      }
      order.clear();
      for (std::int32_t j = 0; j < n_.V; ++j) {
        if (j != self) order.push_back(j);
      }
      std::partial_sort(order.begin(), order.begin() + top, order.end(),
                        [&](std::int32_t a, std::int32_t b) {
                          const double ca = cosine[static_cast<std::size_t>(a)];
                          const double cb = cosine[static_cast<std::size_t>(b)];
                          return ca != cb ? ca > cb : a < b;
                        });
      nearest[static_cast<std::size_t>(w)].assign(order.begin(), order.begin() + top);
    }
    return nearest;
  }

 private:
  Shape n_;
  int W_;                           // validation words
  Buffer<std::int32_t> valid_ids_;  // [W]
  Buffer<float> valid_rows_;        // [W, E]
  Buffer<float> squares_;           // [V, E] embeddings squared elementwise
  Buffer<float> ones_;              // [E, 1]
  Buffer<float> squared_norms_;     // [V, 1]
  Buffer<float> dots_;              // [W, V]
};

void report_nearest(std::int64_t step, const TutorialDataset& ds,
                    const std::vector<std::int32_t>& valid_ids,
                    const std::vector<std::vector<std::int32_t>>& nearest, JsonLines& log) {
  std::string blocks;
  for (std::size_t w = 0; w < valid_ids.size(); ++w) {
    const std::string& word = ds.words[static_cast<std::size_t>(valid_ids[w])];
    std::string line = "Nearest to " + word + ":";
    std::vector<std::string> neighbours;
    for (const auto id : nearest[w]) {
      neighbours.push_back(ds.words[static_cast<std::size_t>(id)]);
      line += " " + neighbours.back() + ",";  // the book's "%s %s," (a trailing comma)
    }
    std::printf("%s\n", line.c_str());
    blocks += (w ? "," : "") + JsonObject()
                                   .add_string("word", word)
                                   .add_raw("nearest", json_string_array(neighbours))
                                   .str();
  }
  std::fflush(stdout);
  log.write(JsonObject("nearest").add_integer("step", step).add_raw("words", "[" + blocks + "]"));
}

// ---- outputs
// -------------------------------------------------------------------------------------

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// scripts/tsne_plot.py: $CURNN_TSNE_SCRIPT, else the source tree this file was built from.
std::string find_tsne_script() {
  if (const char* env = std::getenv("CURNN_TSNE_SCRIPT"); env != nullptr && *env != '\0') {
    return env;
  }
  const auto script = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                      "scripts" / "tsne_plot.py";
  std::error_code ec;
  return std::filesystem::is_regular_file(script, ec) ? script.string() : std::string();
}

// The exit status of a shell command, or -1 when it did not exit normally.
int exit_status(const std::string& command) {
  std::fflush(stdout);
  const int status = std::system(command.c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The Python interpreters to try, in order: $CURNN_PYTHON, python3 from PATH, and Debian's
// /usr/bin/python3 (where python3-sklearn and python3-matplotlib install, even when PATH
// finds another python3 first, e.g. pyenv's).
std::vector<std::string> python_candidates() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("CURNN_PYTHON"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  }
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  return candidates;
}

// Runs the t-SNE script with the first interpreter that has its modules; on any failure prints
// a warning and returns false.
bool plot_tsne(const std::string& input, const std::string& output) {
  const std::string script = find_tsne_script();
  if (script.empty()) {
    std::fprintf(stderr,
                 "warning: t-SNE plot skipped: scripts/tsne_plot.py not found "
                 "(set CURNN_TSNE_SCRIPT to its path)\n");
    return false;
  }
  bool found_python = false;
  for (const std::string& python : python_candidates()) {
    const std::string run = shell_quote(python) + " " + shell_quote(script);
    const int check = exit_status(run + " --check-modules > /dev/null 2>&1");
    found_python = found_python || check != 127;
    if (check != 0) continue;  // no such interpreter, or it lacks the modules
    const int status =
        exit_status(run + " --input " + shell_quote(input) + " --output " + shell_quote(output));
    if (status == 0) return true;
    std::fprintf(stderr, "warning: t-SNE plot skipped: %s failed (exit status %d)\n",
                 script.c_str(), status);
    return false;
  }
  if (!found_python) {
    std::fprintf(stderr, "warning: t-SNE plot skipped: python3 was not found\n");
  } else {
    std::fprintf(stderr,
                 "warning: t-SNE plot skipped: python3 lacks scikit-learn or matplotlib "
                 "(Debian: apt-get install python3-sklearn python3-matplotlib)\n");
  }
  return false;
}

struct OutputPaths {
  std::string embeddings, tsne;  // tsne: empty when there is no plot
};

// final_embeddings = normalized_embeddings.eval(): saved in word2vec's text format; with plot,
// the first kPlotWords of them go to the t-SNE script.
OutputPaths write_outputs(const TutorialDataset& ds, const std::vector<float>& embeddings, int E,
                          const std::filesystem::path& output_dir, bool plot) {
  const NormalizedVectors normalized(ds.words, embeddings.data(), E);
  const float* normalized_rows = normalized.row(0);  // [V, E], contiguous
  OutputPaths paths;
  paths.embeddings = (output_dir / "embeddings.txt").string();
  write_word_vectors(paths.embeddings, ds.words, normalized_rows, E, /*binary=*/false);
  std::printf("Normalised embeddings written to %s\n", paths.embeddings.c_str());
  if (!plot) return paths;
  const int plotted = std::min(kPlotWords, ds.vocabulary_size());
  const std::vector<std::string> plot_words(ds.words.begin(), ds.words.begin() + plotted);
  const std::string input = (output_dir / "tsne_input.txt").string();
  write_word_vectors(input, plot_words, normalized_rows, E, /*binary=*/false);
  const std::string png = (output_dir / "tsne.png").string();
  if (plot_tsne(input, png)) {
    paths.tsne = png;
    std::printf("t-SNE plot of the %d most frequent words written to %s\n", plotted, png.c_str());
  }
  return paths;
}

// The index of the first non-finite value, or -1.
std::int64_t first_non_finite(const std::vector<double>& values) {
  const auto it =
      std::find_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
  return it == values.end() ? -1 : static_cast<std::int64_t>(it - values.begin());
}

}  // namespace

int run_tutorial(Context& ctx, const TutorialOptions& options) {
  const auto run_start = Clock::now();
  check_options(options);
  const std::filesystem::path output_dir(options.output_dir);
  std::error_code ec;
  std::filesystem::create_directories(output_dir, ec);
  CURNN_CHECK(std::filesystem::is_directory(output_dir),
              options.output_dir << ": cannot create the output directory"
                                 << (ec ? ": " + ec.message() : std::string()));
  JsonLines log(options.log_json);

  const TutorialDataset ds = build_tutorial_dataset(options.train_path, options.vocabulary_size);
  const Shape n{ds.vocabulary_size(), options.embedding_size, options.batch_size,
                options.num_sampled};
  CURNN_CHECK_ARG(n.S <= n.V, "num_sampled (" << n.S << ") exceeds the vocabulary of "
                                              << options.train_path << " (" << n.V
                                              << " words with UNK)");
  print_dataset(ds);
  log.write(JsonObject("dataset")
                .add_string("train", options.train_path)
                .add_integer("words", static_cast<std::int64_t>(ds.data.size()))
                .add_integer("vocabulary", n.V)
                .add_integer("unk", ds.counts[0])
                .add_string("device", device_name(ctx.device())));

  RandomStreams random(options.seed);
  const std::int64_t data_index = print_demo_batch(ds, random.demo_batch);
  // The corpus may have fewer words than valid_window: draw from what there is.
  const int valid_window = std::min(options.valid_window, n.V);
  const int valid_size = std::min(options.valid_size, valid_window);
  const auto valid_ids = choose_without_replacement(valid_window, valid_size, random.validation);

  const std::int64_t loss_slots = std::min(options.log_every, options.steps);
  SkipGramModel model(ctx, n, loss_slots, random.parameters);
  BatchSource source(ds, n, options.num_skips, options.skip_window, data_index, random.batches,
                     random.negatives);
  std::optional<NearestWords> nearest;
  if (options.eval_every > 0 && !valid_ids.empty()) nearest.emplace(ctx, n, valid_ids);
  HostBatch batch(n);
  std::printf("Initialized\n");
  std::fflush(stdout);

  const auto train_start = Clock::now();
  const auto learning_rate = static_cast<float>(options.learning_rate);
  std::int64_t first_unlogged = 0;  // the step whose loss is in slot 0
  double last_average = std::nan("");
  for (std::int64_t step = 0; step < options.steps; ++step) {
    source.next(batch);
    model.train_step(ctx, batch, learning_rate, step - first_unlogged);
    const bool log_now = step % options.log_every == 0;
    if (log_now || step == options.steps - 1) {
      const auto losses = model.step_losses(ctx, step - first_unlogged + 1);
      if (const auto bad = first_non_finite(losses); bad >= 0) {
        const std::int64_t bad_step = first_unlogged + bad;
        std::fprintf(stderr,
                     "error: the loss is %g at step %lld: training diverged (learning rate %g)\n",
                     losses[static_cast<std::size_t>(bad)], static_cast<long long>(bad_step),
                     options.learning_rate);
        log.write(JsonObject("diverged").add_integer("step", bad_step));
        return 1;
      }
      if (log_now) {
        last_average = std::accumulate(losses.begin(), losses.end(), 0.0) / losses.size();
        std::printf("Average loss at step %lld : %.12g\n", static_cast<long long>(step),
                    last_average);
        std::fflush(stdout);
        log.write(JsonObject("loss")
                      .add_integer("step", step)
                      .add_number("average_loss", last_average)
                      .add_integer("steps_averaged", static_cast<std::int64_t>(losses.size()))
                      .add_number("elapsed_s", seconds_since(train_start)));
      }
      first_unlogged = step + 1;
    }
    if (nearest && step % options.eval_every == 0) {
      report_nearest(step, ds, valid_ids, nearest->compute(ctx, model.embeddings(), kTopK), log);
    }
  }
  ctx.synchronize();
  const double train_s = seconds_since(train_start);
  const double pairs = static_cast<double>(options.steps) * n.B;
  std::printf("Trained %lld steps (%.0f pairs) in %.2f s: %.1f steps/s, %.0f pairs/s\n",
              static_cast<long long>(options.steps), pairs, train_s, options.steps / train_s,
              pairs / train_s);

  const auto outputs = write_outputs(ds, to_vector(ctx, ConstTensor(model.embeddings())), n.E,
                                     output_dir, options.plot);
  std::fflush(stdout);
  log.write(JsonObject("summary")
                .add_integer("steps", options.steps)
                .add_number("pairs", pairs)
                .add_number("train_s", train_s)
                .add_number("wall_s", seconds_since(run_start))
                .add_number("steps_per_s", options.steps / train_s)
                .add_number("words_per_s", pairs / train_s)
                .add_number("final_average_loss", last_average)
                .add_string("embeddings", outputs.embeddings)
                .add_raw("tsne", outputs.tsne.empty() ? "null" : json_string(outputs.tsne)));
  return 0;
}

}  // namespace curnn::word2vec
