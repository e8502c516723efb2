// Context and memory: the CPU backend, and the CUDA device glue (stream, cuBLAS handle,
// workspace, allocation and copies). Without CUDA the CUDA paths throw a clear error.
#include "curnn/context.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "curnn/graph.hpp"
#include "curnn/pinned.hpp"
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
namespace {
// The innermost ScopedExternalAllocator of this thread, per device (CPU, CUDA).
thread_local const ExternalAllocator* tls_allocators[2] = {nullptr, nullptr};
int device_slot(Device device) {
  return device == Device::CUDA ? 1 : 0;
}

// CUDA Graph captures (include/curnn/graph.hpp): how many CaptureScopes are open on this thread,
// and whether memory was freed inside one; frees of device and page-locked memory, process-wide.
thread_local int tls_capture_depth = 0;
thread_local bool tls_freed_in_capture = false;
std::atomic<std::uint64_t> device_frees{0};

void check_not_capturing(const char* what, std::size_t bytes) {
  if (tls_capture_depth == 0) return;
  detail::throw_error(__FILE__, __LINE__, what,
                      "allocation of " + std::to_string(bytes) +
                          " bytes inside a CUDA Graph capture: every buffer a captured step uses "
                          "must exist before the capture (run the step once uncaptured first)");
}

void note_free() noexcept {
  device_frees.fetch_add(1, std::memory_order_relaxed);
  if (tls_capture_depth > 0) tls_freed_in_capture = true;
}
}  // namespace

ScopedExternalAllocator::ScopedExternalAllocator(Device device,
                                                 const ExternalAllocator* allocator) noexcept
    : device_(device), previous_(tls_allocators[device_slot(device)]) {
  tls_allocators[device_slot(device)] = allocator;
}

ScopedExternalAllocator::~ScopedExternalAllocator() {
  tls_allocators[device_slot(device_)] = previous_;
}

namespace detail {

std::uint64_t device_memory_generation() noexcept {
  return device_frees.load(std::memory_order_relaxed);
}

CaptureScope::CaptureScope() noexcept {
  if (tls_capture_depth++ == 0) tls_freed_in_capture = false;
}
CaptureScope::~CaptureScope() {
  --tls_capture_depth;
}
bool CaptureScope::freed_inside() const noexcept {
  return tls_freed_in_capture;
}
bool capture_scope_active() noexcept {
  return tls_capture_depth > 0;
}

void* allocate_pinned_bytes(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  check_not_capturing("PinnedBuffer", bytes);
#if CURNN_HAVE_CUDA
  void* p = nullptr;
  const cudaError_t status = cudaMallocHost(&p, bytes);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    throw_error(__FILE__, __LINE__, "cudaMallocHost",
                "cannot allocate " + std::to_string(bytes) +
                    " bytes of page-locked host memory: " + status_message(status));
  }
  return p;
#else
  no_cuda("PinnedBuffer (page-locked host memory)");
#endif
}

void free_pinned_bytes(void* ptr) noexcept {
  if (ptr == nullptr) return;
  note_free();
#if CURNN_HAVE_CUDA
  cudaFreeHost(ptr);
#endif
}

const ExternalAllocator* scoped_allocator(Device device) noexcept {
  return tls_allocators[device_slot(device)];
}

void* allocate_bytes(Device device, std::size_t bytes, const ExternalAllocator* allocator) {
  if (allocator == nullptr) return allocate_bytes(device, bytes);
  if (bytes == 0) return nullptr;
  if (device == Device::CUDA) check_not_capturing("Buffer (external allocator)", bytes);
  CURNN_CHECK_ARG(allocator->allocate != nullptr && allocator->deallocate != nullptr,
                  "external allocator without allocate or deallocate function");
  void* p = allocator->allocate(allocator->state, bytes);
  if (!p) {
    throw_error(__FILE__, __LINE__, "ExternalAllocator::allocate",
                std::string("the external allocator could not provide ") + std::to_string(bytes) +
                    " bytes on " + device_name(device));
  }
  return p;
}

void free_bytes(Device device, void* ptr, const ExternalAllocator* allocator) noexcept {
  if (allocator == nullptr) {
    free_bytes(device, ptr);
  } else if (ptr != nullptr) {
    if (device == Device::CUDA) note_free();
    allocator->deallocate(allocator->state, ptr);
  }
}

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
  check_not_capturing("Buffer", bytes);
