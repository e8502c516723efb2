// Checks for CUDA runtime, cuBLAS and cuRAND status codes. One macro for all three:
//   CURNN_CUDA_CHECK(cudaMemcpy(...));  CURNN_CUDA_CHECK(cublasSgemm(...));
// On failure it throws curnn::Error with file, line, the expression and the library's message.
// CURNN_CUDA_CHECK_LAUNCH() checks the last kernel launch (cudaGetLastError).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <curand.h>

#include <string>

#include "curnn/error.hpp"

namespace curnn::detail {
std::string status_message(cudaError_t status);
std::string status_message(cublasStatus_t status);
std::string status_message(curandStatus_t status);
inline bool status_ok(cudaError_t s) {
  return s == cudaSuccess;
}
inline bool status_ok(cublasStatus_t s) {
  return s == CUBLAS_STATUS_SUCCESS;
}
inline bool status_ok(curandStatus_t s) {
  return s == CURAND_STATUS_SUCCESS;
}
}  // namespace curnn::detail

#define CURNN_CUDA_CHECK(expr)                                                      \
  do {                                                                              \
    const auto curnn_status_ = (expr);                                              \
    if (!::curnn::detail::status_ok(curnn_status_)) {                               \
      ::curnn::detail::throw_error(__FILE__, __LINE__, #expr,                       \
                                   ::curnn::detail::status_message(curnn_status_)); \
    }                                                                               \
  } while (0)

#define CURNN_CUDA_CHECK_LAUNCH() CURNN_CUDA_CHECK(cudaGetLastError())
