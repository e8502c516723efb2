// ops::concat_columns / ops::split_columns: shape and device checks, then the reference (CPU,
// include/curnn/ref/concat.hpp) or the kernels (kernels/concat.cu).
#include "curnn/ops/concat.hpp"

#include "curnn/ref/concat.hpp"
#include "dispatch.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/concat.hpp"
#endif

namespace curnn::ops {
namespace {

struct ConcatSizes {
  std::int64_t N, Ca, Cb;
};

// wide [N, Ca+Cb], a [N, Ca], b [N, Cb], all on ctx's device; Ca, Cb >= 1.
template <class W, class A, class B>
ConcatSizes check_concat(const Context& ctx, const TensorView<W>& wide, const TensorView<A>& a,
                         const TensorView<B>& b) {
  CURNN_CHECK_ARG(a.rank() == 2 && b.rank() == 2, "concat: a " << a.shape_string() << " and b "
                                                               << b.shape_string()
                                                               << " must be 2-D [N, C]");
  const ConcatSizes s{a.dim(0), a.dim(1), b.dim(1)};
  CURNN_CHECK_ARG(s.Ca >= 1 && s.Cb >= 1, "concat: a " << a.shape_string() << " and b "
                                                       << b.shape_string()
                                                       << " need at least one column each");
  CURNN_CHECK_TENSOR(a, ctx.device(), {s.N, s.Ca});
  CURNN_CHECK_TENSOR(b, ctx.device(), {s.N, s.Cb});
  CURNN_CHECK_TENSOR(wide, ctx.device(), {s.N, s.Ca + s.Cb});
  return s;
}

template <class Scalar>
void concat_columns_impl(Context& ctx, TensorView<const Scalar> a, TensorView<const Scalar> b,
                         TensorView<Scalar> out) {
  const ConcatSizes s = check_concat(ctx, out, a, b);
  if (!ctx.is_cuda()) {
    ref::concat_columns<Scalar>(s.N, s.Ca, s.Cb, a.data(), b.data(), out.data());
    return;
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::concat_columns(s.N, s.Ca, s.Cb, a.data(), b.data(), out.data(), ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("concat_columns");
  }
}

template <class Scalar>
void split_columns_impl(Context& ctx, TensorView<const Scalar> in, TensorView<Scalar> a,
                        TensorView<Scalar> b) {
  const ConcatSizes s = check_concat(ctx, in, a, b);
  if (!ctx.is_cuda()) {
    ref::split_columns<Scalar>(s.N, s.Ca, s.Cb, in.data(), a.data(), b.data());
    return;
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::split_columns(s.N, s.Ca, s.Cb, in.data(), a.data(), b.data(), ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("split_columns");
  }
}

}  // namespace

void concat_columns(Context& ctx, ConstTensor a, ConstTensor b, Tensor out) {
  concat_columns_impl<float>(ctx, a, b, out);
}
void split_columns(Context& ctx, ConstTensor in, Tensor a, Tensor b) {
  split_columns_impl<float>(ctx, in, a, b);
}
void concat_columns(Context& ctx, TensorView<const double> a, TensorView<const double> b,
                    TensorView<double> out) {
  concat_columns_impl<double>(ctx, a, b, out);
}
void split_columns(Context& ctx, TensorView<const double> in, TensorView<double> a,
                   TensorView<double> b) {
  split_columns_impl<double>(ctx, in, a, b);
}

}  // namespace curnn::ops
