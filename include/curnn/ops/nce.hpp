// NCE loss op (TensorFlow's tf.nn.nce_loss as used by word2vec_basic.py): forward, or forward
// and backward in one call, on the CPU reference or the CUDA kernels. Semantics and formulas:
// curnn/ref/nce.hpp. The sampled classes and their log expected counts come from
// LogUniformSampler (curnn/log_uniform_sampler.hpp); they are inputs, so both backends compute
// the same thing.
#pragma once

#include "curnn/context.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

// The largest embedding size the op accepts (on both backends, so that they agree).
constexpr int kNceMaxEmbedding = 1024;

// Sparse gradients of grad_scale * sum_b loss_b. The op never touches a dense [V, E] gradient:
// the caller adds row b of dw_true/db_true into class labels[b], and row s of
// dw_sampled/db_sampled into class sampled[s] (embedding scatter-add or sparse SGD).
struct NceGradients {
  Tensor dx;          // [B, E]  gradient of the inputs
  Tensor dw_true;     // [B, E]  rows for weights[labels[b]]
  Tensor db_true;     // [B]     entries for biases[labels[b]]
  Tensor dw_sampled;  // [S, E]  rows for weights[sampled[s]], summed over the batch
  Tensor db_sampled;  // [S]     entries for biases[sampled[s]], summed over the batch
};

// Per-example loss [B]. Shapes: x [B, E], weights [V, E], biases [V], labels [B],
// sampled [S], log_q_true [B], log_q_sampled [S]; 1 <= E <= kNceMaxEmbedding.
// Ids: every id must lie in [0, V); the first that does not (labels first, then sampled) is an
// ArgumentError on both backends. The CPU checks before computing; the CUDA kernels find it on
// the device and the context throws at its next synchronisation point (Context::id_error_slot);
// there an out-of-range id is never dereferenced and makes the losses and gradients that depend
// on it NaN.
void nce_loss(Context& ctx, ConstTensor x, ConstTensor weights, ConstTensor biases, ConstIds labels,
              ConstIds sampled, ConstTensor log_q_true, ConstTensor log_q_sampled, Tensor loss);

// The same forward, plus the gradients of grad_scale * sum_b loss_b (grad_scale = 1/B: the
// gradient of the batch mean, as tf.reduce_mean(tf.nn.nce_loss(...))). Deterministic.
void nce_loss(Context& ctx, ConstTensor x, ConstTensor weights, ConstTensor biases, ConstIds labels,
              ConstIds sampled, ConstTensor log_q_true, ConstTensor log_q_sampled, Tensor loss,
              float grad_scale, const NceGradients& grads);

}  // namespace curnn::ops
