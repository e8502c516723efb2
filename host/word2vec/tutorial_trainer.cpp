// The book's word2vec experiment: data, model, training and nearest words
// (curnn/word2vec/tutorial_trainer.hpp). No printing, no files, no processes: see the header.
#include "curnn/word2vec/tutorial_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/error.hpp"
#include "curnn/graph.hpp"
#include "curnn/log_uniform_sampler.hpp"
#include "curnn/ops/embedding.hpp"
#include "curnn/ops/gemm.hpp"
#include "curnn/ops/nce.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ops/reduce.hpp"
#include "curnn/word2vec/eval.hpp"
#include "curnn/word2vec/tutorial.hpp"

namespace curnn::word2vec {

namespace {

constexpr int kTopK = 8;            // nearest words per validation word (the book's top_k)
constexpr int kDemoBatchSize = 8;   // the book's demo: generate_batch(8, 2, 1)
constexpr int kDemoNumSkips = 2;    //
constexpr int kDemoSkipWindow = 1;  //

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

// ---- the demo batch
// ---------------------------------------------------------------------------------

// The book's demo batch generate_batch(8, 2, 1); returns the data_index it stopped at.
std::int64_t demo_batch(const TutorialDataset& ds, std::mt19937_64& rng,
                        TutorialObserver& observer) {
  SkipGramBatcher demo(ds.data, kDemoBatchSize, kDemoNumSkips, kDemoSkipWindow, rng());
  std::vector<std::int32_t> batch, labels;
  demo.next(batch, labels);
  observer.demo_batch(ds, batch, labels);
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

// A training step replayed from a CUDA Graph (TutorialOptions::cuda_graph): the batch is staged
// in page-locked memory at fixed addresses, which the captured step uploads (the host refills it
// only once the previous step is done: fence); the step's loss sum lands in a fixed slot, copied
// to its place among the unlogged steps' sums after the replay.
struct GraphedSteps {
  GraphedSteps(Device device, const Shape& n)
      : ids_host(static_cast<std::size_t>(2 * n.B + n.S)),
        log_q_host(static_cast<std::size_t>(n.B + n.S)),
        loss_sum(device, 1) {}
  PinnedBuffer<std::int32_t> ids_host;  // as HostBatch::ids
  PinnedBuffer<float> log_q_host;       // as HostBatch::log_q
  Buffer<float> loss_sum;               // [1]
  UploadFence fence;
  StepGraphCache<int> graphs;  // one key: the shape is fixed for the run
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
    step(ctx, ConstIds(batch.ids.data(), {2 * B + S}, Device::CPU),
         ConstTensor(batch.log_q.data(), {B + S}, Device::CPU), learning_rate,
         step_loss_sums_.view().rows(slot, slot + 1));
  }

  // The same step as a replay of the captured step (the first time uncaptured, the second
  // captured), its batch staged in g.
  void graph_train_step(Context& ctx, const HostBatch& batch, float learning_rate,
                        std::int64_t slot, GraphedSteps& g) {
    const auto B = n_.B, S = n_.S;
    g.fence.wait();  // the previous step has read the staging buffers
    std::copy(batch.ids.begin(), batch.ids.end(), g.ids_host.data());
    std::copy(batch.log_q.begin(), batch.log_q.end(), g.log_q_host.data());
    g.graphs.run(ctx, 0, [&] {
      step(ctx, ConstIds(g.ids_host.data(), {2 * B + S}, Device::CPU),
           ConstTensor(g.log_q_host.data(), {B + S}, Device::CPU), learning_rate,
           g.loss_sum.view());
    });
    copy(ctx, ConstTensor(g.loss_sum.data(), {1}, ctx.device()),
         step_loss_sums_.view().rows(slot, slot + 1));
    g.fence.mark(ctx);
  }

  // The mean loss of each step in slots [0, count) (synchronises the context).
  std::vector<double> step_losses(Context& ctx, std::int64_t count) {
    const auto sums = to_vector(ctx, step_loss_sums_.view().rows(0, count));
    std::vector<double> means(sums.size());
    for (std::size_t i = 0; i < sums.size(); ++i) means[i] = double(sums[i]) / n_.B;
    return means;
  }

 private:
  // The step on the batch ids [2B + S], log_q [B + S] (host memory, copied in); the sum of its
  // per-example losses into loss_sum [1].
  void step(Context& ctx, ConstIds batch_ids, ConstTensor batch_log_q, float learning_rate,
            Tensor loss_sum) {
    const auto B = n_.B, S = n_.S;
    copy(ctx, batch_ids, ids_.view());
    copy(ctx, batch_log_q, log_q_.view());
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
    ops::sum(ctx, loss_.view(), loss_sum);
    // Sparse SGD, as TF applies the IndexedSlices gradients: repeated rows are summed.
    ops::sgd_update_rows(ctx, learning_rate, centre, dx, embeddings());
    ops::sgd_update_rows(ctx, learning_rate, classes, dw_classes, nce_weights);
    ops::sgd_update_rows(ctx, learning_rate, classes, db_classes.reshape({B + S, 1}),
                         nce_biases_.view({n_.V, 1}));
  }

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

// The index of the first non-finite value, or -1.
std::int64_t first_non_finite(const std::vector<double>& values) {
  const auto it =
      std::find_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
  return it == values.end() ? -1 : static_cast<std::int64_t>(it - values.begin());
}

}  // namespace

void validate(const TutorialOptions& o) {
  CURNN_CHECK_ARG(!o.train_path.empty(), "no training corpus given (train_path is empty)");
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

TutorialResult train_tutorial(Context& ctx, const TutorialOptions& options,
                              TutorialObserver* observer) {
  TutorialObserver silent;
  TutorialObserver& show = observer != nullptr ? *observer : silent;
  CURNN_CHECK_ARG(!options.cuda_graph || ctx.is_cuda(),
                  "cuda_graph needs a CUDA context (CUDA Graphs do not exist on the CPU)");
  validate(options);
  const TutorialDataset ds = build_tutorial_dataset(options.train_path, options.vocabulary_size);
  const Shape n{ds.vocabulary_size(), options.embedding_size, options.batch_size,
                options.num_sampled};
  CURNN_CHECK_ARG(n.S <= n.V, "num_sampled (" << n.S << ") exceeds the vocabulary of "
                                              << options.train_path << " (" << n.V
                                              << " words with UNK)");
  show.dataset(ds);

  RandomStreams random(options.seed);
  const std::int64_t data_index = demo_batch(ds, random.demo_batch, show);
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
  std::optional<GraphedSteps> graphed;
  if (options.cuda_graph) graphed.emplace(ctx.device(), n);
  show.initialized(valid_ids);

  TutorialResult result;
  result.words = ds.words;
  result.embedding_size = n.E;
  result.final_average_loss = std::nan("");
  const auto train_start = Clock::now();
  const auto learning_rate = static_cast<float>(options.learning_rate);
  std::int64_t first_unlogged = 0;  // the step whose loss is in slot 0
  for (std::int64_t step = 0; step < options.steps; ++step) {
    source.next(batch);
    if (graphed) {
      model.graph_train_step(ctx, batch, learning_rate, step - first_unlogged, *graphed);
      result.graph_replays = graphed->graphs.stats().replays;
    } else {
      model.train_step(ctx, batch, learning_rate, step - first_unlogged);
    }
    const bool log_now = step % options.log_every == 0;
    if (log_now || step == options.steps - 1) {
      const auto losses = model.step_losses(ctx, step - first_unlogged + 1);
      if (const auto bad = first_non_finite(losses); bad >= 0) {
        result.diverged_step = first_unlogged + bad;
        result.diverged_loss = losses[static_cast<std::size_t>(bad)];
        result.steps = step + 1;
        result.train_seconds = seconds_since(train_start);
        return result;
      }
      if (log_now) {
        result.final_average_loss =
            std::accumulate(losses.begin(), losses.end(), 0.0) / static_cast<double>(losses.size());
        show.loss(step, result.final_average_loss, static_cast<std::int64_t>(losses.size()),
                  seconds_since(train_start));
      }
      first_unlogged = step + 1;
    }
    if (nearest && step % options.eval_every == 0) {
      show.nearest(step, valid_ids, nearest->compute(ctx, model.embeddings(), kTopK));
    }
    if (options.stop_requested && options.stop_requested() && step + 1 < options.steps) {
      result.stopped = true;
      result.steps = step + 1;
      result.pairs = result.steps * n.B;
      result.train_seconds = seconds_since(train_start);
      return result;
    }
  }
  ctx.synchronize();
  result.train_seconds = seconds_since(train_start);
  result.steps = options.steps;
  result.pairs = options.steps * n.B;
  // final_embeddings = normalized_embeddings.eval()
  const NormalizedVectors normalized(ds.words,
                                     to_vector(ctx, ConstTensor(model.embeddings())).data(), n.E);
  const float* rows = normalized.row(0);  // [V, E], contiguous
  result.embeddings.assign(rows, rows + static_cast<std::size_t>(n.V) * n.E);
  return result;
}

}  // namespace curnn::word2vec
