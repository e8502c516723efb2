// Context::wrap_cuda on the GPU: ops on the caller's stream, the engine's memory from the
// caller's allocator (the Python extension's use with PyTorch's stream and caching allocator),
// results against the CPU backend. NOTE: written and compiled without a GPU; it has not run yet.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <map>

#include "curnn/context.hpp"
#include "curnn/cuda/check.hpp"
#include "curnn/nn/lstm.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

struct CountingCudaAllocator {
  std::map<void*, std::size_t> live;
  int allocations = 0;
  ExternalAllocator allocator{&allocate, &deallocate, this};
  static void* allocate(void* state, std::size_t bytes) {
    void* p = nullptr;
    if (cudaMalloc(&p, bytes) != cudaSuccess) return nullptr;
    auto* self = static_cast<CountingCudaAllocator*>(state);
    self->live[p] = bytes;
    ++self->allocations;
    return p;
  }
  static void deallocate(void* state, void* ptr) {
    static_cast<CountingCudaAllocator*>(state)->live.erase(ptr);
    cudaFree(ptr);
  }
};

TEST(ExternalAllocatorCuda, LstmLayerOnACallersStreamAndMemory) {
  CURNN_REQUIRE_CUDA();
  const int T = 7, B = 5, E = 12, H = 16;
  const auto x = test::random_uniform(T * B * E, -1, 1, 1);
  const auto wx = test::random_uniform(E * 4 * H, -0.3, 0.3, 2);
  const auto wh = test::random_uniform(H * 4 * H, -0.3, 0.3, 3);
  const auto bias = test::random_uniform(4 * H, -0.3, 0.3, 4);
  // The CPU reference.
  std::vector<float> want(T * B * H);
  {
    Context cpu = Context::cpu();
    auto xc = x, wxc = wx, whc = wh, bc = bias;
    nn::LstmLayer<float> layer(E, H, 0.0f);
    layer.forward(cpu,
                  {test::view_of(wxc, {E, 4 * H}), test::view_of(whc, {H, 4 * H}),
                   test::view_of(bc, {4 * H})},
                  test::view_of(xc, {T, B, E}), {}, {}, test::view_of(want, {T, B, H}), {}, {});
  }
  cudaStream_t stream = nullptr;
  CURNN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CountingCudaAllocator counting;
  std::vector<float> got;
  {
    Context ctx = Context::wrap_cuda(0, stream, &counting.allocator);
    EXPECT_EQ(ctx.stream(), stream);
    EXPECT_EQ(ctx.external_allocator(), &counting.allocator);
    const ScopedExternalAllocator scope(Device::CUDA, ctx.external_allocator());
    Buffer<float> dx = test::device_copy(x), dwx = test::device_copy(wx),
                  dwh = test::device_copy(wh), db = test::device_copy(bias);
    Buffer<float> y = test::device_poisoned(T * B * H);
    nn::LstmLayer<float> layer(E, H, 0.0f);
    layer.forward(ctx, {dwx.view({E, 4 * H}), dwh.view({H, 4 * H}), db.view({4 * H})},
                  dx.view({T, B, E}), {}, {}, y.view({T, B, H}), {}, {});
    got = test::host_copy(ctx, y);
    EXPECT_GE(counting.allocations, 8) << "inputs, output, tape";
  }
  EXPECT_TRUE(counting.live.empty()) << "everything given back";
  EXPECT_EQ(cudaStreamQuery(stream), cudaSuccess) << "the caller's stream outlives the context";
  CURNN_CUDA_CHECK(cudaStreamDestroy(stream));
  EXPECT_TRUE(test::expect_close("lstm y on a wrapped stream", got, want));
}

}  // namespace
}  // namespace curnn
