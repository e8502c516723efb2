// The book's word2vec experiment ("TensorFlow in Action" §7.1, TensorFlow's word2vec_basic.py;
// /work/shared/docs/EXPERIMENTS.md §1) as a library function: the data, the model, the training
// steps and the nearest-word computation. Skip-gram with the sampled NCE loss and plain SGD; the
// math runs through the shipped ops on the Context (CPU reference or CUDA), the data pipeline and
// the negative sampler on the host. Implementation: host/word2vec/tutorial_trainer.cpp; tests:
// tests/w2v_tutorial_trainer_test.cpp, tests/w2v_tutorial_trainer_cuda_test.cpp.
//
// The library prints nothing, writes no file and runs no program: what a run has to show goes to
// a TutorialObserver, the result is returned. The book's printouts, the JSON log, the output
// files and the t-SNE plot are the app's (apps/curnn-word2vec --tutorial, apps/w2v_tutorial.hpp).
//
// What train_tutorial does, in the book's order:
//  1. build_tutorial_dataset(train_path, vocabulary_size) (curnn/word2vec/tutorial.hpp);
//     observer.dataset(ds). Then the demo batch generate_batch(8, 2, 1): observer.demo_batch();
//     like the book's global data_index, training continues from where the demo batch stopped.
//  2. valid_size validation words drawn without replacement from ids [0, valid_window) (clamped
//     to the vocabulary); embeddings [V, E] ~ U(-1, 1); nce_weights [V, E] ~ truncated normal,
//     stddev 1/sqrt(E) (TF's truncated_normal: values beyond 2 stddev are redrawn); nce_biases
//     [V] = 0. observer.initialized(valid_ids).
//  3. Each step: a batch of (centre, context) pairs; one set of num_sampled distinct classes for
//     the batch from the log-uniform sampler, and their log expected counts; embed =
//     embeddings[centre]; the per-example NCE losses and the gradients of their mean
//     (ops::nce_loss, grad_scale 1/B); SGD at learning_rate on the rows of embeddings
//     (centre ids), nce_weights and nce_biases (labels, then sampled ids): repeated rows get the
//     sum of their gradients, as TF's sparse SGD update.
//  4. observer.loss() at step 0 (the first step's loss) and every log_every steps (the mean over
//     the steps since the last one); every eval_every steps (step 0 included) observer.nearest():
//     for each validation word the top 8 by cosine over the embeddings, the word itself excluded
//     (the book's argsort()[1:9]).
//  5. The result: the L2-normalised embeddings [V, E] (the book's final_embeddings) with the
//     words, and the training time.
//
// Randomness: every draw (initialisation, validation words, batches, negative samples) comes
// from std::mt19937_64 generators derived from `seed`, on the host, so a seed gives the same run
// on both backends (TF's and Python's random streams are not reproduced).
//
// Divergence: the loss is checked where it is reported (once per log_every steps, and after the
// last step); the first NaN or infinite step loss stops the run, and the result says which step
// (diverged_step) with no embeddings. Stopping: stop_requested() (a signal handler's flag) is
// polled after each step; when it returns true the run ends there (stopped, no embeddings). Bad
// options or input (missing or empty corpus, vocabulary_size < 2, num_sampled above the vocabulary,
// ...) throw a one-line curnn::Error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/word2vec/tutorial.hpp"

namespace curnn::word2vec {

struct TutorialOptions {
  std::string train_path;  // plain or .gz text (text8: one line of lowercase words)
  std::uint64_t seed = 1;
  std::int64_t steps = 100001;
  int batch_size = 128, embedding_size = 128, skip_window = 1, num_skips = 2, num_sampled = 64,
      vocabulary_size = 50000, valid_size = 16, valid_window = 100;
  double learning_rate = 1.0;
  std::int64_t log_every = 2000;         // >= 1
  std::int64_t eval_every = 10000;       // <= 0: no nearest words
  std::function<bool()> stop_requested;  // polled after each step; empty: never
  // CUDA contexts only (an ArgumentError on the CPU): each training step is one CUDA Graph
  // replay (include/curnn/graph.hpp), the batch staged in page-locked memory and uploaded by the
  // graph's own copies; the same results as without (the same kernels and arguments; the
  // learning rate is constant). The first step runs uncaptured, the second is captured.
  bool cuda_graph = false;
};

// Throws a one-line curnn::ArgumentError naming the first bad option.
void validate(const TutorialOptions& options);

// What a run shows as it goes, on the calling thread, in this order. Every method does nothing
// by default.
class TutorialObserver {
 public:
  virtual ~TutorialObserver() = default;
  virtual void dataset(const TutorialDataset& /*ds*/) {}
  // The demo batch: centre ids [8] and context ids [8].
  virtual void demo_batch(const TutorialDataset& /*ds*/, const std::vector<std::int32_t>& /*batch*/,
                          const std::vector<std::int32_t>& /*labels*/) {}
  virtual void initialized(const std::vector<std::int32_t>& /*valid_ids*/) {}
  // The mean loss of the steps_averaged steps ending at `step`; elapsed_s since training began.
  virtual void loss(std::int64_t /*step*/, double /*average_loss*/, std::int64_t /*steps_averaged*/,
                    double /*elapsed_s*/) {}
  // nearest[w]: the ids of the 8 (or V - 1) nearest words of valid_ids[w], nearest first.
  virtual void nearest(std::int64_t /*step*/, const std::vector<std::int32_t>& /*valid_ids*/,
                       const std::vector<std::vector<std::int32_t>>& /*nearest*/) {}
};

struct TutorialResult {
  std::int64_t diverged_step = -1;  // the first step with a NaN/infinite loss; -1: none
  double diverged_loss = 0;         // that loss
  std::vector<std::string> words;   // [V] the vocabulary, words[0] = "UNK"
  std::vector<float> embeddings;    // [V, E] L2-normalised; empty when the run diverged
  int embedding_size = 0;           // E
  std::int64_t steps = 0;           // steps trained
  std::int64_t graph_replays = 0;   // with cuda_graph: the steps replayed from the graph
  std::int64_t pairs = 0;           // steps * batch_size
  double train_seconds = 0;         // the training steps, nearest words included
  double final_average_loss = 0;    // the last loss reported (NaN when none was)
  bool stopped = false;  // stop_requested() ended the run after `steps` steps: no embeddings

  bool diverged() const noexcept { return diverged_step >= 0; }
};

TutorialResult train_tutorial(Context& ctx, const TutorialOptions& options,
                              TutorialObserver* observer = nullptr);

}  // namespace curnn::word2vec
