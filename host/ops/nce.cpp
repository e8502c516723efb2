// ops::nce_loss: argument checks, then the CPU reference (curnn/ref/nce.hpp) or the CUDA
// launcher (kernels/nce.cu). Tests: tests/nce_test.cpp, tests/nce_cuda_test.cpp.
#include "curnn/ops/nce.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "curnn/ref/nce.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/nce.hpp"
static_assert(curnn::ops::kNceMaxEmbedding == curnn::cuda::kNceMaxEmbedding,
              "the op and the kernels accept the same embedding sizes");
#endif

namespace curnn::ops {
namespace {

struct NceShape {
  int B, E, S, V;
};

// The message of an id outside [0, V) at position i of `name` (labels or sampled), on both
// backends.
std::string id_message(const char* name, std::int64_t i, std::int32_t id, std::int64_t V) {
  std::ostringstream s;
  s << "nce_loss: " << name << "[" << i << "] = " << id << " outside [0, " << V << ")";
  return s.str();
}

NceShape check_inputs(const Context& ctx, ConstTensor x, ConstTensor weights, ConstTensor biases,
                      ConstIds labels, ConstIds sampled, ConstTensor log_q_true,
                      ConstTensor log_q_sampled, Tensor loss) {
  const Device dev = ctx.device();
  CURNN_CHECK_ARG(x.rank() == 2 && weights.rank() == 2 && sampled.rank() == 1,
                  "nce_loss: x " << x.shape_string() << " and weights " << weights.shape_string()
                                 << " must be 2-D, sampled " << sampled.shape_string() << " 1-D");
  const std::int64_t B = x.dim(0), E = x.dim(1), V = weights.dim(0), S = sampled.dim(0);
  constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
  CURNN_CHECK_ARG(B >= 1 && S >= 1 && V >= 1 && E >= 1 && E <= kNceMaxEmbedding,
                  "nce_loss: B=" << B << " E=" << E << " S=" << S << " V=" << V
                                 << " (need >= 1, E <= " << kNceMaxEmbedding << ")");
  CURNN_CHECK_ARG(
      B * E <= kIntMax && B * S <= kIntMax && S * E <= kIntMax && V <= kIntMax,
      "nce_loss: sizes overflow int (B=" << B << " E=" << E << " S=" << S << " V=" << V << ")");
  CURNN_CHECK_TENSOR(x, dev, {B, E});
  CURNN_CHECK_TENSOR(weights, dev, {V, E});
  CURNN_CHECK_TENSOR(biases, dev, {V});
  CURNN_CHECK_TENSOR(labels, dev, {B});
  CURNN_CHECK_TENSOR(sampled, dev, {S});
  CURNN_CHECK_TENSOR(log_q_true, dev, {B});
  CURNN_CHECK_TENSOR(log_q_sampled, dev, {S});
  CURNN_CHECK_TENSOR(loss, dev, {B});
  if (dev == Device::CPU) {
    const auto check_ids = [V](ConstIds ids, const char* name) {
      for (std::int64_t i = 0; i < ids.numel(); ++i) {
        const std::int32_t id = ids.data()[i];
        CURNN_CHECK_ARG(0 <= id && id < V, id_message(name, i, id, V));
      }
    };
    check_ids(labels, "labels");
    check_ids(sampled, "sampled");
  }
  return {static_cast<int>(B), static_cast<int>(E), static_cast<int>(S), static_cast<int>(V)};
}

void run(Context& ctx, const NceShape& n, ConstTensor x, ConstTensor weights, ConstTensor biases,
         ConstIds labels, ConstIds sampled, ConstTensor log_q_true, ConstTensor log_q_sampled,
         Tensor loss, float grad_scale, const NceGradients* grads) {
  float* dx = grads ? grads->dx.data() : nullptr;
  float* dw_true = grads ? grads->dw_true.data() : nullptr;
  float* db_true = grads ? grads->db_true.data() : nullptr;
  float* dw_sampled = grads ? grads->dw_sampled.data() : nullptr;
  float* db_sampled = grads ? grads->db_sampled.data() : nullptr;
  if (!ctx.is_cuda()) {
    ref::nce_loss<float>(n.B, n.E, n.S, n.V, x.data(), weights.data(), biases.data(), labels.data(),
                         sampled.data(), log_q_true.data(), log_q_sampled.data(), loss.data(),
                         grad_scale, dx, dw_true, db_true, dw_sampled, db_sampled);
    return;
  }
#if CURNN_HAVE_CUDA
  void* workspace = grads ? ctx.workspace(cuda::nce_loss_workspace_bytes(n.B, n.S)) : nullptr;
  const std::int64_t V = n.V;
  unsigned long long* bad_label = ctx.id_error_slot(
      [V](std::int64_t i, std::int32_t id) { return id_message("labels", i, id, V); });
  unsigned long long* bad_sampled = ctx.id_error_slot(
      [V](std::int64_t i, std::int32_t id) { return id_message("sampled", i, id, V); });
  cuda::nce_loss(n.B, n.E, n.S, n.V, x.data(), weights.data(), biases.data(), labels.data(),
                 sampled.data(), log_q_true.data(), log_q_sampled.data(), loss.data(), grad_scale,
                 dx, dw_true, db_true, dw_sampled, db_sampled, workspace, bad_label, bad_sampled,
                 ctx.stream());
#endif
}

}  // namespace

void nce_loss(Context& ctx, ConstTensor x, ConstTensor weights, ConstTensor biases, ConstIds labels,
              ConstIds sampled, ConstTensor log_q_true, ConstTensor log_q_sampled, Tensor loss) {
  const NceShape n =
      check_inputs(ctx, x, weights, biases, labels, sampled, log_q_true, log_q_sampled, loss);
  run(ctx, n, x, weights, biases, labels, sampled, log_q_true, log_q_sampled, loss, 0.f, nullptr);
}

void nce_loss(Context& ctx, ConstTensor x, ConstTensor weights, ConstTensor biases, ConstIds labels,
              ConstIds sampled, ConstTensor log_q_true, ConstTensor log_q_sampled, Tensor loss,
              float grad_scale, const NceGradients& grads) {
  const NceShape n =
      check_inputs(ctx, x, weights, biases, labels, sampled, log_q_true, log_q_sampled, loss);
  CURNN_CHECK_ARG(std::isfinite(grad_scale), "nce_loss: grad_scale " << grad_scale);
  const Device dev = ctx.device();
  CURNN_CHECK_TENSOR(grads.dx, dev, {n.B, n.E});
  CURNN_CHECK_TENSOR(grads.dw_true, dev, {n.B, n.E});
  CURNN_CHECK_TENSOR(grads.db_true, dev, {n.B});
  CURNN_CHECK_TENSOR(grads.dw_sampled, dev, {n.S, n.E});
  CURNN_CHECK_TENSOR(grads.db_sampled, dev, {n.S});
  run(ctx, n, x, weights, biases, labels, sampled, log_q_true, log_q_sampled, loss, grad_scale,
      &grads);
}

}  // namespace curnn::ops
