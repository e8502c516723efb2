// curnn-word2vec: word2vec.c's trainer (skip-gram / CBOW with negative sampling) on the GPU or
// CPU threads, with word2vec.c's flags, defaults and output formats; and, with --tutorial, the
// book's skip-gram NCE experiment (TensorFlow's word2vec_basic.py).
//
//   curnn-word2vec -train text8 -output vectors.bin -binary 1 -cbow 0 -size 128 -sample 1e-4
//   curnn-word2vec --tutorial -train text8 [--steps N] [--output-dir DIR] [--no-plot]
//
// word2vec.c's single-dash flags (-train, -size, ...) and double-dash forms are both accepted.
// Corpus handling (see curnn/word2vec/vocab.hpp): plain or .gz; words longer than 99 bytes are
// cut at a UTF-8 character boundary; other bytes (invalid UTF-8 included) are kept as they are and
// written unchanged to the output (gensim: load_word2vec_format(..., unicode_errors='ignore')).
// An empty corpus, or one where no word occurs -min-count times (e.g. a single 10 MB run without
// spaces, which is one truncated word), is a one-line error.
// Training that diverges (NaN/Inf in the loss or the vectors) is a one-line error with exit 1
// and writes no vectors. SIGINT/SIGTERM stop training within 10,000 words per thread and exit
// 130/143 writing nothing, as word2vec.c, which writes its output only after training (there is
// no checkpoint to resume from); the vocabulary (-save-vocab) is written before training and is
// complete. In --tutorial mode a signal stops after the current step, also writing nothing.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "app_common.hpp"
#include "curnn/word2vec/trainer.hpp"
#include "curnn/word2vec/vectors.hpp"
#include "curnn/word2vec/vocab.hpp"
#include "stop_signal.hpp"
#include "w2v_common.hpp"
#include "w2v_tutorial.hpp"

namespace {

namespace w2v = curnn::word2vec;
using json = nlohmann::json;

// -alpha above this gets a warning. Measured on 3 MB of the text8 substitute (skip-gram, size 50,
// one pass, one thread): 0.1 and 0.25 end with a mean loss of 2.3 and 2.1 (0.025 is the
// default); 0.5 with 6e25 (finite vectors, useless); 2 and 10 leave NaN in every vector (stopped
// as diverged).
constexpr double kAlphaWarnAbove = 0.25;

struct Options {
  std::string train_path, output, save_vocab, read_vocab, device, log_json;
  w2v::TrainOptions train;
  int hs = 0, binary = 0, cbow = 1, debug = 2, classes = 0;
  std::int64_t min_count = 5;
  double alpha = -1;  // -1: word2vec.c's default for the architecture
  bool tutorial = false, no_plot = false;
  std::string graph = "off";           // --tutorial: CUDA Graph steps
  curnn::app::tutorial::Options book;  // --tutorial
};

// "-train" -> "--train": word2vec.c's single-dash long flags for CLI11. A value such as "-1" or
// "-1e-4" (a dash followed by a digit or '.') is left alone.
std::vector<std::string> normalize_flags(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] != '-' &&
        std::isalpha(static_cast<unsigned char>(a[1])))
      a.insert(0, "-");
    args.push_back(a);
  }
  return args;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

// The progress line: a single updating line on a terminal, plain lines otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(curnn::app::JsonLog& log) : log_(log), tty_(isatty(fileno(stdout))) {}
  bool tty() const { return tty_; }

  void operator()(const w2v::TrainProgress& p) {
    const double f = p.fraction();
    const double wps = p.seconds > 0 ? static_cast<double>(p.words_done) / p.seconds : 0;
    const double eta = f > 0 ? p.seconds * (1 - f) / f : NAN;
    std::printf("%sprogress %5.1f%%  words/s %8.1fk  lr %.6f  loss %.4f  eta %s%s",
                tty_ ? "\r" : "", 100 * f, wps / 1000, p.alpha, p.loss,
                format_duration(eta).c_str(), tty_ ? "  " : "\n");
    std::fflush(stdout);
    log_.write({{"type", "progress"},
                {"fraction", f},
                {"words_done", p.words_done},
                {"words_per_s", wps},
                {"lr", p.alpha},
                {"loss", std::isfinite(p.loss) ? json(p.loss) : json(nullptr)},
                {"elapsed_s", p.seconds}});
  }
  void finish() {
    if (tty_) std::printf("\n");
  }

 private:
  curnn::app::JsonLog& log_;
  bool tty_;
};

