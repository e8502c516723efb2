// Context: where ops run. The CPU reference backend, or one CUDA device with its stream, cuBLAS
// handle and scratch workspace. Every op in curnn/ops/ takes a Context and dispatches on it, so
// the engine is written once against the op interface and runs on either backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "curnn/buffer.hpp"
#include "curnn/config.hpp"
#include "curnn/tensor.hpp"

struct cublasContext;

namespace curnn {

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
  // Ops use it for temporaries (sort keys, partial sums); it grows and is never shrunk.
  void* workspace(std::size_t bytes);

  // Waits for all work queued on this context.
  void synchronize() const;

  template <class T>
  Buffer<T> alloc(std::size_t n) const {
    return Buffer<T>(device_, n);
  }

 private:
  struct CudaState;
  explicit Context(Device device);
  Device device_;
  bool deterministic_ = true;
  const ExternalAllocator* allocator_ = nullptr;
  std::unique_ptr<CudaState> cuda_;
  Buffer<std::byte> workspace_;
};

}  // namespace curnn
