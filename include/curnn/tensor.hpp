// Tensor views: a non-owning pointer with a row-major shape (rank <= 4) and the device that
// holds the memory. Views never allocate and never copy; Buffer (buffer.hpp) owns memory.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "curnn/error.hpp"

namespace curnn {

enum class Device : std::uint8_t { CPU, CUDA };
const char* device_name(Device device) noexcept;

template <class T>
class TensorView {
 public:
  static constexpr int kMaxRank = 4;

  TensorView() = default;
  TensorView(T* data, std::initializer_list<std::int64_t> shape, Device device)
      : data_(data), device_(device) {
    CURNN_CHECK_ARG(shape.size() <= kMaxRank, "tensor rank " << shape.size() << " > 4");
    for (std::int64_t d : shape) {
      CURNN_CHECK_ARG(d >= 0, "negative dimension " << d);
      shape_[rank_++] = d;
    }
  }
  // A view of T converts to a view of const T.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  TensorView(const TensorView<U>& other)  // NOLINT(google-explicit-constructor)
      : data_(other.data()), rank_(other.rank()), device_(other.device()) {
    for (int i = 0; i < rank_; ++i) shape_[i] = other.dim(i);
  }

  T* data() const noexcept { return data_; }
  Device device() const noexcept { return device_; }
  int rank() const noexcept { return rank_; }
  std::int64_t dim(int i) const noexcept { return shape_[i]; }
  std::int64_t numel() const noexcept {
    std::int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= shape_[i];
    return rank_ == 0 ? 0 : n;
  }
  bool empty() const noexcept { return data_ == nullptr || numel() == 0; }
  explicit operator bool() const noexcept { return data_ != nullptr; }

  bool has_shape(std::initializer_list<std::int64_t> shape) const noexcept {
    if (static_cast<int>(shape.size()) != rank_) return false;
    int i = 0;
    for (std::int64_t d : shape)
      if (shape_[i++] != d) return false;
    return true;
  }
  std::string shape_string() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) s += (i ? "," : "") + std::to_string(shape_[i]);
    return s + "]";
  }

  // The same memory with another shape of the same element count.
  TensorView reshape(std::initializer_list<std::int64_t> shape) const {
    TensorView r(data_, shape, device_);
    CURNN_CHECK_ARG(r.numel() == numel(),
                    "reshape " << shape_string() << " -> " << r.shape_string());
    return r;
  }
  // Rows [begin, end) along the first dimension.
  TensorView rows(std::int64_t begin, std::int64_t end) const {
    CURNN_CHECK_ARG(rank_ >= 1 && 0 <= begin && begin <= end && end <= shape_[0],
                    "rows [" << begin << "," << end << ") of " << shape_string());
    TensorView r = *this;
    r.shape_[0] = end - begin;
    r.data_ = data_ + begin * (numel() / (shape_[0] ? shape_[0] : 1));
    return r;
  }

 private:
  T* data_ = nullptr;
  std::array<std::int64_t, kMaxRank> shape_{};
  int rank_ = 0;
  Device device_ = Device::CPU;
};

using Tensor = TensorView<float>;
using ConstTensor = TensorView<const float>;
using Ids = TensorView<std::int32_t>;
using ConstIds = TensorView<const std::int32_t>;

namespace detail {
template <class T>
void check_tensor(const TensorView<T>& t, std::initializer_list<std::int64_t> shape, Device device,
                  const char* name, const char* file, int line) {
  if (!t) {
    throw_argument_error(file, line, name, std::string(name) + " is empty (null data)");
  }
  if (t.device() != device) {
    throw_argument_error(file, line, name,
                         std::string(name) + " is on " + device_name(t.device()) + ", expected " +
                             device_name(device));
  }
  if (!t.has_shape(shape)) {
    TensorView<T> want(t.data(), shape, device);
    throw_argument_error(
        file, line, name,
        std::string(name) + " has shape " + t.shape_string() + ", expected " + want.shape_string());
  }
}
}  // namespace detail

}  // namespace curnn

// CURNN_CHECK_TENSOR(t, device, {B, 4 * H}): t is non-null, on device, and has exactly that shape.
#define CURNN_CHECK_TENSOR(t, device, ...) \
  ::curnn::detail::check_tensor((t), __VA_ARGS__, (device), #t, __FILE__, __LINE__)