#if CURNN_HAVE_CUDA
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error so later calls are not affected
    throw_error(__FILE__, __LINE__, "cudaMalloc",
                "cannot allocate " + std::to_string(bytes) +
                    " bytes on the GPU: " + status_message(status));
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
  if (ptr == nullptr) return;
  note_free();
#if CURNN_HAVE_CUDA
  cudaFree(ptr);
#endif
}

void copy_bytes(const Context& ctx, void* dst, Device dst_device, const void* src,
                Device src_device, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::CPU && src_device == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  CURNN_CHECK_ARG(ctx.is_cuda(), "copy from " << device_name(src_device) << " to "
                                              << device_name(dst_device)
                                              << " memory on a CPU context: device memory is "
                                                 "copied on the CUDA context that uses it");
#if CURNN_HAVE_CUDA
  const cudaMemcpyKind kind =
      src_device == Device::CPU
          ? cudaMemcpyHostToDevice
          : (dst_device == Device::CPU ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice);
  if (ctx.capturing()) {
    // Inside a CUDA Graph: the copy is a node that runs at each replay; nothing waits for it.
    CURNN_CHECK(dst_device != Device::CPU,
                "a copy to host memory inside a CUDA Graph capture (the host would read it "
                "before the graph runs)");
    if (src_device == Device::CPU) {
      cudaPointerAttributes attributes{};
      CURNN_CUDA_CHECK(cudaPointerGetAttributes(&attributes, src));
      CURNN_CHECK(attributes.type == cudaMemoryTypeHost,
                  "a copy from pageable host memory inside a CUDA Graph capture: upload from a "
                  "PinnedBuffer (include/curnn/pinned.hpp)");
    }
    CURNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, ctx.stream()));
    return;
  }
  CURNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, ctx.stream()));
  if (dst_device == Device::CPU) {
    ctx.synchronize();  // the host reads dst on return
  } else if (src_device == Device::CPU) {
    // From pageable memory cudaMemcpyAsync returns once the source is staged (the caller may
    // reuse it at once); from page-locked (or registered) memory the DMA reads it later.
    cudaPointerAttributes attributes{};
    CURNN_CUDA_CHECK(cudaPointerGetAttributes(&attributes, src));
    if (attributes.type != cudaMemoryTypeUnregistered) ctx.synchronize();
  }
#endif
}

}  // namespace detail

// ---- context -----------------------------------------------------------------------------------
struct Context::CudaState {
#if CURNN_HAVE_CUDA
  // Id-error slots (see Context::id_error_slot): taken in order since the last synchronisation,
  // one message per slot; recycled by synchronize(). Allocated at the first use.
  static constexpr std::size_t kIdSlots = 4096;  // a forced synchronisation every 4096 slots
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  bool owns_stream = true;                      // false for a wrapped stream (wrap_cuda)
  unsigned long long* id_slots = nullptr;       // [kIdSlots] device words, ~0 when unused
  unsigned long long* id_slots_host = nullptr;  // [kIdSlots] page-locked, their copies
  std::vector<IdErrorMessage> id_messages;      // [slots taken]
  // A StepGraph's slots: handed out during its capture; read after its replays.
  detail::GraphIdSlots* capture_slots = nullptr;
  std::vector<detail::GraphIdSlots*> pending_slots;
  void* cublas_workspace = nullptr;  // fixed (cublasSetWorkspace): GEMMs never allocate
  std::size_t cublas_workspace_bytes = 0;
  ~CudaState() {
    if (id_slots) cudaFree(id_slots);
    if (id_slots_host) cudaFreeHost(id_slots_host);
    if (cublas) cublasDestroy(cublas);
    if (cublas_workspace) cudaFree(cublas_workspace);
    if (stream && owns_stream) cudaStreamDestroy(stream);
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
  // A wrapped legacy stream first (device selected, cuBLAS created), then its own stream.
  Context ctx = wrap_cuda(device, nullptr, nullptr);
  CURNN_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx.cuda_->stream, cudaStreamNonBlocking));
  ctx.cuda_->owns_stream = true;
  // cublasSetStream resets the handle to cuBLAS's own workspace pool: set the fixed one again.
  CURNN_CUDA_CHECK(cublasSetStream(ctx.cuda_->cublas, ctx.cuda_->stream));
  CURNN_CUDA_CHECK(cublasSetWorkspace(ctx.cuda_->cublas, ctx.cuda_->cublas_workspace,
                                      ctx.cuda_->cublas_workspace_bytes));
  return ctx;
#else
  (void)device;
  no_cuda("Context::cuda");
#endif
}

