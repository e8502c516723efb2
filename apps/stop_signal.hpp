// Graceful stops for the trainers (curnn-ptb, curnn-mnist, curnn-word2vec): while a StopSignals
// object lives, the first SIGINT or SIGTERM only records the signal; the trainer polls
// requested() after each step, finishes that step, saves its checkpoint when it has a
// --save-path, and exits with 128 + the signal (130 for SIGINT, 143 for SIGTERM). A second
// signal stops at once: it restores the handler that was installed before (run_main's default
// one, which removes temporary files, or the system's default) and re-raises, so nothing waits
// for a step that hangs. A signal that was ignored when the object was created (e.g. SIGINT in
// a background job of a non-interactive shell) stays ignored.
// Tests: tests/signals_test.cpp.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "curnn/error.hpp"

namespace curnn::app {

namespace detail {
inline std::atomic<int> g_stop_signal{0};  // the first signal received, 0 before
inline struct sigaction g_previous_int, g_previous_term;
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

inline void on_stop_signal(int sig) {
  int expected = 0;
  if (g_stop_signal.compare_exchange_strong(expected, sig)) {
    constexpr char kNote[] =
        "\nstopping after the current step (send the signal again to stop at once)\n";
    const ssize_t ignored = ::write(STDERR_FILENO, kNote, sizeof kNote - 1);
    (void)ignored;
    return;
  }
  // The second signal: the previous disposition, delivered when this handler returns.
  ::sigaction(sig, sig == SIGINT ? &g_previous_int : &g_previous_term, nullptr);
  ::raise(sig);
}
}  // namespace detail

class StopSignals {
 public:
  StopSignals() {
    detail::g_stop_signal.store(0);
    install(SIGINT, &detail::g_previous_int, &int_installed_);
    install(SIGTERM, &detail::g_previous_term, &term_installed_);
  }
  ~StopSignals() {
    if (int_installed_) ::sigaction(SIGINT, &detail::g_previous_int, nullptr);
    if (term_installed_) ::sigaction(SIGTERM, &detail::g_previous_term, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that asked for a stop (SIGINT or SIGTERM), or 0.
  int requested() const noexcept { return detail::g_stop_signal.load(); }
  // The exit status of a stopped run: 128 + the signal.
  static int exit_code(int sig) noexcept { return 128 + sig; }
  static const char* name(int sig) noexcept { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

 private:
  static void install(int sig, struct sigaction* previous, bool* installed) {
    struct sigaction now {};
    CURNN_CHECK(::sigaction(sig, nullptr, previous) == 0,
                "cannot read the handler of signal " << sig << ": " << std::strerror(errno));
    if (previous->sa_handler == SIG_IGN) return;  // ignored by whoever started us: keep it so
    now.sa_handler = &detail::on_stop_signal;
    sigemptyset(&now.sa_mask);
    now.sa_flags = SA_RESTART;
    CURNN_CHECK(::sigaction(sig, &now, nullptr) == 0,
                "cannot install the handler of signal " << sig << ": " << std::strerror(errno));
    *installed = true;
  }
  bool int_installed_ = false, term_installed_ = false;
};

// --stop-after N (curnn-ptb, curnn-mnist): a planned stop, handled as a signal's but exit 0.
inline void add_stop_after_option(CLI::App& cli, std::int64_t& steps) {
  cli.add_option("--stop-after", steps,
                 "stop after N training steps in all (a resumed run counts the steps before "
                 "it), save the checkpoint and exit 0; continue with --resume (0: no limit)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
}

}  // namespace curnn::app
