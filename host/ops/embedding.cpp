// ops::embedding_gather / ops::embedding_scatter_add: shape and device checks, then dispatch to
// the reference (CPU, include/curnn/ref/embedding.hpp) or the kernels (kernels/embedding.cu),
// which report bad ids through the context (Context::id_error_slot) with the reference's message.
#include "curnn/ops/embedding.hpp"

#include <cstdint>
#include <limits>

#include "curnn/ref/embedding.hpp"
#include "dispatch.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/embedding.hpp"
#endif

namespace curnn::ops {

namespace {

struct EmbeddingSizes {
  std::int64_t N, V, E;
};

// ids [N], table-like [V, E], rows [N, E]: all on ctx's device, sizes below 2^31.
template <class Scalar>
EmbeddingSizes check_embedding(const Context& ctx, const ConstIds& ids,
                               const TensorView<const Scalar>& rows,
                               const TensorView<const Scalar>& table) {
  CURNN_CHECK_ARG(ids.rank() == 1 && table.rank() == 2,
                  "embedding: ids " << ids.shape_string() << " must be 1-D and the table "
                                    << table.shape_string() << " 2-D");
  const EmbeddingSizes s{ids.dim(0), table.dim(0), table.dim(1)};
  constexpr std::int64_t kMax = std::numeric_limits<int>::max();
  CURNN_CHECK_ARG(s.N <= kMax && s.V <= kMax && s.E <= kMax,
                  "embedding: N=" << s.N << " V=" << s.V << " E=" << s.E << " exceed 2^31-1");
  CURNN_CHECK_TENSOR(ids, ctx.device(), {s.N});
  CURNN_CHECK_TENSOR(table, ctx.device(), {s.V, s.E});
  CURNN_CHECK_TENSOR(rows, ctx.device(), {s.N, s.E});
  return s;
}

#if CURNN_HAVE_CUDA
unsigned long long* id_slot(Context& ctx, std::int64_t V) {
  return ctx.id_error_slot(
      [V](std::int64_t n, std::int32_t id) { return ref::embedding_id_message(n, id, V); });
}
#endif

template <class Scalar>
void embedding_gather_impl(Context& ctx, ConstIds ids, TensorView<const Scalar> table,
                           TensorView<Scalar> out) {
  const EmbeddingSizes s = check_embedding<Scalar>(ctx, ids, out, table);
  if (ctx.is_cuda()) {
    if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
      cuda::embedding_gather(static_cast<int>(s.N), static_cast<int>(s.V), static_cast<int>(s.E),
                             ids.data(), table.data(), out.data(), id_slot(ctx, s.V), ctx.stream());
#endif
    } else {
      internal::double_needs_cpu("embedding_gather");
    }
    return;
  }
  ref::embedding_gather<Scalar>(s.N, s.V, s.E, ids.data(), table.data(), out.data());
}

template <class Scalar>
void embedding_scatter_add_impl(Context& ctx, ConstIds ids, TensorView<const Scalar> dout,
                                TensorView<Scalar> dtable) {
  const EmbeddingSizes s = check_embedding<Scalar>(ctx, ids, dout, dtable);
  if (ctx.is_cuda()) {
    if constexpr (!internal::kIsFloat<Scalar>) {
      internal::double_needs_cpu("embedding_scatter_add");
    } else {
#if CURNN_HAVE_CUDA
      const int N = static_cast<int>(s.N), V = static_cast<int>(s.V), E = static_cast<int>(s.E);
      if (ctx.deterministic()) {
        const std::size_t bytes = cuda::embedding_scatter_add_workspace_bytes(N, V);
        void* workspace = ctx.workspace(bytes);
        cuda::embedding_scatter_add_sorted(N, V, E, ids.data(), dout.data(), dtable.data(),
                                           workspace, bytes, id_slot(ctx, V), ctx.stream());
      } else {
        cuda::embedding_scatter_add_atomic(N, V, E, ids.data(), dout.data(), dtable.data(),
                                           id_slot(ctx, V), ctx.stream());
      }
#endif
    }
    return;
  }
  ref::embedding_scatter_add<Scalar>(s.N, s.V, s.E, ids.data(), dout.data(), dtable.data());
}

}  // namespace

void embedding_gather(Context& ctx, ConstIds ids, ConstTensor table, Tensor out) {
  embedding_gather_impl<float>(ctx, ids, table, out);
}
void embedding_gather(Context& ctx, ConstIds ids, TensorView<const double> table,
                      TensorView<double> out) {
  embedding_gather_impl<double>(ctx, ids, table, out);
}
void embedding_scatter_add(Context& ctx, ConstIds ids, ConstTensor dout, Tensor dtable) {
  embedding_scatter_add_impl<float>(ctx, ids, dout, dtable);
}
void embedding_scatter_add(Context& ctx, ConstIds ids, TensorView<const double> dout,
                           TensorView<double> dtable) {
  embedding_scatter_add_impl<double>(ctx, ids, dout, dtable);
}

}  // namespace curnn::ops