Context Context::wrap_cuda(int device, StreamHandle stream, const ExternalAllocator* allocator) {
#if CURNN_HAVE_CUDA
  int count = 0;
  CURNN_CUDA_CHECK(cudaGetDeviceCount(&count));
  CURNN_CHECK_ARG(device >= 0 && device < count,
                  "CUDA device " << device << " requested, " << count << " visible");
  CURNN_CUDA_CHECK(cudaSetDevice(device));
  Context ctx(Device::CUDA);
  ctx.allocator_ = allocator;
  ctx.cuda_ = std::make_unique<CudaState>();
  ctx.cuda_->device = device;
  ctx.cuda_->stream = stream;
  ctx.cuda_->owns_stream = false;
  CURNN_CUDA_CHECK(cublasCreate(&ctx.cuda_->cublas));
  CURNN_CUDA_CHECK(cublasSetStream(ctx.cuda_->cublas, ctx.cuda_->stream));
  // A fixed cuBLAS workspace (NVIDIA's recommended size: 32 MiB on Hopper and later, 4 MiB
  // before), so that no GEMM allocates, which a CUDA Graph capture forbids.
  int major = 0;
  CURNN_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  ctx.cuda_->cublas_workspace_bytes = static_cast<std::size_t>(major >= 9 ? 32 : 4) << 20;
  CURNN_CUDA_CHECK(cudaMalloc(&ctx.cuda_->cublas_workspace, ctx.cuda_->cublas_workspace_bytes));
  CURNN_CUDA_CHECK(cublasSetWorkspace(ctx.cuda_->cublas, ctx.cuda_->cublas_workspace,
                                      ctx.cuda_->cublas_workspace_bytes));
  // FP32 GEMMs stay FP32 unless a caller opts into TF32 explicitly.
  CURNN_CUDA_CHECK(cublasSetMathMode(ctx.cuda_->cublas, CUBLAS_DEFAULT_MATH));
  return ctx;
#else
  (void)device, (void)stream, (void)allocator;
  no_cuda("Context::wrap_cuda");
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
    CURNN_CHECK(!capturing(), "Context::workspace: growing the workspace from "
                                  << workspace_.size() << " to " << bytes
                                  << " bytes inside a CUDA Graph capture (reserve_workspace "
                                     "before the capture, or run the step once uncaptured)");
    synchronize();  // earlier queued work may still read the old workspace
    const ScopedExternalAllocator scope(device_, allocator_);
    workspace_ = Buffer<std::byte>(device_, bytes);
  }
  return workspace_.data();
}

unsigned long long* Context::id_error_slot(IdErrorMessage describe) {
#if CURNN_HAVE_CUDA
  if (!cuda_) return nullptr;
  CudaState& c = *cuda_;
  if (c.capture_slots != nullptr) {  // a StepGraph's capture: one of its own slots
    detail::GraphIdSlots& g = *c.capture_slots;
    CURNN_CHECK(g.messages.size() < g.capacity, "the captured step takes more than "
                                                    << g.capacity
                                                    << " id-checked ops (StepGraph's slots)");
    g.messages.push_back(std::move(describe));
    return g.device + (g.messages.size() - 1);
  }
  CURNN_CHECK(!capturing(),
              "an id-checked op inside a CUDA Graph capture not made by a StepGraph "
              "(include/curnn/graph.hpp), which would lose its id errors");
  constexpr std::size_t kBytes = CudaState::kIdSlots * sizeof(unsigned long long);
  if (!c.id_slots) {
    void* device_words = nullptr;
    void* host_words = nullptr;
    CURNN_CUDA_CHECK(cudaMalloc(&device_words, kBytes));
    c.id_slots = static_cast<unsigned long long*>(device_words);
    CURNN_CUDA_CHECK(cudaMallocHost(&host_words, kBytes));
    c.id_slots_host = static_cast<unsigned long long*>(host_words);
    CURNN_CUDA_CHECK(cudaMemsetAsync(c.id_slots, 0xFF, kBytes, c.stream));
  }
  if (c.id_messages.size() == CudaState::kIdSlots) synchronize();  // reads and recycles them
  c.id_messages.push_back(std::move(describe));
  return c.id_slots + (c.id_messages.size() - 1);
#else
  (void)describe;
  return nullptr;
#endif
}

