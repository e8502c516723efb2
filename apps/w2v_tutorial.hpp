// curnn-word2vec --tutorial: the book's word2vec experiment as the app shows it. The library
// trains (curnn::word2vec::train_tutorial); this file prints the book's lines, writes the JSON
// log, the output files and draws the t-SNE plot with scripts/tsne_plot.py.
//
// Printed, in the book's order:
//   Data size 16943231
//   Most common words (+UNK) [['UNK', 418391], ('the', 1061396), ('of', 593677), ...]
//   Sample data [5235, 3084, 12, ...] ['anarchism', 'originated', 'as', ...]
//   8 demo-batch lines "3084 originated -> 12 as", "Initialized",
//   "Average loss at step N : X" (step 0, then every log_every steps),
//   "Nearest to five: six, four, seven, ...," per validation word every eval_every steps,
//   "Trained N steps (P pairs) in S s: ... steps/s, ... pairs/s".
// Outputs in --output-dir: embeddings.txt (the normalised embeddings, word2vec's text format);
// with the plot, tsne_input.txt (the 100 most frequent words' vectors) and tsne.png.
// --log-json: {"type":"dataset"...}, one {"type":"loss"...} per loss line, one
// {"type":"nearest"...} per nearest-words block, then {"type":"summary"...} (or
// {"type":"diverged"...}).
//
// The plot: the script is $CURNN_TSNE_SCRIPT, else share/curnn/tsne_plot.py beside the
// executable's folder (the build tree and an installed tree: <prefix>/bin/curnn-word2vec and
// <prefix>/share/curnn/tsne_plot.py), else scripts/tsne_plot.py of the source tree holding the
// build folder (<src>/<build>/bin/curnn-word2vec). The interpreter is the first of $CURNN_PYTHON,
// python3 (PATH) and /usr/bin/python3 that has the script's modules (Debian's python3-sklearn
// and python3-matplotlib). It runs as a child process with an argument vector (no shell). A
// missing script, interpreter or module is a warning naming what is missing; the run succeeds.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "app_common.hpp"
#include "curnn/word2vec/tutorial_trainer.hpp"
#include "curnn/word2vec/vectors.hpp"

extern char** environ;

