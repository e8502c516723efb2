// Dropout masks: argument checks, then the CPU reference generator (include/curnn/ref/dropout.hpp)
// or the cuRAND Philox kernel (kernels/dropout.cu).
#include "curnn/ops/dropout.hpp"

#include "curnn/ref/dropout.hpp"
#include "dispatch.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/dropout.hpp"
#endif

namespace curnn::ops {

namespace {

// offset_device (may be null): the offset is offset_device[0] + offset, read on the device.
template <class Scalar>
void dropout_mask_impl(Context& ctx, std::uint64_t seed, const std::uint64_t* offset_device,
                       std::uint64_t offset, Scalar keep_prob, TensorView<Scalar> mask) {
  if (offset_device != nullptr && !ctx.is_cuda()) {  // the CPU reads its "device" memory now
    offset += *offset_device;
    offset_device = nullptr;
  }
  CURNN_CHECK_ARG(keep_prob > 0 && keep_prob <= 1,
                  "keep_prob = " << keep_prob << ", expected (0, 1]");
  CURNN_CHECK_ARG(offset < (std::uint64_t(1) << 62), "offset = " << offset << " >= 2^62");
  CURNN_CHECK_ARG(mask, "mask is empty (null data)");
  CURNN_CHECK_ARG(mask.device() == ctx.device(), "mask is on " << device_name(mask.device())
                                                               << ", expected "
                                                               << device_name(ctx.device()));
  if (!ctx.is_cuda()) {
    ref::dropout_mask<Scalar>(seed, offset, keep_prob, mask.data(), mask.numel());
    return;
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    if (offset_device) {
      cuda::dropout_mask(seed, offset_device, offset, keep_prob, mask.data(), mask.numel(),
                         ctx.stream());
    } else {
      cuda::dropout_mask(seed, offset, keep_prob, mask.data(), mask.numel(), ctx.stream());
    }
#endif
  } else {
    internal::double_needs_cpu("dropout_mask");
  }
}

}  // namespace

void dropout_mask(Context& ctx, std::uint64_t seed, std::uint64_t offset, float keep_prob,
                  Tensor mask) {
  dropout_mask_impl<float>(ctx, seed, nullptr, offset, keep_prob, mask);
}
void dropout_mask(Context& ctx, std::uint64_t seed, std::uint64_t offset, double keep_prob,
                  TensorView<double> mask) {
  dropout_mask_impl<double>(ctx, seed, nullptr, offset, keep_prob, mask);
}
void dropout_mask(Context& ctx, std::uint64_t seed, DeviceScalar<std::uint64_t> offset,
                  std::uint64_t offset_add, float keep_prob, Tensor mask) {
  CURNN_CHECK_ARG(offset.ptr != nullptr, "offset has a null pointer");
  dropout_mask_impl<float>(ctx, seed, offset.ptr, offset_add, keep_prob, mask);
}
void dropout_mask(Context& ctx, std::uint64_t seed, DeviceScalar<std::uint64_t> offset,
                  std::uint64_t offset_add, double keep_prob, TensorView<double> mask) {
  CURNN_CHECK_ARG(offset.ptr != nullptr, "offset has a null pointer");
  dropout_mask_impl<double>(ctx, seed, offset.ptr, offset_add, keep_prob, mask);
}

}  // namespace curnn::ops
