// Context: where ops run. The CPU reference backend, or one CUDA device with its stream, cuBLAS
// handle and scratch workspace. Every op in curnn/ops/ takes a Context and dispatches on it, so
// the engine is written once against the op interface and runs on either backend. Data moves
// between memories only through copy(ctx, src, dst) / to_buffer(ctx, ...) / to_vector(ctx, ...)
// below, which are ordered with the work queued on ctx (there is no copy on another stream).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/config.hpp"
#include "curnn/tensor.hpp"

struct cublasContext;

namespace curnn {

class Context;
namespace detail {
struct GraphIdSlots;  // below
}  // namespace detail

// True when this build has the CUDA backend and a CUDA device is visible.
bool cuda_available() noexcept;
// A one-line description of CUDA device `device` (name, SMs, memory, driver/runtime versions).
std::string cuda_device_description(int device = 0);

class Context {
 public:
  // The CPU reference backend (float32 ops; BLAS-backed GEMM when built with OpenBLAS).
  static Context cpu();
  // CUDA device `device`, with a new non-blocking stream. Throws if CUDA is unavailable.
  static Context cuda(int device = 0);
  // CUDA device `device` on a stream someone else owns (PyTorch's current stream, for the Python
  // extension): ops are queued on `stream` (nullptr: the legacy default stream), which the
  // context never destroys. With an allocator (may be nullptr), the context's workspace comes
  // from it, and callers route the buffers an engine creates to it with
  // ScopedExternalAllocator(Device::CUDA, ctx.external_allocator()); it must outlive the context
  // and those buffers. Throws if CUDA is unavailable.
  static Context wrap_cuda(int device, StreamHandle stream, const ExternalAllocator* allocator);

  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();

  Device device() const noexcept { return device_; }
  bool is_cuda() const noexcept { return device_ == Device::CUDA; }

  // Deterministic kernels (the default) give bitwise-identical results run to run; with
  // set_deterministic(false) ops may use faster float atomics.
  bool deterministic() const noexcept { return deterministic_; }
  void set_deterministic(bool on) noexcept { deterministic_ = on; }

  // CUDA only: the stream all ops of this context are queued on, and the cuBLAS handle bound
  // to it. Both are nullptr on the CPU.
  StreamHandle stream() const noexcept;
  cublasContext* cublas() const noexcept;
  // The allocator given to wrap_cuda (nullptr otherwise).
  const ExternalAllocator* external_allocator() const noexcept { return allocator_; }

  // Scratch memory on this context's device, at least `bytes` long, valid until the next call.
  // Ops use it for temporaries (sort keys, partial sums); it grows and is never shrunk. Growing
  // it while the stream is captured into a CUDA Graph throws (see capturing()).
  void* workspace(std::size_t bytes);
  // Grows the workspace to at least `bytes` now (before a capture; no-op when large enough).
  void reserve_workspace(std::size_t bytes) { (void)workspace(bytes); }

  // Waits for all work queued on this context, then reports the first invalid id that a kernel
  // queued since the previous synchronisation found (see id_error_slot): throws ArgumentError.
  // Throws curnn::Error while the stream is being captured (a capture cannot wait).
  void synchronize() const;

  // CUDA: true while this context's stream is being captured into a CUDA Graph (by a StepGraph,
  // include/curnn/graph.hpp, or by someone else on a wrapped stream). While capturing, nothing
  // may allocate or free device or page-locked memory, grow the workspace or synchronise: each
  // throws a curnn::Error saying so. The cuBLAS handle has a fixed workspace of its own
  // (cublasSetWorkspace, 32 MiB on sm_90+, 4 MiB below), so GEMMs never allocate. False on the
  // CPU.
  bool capturing() const;

  // CUDA: ids outside their range are found on the device and reported here, on the host, with
  // the message the CPU path throws for the same input. An op that launches a kernel reading ids
  // takes a fresh slot, a device word holding ~0, which the kernel lowers with atomicMin to
  // (index << 32 | uint32(id)) of a bad id (kernels/common.cuh: report_bad_id): the lowest index
  // wins, as the CPU's first-failing check. At the next synchronisation point (synchronize(), a
  // copy to or from host memory, an op returning a host value) the slots taken since the previous
  // one are read in the order they were taken, and the first one set throws
  // ArgumentError(describe(index, id)). The op's outputs are then undefined (its kernels skip or
  // zero what a bad id would address, never reading or writing out of bounds), and the work
  // queued after it has run. Returns nullptr on the CPU (which checks before it computes).
  using IdErrorMessage = std::function<std::string(std::int64_t index, std::int32_t id)>;
  unsigned long long* id_error_slot(IdErrorMessage describe);

