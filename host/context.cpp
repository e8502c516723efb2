// Context and memory: the CPU backend, and the CUDA device glue (stream, cuBLAS handle,
// workspace, allocation and copies). Without CUDA the CUDA paths throw a clear error.
#include "curnn/context.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "curnn/threads.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/check.hpp"
#endif

namespace curnn {

#if !CURNN_HAVE_CUDA
namespace {
[[noreturn]] void no_cuda(const char* what) {
  detail::throw_error(__FILE__, __LINE__, what,
                      "libcurnn was built without CUDA (CURNN_CUDA=OFF or no nvcc found)");
}
}  // namespace
#endif

// ---- memory ------------------------------------------------------------------------------------
namespace detail {

void* allocate_bytes(Device device, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (device == Device::CPU) {
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) {
      throw_error(__FILE__, __LINE__, "aligned_alloc",
                  "out of host memory allocating " + std::to_string(bytes) + " bytes");
    }
    return p;
  }
#if CURNN_HAVE_CUDA
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error so later calls are not affected
    throw_error(__FILE__, __LINE__, "cudaMalloc",
                "cannot allocate " + std::to_string(bytes) + " bytes on the GPU: " +
                    status_message(status));
  }
  return p;
#else
  no_cuda("allocate_bytes(Device::CUDA)");
#endif
}

void free_bytes(Device device, void* ptr) noexcept {
  if (device == Device::CPU) {
    std::free(ptr);
    return;
  }
#if CURNN_HAVE_CUDA
  cudaFree(ptr);
#endif
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                std::size_t bytes, StreamHandle stream) {
  if (bytes == 0) return;
  if (dst_device == Device::CPU && src_device == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if CURNN_HAVE_CUDA
  const cudaMemcpyKind kind = src_device == Device::CPU
                                  ? cudaMemcpyHostToDevice
                                  : (dst_device == Device::CPU ? cudaMemcpyDeviceToHost
                                                               : cudaMemcpyDeviceToDevice);
  if (stream == nullptr) {
    // cudaMemcpy from pageable host memory may return before the DMA has landed, and the
    // contexts' streams are non-blocking (not ordered after the legacy default stream): wait
    // for the copy itself, so a null-stream copy is complete when it returns.
    CURNN_CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
    CURNN_CUDA_CHECK(cudaStreamSynchronize(nullptr));
  } else {
    CURNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream));
  }
#else
  (void)stream;
  no_cuda("copy_bytes to or from Device::CUDA");
#endif
}

}  // namespace detail

// ---- context -----------------------------------------------------------------------------------
struct Context::CudaState {
#if CURNN_HAVE_CUDA
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  ~CudaState() {
    if (cublas) cublasDestroy(cublas);
    if (stream) cudaStreamDestroy(stream);
  }
#endif
};

Context::Context(Device device) : device_(device) {}
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;

Context Context::cpu() {
  cpu_threads();  // a bad CURNN_NUM_THREADS is reported here, before any work starts
  return Context(Device::CPU);
}

Context Context::cuda(int device) {
#if CURNN_HAVE_CUDA
  int count = 0;
  CURNN_CUDA_CHECK(cudaGetDeviceCount(&count));
  CURNN_CHECK_ARG(device >= 0 && device < count,
                  "CUDA device " << device << " requested, " << count << " visible");
  CURNN_CUDA_CHECK(cudaSetDevice(device));
  Context ctx(Device::CUDA);
  ctx.cuda_ = std::make_unique<CudaState>();
  ctx.cuda_->device = device;
  CURNN_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx.cuda_->stream, cudaStreamNonBlocking));
  CURNN_CUDA_CHECK(cublasCreate(&ctx.cuda_->cublas));
  CURNN_CUDA_CHECK(cublasSetStream(ctx.cuda_->cublas, ctx.cuda_->stream));
  // FP32 GEMMs stay FP32 unless a caller opts into TF32 explicitly.
  CURNN_CUDA_CHECK(cublasSetMathMode(ctx.cuda_->cublas, CUBLAS_DEFAULT_MATH));
  return ctx;
#else
  (void)device;
  no_cuda("Context::cuda");
#endif
}

StreamHandle Context::stream() const noexcept {
#if CURNN_HAVE_CUDA
  return cuda_ ? cuda_->stream : nullptr;
#else
  return nullptr;
#endif
}

cublasContext* Context::cublas() const noexcept {
#if CURNN_HAVE_CUDA
  return cuda_ ? cuda_->cublas : nullptr;
#else
  return nullptr;
#endif
}

void* Context::workspace(std::size_t bytes) {
  if (workspace_.size() < bytes) {
    synchronize();  // earlier queued work may still read the old workspace
    workspace_ = Buffer<std::byte>(device_, bytes);
  }
  return workspace_.data();
}

void Context::synchronize() const {
#if CURNN_HAVE_CUDA
  if (cuda_) CURNN_CUDA_CHECK(cudaStreamSynchronize(cuda_->stream));
#endif
}

bool cuda_available() noexcept {
#if CURNN_HAVE_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return count > 0;
#else
  return false;
#endif
}

std::string cuda_device_description(int device) {
#if CURNN_HAVE_CUDA
  cudaDeviceProp p{};
  CURNN_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  int driver = 0, runtime = 0;
  CURNN_CUDA_CHECK(cudaDriverGetVersion(&driver));
  CURNN_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  return std::string(p.name) + ", sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(p.multiProcessorCount) + " SMs, " +
         std::to_string(p.totalGlobalMem >> 20) + " MiB, driver CUDA " +
         std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) +
         ", runtime " + std::to_string(runtime / 1000) + "." +
         std::to_string(runtime % 1000 / 10);
#else
  (void)device;
  return "none (built without CUDA)";
#endif
}

}  // namespace curnn
