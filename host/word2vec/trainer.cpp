// The fast word2vec trainer (curnn/word2vec/trainer.hpp): the sentence reader shared by both
// backends, the CPU workers, and the host side of the GPU backend.
#include "curnn/word2vec/trainer.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <system_error>
#include <thread>
#include <utility>

#include "curnn/error.hpp"
#include "curnn/ref/w2v_train.hpp"
#include "curnn/unigram_table.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/check.hpp"
#include "curnn/cuda/w2v_train.hpp"
#include "curnn/pinned.hpp"
static_assert(curnn::word2vec::kWindowNegativesMax == curnn::cuda::kW2vWindowMaxNegatives);
#endif

namespace curnn::word2vec {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// How often a CPU worker publishes its word count and refreshes its learning rate (word2vec.c).
constexpr std::int64_t kWordsPerRateUpdate = 10000;
// The CPU workers compute the loss (for the progress line) on one sentence in this many.
constexpr std::int64_t kLossSampleEvery = 8;

// word2vec.c's per-word subsampling threshold `ran` (kept when ran >= (r & 0xFFFF) / 65536), as
// float; 1 (always kept) when sample <= 0 or the count is 0.
std::vector<float> keep_thresholds(const Vocabulary& vocab, double sample) {
  std::vector<float> keep(static_cast<std::size_t>(vocab.size()), 1.0f);  // [V]
  if (sample <= 0) return keep;
  for (std::int32_t w = 0; w < vocab.size(); ++w) {
    if (vocab.count(w) > 0) {
      keep[w] = static_cast<float>(keep_probability(vocab.count(w), sample, vocab.train_words()));
    }
  }
  return keep;
}

// Reads the sentences of the word range [begin, end) of a corpus as word2vec.c's training thread
// does: each word is read once, dropped by subsampling (one LCG draw per word), and the kept
// words are cut into sentences at line ends, at kMaxSentenceLength kept words and at `end`.
class SentenceReader {
 public:
  SentenceReader(const Corpus& corpus, const std::vector<float>& keep, std::int64_t begin,
                 std::int64_t end)
      : corpus_(corpus), keep_(keep), begin_(begin), end_(end) {
    restart();
  }

  void restart() {
    pos_ = begin_;
    const auto& lines = corpus_.line_offsets;
    line_end_ = std::upper_bound(lines.begin(), lines.end(), pos_);
  }

  // Fills `sentence` with the next sentence's kept ids, advancing the LCG `rng` once per word
  // read; returns the number of words read (0 at the end of the range). A sentence may be empty
  // when subsampling dropped all its words.
  std::int64_t next(std::vector<std::int32_t>& sentence, std::uint64_t& rng) {
    sentence.clear();
    const std::int64_t start = pos_;
    while (pos_ < end_) {
      while (*line_end_ <= pos_) ++line_end_;
      const std::int64_t stop = std::min<std::int64_t>(*line_end_, end_);
      while (pos_ < stop && sentence.size() < static_cast<std::size_t>(kMaxSentenceLength)) {
        const std::int32_t id = corpus_.ids[static_cast<std::size_t>(pos_++)];
        rng = lcg_next(rng);
        if (keep_[id] < static_cast<float>(rng & 0xFFFF) / 65536.0f) continue;
        sentence.push_back(id);
      }
      break;  // a line end, the range end or a full sentence
    }
    return pos_ - start;
  }

 private:
  const Corpus& corpus_;
  const std::vector<float>& keep_;
  std::int64_t begin_, end_, pos_ = 0;
  std::vector<std::int64_t>::const_iterator line_end_;
};

// word2vec.c's draws from one LCG state, in its order (ref::train_sentence's Draws). With
// per_window (TrainOptions::window_negatives) a window's first pair draws its K negatives in that
// order and the window's other pairs reuse them: CBOW (one pair per window) draws exactly as
// without it.
struct LcgDraws {
  std::uint64_t& rng;
  int window;
  const UnigramTable& table;
  std::int32_t vocab_size;
  bool per_window = false;
  int window_drawn = 0;  // per_window: negatives of the current window drawn so far
  std::array<std::int32_t, kWindowNegativesMax> window_negatives{};

