// Messages for CUDA runtime, cuBLAS and cuRAND status codes (curnn/cuda/check.hpp).
#include "curnn/cuda/check.hpp"

namespace curnn::detail {

std::string status_message(cudaError_t status) {
  return std::string("CUDA error ") + cudaGetErrorName(status) + ": " + cudaGetErrorString(status);
}

std::string status_message(cublasStatus_t status) {
  return std::string("cuBLAS error ") + cublasGetStatusName(status) + ": " +
         cublasGetStatusString(status);
}

std::string status_message(curandStatus_t status) {
  switch (status) {
    case CURAND_STATUS_VERSION_MISMATCH:
      return "cuRAND error: header and library versions differ";
    case CURAND_STATUS_NOT_INITIALIZED:
      return "cuRAND error: generator not initialized";
    case CURAND_STATUS_ALLOCATION_FAILED:
      return "cuRAND error: memory allocation failed";
    case CURAND_STATUS_TYPE_ERROR:
      return "cuRAND error: generator of the wrong type";
    case CURAND_STATUS_OUT_OF_RANGE:
      return "cuRAND error: argument out of range";
    case CURAND_STATUS_LENGTH_NOT_MULTIPLE:
      return "cuRAND error: length not a multiple of dimension";
    case CURAND_STATUS_DOUBLE_PRECISION_REQUIRED:
      return "cuRAND error: GPU lacks double precision";
    case CURAND_STATUS_LAUNCH_FAILURE:
      return "cuRAND error: kernel launch failure";
    case CURAND_STATUS_PREEXISTING_FAILURE:
      return "cuRAND error: preexisting failure";
    case CURAND_STATUS_INITIALIZATION_FAILED:
      return "cuRAND error: initialization of CUDA failed";
    case CURAND_STATUS_ARCH_MISMATCH:
      return "cuRAND error: architecture mismatch";
    case CURAND_STATUS_INTERNAL_ERROR:
      return "cuRAND error: internal library error";
    default:
      return "cuRAND error " + std::to_string(static_cast<int>(status));
  }
}

}  // namespace curnn::detail
