// Shared by the ops:: dispatchers: every op runs on float32 on either backend, and on float64
// on the CPU reference backend only (so engines can be gradient-checked in double).
#pragma once

#include <type_traits>

#include "curnn/context.hpp"
#include "curnn/error.hpp"

namespace curnn::ops::internal {

template <class Scalar>
inline constexpr bool kIsFloat = std::is_same_v<Scalar, float>;

// Throws for a double-precision op on a CUDA context (the kernels are float32).
inline void double_needs_cpu(const char* op) {
  CURNN_CHECK_ARG(false, op << ": float64 tensors run on the CPU backend only");
}

}  // namespace curnn::ops::internal
