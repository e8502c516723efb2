// Reduction and elementwise ops: argument checks, then the CPU reference or the CUDA kernels.
#include "curnn/ops/reduce.hpp"

#include <climits>
#include <cmath>

#include "curnn/ref/reduce.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/reduce.hpp"
#endif

namespace curnn::ops {
namespace {

// A tensor of any shape on `device`; empty (no elements) only if it has no data either.
template <class T>
void check_flat(const TensorView<T>& t, Device device, const char* name) {
  CURNN_CHECK_ARG(t || t.numel() == 0, name << " has " << t.numel() << " elements and no data");
  CURNN_CHECK_ARG(!t || t.device() == device, name << " is on " << device_name(t.device())
                                                   << ", expected " << device_name(device));
}

// b has exactly a's shape.
template <class A, class B>
void check_same_shape(const TensorView<A>& a, const TensorView<B>& b, const char* what) {
  bool same = a.rank() == b.rank();
  for (int i = 0; same && i < a.rank(); ++i) same = a.dim(i) == b.dim(i);
  CURNN_CHECK_ARG(same, what << ": shapes " << a.shape_string() << " and " << b.shape_string());
}

}  // namespace

void column_sum(Context& ctx, ConstTensor x, Tensor out, bool accumulate) {
  const Device dev = ctx.device();
  CURNN_CHECK_ARG(x.rank() == 2, "x must be [N, C], got " << x.shape_string());
  const std::int64_t N = x.dim(0), C = x.dim(1);
  CURNN_CHECK_ARG(N <= INT_MAX && C <= INT_MAX, "x " << x.shape_string() << " is too large");
  CURNN_CHECK_TENSOR(x, dev, {N, C});
  CURNN_CHECK_TENSOR(out, dev, {C});
  if (!ctx.is_cuda()) {
    ref::column_sum<float>(static_cast<int>(N), static_cast<int>(C), x.data(), out.data(),
                           accumulate);
    return;
  }
#if CURNN_HAVE_CUDA
  const int n = static_cast<int>(N), c = static_cast<int>(C);
  cuda::column_sum(n, c, x.data(), out.data(), accumulate,
                   ctx.workspace(cuda::column_sum_workspace_bytes(n, c)), ctx.stream());
#endif
}

namespace {
void sum_impl(Context& ctx, ConstTensor x, Tensor out, bool accumulate, bool squares) {
  check_flat(x, ctx.device(), "x");
  CURNN_CHECK_TENSOR(out, ctx.device(), {1});
  const std::int64_t N = x.numel();
  if (!ctx.is_cuda()) {
    if (squares) {
      ref::sum_squares<float>(N, x.data(), out.data(), accumulate);
    } else {
      ref::sum<float>(N, x.data(), out.data(), accumulate);
    }
    return;
  }
#if CURNN_HAVE_CUDA
  void* ws = ctx.workspace(cuda::sum_workspace_bytes(N));
  if (squares) {
    cuda::sum_squares(N, x.data(), out.data(), accumulate, ws, ctx.stream());
  } else {
    cuda::sum(N, x.data(), out.data(), accumulate, ws, ctx.stream());
  }
#endif
}
}  // namespace

void sum(Context& ctx, ConstTensor x, Tensor out, bool accumulate) {
  sum_impl(ctx, x, out, accumulate, false);
}

void sum_squares(Context& ctx, ConstTensor x, Tensor out, bool accumulate) {
  sum_impl(ctx, x, out, accumulate, true);
}

void fill(Context& ctx, Tensor x, float value) {
  check_flat(x, ctx.device(), "x");
  if (!ctx.is_cuda()) return ref::fill<float>(x.numel(), x.data(), value);
#if CURNN_HAVE_CUDA
  cuda::fill(x.numel(), x.data(), value, ctx.stream());
#endif
}

void scale(Context& ctx, Tensor x, float alpha) {
  check_flat(x, ctx.device(), "x");
  if (!ctx.is_cuda()) return ref::scale<float>(x.numel(), x.data(), alpha);
#if CURNN_HAVE_CUDA
  cuda::scale(x.numel(), x.data(), alpha, ctx.stream());
#endif
}

void axpy(Context& ctx, float alpha, ConstTensor x, Tensor y) {
  check_flat(x, ctx.device(), "x");
  check_flat(y, ctx.device(), "y");
  check_same_shape(x, y, "axpy x and y");
  if (!ctx.is_cuda()) return ref::axpy<float>(y.numel(), alpha, x.data(), y.data());
#if CURNN_HAVE_CUDA
  cuda::axpy(y.numel(), alpha, x.data(), y.data(), ctx.stream());
#endif
}

void mul(Context& ctx, ConstTensor a, ConstTensor b, Tensor out) {
  check_flat(a, ctx.device(), "a");
  check_flat(b, ctx.device(), "b");
  check_flat(out, ctx.device(), "out");
  check_same_shape(a, b, "mul a and b");
  check_same_shape(a, out, "mul a and out");
  if (!ctx.is_cuda()) return ref::mul<float>(out.numel(), a.data(), b.data(), out.data());
#if CURNN_HAVE_CUDA
  cuda::mul(out.numel(), a.data(), b.data(), out.data(), ctx.stream());
#endif
}

bool all_finite(Context& ctx, ConstTensor x) {
  check_flat(x, ctx.device(), "x");
  if (!ctx.is_cuda()) return ref::all_finite<float>(x.numel(), x.data());
#if CURNN_HAVE_CUDA
  return cuda::all_finite(x.numel(), x.data(),
                          ctx.workspace(cuda::all_finite_workspace_bytes(x.numel())), ctx.stream());
#else
  return false;
#endif
}

}  // namespace curnn::ops
