// Core API: tensor views, buffers, errors, the CPU context.
#include <gtest/gtest.h>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/error.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

TEST(Core, TensorViewShapeAndRows) {
  std::vector<float> v(24);
  Tensor t(v.data(), {2, 3, 4}, Device::CPU);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.shape_string(), "[2,3,4]");
  EXPECT_TRUE(t.has_shape({2, 3, 4}));
  Tensor r = t.rows(1, 2);
  EXPECT_EQ(r.data(), v.data() + 12);
  EXPECT_EQ(r.dim(0), 1);
  EXPECT_THROW(t.reshape({5, 5}), ArgumentError);
  EXPECT_EQ(t.reshape({6, 4}).dim(0), 6);
  ConstTensor c = t;
  EXPECT_EQ(c.data(), v.data());
}

TEST(Core, CheckTensorNamesTheProblem) {
  std::vector<float> v(6);
  Tensor t(v.data(), {2, 3}, Device::CPU);
  try {
    CURNN_CHECK_TENSOR(t, Device::CPU, {3, 2});
    FAIL() << "no throw";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("t has shape [2,3], expected [3,2]"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("core_test.cpp"), std::string::npos) << e.what();
  }
  EXPECT_THROW(CURNN_CHECK_TENSOR(t, Device::CUDA, {2, 3}), ArgumentError);
  EXPECT_THROW(CURNN_CHECK_TENSOR(Tensor(), Device::CPU, {2, 3}), ArgumentError);
}

TEST(Core, BufferIsMoveOnlyAndRoundTrips) {
  static_assert(!std::is_copy_constructible_v<Buffer<float>>);
  const auto host = test::random_uniform(100, -1, 1, 7);
  Buffer<float> a = to_buffer(host, Device::CPU);
  Buffer<float> b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
  EXPECT_EQ(to_vector(b.view()), host);
  EXPECT_THROW(b.view({3, 3}), ArgumentError);
}

TEST(Core, CpuContextWorkspaceGrows) {
  Context ctx = Context::cpu();
  EXPECT_EQ(ctx.device(), Device::CPU);
  EXPECT_TRUE(ctx.deterministic());
  void* w = ctx.workspace(1000);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(ctx.workspace(10), w);
  EXPECT_EQ(ctx.stream(), nullptr);
}

TEST(Core, CudaContextWithoutDeviceThrowsClearly) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  try {
    Context::cuda();
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
  }
}

}  // namespace
}  // namespace curnn
