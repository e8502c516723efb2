// Buffers from an external allocator (ScopedExternalAllocator; the Python extension hands
// PyTorch's caching allocator to libcurnn this way, see Context::wrap_cuda), on the CPU where the
// same mechanism applies, and Context::wrap_cuda's error without a device.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/error.hpp"
#include "curnn/nn/lstm.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

// Serves host memory and records every allocation that has not been given back.
struct CountingAllocator {
  std::map<void*, std::size_t> live;
  int allocations = 0, deallocations = 0;
  bool fail = false;
  ExternalAllocator allocator{&allocate, &deallocate, this};

  static void* allocate(void* state, std::size_t bytes) {
    auto* self = static_cast<CountingAllocator*>(state);
    if (self->fail) return nullptr;
    void* p = std::malloc(bytes);
    self->live[p] = bytes;
    ++self->allocations;
    return p;
  }
  static void deallocate(void* state, void* ptr) {
    auto* self = static_cast<CountingAllocator*>(state);
    EXPECT_EQ(self->live.erase(ptr), 1u) << "freed a pointer it did not allocate";
    ++self->deallocations;
    std::free(ptr);
  }
};

TEST(ExternalAllocator, BuffersCreatedInTheScopeUseIt) {
  CountingAllocator counting;
  Buffer<float> outside(Device::CPU, 10);
  {
    Buffer<float> inside;
    {
      const ScopedExternalAllocator scope(Device::CPU, &counting.allocator);
      inside = Buffer<float>(Device::CPU, 25);
      ASSERT_EQ(counting.live.size(), 1u);
      EXPECT_EQ(counting.live.begin()->first, inside.data());
      EXPECT_EQ(counting.live.begin()->second, 25 * sizeof(float));
    }
    Buffer<float> after(Device::CPU, 5);  // the scope has ended
    EXPECT_EQ(counting.allocations, 1);
    EXPECT_EQ(counting.deallocations, 0);
  }  // `inside` dies outside the scope: its memory still goes back to the allocator
  EXPECT_EQ(counting.deallocations, 1);
  EXPECT_TRUE(counting.live.empty());
}

TEST(ExternalAllocator, MovesKeepTheOwnerAndScopesNest) {
  CountingAllocator outer, inner;
  Buffer<double> a, own;
  {
    const ScopedExternalAllocator s1(Device::CPU, &outer.allocator);
    a = Buffer<double>(Device::CPU, 3);
    {
      const ScopedExternalAllocator s2(Device::CPU, nullptr);  // libcurnn's own memory
      own = Buffer<double>(Device::CPU, 4);
      const ScopedExternalAllocator s3(Device::CPU, &inner.allocator);
      Buffer<double> b(Device::CPU, 2);
      EXPECT_EQ(inner.allocations, 1);
    }
    Buffer<double> c(Device::CPU, 6);  // the outer scope again
    EXPECT_EQ(outer.allocations, 2);
  }
  EXPECT_EQ(inner.deallocations, 1);
  EXPECT_EQ(outer.deallocations, 1);  // c
  Buffer<double> moved = std::move(a);
  EXPECT_EQ(outer.deallocations, 1);
  moved = std::move(own);  // frees a's memory to `outer`; own's stays libcurnn's
  EXPECT_EQ(outer.deallocations, 2);
  EXPECT_TRUE(outer.live.empty());
  ensure_buffer(moved, Device::CPU, 4);  // same size: kept, nothing allocated
  EXPECT_EQ(outer.allocations + inner.allocations, 3);
}

TEST(ExternalAllocator, OtherDevicesAndFailures) {
  CountingAllocator counting;
  {
    const ScopedExternalAllocator scope(Device::CUDA, &counting.allocator);
    Buffer<float> host(Device::CPU, 8);  // a CUDA scope does not serve CPU buffers
    EXPECT_EQ(counting.allocations, 0);
  }
  counting.fail = true;
  const ScopedExternalAllocator scope(Device::CPU, &counting.allocator);
  try {
    Buffer<float> b(Device::CPU, 100);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("the external allocator could not provide 400 bytes on cpu"),
              std::string::npos)
        << e.what();
  }
  Buffer<float> empty(Device::CPU, 0);  // nothing to allocate, nothing asked
  EXPECT_EQ(counting.allocations, 0);
}

// An engine run entirely on an external allocator: everything it allocates comes from it and
// goes back when the engine dies, and the results are bitwise those on libcurnn's memory.
TEST(ExternalAllocator, LstmLayerTapeAndScratch) {
  const int T = 4, B = 3, E = 5, H = 6;
  auto x = test::random_uniform<double>(T * B * E, -1, 1, 1);
  auto wx = test::random_uniform<double>(E * 4 * H, -0.5, 0.5, 2);
  auto wh = test::random_uniform<double>(H * 4 * H, -0.5, 0.5, 3);
  auto bias = test::random_uniform<double>(4 * H, -0.5, 0.5, 4);
  auto dy = test::random_uniform<double>(T * B * H, -1, 1, 5);
  const nn::LstmWeights<double> w{test::view_of(wx, {E, 4 * H}), test::view_of(wh, {H, 4 * H}),
                                  test::view_of(bias, {4 * H})};
  const auto run = [&](const ExternalAllocator* allocator) {
    const ScopedExternalAllocator scope(Device::CPU, allocator);
    Context ctx = Context::cpu();
    nn::LstmLayer<double> layer(E, H, 0.0f, nn::Direction::Reverse);
    std::vector<double> y(T * B * H), dx(T * B * E), dwx(wx.size()), dwh(wh.size()), db(4 * H);
    layer.forward(ctx, w, test::view_of(x, {T, B, E}), {}, {}, test::view_of(y, {T, B, H}), {}, {});
    layer.backward(ctx, w,
                   {test::view_of(dwx, {E, 4 * H}), test::view_of(dwh, {H, 4 * H}),
                    test::view_of(db, {4 * H})},
                   Write::Overwrite, test::view_of(x, {T, B, E}), test::view_of(dy, {T, B, H}), {},
                   {}, test::view_of(dx, {T, B, E}), {}, {});
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), dwx.begin(), dwx.end());
    return y;
  };
  CountingAllocator counting;
  const std::vector<double> got = run(&counting.allocator);
  EXPECT_GE(counting.allocations, 4) << "tape (pre, gates, c, h) and scratch";
  EXPECT_EQ(counting.deallocations, counting.allocations);
  EXPECT_TRUE(counting.live.empty());
  EXPECT_EQ(got, run(nullptr));
}

TEST(ExternalAllocator, WrapCudaWithoutADeviceIsAnError) {
  if (cuda_available())
    GTEST_SKIP() << "a CUDA device is present (tests/external_allocator_cuda_test.cpp)";
  CountingAllocator counting;
  EXPECT_THROW(Context::wrap_cuda(0, nullptr, &counting.allocator), Error);
  EXPECT_EQ(counting.allocations, 0);
}

}  // namespace
}  // namespace curnn