// The book's experiment (apps/w2v_tutorial.hpp); SIGINT/SIGTERM stop it after the current step.
int run_tutorial_mode(Options& o, curnn::Context& ctx) {
  o.book.train.train_path = o.train_path;
  o.book.train.seed = o.train.seed;
  o.book.log_json = o.log_json;
  o.book.plot = !o.no_plot;
  curnn::app::StopSignals stop;
  o.book.train.stop_requested = [&stop] { return stop.requested() != 0; };
  const int status = curnn::app::tutorial::run(ctx, o.book);
  if (status != curnn::app::tutorial::kStopped) return status;
  std::printf("curnn-word2vec: stopped by %s\n", curnn::app::StopSignals::name(stop.requested()));
  return curnn::app::StopSignals::exit_code(stop.requested());
}

int run_fast_mode(Options& o, curnn::Context& ctx) {
  curnn::app::StopSignals stop;  // polled by the trainer (reading the corpus is not interrupted)
  CURNN_CHECK(o.hs == 0, "hierarchical softmax (-hs 1) is not supported; use -hs 0 -negative N");
  CURNN_CHECK(o.classes == 0, "word classes (-classes N) are not supported; use -classes 0");
  CURNN_CHECK(!o.output.empty() || !o.save_vocab.empty(),
              "nothing to do: give -output FILE (or -save-vocab FILE)");
  o.train.cbow = o.cbow != 0;
  o.train.alpha = o.alpha > 0 ? o.alpha : (o.train.cbow ? 0.05 : 0.025);
  CURNN_CHECK_ARG(o.alpha == -1 || o.alpha > 0, "-alpha must be > 0, got " << o.alpha);
  w2v::validate(o.train);
  if (o.train.alpha > kAlphaWarnAbove) {
    std::fprintf(stderr,
                 "curnn-word2vec: warning: -alpha %g is far above word2vec.c's defaults (0.025 "
                 "skip-gram, 0.05 CBOW); training may diverge (see --help)\n",
                 o.train.alpha);
  }
  // The outputs are checked before any work (a folder that does not exist, a FIFO, ...).
  if (!o.output.empty()) curnn::data::probe_output_file(o.output);
  if (!o.save_vocab.empty()) curnn::data::probe_output_file(o.save_vocab);
  curnn::app::JsonLog log(o.log_json);
  curnn::app::Stopwatch total;

  const w2v::Vocabulary vocab = o.read_vocab.empty() ? w2v::learn_vocab(o.train_path, o.min_count)
                                                     : w2v::read_vocab(o.read_vocab, o.min_count);
  std::printf("Vocab size: %d\nWords in train file: %lld\n", vocab.size(),
              static_cast<long long>(vocab.train_words()));
  if (!o.save_vocab.empty()) w2v::save_vocab(vocab, o.save_vocab);
  if (o.output.empty()) return 0;
  const w2v::Corpus corpus = w2v::read_corpus(o.train_path, vocab);
  // The GPU trainer is Hogwild (its result depends on the GPU's timing); the library refuses it
  // on a deterministic context, so the app accepts it explicitly and says so. Reproducible runs:
  // --device cpu --threads 1.
  if (ctx.is_cuda()) ctx.set_deterministic(false);
  const std::string threads = ctx.is_cuda() ? ", Hogwild: not reproducible run to run"
                                            : ", " + std::to_string(o.train.threads) + " threads" +
                                                  (o.train.threads == 1 ? ", reproducible" : "");
  std::printf(
      "curnn-word2vec: %s, %s, size %d, window %d, negative %d, sample %g, iter %d, "
      "alpha %g, %lld words per pass, device %s%s\n",
      o.train.cbow ? "cbow" : "skip-gram",
      o.train.window_negatives ? "negative sampling (one set per window)" : "negative sampling",
      o.train.size, o.train.window, o.train.negative, o.train.sample, o.train.iter, o.train.alpha,
      static_cast<long long>(corpus.num_words()), curnn::app::describe(ctx).c_str(),
      threads.c_str());
  std::fflush(stdout);
  log.write({{"type", "config"},
             {"train", o.train_path},
             {"cbow", o.train.cbow},
             {"size", o.train.size},
             {"window", o.train.window},
             {"negative", o.train.negative},
             {"sample", o.train.sample},
             {"iter", o.train.iter},
             {"alpha", o.train.alpha},
             {"threads", o.train.threads},
             {"min_count", o.min_count},
             {"seed", o.train.seed},
             {"gpu_chunks", o.train.gpu_concurrent_chunks},
             {"negatives_per", o.train.window_negatives ? "window" : "pair"},
             {"vocab_size", vocab.size()},
             {"corpus_words", corpus.num_words()},
             {"device", curnn::app::describe(ctx)}});

  ProgressPrinter printer(log);
  w2v::ProgressCallback progress;
  if (o.debug > 0) progress = [&](const w2v::TrainProgress& p) { printer(p); };
  o.train.stop_requested = [&stop] { return stop.requested() != 0; };
  const w2v::TrainResult r =
      w2v::train(ctx, vocab, corpus, o.train, progress, printer.tty() ? 1.0 : 10.0);
  if (o.debug > 0) printer.finish();
  if (r.stopped) {
    // As word2vec.c, which writes its output only after training: no partial vectors.
    const int sig = stop.requested();
    std::printf("curnn-word2vec: stopped by %s after %lld of %lld words; nothing written\n",
                curnn::app::StopSignals::name(sig), static_cast<long long>(r.words_read),
                static_cast<long long>(o.train.iter * corpus.num_words()));
    log.write({{"type", "stopped"}, {"words_read", r.words_read}});
    return curnn::app::StopSignals::exit_code(sig);
  }
  w2v::write_word_vectors(o.output, vocab.words(), r.syn0.data(), o.train.size, o.binary != 0);
  const double wps = r.seconds > 0 ? static_cast<double>(r.words_read) / r.seconds : 0;
  std::printf(
      "curnn-word2vec: trained %lld words (%lld after subsampling) in %.1f s: %.0f "
      "words/s, mean loss %.4f; wrote %s; total %.1f s\n",
      static_cast<long long>(r.words_read), static_cast<long long>(r.words_trained), r.seconds, wps,
      r.loss, o.output.c_str(), total.seconds());
  log.write({{"type", "done"},
             {"words_read", r.words_read},
             {"words_trained", r.words_trained},
             {"train_s", r.seconds},
             {"words_per_s", wps},
             {"loss", r.loss},
             {"total_s", total.seconds()},
             {"output", o.output}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return curnn::app::run_main("curnn-word2vec", [&]() -> int {
    Options o;
    w2v::TrainOptions& t = o.train;
    t.threads = 12;
    CLI::App cli{
        "curnn-word2vec: word2vec.c-compatible skip-gram/CBOW with negative sampling on "
        "the GPU or CPU (libcurnn); --tutorial runs the book's NCE experiment"};
    cli.add_option("--train", o.train_path, "training corpus, plain or .gz")->required();
    cli.add_option("--output", o.output, "word vectors file (word2vec.c text or binary format)");
    cli.add_option("--size", t.size, "vector size (default 100)");
    cli.add_option("--window", t.window, "max skip length between words (default 5)");
    cli.add_option("--sample", t.sample,
                   "threshold for subsampling frequent words; 0 = off "
                   "(default 1e-3)");
    cli.add_option("--hs", o.hs, "hierarchical softmax: only 0 is supported");
    cli.add_option("--debug", o.debug, "0 = no progress lines (default 2)");
    cli.add_option("--classes", o.classes, "k-means word classes: only 0 (vectors) is supported");
    cli.add_option("--negative", t.negative, "number of negative examples (default 5)");
    cli.add_option("--threads", t.threads, "CPU threads (default 12)");
    cli.add_option("--iter", t.iter, "training passes (default 5)");
    cli.add_option("--min-count", o.min_count, "discard words rarer than this (default 5)");
    cli.add_option("--alpha", o.alpha,
                   "starting learning rate (default 0.025 skip-gram, 0.05 CBOW; at most 10, a "
                   "warning above " +
                       std::to_string(kAlphaWarnAbove).substr(0, 4) +
                       ": training diverges there; a NaN/Inf stops the run with exit 1 and "
                       "writes nothing)");
    cli.add_option("--cbow", o.cbow, "1 = CBOW (default), 0 = skip-gram")
        ->check(CLI::IsMember({0, 1}));
    cli.add_option("--binary", o.binary, "1 = binary output, 0 = text (default)")
        ->check(CLI::IsMember({0, 1}));
    cli.add_option("--save-vocab", o.save_vocab, "write the vocabulary (word count lines)");
    cli.add_option("--read-vocab", o.read_vocab, "read the vocabulary instead of counting");
    cli.add_option("--device", o.device, "cuda or cpu (default: cuda when a GPU is present)")
        ->check(CLI::IsMember({"cuda", "cpu"}));
    cli.add_option("--seed", t.seed, "random seed (default 1; word2vec.c's initialisation)");
    cli.add_option("--log-json", o.log_json, "write one JSON object per progress line");
    cli.add_option("--gpu-chunks", t.gpu_concurrent_chunks,
                   "GPU: sentence chunks trained concurrently (default 1024)");
    cli.add_option_function<std::string>(
           "--negatives-per", [&t](const std::string& v) { t.window_negatives = v == "window"; },
           "'pair' (default: word2vec.c's K negatives for every pair) or 'window' (one set per "
           "centre word, shared by the pairs of its window: on the GPU about 4x fewer bytes per "
           "word; needs --negative <= 32, and --size a multiple of 4 on the GPU; CBOW trains "
           "the same either way)")
        ->check(CLI::IsMember({"pair", "window"}));
    cli.add_flag("--tutorial", o.tutorial, "run the book's skip-gram NCE experiment instead");
    w2v::TutorialOptions& book = o.book.train;
    cli.add_option("--steps", book.steps, "--tutorial: training steps (default 100001)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
    cli.add_option("--output-dir", o.book.output_dir, "--tutorial: folder for the outputs");
    cli.add_flag("--no-plot", o.no_plot, "--tutorial: skip the t-SNE plot");
    cli.add_option("--vocabulary-size", book.vocabulary_size,
                   "--tutorial: words kept, UNK included (default 50000)")
        ->check(CLI::Range(2, 1 << 30));
    cli.add_option("--batch-size", book.batch_size, "--tutorial: pairs per step (default 128)")
        ->check(CLI::Range(1, 1 << 20));
    cli.add_option("--embedding-size", book.embedding_size,
                   "--tutorial: embedding size (default 128)")
        ->check(CLI::Range(1, 1 << 20));
    cli.add_option("--num-sampled", book.num_sampled,
                   "--tutorial: negative classes per step (default 64)")
        ->check(CLI::Range(1, 1 << 30));
    cli.add_option("--learning-rate", book.learning_rate,
                   "--tutorial: SGD learning rate (default 1)")
        ->check(CLI::Range(1e-12, 1e30));
    cli.add_option("--log-every", book.log_every,
                   "--tutorial: steps between loss lines (default 2000)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
    cli.add_option("--graph", o.graph,
                   "--tutorial: on: each training step is one CUDA Graph replay (GPU only; the "
                   "same results as off); off (default)")
        ->check(CLI::IsMember({"on", "off"}));
    cli.add_option("--eval-every", book.eval_every,
                   "--tutorial: steps between nearest-word blocks; 0: none (default 10000)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    cli.name("curnn-word2vec");
    cli.footer(
        "word2vec.c's single-dash flags are accepted too: -train FILE -output FILE -size 128 "
        "...\n"
        "Determinism: --device cpu --threads 1 reproduces a run bit for bit for a given --seed. "
        "With more threads, and always on the GPU (Hogwild: concurrent sentence chunks update "
        "shared rows, in an order that depends on timing), the vectors differ run to run. "
        "--tutorial is built from deterministic ops: a given --seed gives the same vectors on a "
        "given device.");
    std::vector<std::string> args = normalize_flags(argc, argv);
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
    try {
      cli.parse(args);
    } catch (const CLI::ParseError& e) {
      return curnn::app::exit_on_parse_error(cli, e, "curnn-word2vec");
    }
    CURNN_CHECK(o.graph == "off" || o.tutorial,
                "--graph applies to --tutorial only (the fast trainer has no per-step launches "
                "to capture)");
    curnn::Context ctx = curnn::app::make_context(o.device);
    CURNN_CHECK(o.graph == "off" || ctx.is_cuda(),
                "--graph on needs the GPU (--device cuda): CUDA Graphs do not exist on the CPU");
    o.book.train.cuda_graph = o.graph == "on";
    return o.tutorial ? run_tutorial_mode(o, ctx) : run_fast_mode(o, ctx);
  });
}
