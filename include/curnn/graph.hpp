// CUDA Graphs of whole training steps: capture the work a callable queues on a Context's stream
// once, then replay it with one cudaGraphLaunch (a PTB step is ~325 launches otherwise).
//
// A captured step is a fixed list of kernels, copies and their arguments. So everything that
// changes from step to step must come from memory at fixed addresses, written between replays:
// the ids through PinnedBuffer uploads (include/curnn/pinned.hpp; the host writes the next
// batch only after UploadFence::wait), the learning rate, dropout offset, Adam step through
// DeviceScalar arguments (include/curnn/ops/types.hpp). Inside a capture nothing may allocate or
// free device or page-locked memory, grow the Context's workspace, or synchronise: each throws a
// curnn::Error naming what was attempted (Context::capturing; a free is found when the capture
// ends). Ids checked on the device (Context::id_error_slot) are reported at the synchronisation
// point after the replays, with the message of the op that found them; the replays since the
// previous synchronisation share the graph's slots, so the lowest bad position among them is the
// one reported (not necessarily the earliest replay's).
//
// StepGraphCache runs a step per key (e.g. the batch shape): uncaptured the first time, which
// sizes every buffer and the workspace; captured at the second run and replayed from then on.
// The graph holds raw addresses, so a graph is dropped and the key starts over (an uncaptured
// run, then a capture) whenever libcurnn freed device or page-locked memory since it was
// captured (detail::device_memory_generation), since the freed memory may be a buffer it uses.
// Replays compute the same bits as the uncaptured step (the same kernels with the same
// arguments). Tests: tests/graph_test.cpp (GraphPlan, on the CPU), tests/graph_cuda_test.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/pinned.hpp"

struct CUgraphExec_st;
struct CUevent_st;

namespace curnn {

namespace detail {
// How many times libcurnn freed device or page-locked memory in this process (any thread).
std::uint64_t device_memory_generation() noexcept;
// While one is alive on a thread, libcurnn's device and page-locked allocations on that thread
// throw, and frees are recorded (freed_inside); StepGraph::capture opens one.
class CaptureScope {
 public:
  CaptureScope() noexcept;
  ~CaptureScope();
  CaptureScope(const CaptureScope&) = delete;
  CaptureScope& operator=(const CaptureScope&) = delete;
  bool freed_inside() const noexcept;
};
bool capture_scope_active() noexcept;
}  // namespace detail

// A CUDA event marking how far the device has got, so the host knows when it may overwrite the
// page-locked memory that a queued copy (or a graph's copy node) still has to read.
class UploadFence {
 public:
  UploadFence();  // CUDA backend only
  ~UploadFence();
  UploadFence(const UploadFence&) = delete;
  UploadFence& operator=(const UploadFence&) = delete;
  // Marks the point reached by the work queued on ctx so far (recorded as a node of the graph,
  // at each replay, when ctx is being captured).
  void mark(Context& ctx);
  // Waits on the host until the device has passed the last mark (returns at once before any).
  void wait() const;

 private:
  CUevent_st* event_ = nullptr;
};

// One captured step: capture(ctx, step), then launch(ctx) any number of times. The Context must
// outlive the StepGraph (its replays register their id-error slots with it).
class StepGraph {
 public:
  // Room for the id-checked ops of one step (embedding lookups, losses, row updates).
  static constexpr std::size_t kIdSlots = 256;
  StepGraph() = default;
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // Captures the work `step` queues on ctx.stream() (cudaStreamCaptureModeThreadLocal), with
  // nothing run, and instantiates it (replacing a previous capture). If `step` throws or breaks
  // the capture (an allocation, a free, a synchronisation), the capture is ended, nothing is
  // kept and the error is thrown.
  void capture(Context& ctx, const std::function<void()>& step);
  // Queues one replay of the captured step on ctx.stream() (the context it was captured on).
  void launch(Context& ctx);
  bool captured() const noexcept { return exec_ != nullptr; }
  std::size_t node_count() const noexcept { return nodes_; }
  void reset() noexcept;

 private:
  Context* ctx_ = nullptr;
  CUgraphExec_st* exec_ = nullptr;
  std::size_t nodes_ = 0;
  Buffer<unsigned long long> slot_words_;
  PinnedBuffer<unsigned long long> slot_copies_;
  detail::GraphIdSlots slots_;
};

// When a StepGraphCache entry runs its step uncaptured, captures it, or replays it (the host
// logic alone, tested on the CPU): uncaptured while nothing is known about the step's memory,
// captured at the next run if libcurnn freed no device memory since, then replayed until it does.
class GraphPlan {
 public:
  enum class Action { RunUncaptured, Capture, Replay };
  Action next(std::uint64_t generation_now) const noexcept {
    if (warm_ && generation_now == generation_) return captured_ ? Action::Replay : Action::Capture;
    return Action::RunUncaptured;
  }
  void ran_uncaptured(std::uint64_t generation_after) noexcept {
    warm_ = true, captured_ = false, generation_ = generation_after;
  }
  void captured() noexcept { captured_ = true; }
  bool is_captured() const noexcept { return captured_; }

 private:
  bool warm_ = false, captured_ = false;
  std::uint64_t generation_ = 0;
};

// Steps by key (a batch shape, train or eval, ...): each key has its own graph.
template <class Key>
class StepGraphCache {
 public:
  struct Stats {
    std::int64_t uncaptured = 0, captures = 0, replays = 0;
  };
  // Runs (queues) the step of `key` on ctx: uncaptured, or captured then replayed, or replayed
  // (GraphPlan). Dropping a stale graph first synchronises ctx (reporting its replays' id
  // errors). `step` must queue the same work on every call, reading per-step values from
  // memory (see the top of this file); it is called on the uncaptured runs and at captures.
  GraphPlan::Action run(Context& ctx, const Key& key, const std::function<void()>& step) {
    Entry& e = entries_[key];
    const GraphPlan::Action action = e.plan.next(detail::device_memory_generation());
    switch (action) {
      case GraphPlan::Action::RunUncaptured:
        // A graph about to be dropped: first the id errors of its replays (a synchronisation).
        if (e.graph.captured()) ctx.synchronize();
        e.graph.reset();
        step();
        e.plan.ran_uncaptured(detail::device_memory_generation());
        ++stats_.uncaptured;
        break;
      case GraphPlan::Action::Capture:
        e.graph.capture(ctx, step);
        e.plan.captured();
        ++stats_.captures;
        e.graph.launch(ctx);
        ++stats_.replays;
        break;
      case GraphPlan::Action::Replay:
        e.graph.launch(ctx);
        ++stats_.replays;
        break;
    }
    return action;
  }
  const Stats& stats() const noexcept { return stats_; }
  void clear() noexcept { entries_.clear(); }

 private:
  struct Entry {
    GraphPlan plan;
    StepGraph graph;
  };
  std::map<Key, Entry> entries_;
  Stats stats_;
};

}  // namespace curnn
