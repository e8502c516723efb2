// The book's word2vec experiment ("TensorFlow in Action" §7.1, TensorFlow's word2vec_basic.py;
// /work/shared/docs/EXPERIMENTS.md §1), end to end: skip-gram with the sampled NCE loss, plain
// SGD, the book's log lines, the normalised embeddings and the t-SNE plot. The math runs through
// the shipped ops on the Context (CPU reference or CUDA); the data pipeline and the negative
// sampler run on the host. Implementation: host/word2vec/tutorial_trainer.cpp; tests:
// tests/w2v_tutorial_trainer_test.cpp, tests/w2v_tutorial_trainer_cuda_test.cpp.
//
// What run_tutorial does, in the book's order:
//  1. build_tutorial_dataset(train_path, vocabulary_size) (curnn/word2vec/tutorial.hpp); prints
//       Data size 16943231
//       Most common words (+UNK) [['UNK', 418391], ('the', 1061396), ('of', 593677), ...]
//       Sample data [5235, 3084, 12, ...] ['anarchism', 'originated', 'as', ...]
//     then the demo batch generate_batch(8, 2, 1), 8 lines "3084 originated -> 12 as"; like the
//     book's global data_index, training continues from where the demo batch stopped.
//  2. valid_size validation words drawn without replacement from ids [0, valid_window);
//     embeddings [V, E] ~ U(-1, 1); nce_weights [V, E] ~ truncated normal, stddev 1/sqrt(E)
//     (TF's truncated_normal: values beyond 2 stddev are redrawn); nce_biases [V] = 0.
//  3. Each step: a batch of (centre, context) pairs; one set of num_sampled distinct classes for
//     the batch from the log-uniform sampler, and their log expected counts; embed =
//     embeddings[centre]; the per-example NCE losses and the gradients of their mean
//     (ops::nce_loss, grad_scale 1/B); SGD at learning_rate on the rows of embeddings
//     (centre ids), nce_weights and nce_biases (labels, then sampled ids): repeated rows get the
//     sum of their gradients, as TF's sparse SGD update.
//  4. "Average loss at step N : X" at step 0 (the first step's loss) and every log_every steps
//     (the mean over the last log_every steps); every eval_every steps (step 0 included)
//     "Nearest to five: six, four, seven, ...," for each validation word: the top 8 by cosine
//     over the L2-normalised embeddings, the word itself excluded (the book's argsort()[1:9]).
//  5. The L2-normalised embeddings in word2vec's text format: output_dir/embeddings.txt (written
//     atomically); a summary line (wall time, steps/s, pairs/s).
//  6. With plot: the 100 most frequent words' normalised vectors in output_dir/tsne_input.txt,
//     then scripts/tsne_plot.py writes output_dir/tsne.png. The script is $CURNN_TSNE_SCRIPT, else
//     the one in the source tree; the interpreter the first of $CURNN_PYTHON, python3 and
//     /usr/bin/python3 that has the script's modules (Debian's python3-sklearn and
//     python3-matplotlib). When none is found, a warning is printed and the run still succeeds.
// log_json (if not empty) receives JSON lines: {"type":"dataset"...}, one {"type":"loss"...} per
// loss line, one {"type":"nearest"...} per nearest-words block, {"type":"summary"...} at the end
// (or {"type":"diverged"...}).
//
// Randomness: every draw (initialisation, validation words, batches, negative samples) comes
// from std::mt19937_64 generators derived from `seed`, on the host, so a seed gives the same run
// on both backends (TF's and Python's random streams are not reproduced).
//
// Return value: 0, or 1 when the loss became NaN or infinite (the first such step is reported on
// stderr and in the JSON log; no embeddings are written), or kTutorialStopped when
// stop_requested() returned true (polled after each step; "stopped at step N" is printed and
// nothing is written). The loss is checked where it is printed: once per log_every steps, and
// after the last step. Bad options or input (missing or empty corpus, vocabulary_size < 2,
// num_sampled above the vocabulary, ...) throw a one-line curnn::Error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "curnn/context.hpp"

namespace curnn::word2vec {

struct TutorialOptions {
  std::string train_path;        // plain or .gz text (text8: one line of lowercase words)
  std::string output_dir = ".";  // embeddings.txt, tsne_input.txt, tsne.png (created if needed)
  std::uint64_t seed = 1;
  std::int64_t steps = 100001;
  int batch_size = 128, embedding_size = 128, skip_window = 1, num_skips = 2, num_sampled = 64,
      vocabulary_size = 50000, valid_size = 16, valid_window = 100;
  double learning_rate = 1.0;
  std::int64_t log_every = 2000;    // >= 1
  std::int64_t eval_every = 10000;  // <= 0: no nearest-words blocks
  std::string log_json;             // JSON-lines log; empty: none
  bool plot = true;                 // the t-SNE plot (needs python3 with sklearn and matplotlib)
  std::function<bool()> stop_requested;  // polled after each step; empty: never
};

constexpr int kTutorialStopped = 2;  // run_tutorial's value when stop_requested() stopped it

int run_tutorial(Context& ctx, const TutorialOptions& options);

}  // namespace curnn::word2vec