  template <class T>
  Buffer<T> alloc(std::size_t n) const {
    return Buffer<T>(device_, n);
  }

  // StepGraph's hooks (include/curnn/graph.hpp). While capture slots are set, id_error_slot
  // hands out the graph's own slots, which its kernels lower on every replay; a replay then adds
  // them to the pending tables, read (and reset) at the next synchronisation point in the same
  // way as the context's own slots. forget_id_slots drops a table the graph is about to free.
  void set_capture_id_slots(detail::GraphIdSlots* slots) noexcept;
  void add_pending_id_slots(detail::GraphIdSlots* slots);
  void forget_id_slots(detail::GraphIdSlots* slots) noexcept;

 private:
  struct CudaState;
  explicit Context(Device device);
  Device device_;
  bool deterministic_ = true;
  const ExternalAllocator* allocator_ = nullptr;
  std::unique_ptr<CudaState> cuda_;
  Buffer<std::byte> workspace_;
};

namespace detail {
// Id-error slots owned by a captured CUDA Graph (StepGraph, include/curnn/graph.hpp).
struct GraphIdSlots {
  unsigned long long* device = nullptr;  // [capacity] device words, ~0 when unused
  unsigned long long* host = nullptr;    // [capacity] page-locked, their copies
  std::size_t capacity = 0;
  std::vector<Context::IdErrorMessage> messages;  // [slots taken during the capture]
};

// The one copy primitive (host/context.cpp); see copy() below.
void copy_bytes(const Context& ctx, void* dst, Device dst_device, const void* src,
                Device src_device, std::size_t bytes);
}  // namespace detail

// Copies src into dst (equal element counts, any devices), ordered after all work queued on ctx
// and before all work queued on it later. On a CUDA context the copy is queued on ctx.stream();
// when a side is host memory the host side is usable when copy() returns: a copy to the host
// waits for ctx (a synchronisation point: it reports invalid ids, see Context::id_error_slot); a
// copy from pageable host memory returns once CUDA has staged the source (its documented
// behaviour), from page-locked memory after waiting for ctx. Device-to-device copies do not wait.
// While ctx is being captured into a CUDA Graph (Context::capturing) only device-to-device copies
// and copies from page-locked host memory (PinnedBuffer, include/curnn/pinned.hpp) are allowed;
// the latter read the host memory when the graph is replayed, never waited for (the caller keeps
// it unchanged until then: UploadFence, include/curnn/graph.hpp).
// A CPU context copies host memory only (ArgumentError for device memory).
template <class T>
void copy(const Context& ctx, TensorView<const T> src, TensorView<T> dst) {
  CURNN_CHECK_ARG(src.numel() == dst.numel(),
                  "copy of " << src.shape_string() << " into " << dst.shape_string());
  detail::copy_bytes(ctx, dst.data(), dst.device(), src.data(), src.device(),
                     static_cast<std::size_t>(src.numel()) * sizeof(T));
}
template <class T>
void copy(const Context& ctx, TensorView<T> src, TensorView<T> dst) {
  copy(ctx, TensorView<const T>(src), dst);
}

// Host vector -> a new buffer on ctx's device, and a view -> a host vector (after waiting for
// ctx), both with copy()'s ordering.
template <class T>
Buffer<T> to_buffer(const Context& ctx, const std::vector<T>& host) {
  Buffer<T> b(ctx.device(), host.size());
  copy(ctx, TensorView<const T>(host.data(), {static_cast<std::int64_t>(host.size())}, Device::CPU),
       b.view());
  return b;
}
template <class T>
std::vector<T> to_vector(const Context& ctx, TensorView<const T> src) {
  std::vector<T> host(static_cast<std::size_t>(src.numel()));
  copy(ctx, src, TensorView<T>(host.data(), {src.numel()}, Device::CPU));
  return host;
}
template <class T>
std::vector<T> to_vector(const Context& ctx, TensorView<T> src) {
  return to_vector(ctx, TensorView<const T>(src));
}

}  // namespace curnn
