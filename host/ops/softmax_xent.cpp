// Ops of the softmax cross-entropy family: argument checks, then the CPU reference
// (include/curnn/ref/softmax_xent.hpp; for float its exact vectorised form, softmax_xent_cpu.cpp)
// or the CUDA launchers (kernels/softmax_xent.cu).
#include "curnn/ops/softmax_xent.hpp"

#include <climits>
#include <cmath>
#include <cstdint>

#include "../parallel.hpp"
#include "curnn/config.hpp"
#include "curnn/ref/softmax_xent.hpp"
#include "dispatch.hpp"
#include "softmax_xent_cpu.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/softmax_xent.hpp"
#endif

namespace curnn::ops {
namespace {

// Rows and columns of a rank-2 tensor on `device`, each fitting an int (the kernels' index type).
template <class T>
void check_matrix(const TensorView<T>& t, Device device, const char* name) {
  CURNN_CHECK_ARG(t.rank() == 2, name << " must be [N, C], has shape " << t.shape_string());
  CURNN_CHECK_ARG(t.dim(0) <= INT_MAX && t.dim(1) <= INT_MAX && t.dim(1) >= 1,
                  name << " has shape " << t.shape_string() << ": need 1 <= C and N, C <= 2^31-1");
  CURNN_CHECK_ARG(t.data() != nullptr, name << " is empty (null data)");
  CURNN_CHECK_ARG(t.device() == device, name << " is on " << device_name(t.device())
                                             << ", expected " << device_name(device));
}

// Do the byte ranges of two views overlap?
template <class A, class B>
bool overlap(const TensorView<A>& a, const TensorView<B>& b) {
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.data());
  const auto b0 = reinterpret_cast<std::uintptr_t>(b.data());
  const auto a1 = a0 + static_cast<std::uintptr_t>(a.numel()) * sizeof(A);
  const auto b1 = b0 + static_cast<std::uintptr_t>(b.numel()) * sizeof(B);
  return a0 < b1 && b0 < a1;
}

#if CURNN_HAVE_CUDA
// The context's report of a class id outside [0, V) of `what` (a string literal), with the
// reference's message.
unsigned long long* class_id_slot(Context& ctx, const char* what, std::int64_t V) {
  return ctx.id_error_slot(
      [what, V](std::int64_t n, std::int32_t id) { return ref::class_id_message(what, n, id, V); });
}
#else
[[noreturn]] void no_cuda_backend() {
  detail::throw_error(__FILE__, __LINE__, "CURNN_HAVE_CUDA",
                      "libcurnn was built without the CUDA backend");
}
#endif

template <class Scalar>
void softmax_xent_impl(Context& ctx, TensorView<const Scalar> logits, ConstIds targets,
                       TensorView<Scalar> loss, TensorView<Scalar> dlogits, Scalar grad_scale,
                       TensorView<Scalar> probs) {
  const Device dev = ctx.device();
  check_matrix(logits, dev, "logits");
  const std::int64_t N = logits.dim(0), V = logits.dim(1);
  CURNN_CHECK_TENSOR(targets, dev, {N});
  CURNN_CHECK_TENSOR(loss, dev, {N});
  CURNN_CHECK_ARG(std::isfinite(grad_scale), "grad_scale = " << grad_scale);
  CURNN_CHECK_ARG(!overlap(loss, logits), "loss overlaps logits");
  const bool with_grad = static_cast<bool>(dlogits), with_probs = static_cast<bool>(probs);
  if (with_grad) {
    CURNN_CHECK_TENSOR(dlogits, dev, {N, V});
    CURNN_CHECK_ARG(dlogits.data() == logits.data() || !overlap(dlogits, logits),
                    "dlogits must be logits itself (in place) or not overlap it");
    CURNN_CHECK_ARG(!overlap(loss, dlogits), "loss overlaps dlogits");
  }
  if (with_probs) {
    CURNN_CHECK_TENSOR(probs, dev, {N, V});
    CURNN_CHECK_ARG(
        !overlap(probs, logits) && !overlap(probs, loss) && !(with_grad && overlap(probs, dlogits)),
        "probs overlaps logits, loss or dlogits");
  }
  Scalar* d = with_grad ? dlogits.data() : nullptr;
  Scalar* p = with_probs ? probs.data() : nullptr;
  if (dev == Device::CPU) {
    // Rows are independent: each thread runs the reference on its own block of rows.
    ref::check_class_ids(static_cast<int>(N), static_cast<int>(V), targets.data(), "targets");
    host::parallel_for(
        N, std::max<std::int64_t>(1, (1 << 16) / V), [&](std::int64_t b, std::int64_t e) {
          const std::int64_t off = b * V;
          const int rows = static_cast<int>(e - b), cols = static_cast<int>(V);
          if constexpr (internal::kIsFloat<Scalar>) {
            cpu::softmax_xent_rows(rows, cols, logits.data() + off, targets.data() + b,
                                   loss.data() + b, d ? d + off : nullptr, grad_scale,
                                   p ? p + off : nullptr);  // the reference's bits, faster
          } else {
            ref::softmax_xent<Scalar>(rows, cols, logits.data() + off, targets.data() + b,
                                      loss.data() + b, d ? d + off : nullptr, grad_scale,
                                      p ? p + off : nullptr);
          }
        });
    return;
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::softmax_xent(static_cast<int>(N), static_cast<int>(V), logits.data(), targets.data(),
                       loss.data(), d, grad_scale, p, class_id_slot(ctx, "targets", V),
                       ctx.stream());
#else
    no_cuda_backend();
#endif
  } else {
    internal::double_needs_cpu("softmax_xent");
  }
}

}  // namespace

