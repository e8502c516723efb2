// Reduction and elementwise ops: argument checks, then the CPU reference or the CUDA kernels.
#include "curnn/ops/reduce.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

#include "../parallel.hpp"
#include "curnn/ref/reduce.hpp"
#include "dispatch.hpp"

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

template <class Scalar>
void column_sum_impl(Context& ctx, TensorView<const Scalar> x, TensorView<Scalar> out,
                     bool accumulate) {
  const Device dev = ctx.device();
  CURNN_CHECK_ARG(x.rank() == 2, "x must be [N, C], got " << x.shape_string());
  const std::int64_t N = x.dim(0), C = x.dim(1);
  CURNN_CHECK_ARG(N <= INT_MAX && C <= INT_MAX, "x " << x.shape_string() << " is too large");
  CURNN_CHECK_TENSOR(x, dev, {N, C});
  CURNN_CHECK_TENSOR(out, dev, {C});
  if (!ctx.is_cuda()) {
    // Columns are independent: each thread sums its own block of columns, in the same order.
    host::parallel_for(
        C, std::max<std::int64_t>(64, host::kElementGrain / std::max<std::int64_t>(1, N)),
        [&](std::int64_t c0, std::int64_t c1) {
          ref::column_sum<Scalar>(static_cast<int>(N), static_cast<int>(c1 - c0), x.data() + c0,
                                  out.data() + c0, accumulate, C);
        });
    return;
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    const int n = static_cast<int>(N), c = static_cast<int>(C);
    cuda::column_sum(n, c, x.data(), out.data(), accumulate,
                     ctx.workspace(cuda::column_sum_workspace_bytes(n, c)), ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("column_sum");
  }
}

template <class Scalar>
void sum_impl(Context& ctx, TensorView<const Scalar> x, TensorView<Scalar> out, bool accumulate,
              bool squares) {
  check_flat(x, ctx.device(), "x");
  CURNN_CHECK_TENSOR(out, ctx.device(), {1});
  const std::int64_t N = x.numel();
  if (!ctx.is_cuda()) {
    if (squares) {
      ref::sum_squares<Scalar>(N, x.data(), out.data(), accumulate);
    } else {
      ref::sum<Scalar>(N, x.data(), out.data(), accumulate);
    }
    return;
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    void* ws = ctx.workspace(cuda::sum_workspace_bytes(N));
    if (squares) {
      cuda::sum_squares(N, x.data(), out.data(), accumulate, ws, ctx.stream());
    } else {
      cuda::sum(N, x.data(), out.data(), accumulate, ws, ctx.stream());
    }
#endif
  } else {
    internal::double_needs_cpu("sum");
  }
}

template <class Scalar>
void fill_impl(Context& ctx, TensorView<Scalar> x, Scalar value) {
  check_flat(x, ctx.device(), "x");
  if (!ctx.is_cuda()) {
    return host::parallel_for(x.numel(), host::kElementGrain, [&](std::int64_t b, std::int64_t e) {
      ref::fill<Scalar>(e - b, x.data() + b, value);
    });
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::fill(x.numel(), x.data(), value, ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("fill");
  }
}

template <class Scalar>
void scale_impl(Context& ctx, TensorView<Scalar> x, Scalar alpha) {
  check_flat(x, ctx.device(), "x");
  if (!ctx.is_cuda()) {
    return host::parallel_for(x.numel(), host::kElementGrain, [&](std::int64_t b, std::int64_t e) {
      ref::scale<Scalar>(e - b, x.data() + b, alpha);
    });
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::scale(x.numel(), x.data(), alpha, ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("scale");
  }
}

template <class Scalar>
void axpy_impl(Context& ctx, Scalar alpha, TensorView<const Scalar> x, TensorView<Scalar> y) {
  check_flat(x, ctx.device(), "x");
  check_flat(y, ctx.device(), "y");
  check_same_shape(x, y, "axpy x and y");
  if (!ctx.is_cuda()) {
    return host::parallel_for(y.numel(), host::kElementGrain, [&](std::int64_t b, std::int64_t e) {
      ref::axpy<Scalar>(e - b, alpha, x.data() + b, y.data() + b);
    });
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::axpy(y.numel(), alpha, x.data(), y.data(), ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("axpy");
  }
}

template <class Scalar>
void mul_impl(Context& ctx, TensorView<const Scalar> a, TensorView<const Scalar> b,
              TensorView<Scalar> out) {
  check_flat(a, ctx.device(), "a");
  check_flat(b, ctx.device(), "b");
  check_flat(out, ctx.device(), "out");
  check_same_shape(a, b, "mul a and b");
  check_same_shape(a, out, "mul a and out");
  if (!ctx.is_cuda()) {
    return host::parallel_for(
        out.numel(), host::kElementGrain, [&](std::int64_t i0, std::int64_t i1) {
          ref::mul<Scalar>(i1 - i0, a.data() + i0, b.data() + i0, out.data() + i0);
        });
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::mul(out.numel(), a.data(), b.data(), out.data(), ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("mul");
  }
}

template <class Scalar>
void add_row_vector_impl(Context& ctx, TensorView<const Scalar> v, TensorView<Scalar> x) {
  const Device dev = ctx.device();
  CURNN_CHECK_ARG(x.rank() == 2, "x must be [N, C], got " << x.shape_string());
  const std::int64_t N = x.dim(0), C = x.dim(1);
  CURNN_CHECK_ARG(N <= INT_MAX && C <= INT_MAX, "x " << x.shape_string() << " is too large");
  CURNN_CHECK_TENSOR(x, dev, {N, C});
  CURNN_CHECK_TENSOR(v, dev, {C});
  if (!ctx.is_cuda()) {
    const std::int64_t rows =
        std::max<std::int64_t>(1, host::kElementGrain / std::max<std::int64_t>(1, C));
    return host::parallel_for(N, rows, [&](std::int64_t r0, std::int64_t r1) {
      ref::add_row_vector<Scalar>(static_cast<int>(r1 - r0), static_cast<int>(C), v.data(),
                                  x.data() + r0 * C);
    });
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::add_row_vector(static_cast<int>(N), static_cast<int>(C), v.data(), x.data(),
                         ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("add_row_vector");
  }
}

}  // namespace

void column_sum(Context& ctx, ConstTensor x, Tensor out, bool accumulate) {
  column_sum_impl<float>(ctx, x, out, accumulate);
}
void sum(Context& ctx, ConstTensor x, Tensor out, bool accumulate) {
  sum_impl<float>(ctx, x, out, accumulate, false);
}
void sum_squares(Context& ctx, ConstTensor x, Tensor out, bool accumulate) {
  sum_impl<float>(ctx, x, out, accumulate, true);
}
void fill(Context& ctx, Tensor x, float value) {
  fill_impl<float>(ctx, x, value);
}
void scale(Context& ctx, Tensor x, float alpha) {
  scale_impl<float>(ctx, x, alpha);
}
void axpy(Context& ctx, float alpha, ConstTensor x, Tensor y) {
  axpy_impl<float>(ctx, alpha, x, y);
}
void mul(Context& ctx, ConstTensor a, ConstTensor b, Tensor out) {
  mul_impl<float>(ctx, a, b, out);
}
void add_row_vector(Context& ctx, ConstTensor v, Tensor x) {
  add_row_vector_impl<float>(ctx, v, x);
}

void column_sum(Context& ctx, TensorView<const double> x, TensorView<double> out, bool accumulate) {
  column_sum_impl<double>(ctx, x, out, accumulate);
}
void sum(Context& ctx, TensorView<const double> x, TensorView<double> out, bool accumulate) {
  sum_impl<double>(ctx, x, out, accumulate, false);
}
void sum_squares(Context& ctx, TensorView<const double> x, TensorView<double> out,
                 bool accumulate) {
  sum_impl<double>(ctx, x, out, accumulate, true);
}
void fill(Context& ctx, TensorView<double> x, double value) {
  fill_impl<double>(ctx, x, value);
}
void scale(Context& ctx, TensorView<double> x, double alpha) {
  scale_impl<double>(ctx, x, alpha);
}
void axpy(Context& ctx, double alpha, TensorView<const double> x, TensorView<double> y) {
  axpy_impl<double>(ctx, alpha, x, y);
}
void mul(Context& ctx, TensorView<const double> a, TensorView<const double> b,
         TensorView<double> out) {
  mul_impl<double>(ctx, a, b, out);
}
void add_row_vector(Context& ctx, TensorView<const double> v, TensorView<double> x) {
  add_row_vector_impl<double>(ctx, v, x);
}

bool all_finite(Context& ctx, ConstTensor x) {
  check_flat(x, ctx.device(), "x");
  if (!ctx.is_cuda()) return ref::all_finite<float>(x.numel(), x.data());
#if CURNN_HAVE_CUDA
  const bool finite =
      cuda::all_finite(x.numel(), x.data(),
                       ctx.workspace(cuda::all_finite_workspace_bytes(x.numel())), ctx.stream());
  ctx.synchronize();  // a host result: report the invalid ids found so far (at no extra wait)
  return finite;
#else
  return false;
#endif
}

}  // namespace curnn::ops