  int shrink(int) {  // called once per window, before its negatives
    window_drawn = 0;
    rng = lcg_next(rng);
    return static_cast<int>(rng % static_cast<std::uint64_t>(window));
  }
  std::int32_t negative(int, int, int k) {
    if (!per_window) return draw();
    if (k >= window_drawn) window_negatives[static_cast<std::size_t>(k)] = draw(), ++window_drawn;
    return window_negatives[static_cast<std::size_t>(k)];
  }
  std::int32_t draw() {
    rng = lcg_next(rng);
    // table.sample(rng), with the modulo by word2vec.c's table size a compile-time constant (a
    // multiplication instead of a 64-bit division, which would cost as much as a target's
    // arithmetic).
    constexpr std::uint64_t kDefaultSize = 100000000;
    const std::uint64_t slot = table.size() == static_cast<std::int64_t>(kDefaultSize)
                                   ? (rng >> 16) % kDefaultSize
                                   : (rng >> 16) % static_cast<std::uint64_t>(table.size());
    const std::int32_t target = table.table()[slot];
    if (target != 0) return target;
    return static_cast<std::int32_t>(rng % static_cast<std::uint64_t>(vocab_size - 1) + 1);
  }
};

// A CPU worker's sentence step (ref::train_sentence inlined: flatten), compiled three times: for
// CPUs with AVX-512 or AVX2 (chosen when the program loads: 16- or 8-wide loops) and for the
// baseline x86-64 (4-wide SSE2). No FMA (-ffp-contract=off): the same arithmetic each way.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default"), flatten))
#endif
void train_sentence_on_cpu(const TrainOptions& o, const std::vector<std::int32_t>& sentence,
                           LcgDraws& draws, float alpha, float* syn0, float* syn1neg,
                           float* neu1, float* neu1e, ref::SgnsLossSum* loss, bool compute_loss) {
  ref::train_sentence(o.size, o.negative, o.window, o.cbow, static_cast<int>(sentence.size()),
                      sentence.data(), draws, alpha, syn0, syn1neg, neu1, neu1e, loss,
                      compute_loss);
}

// What each worker (or the GPU loop) has done so far; written by its owner, read by the
// progress reporter.
struct alignas(64) WorkerCounters {
  std::atomic<std::int64_t> words_read{0}, words_trained{0}, pairs{0};
  std::atomic<std::int64_t> loss_pairs{0};  // pairs whose loss is in loss_sum
  std::atomic<double> loss_sum{0.0};
};

// Calls `progress` with the counters' totals; the loss is averaged since the previous report.
class ProgressReporter {
 public:
  ProgressReporter(const ProgressCallback& progress, std::int64_t total_words, double alpha,
                   Clock::time_point start)
      : progress_(progress), total_words_(total_words), alpha_(alpha), start_(start) {}

  void report(const std::vector<WorkerCounters>& workers) {
    TrainProgress p;
    std::int64_t pairs = 0;
    double loss = 0;
    for (const auto& w : workers) {
      p.words_done += w.words_read.load(std::memory_order_relaxed);
      pairs += w.loss_pairs.load(std::memory_order_relaxed);
      loss += w.loss_sum.load(std::memory_order_relaxed);
    }
    p.total_words = total_words_;
    p.alpha = learning_rate(alpha_, p.words_done, total_words_);
    p.loss = pairs > last_pairs_ ? (loss - last_loss_) / static_cast<double>(pairs - last_pairs_)
                                 : std::numeric_limits<double>::quiet_NaN();
    p.seconds = seconds_since(start_);
    last_pairs_ = pairs, last_loss_ = loss;
    if (progress_) progress_(p);
  }