void softmax_xent(Context& ctx, ConstTensor logits, ConstIds targets, Tensor loss, Tensor dlogits,
                  float grad_scale, Tensor probs) {
  softmax_xent_impl<float>(ctx, logits, targets, loss, dlogits, grad_scale, probs);
}
void softmax_xent(Context& ctx, TensorView<const double> logits, ConstIds targets,
                  TensorView<double> loss, TensorView<double> dlogits, double grad_scale,
                  TensorView<double> probs) {
  softmax_xent_impl<double>(ctx, logits, targets, loss, dlogits, grad_scale, probs);
}

void argmax_rows(Context& ctx, ConstTensor x, Ids out) {
  const Device dev = ctx.device();
  check_matrix(x, dev, "x");
  const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
  CURNN_CHECK_TENSOR(out, dev, {N});
  if (dev == Device::CPU) {
    ref::argmax_rows<float>(N, C, x.data(), out.data());
    return;
  }
#if CURNN_HAVE_CUDA
  cuda::argmax_rows(N, C, x.data(), out.data(), ctx.stream());
#else
  no_cuda_backend();
#endif
}

std::int64_t count_correct(Context& ctx, ConstTensor logits, ConstIds labels) {
  const Device dev = ctx.device();
  check_matrix(logits, dev, "logits");
  const int N = static_cast<int>(logits.dim(0)), C = static_cast<int>(logits.dim(1));
  CURNN_CHECK_TENSOR(labels, dev, {N});
  if (dev == Device::CPU) return ref::count_correct<float>(N, C, logits.data(), labels.data());
#if CURNN_HAVE_CUDA
  auto* count = static_cast<unsigned long long*>(ctx.workspace(sizeof(unsigned long long)));
  cuda::count_correct(N, C, logits.data(), labels.data(), count, class_id_slot(ctx, "labels", C),
                      ctx.stream());
  unsigned long long host = 0;
  copy(ctx, TensorView<const unsigned long long>(count, {1}, Device::CUDA),
       TensorView<unsigned long long>(&host, {1}, Device::CPU));  // waits for ctx
  return static_cast<std::int64_t>(host);
#else
  no_cuda_backend();
#endif
}

}  // namespace curnn::ops
