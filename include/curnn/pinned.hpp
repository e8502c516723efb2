// PinnedBuffer<T>: move-only owning page-locked (pinned) host memory, cudaMallocHost'd, for
// host-to-device uploads that a CUDA Graph replays: a captured copy reads its source address at
// every replay, so the source must stay at a fixed address and be DMA-able (a copy from pageable
// memory cannot be captured; see copy() in include/curnn/context.hpp). Views of it are host
// (Device::CPU) views. Needs the CUDA backend (throws curnn::Error without it); allocating or
// freeing one inside a capture throws (include/curnn/graph.hpp). Tests: tests/graph_cuda_test.cpp.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <utility>

#include "curnn/tensor.hpp"

namespace curnn {

namespace detail {
void* allocate_pinned_bytes(std::size_t bytes);  // host/context.cpp
void free_pinned_bytes(void* ptr) noexcept;
}  // namespace detail

template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t size)
      : data_(static_cast<T*>(detail::allocate_pinned_bytes(size * sizeof(T)))), size_(size) {}
  ~PinnedBuffer() { detail::free_pinned_bytes(data_); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      detail::free_pinned_bytes(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

  // A host view of the whole buffer with the given shape (its element count must equal size()).
  TensorView<T> view(std::initializer_list<std::int64_t> shape) {
    TensorView<T> v(data_, shape, Device::CPU);
    CURNN_CHECK_ARG(
        static_cast<std::size_t>(v.numel()) == size_,
        "view " << v.shape_string() << " of a pinned buffer of " << size_ << " elements");
    return v;
  }
  TensorView<T> view() {
    return TensorView<T>(data_, {static_cast<std::int64_t>(size_)}, Device::CPU);
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace curnn
