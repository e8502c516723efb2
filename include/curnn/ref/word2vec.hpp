// CPU reference of word2vec.c's negative-sampling step (skip-gram and CBOW), the specification
// of ops::sgns_step. Work item n (processed in order n = 0, 1, ..., N-1):
//   inputs   c_1..c_m = input_ids[n, 0..m), m = input_count[n] in [0, C]
//              skip-gram: m = 1, the context word (word2vec.c: l1 = syn0[last_word]);
//              CBOW:      the up to 2*window context words (cbow_mean = 1);
//   targets  t_0 = target_ids[n] (the centre word, label 1), t_d = negative_ids[n, d-1] for
//            d = 1..K (label 0); a negative equal to t_0 is skipped, as word2vec.c does.
// With word2vec.c's arithmetic, in its order:
//   neu1  = (syn0[c_1] + ... + syn0[c_m]) / m          (summed in input order)
//   neu1e = 0
//   for d = 0..K (not skipped):
//     f = dot(neu1, syn1neg[t_d])
//     g = (label - sigmoid(f)) * alpha, clamped as word2vec.c (MAX_EXP = 6):
//           f > 6  -> g = (label - 1) * alpha,   f < -6 -> g = label * alpha
//     neu1e        += g * syn1neg[t_d]
//     syn1neg[t_d] += g * neu1
//   syn0[c] += neu1e for every input c (in order; a repeated input gets it each time)
//   loss[n] = sum over the targets of -log sigmoid(+f) (label 1) or -log sigmoid(-f) (label 0)
// The sigmoid is exact (curnn::math::sigmoid), not word2vec.c's 1000-entry expTable: the table
// truncates f to a grid of 0.012 and indexes it with the integer scale 1000/6/2 = 83 instead of
// 83.3, so its sigmoid is off by up to 0.009 (0.006 at f = 0), i.e. g by up to 0.9% of alpha.
// The clamp outside [-6, 6] is word2vec.c's; there g departs from the true gradient step.
// Each loss term uses the f that drives its update, i.e. the parameters before that target's
// update: all terms see the parameters before the item unless a negative repeats an earlier
// target row (then it sees that row after its update, as word2vec.c's loop does). Items with
// m = 0 change nothing and get loss 0 (word2vec.c's CBOW skips a word with no context).
// Gradients: away from the clamp the syn1neg updates are -alpha * dloss/dsyn1neg[t], and
// neu1e = -alpha * dloss/dneu1. For skip-gram that is the syn0 step; for CBOW
// dloss/dsyn0[c] = dloss/dneu1 / m, yet word2vec.c adds the full neu1e to every context row:
// CBOW's syn0 step is m times the gradient step. We keep word2vec.c's behaviour.
// Tests: tests/word2vec_test.cpp (semantics, Grad), tests/word2vec_cuda_test.cpp (vs kernel).
#pragma once

#include <cstdint>
#include <vector>

#include "curnn/error.hpp"
#include "curnn/math.hpp"

namespace curnn::ref {

// word2vec.c's MAX_EXP: beyond |f| > 6 the step uses sigmoid = 0 or 1.
inline constexpr int kWord2vecMaxExp = 6;

// g of one (f, label) pair as word2vec.c computes it, with the exact sigmoid inside [-6, 6].
// Shared with the CUDA kernel.
template <class T>
CURNN_HD T sgns_gradient_scale(T f, T label, T alpha) {
  if (f > T(kWord2vecMaxExp)) return (label - T(1)) * alpha;
  if (f < -T(kWord2vecMaxExp)) return (label - T(0)) * alpha;
  return (label - math::sigmoid(f)) * alpha;
}

template <class T>
void sgns_step(int E, int K, int C, int N,
               const std::int32_t* input_ids,     // [N, C], first input_count[n] used
               const std::int32_t* input_count,   // [N], each in [0, C]
               const std::int32_t* target_ids,    // [N]
               const std::int32_t* negative_ids,  // [N, K]
               T alpha,
               T* syn0,     // [V, E], updated
               T* syn1neg,  // [V, E], updated
               T* loss) {   // [N] or nullptr
  CURNN_CHECK_ARG(E >= 1 && K >= 1 && C >= 1 && N >= 0,
                  "sgns_step: E " << E << ", K " << K << ", C " << C << ", N " << N);
  std::vector<T> neu1(static_cast<std::size_t>(E)), neu1e(static_cast<std::size_t>(E));
  const auto row = [E](T* table, std::int32_t id) {
    CURNN_CHECK_ARG(id >= 0, "sgns_step: negative word id " << id);
    return table + static_cast<std::int64_t>(id) * E;
  };
  for (int n = 0; n < N; ++n) {
    const std::int32_t* in = input_ids + static_cast<std::int64_t>(n) * C;
    const int m = input_count[n];
    CURNN_CHECK_ARG(m >= 0 && m <= C,
                    "sgns_step: input_count[" << n << "] = " << m << " outside [0, " << C << "]");
    T item_loss = T(0);
    if (m > 0) {
      for (int e = 0; e < E; ++e) neu1[e] = T(0), neu1e[e] = T(0);
      for (int c = 0; c < m; ++c) {
        const T* x = row(syn0, in[c]);
        for (int e = 0; e < E; ++e) neu1[e] += x[e];
      }
      for (int e = 0; e < E; ++e) neu1[e] /= static_cast<T>(m);
      for (int d = 0; d <= K; ++d) {
        const std::int32_t t = d == 0 ? target_ids[n] : negative_ids[std::int64_t(n) * K + d - 1];
        if (d > 0 && t == target_ids[n]) continue;
        const T label = d == 0 ? T(1) : T(0);
        T* w = row(syn1neg, t);
        T f = T(0);
        for (int e = 0; e < E; ++e) f += neu1[e] * w[e];
        item_loss += math::sigmoid_cross_entropy(f, label);
        const T g = sgns_gradient_scale(f, label, alpha);
        for (int e = 0; e < E; ++e) neu1e[e] += g * w[e];
        for (int e = 0; e < E; ++e) w[e] += g * neu1[e];
      }
      for (int c = 0; c < m; ++c) {
        T* x = row(syn0, in[c]);
        for (int e = 0; e < E; ++e) x[e] += neu1e[e];
      }
    }
    if (loss) loss[n] = item_loss;
  }
}

}  // namespace curnn::ref
