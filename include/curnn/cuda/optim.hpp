// CUDA launchers of the optimizer kernels (kernels/optim.cu): float32, raw device pointers,
// queued on `stream`. The specification is include/curnn/ref/optim.hpp; the engine calls them
// through include/curnn/ops/optim.hpp. Launchers that need scratch memory take a device
// `workspace` of at least the matching *_workspace_bytes(); it must not be reused until the
// queued work has run.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace curnn::cuda {

// param[N] -= lr * grad[N]
void sgd_update(float lr, const float* grad, float* param, std::int64_t N, cudaStream_t stream);
// The same with lr = lr_device[0], read from device memory by the kernel (a captured CUDA Graph
// replays it with the value there at each replay). sgd_update_rows has the same variant.
void sgd_update(const float* lr_device, const float* grad, float* param, std::int64_t N,
                cudaStream_t stream);

// Sparse-row SGD, table[V, E] -= lr * (duplicates of rows[N] summed in order) of row_grads[N, E].
// Deterministic: a stable radix sort groups equal rows, one warp sums each group in order.
// Rows outside [0, V) are skipped and lower `bad_id` (a Context::id_error_slot device word, or
// nullptr) to (i << 32 | uint32(rows[i])) of the lowest such position i.
std::size_t sgd_update_rows_workspace_bytes(std::int64_t N);
void sgd_update_rows(float lr, const std::int32_t* rows, const float* row_grads, float* table,
                     std::int64_t N, std::int64_t E, std::int64_t V, void* workspace,
                     std::size_t workspace_bytes, unsigned long long* bad_id, cudaStream_t stream);
void sgd_update_rows(const float* lr_device, const std::int32_t* rows, const float* row_grads,
                     float* table, std::int64_t N, std::int64_t E, std::int64_t V, void* workspace,
                     std::size_t workspace_bytes, unsigned long long* bad_id, cudaStream_t stream);

// tf.clip_by_global_norm over `count` device tensors tensors[k] of sizes[k] floats (both arrays
// on the host). Writes the global norm to norm_out[0] (device) and scales the tensors by
// clip_norm / max(norm, clip_norm) read from device memory (NaN when the norm is not finite).
std::size_t clip_by_global_norm_workspace_bytes(const std::int64_t* sizes, int count);
void clip_by_global_norm(float* const* tensors, const std::int64_t* sizes, int count,
                         float clip_norm, float* norm_out, void* workspace,
                         std::size_t workspace_bytes, cudaStream_t stream);

// One Adam step on param/m/v [N]: alpha = lr_t (ref::adam_step_size), one_minus_beta1 =
// 1 - beta1 and one_minus_beta2 = 1 - beta2 (computed in float by the caller).
void adam_update(float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon,
                 const float* grad, float* param, float* m, float* v, std::int64_t N,
                 cudaStream_t stream);
// The same with alpha = alpha_device[0], read from device memory by the kernel (a captured CUDA
// Graph replays it with the step size there at each replay).
void adam_update(const float* alpha_device, float one_minus_beta1, float one_minus_beta2,
                 float epsilon, const float* grad, float* param, float* m, float* v, std::int64_t N,
                 cudaStream_t stream);

}  // namespace curnn::cuda