void Context::synchronize() const {
#if CURNN_HAVE_CUDA
  if (!cuda_) return;
  CudaState& c = *cuda_;
  CURNN_CHECK(!capturing(),
              "Context::synchronize inside a CUDA Graph capture (a captured step "
              "must not wait for the device or read results on the host)");
  const std::size_t taken = c.id_messages.size();
  const std::size_t bytes = taken * sizeof(unsigned long long);
  if (taken > 0) {
    CURNN_CUDA_CHECK(
        cudaMemcpyAsync(c.id_slots_host, c.id_slots, bytes, cudaMemcpyDeviceToHost, c.stream));
  }
  // The slots of the graphs replayed since the last synchronisation (StepGraph); their errors
  // are reported after the context's own slots'.
  const std::vector<detail::GraphIdSlots*> graphs = std::move(c.pending_slots);
  c.pending_slots.clear();
  for (detail::GraphIdSlots* g : graphs) {
    CURNN_CUDA_CHECK(cudaMemcpyAsync(g->host, g->device,
                                     g->messages.size() * sizeof(unsigned long long),
                                     cudaMemcpyDeviceToHost, c.stream));
  }
  CURNN_CUDA_CHECK(cudaStreamSynchronize(c.stream));
  for (detail::GraphIdSlots* g : graphs) {
    const std::size_t n = g->messages.size();
    CURNN_CUDA_CHECK(cudaMemsetAsync(g->device, 0xFF, n * sizeof(unsigned long long), c.stream));
  }
  const auto report_graph_errors = [&] {
    for (detail::GraphIdSlots* g : graphs) {
      for (std::size_t i = 0; i < g->messages.size(); ++i) {
        const unsigned long long key = g->host[i];
        if (key == ~0ull) continue;
        const auto index = static_cast<std::int64_t>(key >> 32);
        const auto id = static_cast<std::int32_t>(static_cast<std::uint32_t>(key & 0xFFFFFFFFull));
        detail::throw_argument_error(__FILE__, __LINE__, "an id checked on the device (graph)",
                                     g->messages[i](index, id));
      }
    }
  };
  if (taken == 0) {
    report_graph_errors();
    return;
  }
  const std::vector<IdErrorMessage> messages = std::move(c.id_messages);
  c.id_messages.clear();
  CURNN_CUDA_CHECK(cudaMemsetAsync(c.id_slots, 0xFF, bytes, c.stream));  // free for reuse
  for (std::size_t i = 0; i < taken; ++i) {
    const unsigned long long key = c.id_slots_host[i];
    if (key == ~0ull) continue;
    const auto index = static_cast<std::int64_t>(key >> 32);
    const auto id = static_cast<std::int32_t>(static_cast<std::uint32_t>(key & 0xFFFFFFFFull));
    detail::throw_argument_error(__FILE__, __LINE__, "an id checked on the device",
                                 messages[i](index, id));
  }
  report_graph_errors();
#endif
}

bool Context::capturing() const {
#if CURNN_HAVE_CUDA
  if (!cuda_) return false;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  CURNN_CUDA_CHECK(cudaStreamIsCapturing(cuda_->stream, &status));
  return status != cudaStreamCaptureStatusNone;
#else
  return false;
#endif
}

void Context::set_capture_id_slots(detail::GraphIdSlots* slots) noexcept {
#if CURNN_HAVE_CUDA
  if (cuda_) cuda_->capture_slots = slots;
#else
  (void)slots;
#endif
}

void Context::add_pending_id_slots(detail::GraphIdSlots* slots) {
#if CURNN_HAVE_CUDA
  if (!cuda_ || slots == nullptr || slots->messages.empty()) return;
  std::vector<detail::GraphIdSlots*>& p = cuda_->pending_slots;
  if (std::find(p.begin(), p.end(), slots) == p.end()) p.push_back(slots);
#else
  (void)slots;
#endif
}

void Context::forget_id_slots(detail::GraphIdSlots* slots) noexcept {
#if CURNN_HAVE_CUDA
  if (!cuda_) return;
  std::vector<detail::GraphIdSlots*>& p = cuda_->pending_slots;
  p.erase(std::remove(p.begin(), p.end(), slots), p.end());
  if (cuda_->capture_slots == slots) cuda_->capture_slots = nullptr;
#else
  (void)slots;
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
         std::to_string(p.multiProcessorCount) + " SMs, " + std::to_string(p.totalGlobalMem >> 20) +
         " MiB, driver CUDA " + std::to_string(driver / 1000) + "." +
         std::to_string(driver % 1000 / 10) + ", runtime " + std::to_string(runtime / 1000) + "." +
         std::to_string(runtime % 1000 / 10);
#else
  (void)device;
  return "none (built without CUDA)";
#endif
}

}  // namespace curnn
