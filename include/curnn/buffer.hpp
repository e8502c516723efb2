// Buffer<T>: move-only owning storage of `size` elements on one device (64-byte aligned host
// memory, or cudaMalloc'd device memory, or an ExternalAllocator's). Copies are deleted to prevent
// performance accidents; every transfer is an explicit copy(ctx, src, dst) on a Context
// (curnn/context.hpp), ordered with the work queued on that context.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <utility>

#include "curnn/tensor.hpp"

struct CUstream_st;

namespace curnn {

// The same type as cudaStream_t, without pulling in the CUDA headers (Context::stream()).
using StreamHandle = CUstream_st*;

// Memory that someone else manages, e.g. PyTorch's caching allocator behind the Python
// extension (Context::wrap_cuda). While a ScopedExternalAllocator for a device is alive on a
// thread, every Buffer created on that thread for that device takes its memory from the
// allocator and gives it back to the same allocator when destroyed (wherever that happens).
// allocate returns nullptr when it cannot serve the request. The allocator must outlive every
// buffer it served.
struct ExternalAllocator {
  void* (*allocate)(void* state, std::size_t bytes) = nullptr;
  void (*deallocate)(void* state, void* ptr) = nullptr;
  void* state = nullptr;
};

// Routes this thread's new Buffers on `device` to `allocator` (nullptr: libcurnn's own
// allocation) until destroyed; scopes nest, each restoring the previous one.
class ScopedExternalAllocator {
 public:
  ScopedExternalAllocator(Device device, const ExternalAllocator* allocator) noexcept;
  ~ScopedExternalAllocator();
  ScopedExternalAllocator(const ScopedExternalAllocator&) = delete;
  ScopedExternalAllocator& operator=(const ScopedExternalAllocator&) = delete;

 private:
  Device device_;
  const ExternalAllocator* previous_;
};

namespace detail {
void* allocate_bytes(Device device, std::size_t bytes);
void free_bytes(Device device, void* ptr) noexcept;
// The allocator of this thread's innermost ScopedExternalAllocator for `device`, or nullptr.
const ExternalAllocator* scoped_allocator(Device device) noexcept;
// With allocator == nullptr: the two functions above.
void* allocate_bytes(Device device, std::size_t bytes, const ExternalAllocator* allocator);
void free_bytes(Device device, void* ptr, const ExternalAllocator* allocator) noexcept;
}  // namespace detail

template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(Device device, std::size_t size)
      : allocator_(detail::scoped_allocator(device)),
        data_(static_cast<T*>(detail::allocate_bytes(device, size * sizeof(T), allocator_))),
        size_(size),
        device_(device) {}
  ~Buffer() { reset(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept
      : allocator_(o.allocator_),
        data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        device_(o.device_) {}
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      reset();
      allocator_ = o.allocator_;
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      device_ = o.device_;
    }
    return *this;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  Device device() const noexcept { return device_; }

  // A view of the whole buffer with the given shape (its element count must equal size()).
  TensorView<T> view(std::initializer_list<std::int64_t> shape) {
    TensorView<T> v(data_, shape, device_);
    CURNN_CHECK_ARG(static_cast<std::size_t>(v.numel()) == size_,
                    "view " << v.shape_string() << " of a buffer of " << size_ << " elements");
    return v;
  }
  TensorView<const T> view(std::initializer_list<std::int64_t> shape) const {
    return const_cast<Buffer*>(this)->view(shape);
  }
  TensorView<T> view() { return TensorView<T>(data_, {static_cast<std::int64_t>(size_)}, device_); }
  TensorView<const T> view() const { return const_cast<Buffer*>(this)->view(); }
  // A view of the first elements with the given shape (its element count may be below size()):
  // for buffers sized once for the largest shape (reserve_buffer) and used for smaller ones.
  TensorView<T> prefix(std::initializer_list<std::int64_t> shape) {
    TensorView<T> v(data_, shape, device_);
    CURNN_CHECK_ARG(static_cast<std::size_t>(v.numel()) <= size_,
                    "view " << v.shape_string() << " of the first elements of a buffer of " << size_
                            << " elements");
    return v;
  }
  TensorView<const T> prefix(std::initializer_list<std::int64_t> shape) const {
    return const_cast<Buffer*>(this)->prefix(shape);
  }

 private:
  void reset() noexcept {
    if (data_) detail::free_bytes(device_, data_, allocator_);
    data_ = nullptr;
    size_ = 0;
  }
  const ExternalAllocator* allocator_ = nullptr;  // nullptr: libcurnn's own allocation
  T* data_ = nullptr;
  std::size_t size_ = 0;
  Device device_ = Device::CPU;
};

// Makes `b` a buffer of exactly n elements on `device`, reallocating only when it is not one
// already (the contents are then uninitialised). For scratch and activation buffers whose
// shapes follow the input.
template <class T>
void ensure_buffer(Buffer<T>& b, Device device, std::size_t n) {
  if (b.size() != n || b.device() != device) b = Buffer<T>(device, n);
}

// Makes `b` hold at least n elements on `device`, reallocating only when it holds fewer (the
// contents are then uninitialised): sized once by the largest use, then read through
// prefix(shape) views. For activations whose batch varies (an evaluation's last, smaller
// batch), where reallocating would cost a cudaFree, which synchronises the device.
template <class T>
void reserve_buffer(Buffer<T>& b, Device device, std::size_t n) {
  if (b.size() < n || b.device() != device) b = Buffer<T>(device, n);
}

}  // namespace curnn
