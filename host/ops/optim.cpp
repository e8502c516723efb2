// Optimizer ops: argument checks, then the CPU reference (include/curnn/ref/optim.hpp) or the
// CUDA launchers (kernels/optim.cu).
#include "curnn/ops/optim.hpp"

#include <cmath>
#include <string>

#include "../parallel.hpp"
#include "curnn/ref/optim.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/optim.hpp"
#endif

namespace curnn::ops {
namespace {

// t is a non-null view on `device`.
template <class T>
void check_on_device(const TensorView<T>& t, Device device, const char* name) {
  CURNN_CHECK_ARG(t, name << " is empty (null data)");
  CURNN_CHECK_ARG(t.device() == device, name << " is on " << device_name(t.device())
                                             << ", expected " << device_name(device));
}

// t is a non-null view on `device` with the same shape as `like`.
template <class T, class U>
void check_like(const TensorView<T>& t, const TensorView<U>& like, Device device, const char* name,
                const char* like_name) {
  check_on_device(t, device, name);
  bool same = t.rank() == like.rank();
  for (int i = 0; same && i < t.rank(); ++i) same = t.dim(i) == like.dim(i);
  CURNN_CHECK_ARG(same, name << " has shape " << t.shape_string() << ", expected " << like_name
                             << "'s " << like.shape_string());
}

// lr_device (may be null): the learning rate is lr_device[0], read by the kernel; on the CPU the
// callers below have read it already.
void sgd_update_impl(Context& ctx, float lr, const float* lr_device, ConstTensor grad,
                     Tensor param) {
  check_on_device(param, ctx.device(), "param");
  check_like(grad, param, ctx.device(), "grad", "param");
  if (!ctx.is_cuda()) {
    host::parallel_for(param.numel(), host::kElementGrain, [&](std::int64_t b, std::int64_t e) {
      ref::sgd_update<float>(lr, grad.data() + b, param.data() + b, e - b);
    });
    return;
  }
#if CURNN_HAVE_CUDA
  if (lr_device) {
    cuda::sgd_update(lr_device, grad.data(), param.data(), param.numel(), ctx.stream());
  } else {
    cuda::sgd_update(lr, grad.data(), param.data(), param.numel(), ctx.stream());
  }
#else
  (void)lr_device;
#endif
}

void sgd_update_rows_impl(Context& ctx, float lr, const float* lr_device, ConstIds rows,
                          ConstTensor row_grads, Tensor table) {
  check_on_device(table, ctx.device(), "table");
  CURNN_CHECK_ARG(table.rank() == 2,
                  "table has shape " << table.shape_string() << ", expected [V, E]");
  check_on_device(rows, ctx.device(), "rows");
  CURNN_CHECK_ARG(rows.rank() == 1, "rows has shape " << rows.shape_string() << ", expected [N]");
  const std::int64_t N = rows.dim(0), V = table.dim(0), E = table.dim(1);
  CURNN_CHECK_TENSOR(row_grads, ctx.device(), {N, E});
  if (!ctx.is_cuda()) {
    ref::sgd_update_rows<float>(lr, rows.data(), row_grads.data(), table.data(), N, E, V);
    return;
  }
#if CURNN_HAVE_CUDA
  const std::size_t bytes = cuda::sgd_update_rows_workspace_bytes(N);
  void* workspace = bytes ? ctx.workspace(bytes) : nullptr;
  unsigned long long* bad_id = ctx.id_error_slot(
      [V](std::int64_t i, std::int32_t r) { return ref::row_id_message(i, r, V); });
  if (lr_device) {
    cuda::sgd_update_rows(lr_device, rows.data(), row_grads.data(), table.data(), N, E, V,
                          workspace, bytes, bad_id, ctx.stream());
  } else {
    cuda::sgd_update_rows(lr, rows.data(), row_grads.data(), table.data(), N, E, V, workspace,
                          bytes, bad_id, ctx.stream());
  }
#else
  (void)lr_device;
#endif
}

// The learning rate of a DeviceScalar: on the CPU read now (and checked), on CUDA by the kernel.
float host_lr(Context& ctx, DeviceScalar<float> lr) {
  CURNN_CHECK_ARG(lr.ptr != nullptr, "lr has a null pointer");
  if (ctx.is_cuda()) return 0.f;
  CURNN_CHECK_ARG(std::isfinite(*lr.ptr), "lr = " << *lr.ptr);
  return *lr.ptr;
}

}  // namespace

void sgd_update(Context& ctx, float lr, ConstTensor grad, Tensor param) {
  CURNN_CHECK_ARG(std::isfinite(lr), "lr = " << lr);
  sgd_update_impl(ctx, lr, nullptr, grad, param);
}

void sgd_update(Context& ctx, DeviceScalar<float> lr, ConstTensor grad, Tensor param) {
  const float value = host_lr(ctx, lr);
  sgd_update_impl(ctx, value, ctx.is_cuda() ? lr.ptr : nullptr, grad, param);
}

void sgd_update_rows(Context& ctx, float lr, ConstIds rows, ConstTensor row_grads, Tensor table) {
  CURNN_CHECK_ARG(std::isfinite(lr), "lr = " << lr);
  sgd_update_rows_impl(ctx, lr, nullptr, rows, row_grads, table);
}

void sgd_update_rows(Context& ctx, DeviceScalar<float> lr, ConstIds rows, ConstTensor row_grads,
                     Tensor table) {
  const float value = host_lr(ctx, lr);
  sgd_update_rows_impl(ctx, value, ctx.is_cuda() ? lr.ptr : nullptr, rows, row_grads, table);
}

void clip_by_global_norm(Context& ctx, const std::vector<Tensor>& grads, float clip_norm,
                         Tensor norm_out) {
  CURNN_CHECK_ARG(clip_norm > 0.f && std::isfinite(clip_norm), "clip_norm = " << clip_norm);
  CURNN_CHECK_TENSOR(norm_out, ctx.device(), {1});
  CURNN_CHECK_ARG(grads.size() < (1u << 30), grads.size() << " gradients");
  std::vector<float*> ptrs;
  std::vector<std::int64_t> sizes;
  ptrs.reserve(grads.size());
  sizes.reserve(grads.size());
  for (std::size_t k = 0; k < grads.size(); ++k) {
    const std::string name = "grads[" + std::to_string(k) + "]";
    if (grads[k].rank() > 0 && grads[k].numel() == 0) {  // an empty tensor: data may be null
      CURNN_CHECK_ARG(grads[k].device() == ctx.device(), name << " is on the wrong device");
    } else {
      check_on_device(grads[k], ctx.device(), name.c_str());
    }
    ptrs.push_back(grads[k].data());
    sizes.push_back(grads[k].numel());
  }
  const int count = static_cast<int>(grads.size());
  if (!ctx.is_cuda()) {
    // The norm is one sum in the reference's order (its rounding depends on the order); the
    // scaling is elementwise, split over the threads.
    const double norm = ref::global_norm<float>(ptrs.data(), sizes.data(), count);
    const double scale = ref::clip_scale(norm, static_cast<double>(clip_norm));
    if (scale != 1.0) {
      for (int k = 0; k < count; ++k) {
        host::parallel_for(sizes[k], host::kElementGrain, [&](std::int64_t b, std::int64_t e) {
          ref::scale_by<float>(ptrs[k] + b, e - b, scale);
        });
      }
    }
    norm_out.data()[0] = static_cast<float>(norm);
    return;
  }
#if CURNN_HAVE_CUDA
  const std::size_t bytes = cuda::clip_by_global_norm_workspace_bytes(sizes.data(), count);
  cuda::clip_by_global_norm(ptrs.data(), sizes.data(), count, clip_norm, norm_out.data(),
                            ctx.workspace(bytes), bytes, ctx.stream());
#endif
}

namespace {

// alpha_device (may be null): the step size is alpha_device[0], read by the kernel; else, and
// on the CPU, alpha.
void adam_update_impl(Context& ctx, const AdamParams& params, float alpha,
                      const float* alpha_device, ConstTensor grad, Tensor param, Tensor m,
                      Tensor v) {
  CURNN_CHECK_ARG(std::isfinite(params.lr), "lr = " << params.lr);
  CURNN_CHECK_ARG(params.beta1 >= 0.f && params.beta1 < 1.f, "beta1 = " << params.beta1);
  CURNN_CHECK_ARG(params.beta2 >= 0.f && params.beta2 < 1.f, "beta2 = " << params.beta2);
  CURNN_CHECK_ARG(params.epsilon >= 0.f && std::isfinite(params.epsilon),
                  "epsilon = " << params.epsilon);
  check_on_device(param, ctx.device(), "param");
  check_like(grad, param, ctx.device(), "grad", "param");
  check_like(m, param, ctx.device(), "m", "param");
  check_like(v, param, ctx.device(), "v", "param");
  if (!ctx.is_cuda()) {
    host::parallel_for(param.numel(), host::kElementGrain, [&](std::int64_t b, std::int64_t e) {
      ref::adam_update_with_step_size<float>(params, alpha, grad.data() + b, param.data() + b,
                                             m.data() + b, v.data() + b, e - b);
    });
    return;
  }
#if CURNN_HAVE_CUDA
  if (alpha_device) {
    cuda::adam_update(alpha_device, 1.f - params.beta1, 1.f - params.beta2, params.epsilon,
                      grad.data(), param.data(), m.data(), v.data(), param.numel(), ctx.stream());
  } else {
    cuda::adam_update(alpha, 1.f - params.beta1, 1.f - params.beta2, params.epsilon, grad.data(),
                      param.data(), m.data(), v.data(), param.numel(), ctx.stream());
  }
#else
  (void)alpha_device;
#endif
}

}  // namespace

void adam_update(Context& ctx, const AdamParams& params, std::int64_t step, ConstTensor grad,
                 Tensor param, Tensor m, Tensor v) {
  CURNN_CHECK_ARG(step >= 1, "step = " << step << " (t is 1-based)");
  adam_update_impl(ctx, params, adam_step_size_f32(params, step), nullptr, grad, param, m, v);
}

void adam_update(Context& ctx, const AdamParams& params, DeviceScalar<float> step_size,
                 ConstTensor grad, Tensor param, Tensor m, Tensor v) {
  CURNN_CHECK_ARG(step_size.ptr != nullptr, "step_size has a null pointer");
  if (!ctx.is_cuda()) {
    CURNN_CHECK_ARG(std::isfinite(*step_size.ptr), "step_size = " << *step_size.ptr);
    adam_update_impl(ctx, params, *step_size.ptr, nullptr, grad, param, m, v);
  } else {
    adam_update_impl(ctx, params, 0.f, step_size.ptr, grad, param, m, v);
  }
}

}  // namespace curnn::ops
