// Small pieces every libcurnn app shares: choosing the device, the JSON-lines log, wall-clock
// timing, and run_main: exceptions become a one-line error and a non-zero exit, and a signal or
// std::terminate never leaves a temporary output file behind.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "curnn/context.hpp"
#include "curnn/data/io.hpp"
#include "curnn/error.hpp"
#include "curnn/text.hpp"
#include "json_text.hpp"

namespace curnn::app {

// "cuda", "cpu" or "" (cuda when a GPU is present, else cpu).
inline Context make_context(const std::string& device) {
  if (device == "cpu") return Context::cpu();
  if (device == "cuda") {
    CURNN_CHECK(cuda_available(), "--device cuda: no CUDA device is available"
                                      << (CURNN_HAVE_CUDA ? "" : " (built without CUDA)"));
    return Context::cuda();
  }
  CURNN_CHECK(device.empty(), "--device must be cuda or cpu, got '" << device << "'");
  return cuda_available() ? Context::cuda() : Context::cpu();
}

inline std::string describe(const Context& ctx) {
  return ctx.is_cuda() ? "cuda (" + cuda_device_description() + ")" : std::string("cpu");
}

// The --log-json file: one JSON object per line (to_json_text: any bytes in strings), each written
// to disk as it comes. It is an output file like the others (curnn::data::AtomicOutputFile,
// Partial::Publish): links are written through, a FIFO or device is refused when the log is
// opened (before any work), and the records go to a temporary file that replaces the log when the
// run ends, also when it fails or is interrupted by a signal, provided it holds a record. An
// earlier log is never replaced by an empty one, and no temporary file is left. An empty path:
// no log.
class JsonLog {
 public:
  explicit JsonLog(const std::string& path) : uncaught_(std::uncaught_exceptions()) {
    if (!path.empty()) file_.emplace(path, false, data::AtomicOutputFile::Partial::Publish);
  }
  ~JsonLog() {
    // Unwinding from an error: the file's destructor keeps the records written so far.
    if (!file_ || std::uncaught_exceptions() > uncaught_) return;
    try {
      file_->commit();
    } catch (const Error& e) {
      std::fprintf(stderr, "warning: %s\n", one_line(e.message()).c_str());
    }
  }
  JsonLog(const JsonLog&) = delete;
  JsonLog& operator=(const JsonLog&) = delete;

  void write(const nlohmann::json& record) {
    if (file_) file_->write(to_json_text(record) + '\n');
  }

 private:
  std::optional<data::AtomicOutputFile> file_;
  int uncaught_;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void reset() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Command-line errors as one line: "<app>: error: <what> (see --help)".
inline void one_line_cli_errors(CLI::App& cli, const std::string& app) {
  cli.failure_message([app](const CLI::App*, const CLI::Error& e) {
    return app + ": error: " + e.what() + " (see --help)\n";
  });
}

namespace detail {

// SIGINT, SIGTERM, SIGHUP, SIGPIPE, ... (data::kTerminationSignals): remove the temporary output
// files (a log keeps its records), then die of the signal as without the handler (exit status
// 128 + signal for the shell). A trainer may install its own handler for a graceful stop (finish
// the step, save, exit); this is the default for everything else. Ignored signals stay ignored.
inline void remove_outputs_and_reraise(int sig) {
  data::remove_pending_outputs();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

inline std::terminate_handler& previous_terminate_handler() {
  static std::terminate_handler previous = nullptr;
  return previous;
}

inline void install_output_cleanup() {
  for (const int sig : data::kTerminationSignals) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;  // nohup
    struct sigaction action {};
    action.sa_handler = remove_outputs_and_reraise;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
  previous_terminate_handler() = std::set_terminate([] {
    data::remove_pending_outputs();
    if (const std::terminate_handler previous = previous_terminate_handler()) previous();
    std::abort();
  });
}

}  // namespace detail

// Runs body; a curnn::Error or other exception becomes "<app>: error: <message>" (one line, at
// most curnn::kMessageBytes of it: echoed input is bounded and escaped) and exit 1. Installs the
// output clean-up above first.
inline int run_main(const char* app, const std::function<int()>& body) {
  detail::install_output_cleanup();
  try {
    return body();
  } catch (const curnn::Error& e) {
    // Users need the problem; CURNN_DEBUG=1 adds the source location and expression.
    const char* debug = std::getenv("CURNN_DEBUG");
    std::fprintf(stderr, "%s: error: %s\n", app,
                 one_line(debug && *debug == '1' ? e.what() : e.message()).c_str());
  } catch (const std::bad_alloc& e) {
    std::fprintf(stderr, "%s: error: out of memory (%s)\n", app, e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", app, one_line(e.what()).c_str());
  }
  return 1;
}

}  // namespace curnn::app
