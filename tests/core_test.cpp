// Core API: tensor views, buffers, errors, the CPU context.
#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

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
  const Context cpu = Context::cpu();
  Buffer<float> a = to_buffer(cpu, host);
  Buffer<float> b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
  EXPECT_EQ(to_vector(cpu, b.view()), host);
  EXPECT_THROW(b.view({3, 3}), ArgumentError);
}

// The copy API cannot express a copy that is not ordered with a context's stream: every copy,
// upload and download takes the Context; no overload takes a raw stream, nullptr (the legacy
// stream) or a bare Device. (The stream race of issue 10: a null-stream copy of fresh weights
// overtaken by a fill still queued on the context's non-blocking stream.)
template <class... Args>
auto copy_compiles(int) -> decltype(copy(std::declval<Args>()...), std::true_type{});
template <class...>
std::false_type copy_compiles(...);
template <class... Args>
auto to_buffer_compiles(int) -> decltype(to_buffer(std::declval<Args>()...), std::true_type{});
template <class...>
std::false_type to_buffer_compiles(...);
template <class... Args>
auto to_vector_compiles(int) -> decltype(to_vector(std::declval<Args>()...), std::true_type{});
template <class...>
std::false_type to_vector_compiles(...);

static_assert(decltype(copy_compiles<const Context&, ConstTensor, Tensor>(0))::value);
static_assert(decltype(copy_compiles<const Context&, Tensor, Tensor>(0))::value);
static_assert(!decltype(copy_compiles<ConstTensor, Tensor, StreamHandle>(0))::value);
static_assert(!decltype(copy_compiles<ConstTensor, Tensor, std::nullptr_t>(0))::value);
static_assert(!decltype(copy_compiles<Tensor, Tensor, std::nullptr_t>(0))::value);
static_assert(!decltype(copy_compiles<ConstTensor, Tensor>(0))::value);
static_assert(decltype(to_buffer_compiles<const Context&, const std::vector<float>&>(0))::value);
static_assert(!decltype(to_buffer_compiles<const std::vector<float>&, Device>(0))::value);
static_assert(decltype(to_vector_compiles<const Context&, ConstTensor>(0))::value);
static_assert(!decltype(to_vector_compiles<ConstTensor>(0))::value);
static_assert(!decltype(to_vector_compiles<Tensor>(0))::value);

TEST(Core, CopyOnTheCpuContext) {
  const Context cpu = Context::cpu();
  const std::vector<float> host = test::random_uniform(37, -1, 1, 8);
  std::vector<float> out(37, 0.f);
  copy(cpu, ConstTensor(host.data(), {37}, Device::CPU), Tensor(out.data(), {37}, Device::CPU));
  EXPECT_EQ(out, host);
  EXPECT_THROW(
      copy(cpu, ConstTensor(host.data(), {37}, Device::CPU), Tensor(out.data(), {36}, Device::CPU)),
      ArgumentError);
  // Device memory is never touched through a CPU context (the views below point at host memory
  // labelled CUDA; the copy must refuse before reading or writing them).
  std::vector<float> untouched(37, 5.f);
  EXPECT_THROW(copy(cpu, ConstTensor(host.data(), {37}, Device::CPU),
                    Tensor(untouched.data(), {37}, Device::CUDA)),
               ArgumentError);
  EXPECT_THROW(to_vector(cpu, ConstTensor(host.data(), {37}, Device::CUDA)), ArgumentError);
  EXPECT_EQ(untouched, std::vector<float>(37, 5.f));
}

TEST(Core, ReservedBufferKeepsItsMemoryForSmallerShapes) {
  Buffer<float> b;
  reserve_buffer(b, Device::CPU, 24);
  const float* first = b.data();
  EXPECT_EQ(b.size(), 24u);
  reserve_buffer(b, Device::CPU, 10);  // smaller: the same memory
  EXPECT_EQ(b.data(), first);
  EXPECT_EQ(b.size(), 24u);
  const Tensor v = b.prefix({2, 5});
  EXPECT_EQ(v.data(), first);
  EXPECT_EQ(v.numel(), 10);
  EXPECT_THROW(b.prefix({5, 5}), ArgumentError);
  EXPECT_THROW(b.view({2, 5}), ArgumentError);  // view() still wants the exact size
  reserve_buffer(b, Device::CPU, 30);           // larger: reallocated
  EXPECT_EQ(b.size(), 30u);
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