 private:
  const ProgressCallback& progress_;
  std::int64_t total_words_;
  double alpha_;
  Clock::time_point start_;
  std::int64_t last_pairs_ = 0;
  double last_loss_ = 0;
};

void fill_result(TrainResult& result, const std::vector<WorkerCounters>& workers,
                 Clock::time_point start) {
  double loss = 0;
  std::int64_t loss_pairs = 0;
  for (const auto& w : workers) {
    result.words_read += w.words_read.load();
    result.words_trained += w.words_trained.load();
    result.pairs += w.pairs.load();
    loss_pairs += w.loss_pairs.load();
    loss += w.loss_sum.load();
  }
  result.loss = loss_pairs ? loss / static_cast<double>(loss_pairs) : 0.0;
  result.seconds = seconds_since(start);
}

// Why training ended before iter x N words: the first of a stop request, a divergence seen in
// the sampled loss, or a failure (a worker's exception, a thread that could not start). Workers
// poll it where they publish their counts.
class EarlyStop {
 public:
  enum Reason { kNone = 0, kRequested, kDiverged, kFailed };
  Reason reason() const { return static_cast<Reason>(reason_.load()); }
  bool halted() const { return reason_.load() != kNone; }
  // The first call wins; later ones return false and change nothing.
  bool set(Reason r) {
    int expected = kNone;
    return reason_.compare_exchange_strong(expected, r);
  }
  void diverged(double loss, std::int64_t words_done) {
    if (set(kDiverged)) loss_ = loss, words_done_ = words_done;
  }
  void failed(std::exception_ptr error) {
    if (set(kFailed)) error_ = std::move(error);
  }
  // After the workers joined: throws for a divergence or a failure.
  void rethrow(std::int64_t total_words) const {
    if (reason() == kFailed && error_) std::rethrow_exception(error_);
    CURNN_CHECK(reason() != kDiverged, "training diverged: the loss is "
                                           << loss_ << " after about " << words_done_ << " of "
                                           << total_words << " words (try a smaller -alpha)");
  }