namespace curnn::app::tutorial {

namespace w2v = curnn::word2vec;
using json = nlohmann::json;

constexpr int kPlotWords = 100;  // words in the t-SNE plot (the book's plot_only)
constexpr int kSampleDataWords = 10;
constexpr int kMostCommonWords = 5;

// Python's repr() of a str as print() shows it inside a list: quoted, with escapes.
inline std::string python_repr(const std::string& s) {
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

// The book's printouts and the JSON log, as the library reports the run.
class Printer : public w2v::TutorialObserver {
 public:
  Printer(JsonLog& log, const std::string& train_path, const Context& ctx)
      : log_(log), train_path_(train_path), device_(device_name(ctx.device())) {}

  void dataset(const w2v::TutorialDataset& ds) override {
    words_ = &ds.words;
    std::printf("Data size %zu\n", ds.data.size());
    std::string common;
    const int shown = std::min(kMostCommonWords, ds.vocabulary_size());
    for (int i = 0; i < shown; ++i) {
      // count[0] is the list ['UNK', n]; the others are most_common's tuples.
      const std::string open = i == 0 ? "[" : "(", close = i == 0 ? "]" : ")";
      common += (i ? ", " : "") + open + python_repr(word(i)) + ", " +
                std::to_string(ds.counts[static_cast<std::size_t>(i)]) + close;
    }
    std::printf("Most common words (+UNK) [%s]\n", common.c_str());
    std::string ids, words;
    const std::size_t sample = std::min<std::size_t>(kSampleDataWords, ds.data.size());
    for (std::size_t i = 0; i < sample; ++i) {
      ids += (i ? ", " : "") + std::to_string(ds.data[i]);
      words += (i ? ", " : "") + python_repr(word(ds.data[i]));
    }
    std::printf("Sample data [%s] [%s]\n", ids.c_str(), words.c_str());
    log_.write({{"type", "dataset"},
                {"train", train_path_},
                {"words", ds.data.size()},
                {"vocabulary", ds.vocabulary_size()},
                {"unk", ds.counts[0]},
                {"device", device_}});
  }

  void demo_batch(const w2v::TutorialDataset&, const std::vector<std::int32_t>& batch,
                  const std::vector<std::int32_t>& labels) override {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::printf("%d %s -> %d %s\n", batch[i], word(batch[i]).c_str(), labels[i],
                  word(labels[i]).c_str());
    }
  }

  void initialized(const std::vector<std::int32_t>&) override {
    std::printf("Initialized\n");
    std::fflush(stdout);
  }

  void loss(std::int64_t step, double average_loss, std::int64_t steps_averaged,
            double elapsed_s) override {
    std::printf("Average loss at step %lld : %.12g\n", static_cast<long long>(step), average_loss);
    std::fflush(stdout);
    log_.write({{"type", "loss"},
                {"step", step},
                {"average_loss", average_loss},
                {"steps_averaged", steps_averaged},
                {"elapsed_s", elapsed_s}});
  }

  void nearest(std::int64_t step, const std::vector<std::int32_t>& valid_ids,
               const std::vector<std::vector<std::int32_t>>& nearest) override {
    json blocks = json::array();
    for (std::size_t w = 0; w < valid_ids.size(); ++w) {
      std::string line = "Nearest to " + word(valid_ids[w]) + ":";
      json neighbours = json::array();
      for (const auto id : nearest[w]) {
        neighbours.push_back(word(id));
        line += " " + word(id) + ",";  // the book's "%s %s," (a trailing comma)
      }
      std::printf("%s\n", line.c_str());
      blocks.push_back({{"word", word(valid_ids[w])}, {"nearest", std::move(neighbours)}});
    }
    std::fflush(stdout);
    log_.write({{"type", "nearest"}, {"step", step}, {"words", std::move(blocks)}});
  }

 private:
  const std::string& word(std::int32_t id) const { return (*words_)[static_cast<std::size_t>(id)]; }

  JsonLog& log_;
  std::string train_path_, device_;
  const std::vector<std::string>* words_ = nullptr;
};

// ---- the t-SNE plot ----------------------------------------------------------------------------

// The folder of this executable, or "" when it cannot be read.
inline std::filesystem::path executable_folder() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

// The places tsne_plot.py is looked for, in order (see the top of this file).
inline std::vector<std::string> tsne_script_candidates() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("CURNN_TSNE_SCRIPT"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
    return candidates;
  }
  const auto bin = executable_folder();
  if (!bin.empty()) {
    candidates.push_back((bin.parent_path() / "share" / "curnn" / "tsne_plot.py").string());
    candidates.push_back((bin.parent_path().parent_path() / "scripts" / "tsne_plot.py").string());
  }
  return candidates;
}

// The exit status of `argv` run as a child process (stdout and stderr to /dev/null when quiet),
// -1 when it did not exit normally, 127 when it could not be started.
inline int run_program(const std::vector<std::string>& argv, bool quiet) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs the t-SNE script on `input` with the first interpreter that has its modules; on any
// failure prints a warning and returns false.
inline bool plot_tsne(const std::string& input, const std::string& output) {
  const auto candidates = tsne_script_candidates();
  std::string script, looked;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(c, ec)) {
      script = c;
      break;
    }
    looked += (looked.empty() ? "" : ", ") + c;
  }
  if (script.empty()) {
    std::fprintf(stderr,
                 "warning: t-SNE plot skipped: tsne_plot.py not found (looked for %s; set "
                 "CURNN_TSNE_SCRIPT to its path)\n",
                 looked.empty() ? "no candidate" : looked.c_str());
    return false;
  }
  std::vector<std::string> pythons;
  if (const char* env = std::getenv("CURNN_PYTHON"); env != nullptr && *env != '\0') {
    pythons.push_back(env);
  }
  pythons.push_back("python3");
  pythons.push_back("/usr/bin/python3");  // Debian's, where python3-sklearn installs
  bool found_python = false;
  for (const std::string& python : pythons) {
    const int check = run_program({python, script, "--check-modules"}, /*quiet=*/true);
    found_python = found_python || check != 127;
    if (check != 0) continue;  // no such interpreter, or it lacks the modules
    const int status = run_program({python, script, "--input", input, "--output", output}, false);
    if (status == 0) return true;
    std::fprintf(stderr, "warning: t-SNE plot skipped: %s failed (exit status %d)\n",
                 script.c_str(), status);
    return false;
  }
  std::fprintf(stderr, found_python ? "warning: t-SNE plot skipped: python3 lacks scikit-learn or "
                                      "matplotlib (Debian: apt-get install python3-sklearn "
                                      "python3-matplotlib)\n"
                                    : "warning: t-SNE plot skipped: python3 was not found\n");
  return false;
}

