// Reference NCE loss (TensorFlow's tf.nn.nce_loss with num_true = 1, subtract_log_q = True,
// remove_accidental_hits = False), forward and backward. This is the specification; the CUDA
// kernels (kernels/nce.cu) are tested against it (tests/nce_cuda_test.cpp), and its gradients
// are checked by central differences (tests/nce_test.cpp).
//
// One set of S sampled classes is shared by the batch. For example b with label y = labels[b]:
//   true_b     = x_b . w_y + bias_y - log_q_true[b]
//   sampled_bs = x_b . w_{sampled[s]} + bias_{sampled[s]} - log_q_sampled[s]
//   loss_b     = xent(true_b, 1) + sum_s xent(sampled_bs, 0),   xent = sigmoid cross-entropy
// Backward, for L = grad_scale * sum_b loss_b (grad_scale = 1/B gives the batch mean):
//   g_true_b = grad_scale * (sigmoid(true_b) - 1),  g_bs = grad_scale * sigmoid(sampled_bs)
//   dx_b = g_true_b w_y + sum_s g_bs w_{sampled[s]}
//   dw_true_b = g_true_b x_b,  db_true_b = g_true_b              (gradient rows for weights[y])
//   dw_sampled_s = sum_b g_bs x_b,  db_sampled_s = sum_b g_bs    (gradient rows for sampled[s])
// The op never touches the dense [V, E] gradient: the caller scatter-adds the rows (a label that
// is also sampled, or repeated in the batch, receives several rows).
#pragma once

#include <cstddef>
#include <cstdint>

#include "curnn/math.hpp"

namespace curnn::ref {

// Forward only when dx == nullptr (then all gradient pointers are ignored); otherwise all five
// gradient outputs are written. Ids must be in [0, V) (checked by ops::nce_loss).
template <class T>
void nce_loss(int B, int E, int S, int V,
              const T* x,                   // [B, E]
              const T* weights,             // [V, E]
              const T* biases,              // [V]
              const std::int32_t* labels,   // [B]
              const std::int32_t* sampled,  // [S]
              const T* log_q_true,          // [B]
              const T* log_q_sampled,       // [S]
              T* loss,                      // [B]
              T grad_scale,                 //
              T* dx,                        // [B, E] or nullptr
              T* dw_true,                   // [B, E]
              T* db_true,                   // [B]
              T* dw_sampled,                // [S, E]
              T* db_sampled) {              // [S]
  (void)V;
  const bool backward = dx != nullptr;
  const auto row = [E](const T* base, std::int64_t r) { return base + r * E; };
  const auto dot = [E](const T* a, const T* b) {
    T s = T(0);
    for (int e = 0; e < E; ++e) s += a[e] * b[e];
    return s;
  };
  if (backward) {
    for (std::int64_t i = 0; i < std::int64_t(S) * E; ++i) dw_sampled[i] = T(0);
    for (int s = 0; s < S; ++s) db_sampled[s] = T(0);
  }
  for (int b = 0; b < B; ++b) {
    const T* xb = row(x, b);
    const int y = labels[b];
    const T* wy = row(weights, y);
    const T true_logit = dot(xb, wy) + biases[y] - log_q_true[b];
    T loss_b = math::sigmoid_cross_entropy(true_logit, T(1));
    const T g_true = grad_scale * (math::sigmoid(true_logit) - T(1));
    if (backward) {
      for (int e = 0; e < E; ++e) {
        dx[b * E + e] = g_true * wy[e];
        dw_true[b * E + e] = g_true * xb[e];
      }
      db_true[b] = g_true;
    }
    for (int s = 0; s < S; ++s) {
      const T* ws = row(weights, sampled[s]);
      const T logit = dot(xb, ws) + biases[sampled[s]] - log_q_sampled[s];
      loss_b += math::sigmoid_cross_entropy(logit, T(0));
      if (backward) {
        const T g = grad_scale * math::sigmoid(logit);
        for (int e = 0; e < E; ++e) {
          dx[b * E + e] += g * ws[e];
          dw_sampled[s * E + e] += g * xb[e];
        }
        db_sampled[s] += g;
      }
    }
    loss[b] = loss_b;
  }
}

}  // namespace curnn::ref
