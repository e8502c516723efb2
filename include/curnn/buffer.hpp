// Buffer<T>: move-only owning storage of `size` elements on one device (64-byte aligned host
// memory, or cudaMalloc'd device memory, or an ExternalAllocator's). Copies are deleted to prevent
// performance accidents; every transfer is an explicit copy() on an explicit stream.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <utility>
#include <vector>

#include "curnn/tensor.hpp"

struct CUstream_st;

namespace curnn {

// The same type as cudaStream_t, without pulling in the CUDA headers. nullptr is the legacy
// default stream; host-to-host copies ignore it.
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
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes,
                StreamHandle stream);
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

// Copies src into dst (equal element counts) on `stream`, ordered with the work queued there.
// With stream == nullptr the copy is complete (visible to every stream) when copy() returns.
template <class T>
void copy(TensorView<const T> src, TensorView<T> dst, StreamHandle stream) {
  CURNN_CHECK_ARG(src.numel() == dst.numel(),
                  "copy of " << src.shape_string() << " into " << dst.shape_string());
  detail::copy_bytes(dst.data(), dst.device(), src.data(), src.device(),
                     static_cast<std::size_t>(src.numel()) * sizeof(T), stream);
}
template <class T>
void copy(TensorView<T> src, TensorView<T> dst, StreamHandle stream) {
  copy(TensorView<const T>(src), dst, stream);
}

// Host vector -> new buffer on `device`, and buffer -> host vector (both synchronous).
template <class T>
Buffer<T> to_buffer(const std::vector<T>& host, Device device) {
  Buffer<T> b(device, host.size());
  copy(TensorView<const T>(host.data(), {static_cast<std::int64_t>(host.size())}, Device::CPU),
       b.view(), nullptr);
  return b;
}
template <class T>
std::vector<T> to_vector(TensorView<const T> src) {
  std::vector<T> host(static_cast<std::size_t>(src.numel()));
  copy(src, TensorView<T>(host.data(), {src.numel()}, Device::CPU), nullptr);
  return host;
}
template <class T>
std::vector<T> to_vector(TensorView<T> src) {
  return to_vector(TensorView<const T>(src));
}

}  // namespace curnn