 private:
  std::atomic<int> reason_{kNone};
  double loss_ = 0;
  std::int64_t words_done_ = 0;
  std::exception_ptr error_;
};

// The CPU backend: `threads` workers over contiguous shards, Hogwild on the shared tables.
void train_on_cpu(const Vocabulary& vocab, const Corpus& corpus, const TrainOptions& o,
                  const UnigramTable& table, TrainResult& result, const ProgressCallback& progress,
                  double progress_interval_s) {
  const std::int64_t total_words = static_cast<std::int64_t>(o.iter) * corpus.num_words();
  const std::vector<float> keep = keep_thresholds(vocab, o.sample);
  const auto shards = shard_ranges(corpus.num_words(), o.threads);
  std::vector<WorkerCounters> counters(shards.size());
  std::atomic<std::int64_t> words_done{0};  // published word counts, for the learning rate
  std::atomic<int> running{static_cast<int>(shards.size())};
  EarlyStop early;
  const auto start = Clock::now();

  const auto train_shard = [&](std::size_t t) {
    WorkerCounters& mine = counters[t];
    std::uint64_t rng = splitmix64(o.seed + t);
    SentenceReader reader(corpus, keep, shards[t].first, shards[t].second);
    LcgDraws draws{rng, o.window, table, vocab.size(), o.window_negatives};
    std::vector<std::int32_t> sentence;
    std::vector<float> neu1(static_cast<std::size_t>(o.size)), neu1e(neu1.size());
    ref::SgnsLossSum loss;
    std::int64_t read = 0, trained = 0, unpublished = 0, sentences = 0;
    double alpha = o.alpha;
    const auto publish = [&] {
      const std::int64_t done = words_done.fetch_add(unpublished) + unpublished;
      alpha = learning_rate(o.alpha, done, total_words);
      unpublished = 0;
      mine.words_read.store(read, std::memory_order_relaxed);
      mine.words_trained.store(trained, std::memory_order_relaxed);
      mine.pairs.store(loss.pairs, std::memory_order_relaxed);
      mine.loss_pairs.store(loss.loss_pairs, std::memory_order_relaxed);
      mine.loss_sum.store(loss.sum, std::memory_order_relaxed);
      if (!std::isfinite(loss.sum)) early.diverged(loss.sum, done);
      if (o.stop_requested && o.stop_requested()) early.set(EarlyStop::kRequested);
    };
    for (int pass = 0; pass < o.iter && !early.halted(); ++pass) {
      reader.restart();
      for (;;) {
        if (unpublished > kWordsPerRateUpdate) {
          publish();
          if (early.halted()) break;
        }
        const std::int64_t n = reader.next(sentence, rng);
        if (n == 0) break;
        read += n, unpublished += n;
        trained += static_cast<std::int64_t>(sentence.size());
        train_sentence_on_cpu(o, sentence, draws, static_cast<float>(alpha), result.syn0.data(),
                              result.syn1neg.data(), neu1.data(), neu1e.data(), &loss,
                              sentences++ % kLossSampleEvery == 0);
      }
    }
    publish();
  };
  // No exception leaves a thread (that would be std::terminate): it stops the others instead.
  const auto work = [&](std::size_t t) noexcept {
    try {
      train_shard(t);
    } catch (...) {
      early.failed(std::current_exception());
    }
    running.fetch_sub(1);
  };

  ProgressReporter reporter(progress, total_words, o.alpha, start);
  const auto watch = [&]() noexcept {  // reports while there is something to report
    auto last = Clock::now();
    while (running.load() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (seconds_since(last) >= progress_interval_s) {
        try {
          reporter.report(counters);
        } catch (...) {
          early.failed(std::current_exception());
        }
        last = Clock::now();
      }
    }
  };
  std::vector<std::thread> workers;  // workers 1..; worker 0 is this thread
  try {
    workers.reserve(shards.size());
    for (std::size_t t = 1; t < shards.size(); ++t) workers.emplace_back(work, t);
  } catch (const std::exception& e) {  // std::system_error: no thread (EAGAIN); bad_alloc
    try {
      CURNN_CHECK(false, "cannot start CPU worker thread " << workers.size() + 2 << " of "
                                                           << shards.size() << ": " << e.what()
                                                           << " (try a smaller -threads)");
    } catch (...) {
      early.failed(std::current_exception());
    }
  }
  // The progress reporter is optional: without a thread for it, only the final report comes.
  std::thread watcher;
  if (progress && !early.halted()) {
    try {
      watcher = std::thread(watch);
    } catch (const std::exception&) {
    }
  }
  if (early.halted()) {
    running.fetch_sub(1);  // worker 0 does not run: the started ones stop at their next publish
  } else {
    work(0);
  }
  for (auto& w : workers) w.join();
  if (watcher.joinable()) watcher.join();
  early.rethrow(total_words);
  result.stopped = early.reason() == EarlyStop::kRequested;
  reporter.report(counters);
  fill_result(result, counters, start);
}

#if CURNN_HAVE_CUDA

// Owns a CUDA event or stream, released by Destroy. Move-only.
template <class Handle, cudaError_t (*Destroy)(Handle)>
class UniqueCudaHandle {
 public:
  explicit UniqueCudaHandle(Handle handle) : handle_(handle) {}
  ~UniqueCudaHandle() {
    if (handle_) Destroy(handle_);
  }
  UniqueCudaHandle(const UniqueCudaHandle&) = delete;
  UniqueCudaHandle& operator=(const UniqueCudaHandle&) = delete;
  UniqueCudaHandle(UniqueCudaHandle&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  Handle get() const noexcept { return handle_; }

 private:
  Handle handle_ = nullptr;
};
using CudaEvent = UniqueCudaHandle<cudaEvent_t, cudaEventDestroy>;
using CudaStream = UniqueCudaHandle<cudaStream_t, cudaStreamDestroy>;

// An event for ordering only (no timing).
cudaEvent_t new_event() {
  cudaEvent_t event = nullptr;
  CURNN_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  return event;
}
// A stream that does not synchronise with the legacy default stream.
cudaStream_t new_stream() {
  cudaStream_t stream = nullptr;
  CURNN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return stream;
}

// One of the GPU backend's two batch slots, used in turn. The host packs a batch straight into
// the slot's page-locked arrays; the upload stream copies them to the device and records
// `uploaded`; the context's stream waits for that event, runs the kernel, copies the per-chunk
// results back into page-locked memory and records `done`. Before the slot is packed again the
// host waits for its own `done` only (the other slot's batch keeps the GPU busy meanwhile).
struct GpuBatch {
  GpuBatch(Device dev, int max_chunks, std::size_t max_words)
      : ids(dev, max_words),
        offsets(dev, static_cast<std::size_t>(max_chunks) + 1),
        alpha(dev, static_cast<std::size_t>(max_chunks)),
        loss(dev, static_cast<std::size_t>(max_chunks)),
        pairs(dev, static_cast<std::size_t>(max_chunks)),
        host_ids(max_words),
        host_offsets(static_cast<std::size_t>(max_chunks) + 1),
        host_alpha(static_cast<std::size_t>(max_chunks)),
        host_loss(static_cast<std::size_t>(max_chunks)),
        host_pairs(static_cast<std::size_t>(max_chunks)) {}
  Buffer<std::int32_t> ids;      // [max_chunks * kMaxSentenceLength]
  Buffer<std::int64_t> offsets;  // [max_chunks + 1]
  Buffer<float> alpha, loss;     // [max_chunks]
  Buffer<std::int32_t> pairs;    // [max_chunks]
  PinnedBuffer<std::int32_t> host_ids;
  PinnedBuffer<std::int64_t> host_offsets;
  PinnedBuffer<float> host_alpha, host_loss;
  PinnedBuffer<std::int32_t> host_pairs;
  CudaEvent uploaded{new_event()}, done{new_event()};
  std::int64_t words_read = 0, words_trained = 0;
  std::int64_t n_words = 0;  // packed so far
  int chunks = 0;            // packed so far
  bool pending = false;      // launched, results not collected yet
};

void train_on_gpu(Context& ctx, const Vocabulary& vocab, const Corpus& corpus,
                  const TrainOptions& o, const UnigramTable& table, TrainResult& result,
                  const ProgressCallback& progress, double progress_interval_s) {
  CURNN_CHECK_ARG(o.size <= cuda::kW2vTrainMaxEmbedding,
                  "-size " << o.size << ": the GPU trainer supports at most "
                           << cuda::kW2vTrainMaxEmbedding << " (use --device cpu)");
  CURNN_CHECK_ARG(!ctx.deterministic(),
                  "the GPU word2vec trainer is Hogwild (its results depend on the GPU's timing): "
                  "call set_deterministic(false) on the context to accept that; a reproducible "
                  "run needs the CPU backend with threads = 1");
  const std::int64_t total_words = static_cast<std::int64_t>(o.iter) * corpus.num_words();
  const std::vector<float> keep = keep_thresholds(vocab, o.sample);
  const auto stream = static_cast<cudaStream_t>(ctx.stream());
  const Device dev = ctx.device();
  Buffer<std::int32_t> d_table = to_buffer(ctx, table.table());
  Buffer<float> syn0 = to_buffer(ctx, result.syn0), syn1neg = to_buffer(ctx, result.syn1neg);
  std::vector<WorkerCounters> counters(1);
  WorkerCounters& done = counters[0];
  const auto start = Clock::now();
  ProgressReporter reporter(progress, total_words, o.alpha, start);
  auto last_report = start;

  CURNN_CHECK_ARG(!o.window_negatives || o.size % cuda::kW2vWindowSizeMultiple == 0,
                  "-size must be a multiple of "
                      << cuda::kW2vWindowSizeMultiple
                      << " with one set of negatives per window on the GPU, got " << o.size);
  const auto kernel =
      o.window_negatives ? cuda::W2vTrainKernel::kWindow : cuda::W2vTrainKernel::kPairs;
  const int max_chunks = o.gpu_concurrent_chunks;
  const std::size_t max_words = static_cast<std::size_t>(max_chunks) * kMaxSentenceLength;
  GpuBatch batches[2] = {GpuBatch(dev, max_chunks, max_words),
                         GpuBatch(dev, max_chunks, max_words)};
  const CudaStream uploads{new_stream()};  // a second stream, for the uploads
  // Waits for a slot's own launch (its `done` event) and adds its results to the counters.
  double loss_sum = 0;
  std::int64_t pairs = 0, words_read = 0, words_trained = 0;
  const auto retire = [&](GpuBatch& s) {
    if (!s.pending) return;
    s.pending = false;
    CURNN_CUDA_CHECK(cudaEventSynchronize(s.done.get()));
    for (int c = 0; c < s.chunks; ++c) {
      const float loss = s.host_loss.data()[c];
      CURNN_CHECK(std::isfinite(loss), "training diverged: the loss is "
                                           << loss << " after about " << words_read + s.words_read
                                           << " of " << total_words
                                           << " words (try a smaller -alpha)");
      loss_sum += loss, pairs += s.host_pairs.data()[c];
    }
    words_read += s.words_read, words_trained += s.words_trained;
    s.chunks = 0, s.n_words = 0, s.words_read = s.words_trained = 0;
    s.host_offsets.data()[0] = 0;
    done.words_read.store(words_read), done.words_trained.store(words_trained);
    done.pairs.store(pairs), done.loss_pairs.store(pairs), done.loss_sum.store(loss_sum);
    if (seconds_since(last_report) >= progress_interval_s) {
      reporter.report(counters);
      last_report = Clock::now();
    }
  };

  std::uint64_t rng = splitmix64(o.seed);
  SentenceReader reader(corpus, keep, 0, corpus.num_words());
  std::vector<std::int32_t> sentence;
  std::int64_t words_packed = 0;  // words read into launched or packed batches
  std::uint64_t launch = 0;
  int current = 0;
  batches[0].host_offsets.data()[0] = 0;
  batches[1].host_offsets.data()[0] = 0;
  // Uploads the current slot's batch on the upload stream, queues its kernel and the copies of
  // its results on the context's stream, then moves to the other slot (after waiting for that
  // slot's previous launch).
  const auto launch_batch = [&] {
    GpuBatch& s = batches[current];
    const int S = s.chunks;
    if (S > 0) {
      const auto upload = [&](auto* device, const auto* host, std::size_t n) {
        CURNN_CUDA_CHECK(cudaMemcpyAsync(device, host, n * sizeof(*host), cudaMemcpyHostToDevice,
                                         uploads.get()));
      };
      upload(s.ids.data(), s.host_ids.data(), static_cast<std::size_t>(s.n_words));
      upload(s.offsets.data(), s.host_offsets.data(), static_cast<std::size_t>(S) + 1);
      upload(s.alpha.data(), s.host_alpha.data(), static_cast<std::size_t>(S));
      CURNN_CUDA_CHECK(cudaEventRecord(s.uploaded.get(), uploads.get()));
      CURNN_CUDA_CHECK(cudaStreamWaitEvent(stream, s.uploaded.get(), 0));
      cuda::W2vTrainDraws draws;
      draws.key = splitmix64(o.seed ^ splitmix64(++launch));
      draws.table = d_table.data();
      draws.table_size = table.size();
      cuda::w2v_train_chunks(o.size, o.negative, o.window, o.cbow, vocab.size(), S, s.ids.data(),
                             s.offsets.data(), s.alpha.data(), draws, syn0.data(), syn1neg.data(),
                             s.loss.data(), s.pairs.data(), stream, kernel);
      CURNN_CUDA_CHECK(cudaMemcpyAsync(s.host_loss.data(), s.loss.data(), S * sizeof(float),
                                       cudaMemcpyDeviceToHost, stream));
      CURNN_CUDA_CHECK(cudaMemcpyAsync(s.host_pairs.data(), s.pairs.data(),
                                       S * sizeof(std::int32_t), cudaMemcpyDeviceToHost, stream));
    }
    CURNN_CUDA_CHECK(cudaEventRecord(s.done.get(), stream));
    s.pending = true;
    current ^= 1;
    retire(batches[current]);  // its previous launch used the slot we fill next
  };

  for (int pass = 0; pass < o.iter && !result.stopped; ++pass) {
    reader.restart();
    for (;;) {
      if (batches[current].chunks == 0 && o.stop_requested && o.stop_requested()) {  // per launch
        result.stopped = true;
        break;
      }
      const std::int64_t n = reader.next(sentence, rng);
      if (n == 0) break;
      GpuBatch& s = batches[current];
      s.words_read += n;
      if (sentence.size() >= 2) {  // a one-word sentence has no context
        s.host_alpha.data()[s.chunks] =
            static_cast<float>(learning_rate(o.alpha, words_packed, total_words));
        std::copy(sentence.begin(), sentence.end(), s.host_ids.data() + s.n_words);
        s.n_words += static_cast<std::int64_t>(sentence.size());
        s.host_offsets.data()[++s.chunks] = s.n_words;
      }
      s.words_trained += static_cast<std::int64_t>(sentence.size());
      words_packed += n;
      if (s.chunks == max_chunks) launch_batch();
    }
  }
  launch_batch();
  retire(batches[0]);
  retire(batches[1]);
  result.syn0 = to_vector(ctx, syn0.view());
  result.syn1neg = to_vector(ctx, syn1neg.view());
  reporter.report(counters);
  fill_result(result, counters, start);
}

#endif  // CURNN_HAVE_CUDA

}  // namespace

void validate(const TrainOptions& o) {
  CURNN_CHECK_ARG(o.size >= 1 && o.size <= 10000, "-size must be in [1, 10000], got " << o.size);
  CURNN_CHECK_ARG(o.window >= 1 && o.window <= 1000,
                  "-window must be in [1, 1000], got " << o.window);
  CURNN_CHECK_ARG(std::isfinite(o.sample) && o.sample >= 0 && o.sample <= 1,
                  "-sample must be in [0, 1] (0 turns subsampling off), got " << o.sample);
  CURNN_CHECK_ARG(o.negative >= 1 && o.negative <= 1000,
                  "-negative must be in [1, 1000], got " << o.negative);
  CURNN_CHECK_ARG(o.threads >= 1 && o.threads <= 1024,
                  "-threads must be in [1, 1024], got " << o.threads);
  CURNN_CHECK_ARG(o.iter >= 1 && o.iter <= 1000000,
                  "-iter must be in [1, 1000000], got " << o.iter);
  CURNN_CHECK_ARG(std::isfinite(o.alpha) && o.alpha > 0 && o.alpha <= 10,
                  "-alpha must be in (0, 10], got " << o.alpha);
  CURNN_CHECK_ARG(o.table_size >= 1, "the unigram table needs >= 1 slot, got " << o.table_size);
  CURNN_CHECK_ARG(o.gpu_concurrent_chunks >= 1 && o.gpu_concurrent_chunks <= (1 << 20),
                  "gpu_concurrent_chunks must be in [1, 2^20], got " << o.gpu_concurrent_chunks);
  CURNN_CHECK_ARG(!o.window_negatives || o.negative <= kWindowNegativesMax,
                  "-negative must be at most " << kWindowNegativesMax
                                               << " with one set of negatives per window, got "
                                               << o.negative);
}

double learning_rate(double alpha, std::int64_t words_done, std::int64_t total_words) {
  const double rate =
      alpha * (1.0 - static_cast<double>(words_done) / (static_cast<double>(total_words) + 1.0));
  return std::max(rate, alpha * 1e-4);
}

std::vector<float> initial_syn0(std::int32_t V, int E, std::uint64_t seed) {
  CURNN_CHECK_ARG(V >= 1 && E >= 1, "initial_syn0: V " << V << ", E " << E);
  std::vector<float> syn0(static_cast<std::size_t>(V) * static_cast<std::size_t>(E));
  std::uint64_t r = seed;
  const float scale = static_cast<float>(E);
  for (float& x : syn0) {
    r = lcg_next(r);
    x = (static_cast<float>(r & 0xFFFF) / 65536.0f - 0.5f) / scale;
  }
  return syn0;
}

std::vector<std::pair<std::int64_t, std::int64_t>> shard_ranges(std::int64_t n, int threads) {
  CURNN_CHECK_ARG(n >= 0 && threads >= 1, "shard_ranges: n " << n << ", threads " << threads);
  std::vector<std::pair<std::int64_t, std::int64_t>> shards;
  for (int t = 0; t < threads; ++t) {
    shards.emplace_back(n * t / threads, n * (t + 1) / threads);
  }
  return shards;
}

TrainResult train(Context& ctx, const Vocabulary& vocab, const Corpus& corpus,
                  const TrainOptions& options, const ProgressCallback& progress,
                  double progress_interval_s) {
  validate(options);
  CURNN_CHECK_ARG(vocab.size() >= 2, "train: the vocabulary has no word besides </s>");
  CURNN_CHECK_ARG(corpus.num_words() > 0, "train: the corpus has no in-vocabulary word");
  for (const std::int32_t id : corpus.ids) {
    CURNN_CHECK_ARG(id > 0 && id < vocab.size(),
                    "train: corpus id " << id << " outside [1, " << vocab.size() << ")");
  }
  const UnigramTable table(vocab.counts(), 0.75, options.table_size);
  TrainResult result;
  result.syn0 = initial_syn0(vocab.size(), options.size, options.seed);
  result.syn1neg.assign(result.syn0.size(), 0.0f);
  if (ctx.is_cuda()) {
#if CURNN_HAVE_CUDA
    train_on_gpu(ctx, vocab, corpus, options, table, result, progress, progress_interval_s);
#endif
  } else {
    train_on_cpu(vocab, corpus, options, table, result, progress, progress_interval_s);
  }
  // The sampled loss may miss a NaN that reached the tables: never return non-finite vectors.
  for (const std::vector<float>* table_values : {&result.syn0, &result.syn1neg}) {
    const auto bad = std::find_if(table_values->begin(), table_values->end(),
                                  [](float x) { return !std::isfinite(x); });
    CURNN_CHECK(bad == table_values->end(),
                "training diverged: " << (table_values == &result.syn0 ? "syn0" : "syn1neg")
                                      << " holds " << *bad << " after " << result.words_read
                                      << " words (try a smaller -alpha)");
  }
  return result;
}

}  // namespace curnn::word2vec
