// Core API on the GPU: device buffers, copies ordered on a context's stream, invalid ids found on
// the device and reported at the next synchronisation, error messages.
#include <gtest/gtest.h>

#include "curnn/context.hpp"
#include "curnn/cuda/check.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

TEST(CoreCuda, DeviceBufferRoundTripOnStream) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const auto host = test::random_uniform(1 << 20, -1, 1, 3);
  Buffer<float> d(Device::CUDA, host.size());
  copy(ctx, ConstTensor(host.data(), {static_cast<std::int64_t>(host.size())}, Device::CPU),
       d.view());
  Buffer<float> d2(Device::CUDA, host.size());
  copy(ctx, d.view(), d2.view());
  EXPECT_EQ(test::host_copy(ctx, d2), host);
  std::printf("[    device] %s\n", cuda_device_description().c_str());
}

TEST(CoreCuda, ErrorsCarryTheCudaMessage) {
  CURNN_REQUIRE_CUDA();
  try {
    CURNN_CUDA_CHECK(cudaMemcpy(nullptr, reinterpret_cast<void*>(16), 4, cudaMemcpyDeviceToDevice));
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA error"), std::string::npos) << e.what();
  }
  (void)cudaGetLastError();
}

TEST(CoreCuda, OutOfMemoryIsAnError) {
  CURNN_REQUIRE_CUDA();
  EXPECT_THROW(Buffer<float>(Device::CUDA, std::size_t(1) << 45), Error);
}

}  // namespace
}  // namespace curnn
