// Ops of the softmax cross-entropy family on a Context (CPU reference or CUDA). Semantics:
// include/curnn/ref/softmax_xent.hpp.
#pragma once

#include <cstdint>

#include "curnn/context.hpp"
#include "curnn/tensor.hpp"

namespace curnn::ops {

// loss [N] = -log softmax(logits [N, V])[targets [N]], row by row. When dlogits is given (not
// empty): dlogits [N, V] = grad_scale * (softmax - onehot(targets)); it may be logits itself
// (in place; the op then writes through the const view's memory), but not partly overlap it.
// When probs is given: probs [N, V] = softmax (must not overlap logits, dlogits or loss).
// Target ids outside [0, V): ArgumentError naming the first one. On the CPU nothing is written;
// on CUDA the kernel finds them and the context throws the same ArgumentError at its next
// synchronisation point (Context::id_error_slot); that row's loss is then NaN and its dlogits
// lack the one-hot term.
void softmax_xent(Context& ctx, ConstTensor logits /*[N, V]*/, ConstIds targets /*[N]*/,
                  Tensor loss /*[N]*/, Tensor dlogits /*[N, V] or empty*/, float grad_scale,
                  Tensor probs = {} /*[N, V] or empty*/);
// float64, on the CPU backend only (gradient checks of engines).
void softmax_xent(Context& ctx, TensorView<const double> logits, ConstIds targets,
                  TensorView<double> loss, TensorView<double> dlogits, double grad_scale,
                  TensorView<double> probs = {});

// out [N] = the index of the largest element of each row of x [N, C]; ties to the lowest index
// (as numpy and TensorFlow), a NaN wins (as numpy).
void argmax_rows(Context& ctx, ConstTensor x /*[N, C]*/, Ids out /*[N]*/);

// The number of rows of logits [N, C] whose argmax equals labels [N] (host result; on CUDA the
// call waits for the context's stream). Labels outside [0, C): ArgumentError naming the first,
// on either backend (on CUDA after the wait, see Context::id_error_slot).
std::int64_t count_correct(Context& ctx, ConstTensor logits /*[N, C]*/, ConstIds labels /*[N]*/);

}  // namespace curnn::ops
