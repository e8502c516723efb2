// The fast word2vec trainer: word2vec.c's skip-gram and CBOW with negative sampling (-hs 0), on
// CPU threads or on the GPU. Implementation: host/word2vec/trainer.cpp (both backends' host
// side), kernels/w2v_train.cu (the GPU kernel); the per-sentence specification is
// ref::train_sentence (curnn/ref/w2v_train.hpp). Tests: tests/w2v_train_test.cpp,
// tests/w2v_train_cuda_test.cpp, tests/w2v_app_test.cpp; benchmarks: bench/w2v_train_bench.cpp,
// bench/w2v_train_cuda_bench.cpp.
//
// Semantics of word2vec.c (tmikolov/word2vec, last commit), with its defaults in TrainOptions:
//  - syn0 [V, E] ~ U(-0.5/E, 0.5/E) drawn with word2vec.c's LCG from `seed` (seed 1 gives
//    word2vec.c's InitNet values), syn1neg [V, E] = 0;
//  - per pass, every in-vocabulary word of the corpus is read once; frequent words are dropped
//    with word2vec.c's subsampling (keep_probability, the LCG's low 16 bits); the kept words are
//    cut into sentences at line ends and at 1000 words; each sentence is trained by
//    ref::train_sentence: dynamic window b = rand % window, negatives from the unigram^0.75
//    table (1e8 slots; a draw of id 0 = "</s>" becomes rand % (V - 1) + 1);
//  - the learning rate decays linearly: alpha_t = alpha * (1 - done / (iter * N + 1)), floored at
//    alpha * 1e-4, where N = corpus.num_words() and `done` counts the words read so far by all
//    workers (refreshed every 10,000 words per worker, as word2vec.c).
// Differences from word2vec.c, all deliberate:
//  - exactly iter x N words are trained whatever the thread count (word2vec.c trains less with
//    -iter > 1 and several threads: tmikolov/word2vec issue #47); TrainResult::words_read counts
//    them;
//  - the corpus is read into memory once and split into `threads` contiguous shards of word
//    positions (word2vec.c seeks each thread to a byte offset of the file); a shard boundary also
//    ends a sentence;
//  - "</s>" tokens are not counted in N (word2vec.c counts them in train_words; text8-style
//    corpora have none);
//  - the exact sigmoid instead of word2vec.c's 1000-entry table (see ref/word2vec.hpp);
//  - the random streams: worker t of the CPU backend starts its LCG at splitmix64(seed + t)
//    (word2vec.c: at t), so -threads 1 with a given seed is reproducible bit for bit; the GPU
//    backend subsamples on the host with the same LCG and draws windows and negatives on the
//    device from a counter-based hash (same distributions, another sequence).
// Determinism: only the CPU backend with threads = 1 is reproducible. With more threads, and on
// the GPU (up to gpu_concurrent_chunks sentence chunks at once, Hogwild with atomic adds), the
// order in which updates of shared rows land depends on timing. train() therefore refuses a CUDA
// context that is deterministic (the default): the caller opts in with
// ctx.set_deterministic(false) (curnn-word2vec does, and says so).
// The GPU host side keeps two batch slots with page-locked host arrays: while one batch trains,
// the host packs the next straight into the other slot and a second stream uploads it; each slot
// has its own events, so the host only waits for the launch that last used the slot it refills.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/word2vec/vocab.hpp"