// ---- the run -----------------------------------------------------------------------------------

struct Options {
  w2v::TutorialOptions train;
  std::string output_dir = ".";
  std::string log_json;
  bool plot = true;
};

// run()'s value when o.train.stop_requested() ended the run early (nothing written).
constexpr int kStopped = 2;

// 0, 1 when training diverged, or kStopped.
inline int run(Context& ctx, const Options& o) {
  Stopwatch wall;
  w2v::validate(o.train);
  // The outputs are checked before any work: the folder, the files, the log.
  data::prepare_output_dir(o.output_dir);
  const std::filesystem::path dir(o.output_dir);
  const std::string embeddings_path = (dir / "embeddings.txt").string();
  const std::string plot_input = (dir / "tsne_input.txt").string();
  const std::string png = (dir / "tsne.png").string();
  data::probe_output_file(embeddings_path);
  if (o.plot) data::probe_output_file(plot_input);
  JsonLog log(o.log_json);

  Printer printer(log, o.train.train_path, ctx);
  const w2v::TutorialResult r = w2v::train_tutorial(ctx, o.train, &printer);
  if (r.diverged()) {
    std::fprintf(stderr,
                 "error: the loss is %g at step %lld: training diverged (learning rate %g)\n",
                 r.diverged_loss, static_cast<long long>(r.diverged_step), o.train.learning_rate);
    log.write({{"type", "diverged"}, {"step", r.diverged_step}});
    return 1;
  }
  if (r.stopped) {
    std::printf("stopped at step %lld of %lld; nothing written\n", static_cast<long long>(r.steps),
                static_cast<long long>(o.train.steps));
    std::fflush(stdout);
    log.write({{"type", "stopped"}, {"steps_done", r.steps}});
    return kStopped;
  }
  const double pairs = static_cast<double>(r.pairs);
  std::printf("Trained %lld steps (%.0f pairs) in %.2f s: %.1f steps/s, %.0f pairs/s\n",
              static_cast<long long>(r.steps), pairs, r.train_seconds,
              static_cast<double>(r.steps) / r.train_seconds, pairs / r.train_seconds);
  if (o.train.cuda_graph) {
    std::printf("CUDA Graph: %lld of the steps replayed from one capture\n",
                static_cast<long long>(r.graph_replays));
  }

  w2v::write_word_vectors(embeddings_path, r.words, r.embeddings.data(), r.embedding_size,
                          /*binary=*/false);
  std::printf("Normalised embeddings written to %s\n", embeddings_path.c_str());
  json tsne = nullptr;
  if (o.plot) {
    const auto plotted = std::min<std::size_t>(kPlotWords, r.words.size());
    const std::vector<std::string> plot_words(r.words.begin(), r.words.begin() + plotted);
    w2v::write_word_vectors(plot_input, plot_words, r.embeddings.data(), r.embedding_size,
                            /*binary=*/false);
    if (plot_tsne(plot_input, png)) {
      tsne = png;
      std::printf("t-SNE plot of the %zu most frequent words written to %s\n", plotted,
                  png.c_str());
    }
  }
  std::fflush(stdout);
  log.write({{"type", "summary"},
             {"steps", r.steps},
             {"pairs", pairs},
             {"train_s", r.train_seconds},
             {"wall_s", wall.seconds()},
             {"steps_per_s", static_cast<double>(r.steps) / r.train_seconds},
             {"words_per_s", pairs / r.train_seconds},
             {"final_average_loss", r.final_average_loss},
             {"embeddings", embeddings_path},
             {"tsne", tsne}});
  return 0;
}

}  // namespace curnn::app::tutorial
