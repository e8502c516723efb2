// Small pieces every libcurnn app shares: choosing the device, the JSON-lines log, wall-clock
// timing, and turning exceptions into a one-line error and a non-zero exit.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <new>
#include <nlohmann/json.hpp>
#include <string>

#include "curnn/context.hpp"
#include "curnn/error.hpp"

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

// One JSON object per line, flushed as written (a crash keeps everything logged so far).
class JsonLog {
 public:
  explicit JsonLog(const std::string& path) {
    if (path.empty()) return;
    out_.open(path, std::ios::out | std::ios::trunc);
    CURNN_CHECK(out_.good(), path << ": cannot open the JSON log for writing");
  }
  void write(const nlohmann::json& record) {
    if (!out_.is_open()) return;
    out_ << record.dump() << '\n';
    out_.flush();
  }

 private:
  std::ofstream out_;
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

// Runs body; a curnn::Error or other exception becomes "<app>: error: <message>" and exit 1.
inline int run_main(const char* app, const std::function<int()>& body) {
  try {
    return body();
  } catch (const curnn::Error& e) {
    // Users need the problem; CURNN_DEBUG=1 adds the source location and expression.
    const char* debug = std::getenv("CURNN_DEBUG");
    std::fprintf(stderr, "%s: error: %s\n", app,
                 debug && *debug == '1' ? e.what() : e.message().c_str());
  } catch (const std::bad_alloc& e) {
    std::fprintf(stderr, "%s: error: out of memory (%s)\n", app, e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", app, e.what());
  }
  return 1;
}

}  // namespace curnn::app
