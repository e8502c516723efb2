// CUDA Graphs of whole steps: UploadFence (a CUDA event) and StepGraph (capture, instantiate,
// replay, with its own id-error slots). Design notes: include/curnn/graph.hpp. Tests:
// tests/graph_test.cpp (the host logic), tests/graph_cuda_test.cpp (captured vs uncaptured).
#include "curnn/graph.hpp"

#include <memory>
#include <string>

#if CURNN_HAVE_CUDA
#include "curnn/cuda/check.hpp"
#endif

namespace curnn {

#if !CURNN_HAVE_CUDA
namespace {
[[noreturn]] void no_cuda(const char* what) {
  detail::throw_error(__FILE__, __LINE__, what,
                      "CUDA Graphs need the CUDA backend; libcurnn was built without CUDA");
}
}  // namespace
#endif

// ---- UploadFence --------------------------------------------------------------------------------

UploadFence::UploadFence() {
#if CURNN_HAVE_CUDA
  cudaEvent_t event = nullptr;
  CURNN_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  event_ = event;
#else
  no_cuda("UploadFence");
#endif
}

UploadFence::~UploadFence() {
#if CURNN_HAVE_CUDA
  if (event_) cudaEventDestroy(event_);
#endif
}

void UploadFence::mark(Context& ctx) {
  CURNN_CHECK_ARG(ctx.is_cuda(), "UploadFence::mark on a CPU context");
#if CURNN_HAVE_CUDA
  CURNN_CUDA_CHECK(cudaEventRecordWithFlags(
      event_, ctx.stream(), ctx.capturing() ? cudaEventRecordExternal : cudaEventRecordDefault));
#endif
}

void UploadFence::wait() const {
#if CURNN_HAVE_CUDA
  CURNN_CUDA_CHECK(cudaEventSynchronize(event_));  // returns at once before any record
#endif
}

// ---- StepGraph ----------------------------------------------------------------------------------

#if CURNN_HAVE_CUDA
namespace {
struct GraphDeleter {
  void operator()(CUgraph_st* g) const noexcept { cudaGraphDestroy(g); }
};
using GraphPtr = std::unique_ptr<CUgraph_st, GraphDeleter>;

// Ends a capture that failed, dropping what it holds, and clears CUDA's last error.
void abandon_capture(cudaStream_t stream) noexcept {
  cudaGraph_t partial = nullptr;
  (void)cudaStreamEndCapture(stream, &partial);
  if (partial) cudaGraphDestroy(partial);
  (void)cudaGetLastError();
}
}  // namespace
#endif

StepGraph::~StepGraph() {
  reset();
}

void StepGraph::reset() noexcept {
#if CURNN_HAVE_CUDA
  if (ctx_) ctx_->forget_id_slots(&slots_);
  if (exec_) cudaGraphExecDestroy(exec_);
#endif
  exec_ = nullptr;
  nodes_ = 0;
  slots_.messages.clear();
}

void StepGraph::capture(Context& ctx, const std::function<void()>& step) {
  CURNN_CHECK_ARG(ctx.is_cuda(), "StepGraph::capture on a CPU context (CUDA Graphs need a GPU)");
#if CURNN_HAVE_CUDA
  CURNN_CHECK(!ctx.capturing() && !detail::capture_scope_active(),
              "StepGraph::capture inside another capture");
  reset();
  ctx_ = &ctx;
  const cudaStream_t stream = ctx.stream();
  CURNN_CHECK(stream != nullptr,
              "StepGraph::capture on the legacy default stream (a context from Context::cuda(), "
              "or wrap_cuda with a stream of its own, is needed)");
  if (!slot_words_.data()) {
    slot_words_ = Buffer<unsigned long long>(Device::CUDA, kIdSlots);
    slot_copies_ = PinnedBuffer<unsigned long long>(kIdSlots);
    slots_.device = slot_words_.data();
    slots_.host = slot_copies_.data();
    slots_.capacity = kIdSlots;
  }
  CURNN_CUDA_CHECK(
      cudaMemsetAsync(slots_.device, 0xFF, kIdSlots * sizeof(unsigned long long), stream));
  GraphPtr graph;
  {
    detail::CaptureScope scope;
    CURNN_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    ctx.set_capture_id_slots(&slots_);
    try {
      step();
    } catch (...) {
      ctx.set_capture_id_slots(nullptr);
      abandon_capture(stream);
      slots_.messages.clear();
      throw;
    }
    ctx.set_capture_id_slots(nullptr);
    cudaGraph_t captured = nullptr;
    const cudaError_t end = cudaStreamEndCapture(stream, &captured);
    graph.reset(captured);
    if (scope.freed_inside()) {
      (void)cudaGetLastError();
      slots_.messages.clear();
      CURNN_CHECK(false,
                  "memory was freed inside a CUDA Graph capture: every buffer a captured "
                  "step uses must stay allocated (run the step once uncaptured first)");
    }
    if (end != cudaSuccess) slots_.messages.clear();
    CURNN_CUDA_CHECK(end);
  }
  std::size_t nodes = 0;
  CURNN_CUDA_CHECK(cudaGraphGetNodes(graph.get(), nullptr, &nodes));
  cudaGraphExec_t exec = nullptr;
  CURNN_CUDA_CHECK(cudaGraphInstantiate(&exec, graph.get(), 0));
  exec_ = exec;
  nodes_ = nodes;
#else
  (void)step;
  no_cuda("StepGraph::capture");
#endif
}

void StepGraph::launch(Context& ctx) {
  CURNN_CHECK(exec_ != nullptr, "StepGraph::launch before a capture");
  CURNN_CHECK_ARG(&ctx == ctx_, "StepGraph::launch on another context than it was captured on");
#if CURNN_HAVE_CUDA
  CURNN_CUDA_CHECK(cudaGraphLaunch(exec_, ctx.stream()));
  ctx.add_pending_id_slots(&slots_);
#endif
}

}  // namespace curnn