namespace curnn::word2vec {

// The most negatives that window_negatives takes (cuda::kW2vWindowMaxNegatives).
inline constexpr int kWindowNegativesMax = 32;

struct TrainOptions {
  int size = 100;        // E, -size
  int window = 5;        // W, -window
  double sample = 1e-3;  // -sample; 0 turns subsampling off
  int negative = 5;      // K, -negative
  int threads = 12;      // -threads (CPU workers)
  int iter = 5;          // -iter
  double alpha = 0.05;   // -alpha (word2vec.c: 0.05 for CBOW, 0.025 for skip-gram)
  bool cbow = true;      // -cbow
  std::uint64_t seed = 1;
  std::int64_t table_size = 100000000;  // unigram table slots (word2vec.c's 1e8)
  // GPU only: sentence chunks trained at once (one warp each); bounds the Hogwild staleness.
  int gpu_concurrent_chunks = 1024;
  // One set of K negatives per centre word, shared by all the pairs of its window, instead of
  // word2vec.c's set per pair (skip-gram; CBOW has one pair per window and trains exactly as
  // without it). Both backends; on the GPU it selects cuda::W2vTrainKernel::kWindow (fewer
  // bytes and atomic adds per word), which needs size % 4 == 0. negative <= kWindowNegativesMax.
  bool window_negatives = false;
  // Polled every 10,000 words per worker (GPU: per launch); true stops training early with
  // TrainResult::stopped set (e.g. on SIGINT/SIGTERM). Empty: never.
  std::function<bool()> stop_requested;
};

// Throws curnn::ArgumentError with a one-line message naming the word2vec.c flag when an option
// is out of range (size, window, negative, threads, iter >= 1; sample >= 0; alpha > 0; ...).
void validate(const TrainOptions& options);

// alpha * (1 - words_done / (total_words + 1)), floored at alpha * 1e-4 (word2vec.c).
double learning_rate(double alpha, std::int64_t words_done, std::int64_t total_words);

// word2vec.c's InitNet: syn0[i] = ((r & 0xFFFF) / 65536 - 0.5) / E, r advanced by lcg_next from
// `seed` before every element, row-major. Returns [V, E].
std::vector<float> initial_syn0(std::int32_t V, int E, std::uint64_t seed = 1);

// The contiguous word ranges [begin, end) of `threads` shards of n words; sizes differ by <= 1.
std::vector<std::pair<std::int64_t, std::int64_t>> shard_ranges(std::int64_t n, int threads);

// A progress report, every `progress_interval_s` seconds and once at the end.
struct TrainProgress {
  std::int64_t words_done = 0;   // words read so far, all passes
  std::int64_t total_words = 0;  // iter x N
  double alpha = 0;              // current learning rate
  // Mean SGNS pair loss since the previous report (NaN if none); the CPU backend computes it on
  // one sentence in 8 (a log and an exp per target), the GPU on every pair.
  double loss = 0;
  double seconds = 0;  // wall clock since training started
  double fraction() const {
    return total_words ? static_cast<double>(words_done) / static_cast<double>(total_words) : 1;
  }
};
using ProgressCallback = std::function<void(const TrainProgress&)>;

struct TrainResult {
  std::vector<float> syn0;         // [V, E] the word vectors
  std::vector<float> syn1neg;      // [V, E] the output vectors
  std::int64_t words_read = 0;     // words read, all passes and workers: iter x N
  std::int64_t words_trained = 0;  // of which kept by subsampling
  std::int64_t pairs = 0;          // (input, targets) pairs trained
  double loss = 0;                 // mean pair loss over the run (sampled as TrainProgress::loss)
  double seconds = 0;              // wall clock of the training loop
  bool stopped = false;            // stop_requested() ended training before iter x N words
};

// Trains on `corpus` (ids of `vocab`, as read_corpus returns it) on ctx's device: CPU threads
// (Hogwild on shared tables) or the GPU kernel. `progress` may be empty.
// Divergence: a NaN/Inf sampled loss stops training, and a NaN/Inf left in syn0 or syn1neg at
// the end is found by a scan; either throws curnn::Error "training diverged: ..." naming the
// words read so far, so no vectors come out of a diverged run. A CPU worker thread that cannot
// be started (std::system_error) or an exception inside a worker stops the others and is
// rethrown here as a one-line error (never std::terminate); when only the progress reporter's
// thread cannot start, training goes on with the final report only.
TrainResult train(Context& ctx, const Vocabulary& vocab, const Corpus& corpus,
                  const TrainOptions& options, const ProgressCallback& progress = {},
                  double progress_interval_s = 1.0);

}  // namespace curnn::word2vec
