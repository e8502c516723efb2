// CPU reference of word2vec.c's training of one sentence with negative sampling (TrainModelThread,
// -hs 0), the specification of the fast trainer: the CPU trainer runs it on every sentence
// (host/word2vec/trainer.cpp) and the GPU kernel (kernels/w2v_train.cu) must equal it on a single
// chunk with the same random draws. Tests: tests/w2v_train_test.cpp, tests/w2v_train_cuda_test.cpp.
//
// A sentence ids[0..L) (after subsampling). For each position p (centre word w = ids[p]), in
// order:
//   b = draws.shrink(p) in [0, W)           (word2vec.c: b = next_random % window)
//   contexts: positions p - W + a for a in [b, 2W + 1 - b), a != W, inside [0, L)
//   skip-gram: for each context c, in order (slot s = a < W ? a : a - 1, s in [0, 2W)):
//       x = syn0[ids[c]]; neu1e = 0
//       targets t_0 = w (label 1), t_k = draws.negative(p, s, k - 1) for k = 1..K (label 0),
//       a negative equal to w skipped:
//         f = x . syn1neg[t];  g = sgns_gradient_scale(f, label, alpha)
//         neu1e += g syn1neg[t];  syn1neg[t] += g x
//       syn0[ids[c]] += neu1e
//   CBOW (cbow_mean = 1): neu1 = mean of the context rows (m of them; nothing when m = 0), the
//       same K + 1 targets with x = neu1 and slot 0, then syn0[ids[c]] += neu1e for every context.
// The loss of a (x, targets) pair is sum over its targets of -log sigmoid(+-f) with the f that
// drives each update; `loss` (if not null) counts the pairs, and with compute_loss also sums
// their losses (the CPU trainer samples the loss on some sentences: a log and an exp per target
// cost as much as the target's arithmetic at E = 128).
// `Draws` is any type with
//   int shrink(int p);                            // in [0, W)
//   std::int32_t negative(int p, int slot, int k);  // a word id in [0, V)
// called in word2vec.c's order (one shrink per position, then the negatives of each pair in
// order), so a draw of word2vec.c's linear congruential generator reproduces its sequence.
#pragma once

#include <cstdint>

#include "curnn/math.hpp"
#include "curnn/ref/word2vec.hpp"

namespace curnn::ref {

// Sum and count of the SGNS pair losses of a stretch of training.
struct SgnsLossSum {
  std::int64_t pairs = 0;       // pairs trained
  double sum = 0;               // sum of the losses of the pairs that computed theirs
  std::int64_t loss_pairs = 0;  // how many did
  void add(const SgnsLossSum& o) { pairs += o.pairs, sum += o.sum, loss_pairs += o.loss_pairs; }
};

// x . y summed in 16 interleaved partial sums, element e into sum e % 16, then a fixed pairwise
// tree (vectorisable without -ffast-math: two 8-wide or four 4-wide accumulators).
template <class T>
T dot_interleaved(const T* x, const T* y, int E) {
  constexpr int kLanes = 16;
  T s[kLanes] = {};
  int e = 0;
  for (; e + kLanes <= E; e += kLanes) {
    for (int j = 0; j < kLanes; ++j) s[j] += x[e + j] * y[e + j];
  }
  for (int j = 0; e < E; ++e, ++j) s[j] += x[e] * y[e];
  for (int width = kLanes / 2; width >= 1; width /= 2) {
    for (int j = 0; j < width; ++j) s[j] += s[j + width];
  }
  return s[0];
}

// The K + 1 targets of one pair: input vector x [E] (unchanged here), neu1e [E] accumulates
// -alpha * dloss/dx. Returns the pair's loss.
template <class T, class Draws>
T sgns_targets(int E, int K, int p, int slot, std::int32_t word, Draws& draws, T alpha, const T* x,
               T* neu1e, T* syn1neg, bool compute_loss) {
  T pair_loss = T(0);
  for (int d = 0; d <= K; ++d) {
    const std::int32_t target = d == 0 ? word : draws.negative(p, slot, d - 1);
    if (d > 0 && target == word) continue;
    const T label = d == 0 ? T(1) : T(0);
    T* w = syn1neg + static_cast<std::int64_t>(target) * E;
    const T f = dot_interleaved(x, w, E);
    if (compute_loss) pair_loss += math::sigmoid_cross_entropy(f, label);
    const T g = sgns_gradient_scale(f, label, alpha);
    for (int e = 0; e < E; ++e) neu1e[e] += g * w[e];
    for (int e = 0; e < E; ++e) w[e] += g * x[e];
  }
  return pair_loss;
}

// Trains one sentence (see above). neu1, neu1e: scratch of E elements each.
template <class T, class Draws>
void train_sentence(int E, int K, int W, bool cbow, int L,
                    const std::int32_t* ids,  // [L]
                    Draws& draws, T alpha,
                    T* syn0,     // [V, E], updated
                    T* syn1neg,  // [V, E], updated
                    T* neu1,     // [E] scratch
                    T* neu1e,    // [E] scratch
                    SgnsLossSum* loss, bool compute_loss = true) {
  compute_loss = compute_loss && loss != nullptr;
  const auto count = [&](T pair_loss) {
    if (!loss) return;
    ++loss->pairs;
    if (compute_loss) loss->sum += static_cast<double>(pair_loss), ++loss->loss_pairs;
  };
  const auto row = [E](T* table, std::int32_t id) {
    return table + static_cast<std::int64_t>(id) * E;
  };
  for (int p = 0; p < L; ++p) {
    const std::int32_t word = ids[p];
    const int b = draws.shrink(p);
    const int first = p - W + b > 0 ? p - W + b : 0;
    const int last = p + W - b < L - 1 ? p + W - b : L - 1;  // inclusive
    if (cbow) {
      int m = 0;
      for (int e = 0; e < E; ++e) neu1[e] = T(0), neu1e[e] = T(0);
      for (int c = first; c <= last; ++c) {
        if (c == p) continue;
        const T* x = row(syn0, ids[c]);
        for (int e = 0; e < E; ++e) neu1[e] += x[e];
        ++m;
      }
      if (m == 0) continue;
      for (int e = 0; e < E; ++e) neu1[e] /= static_cast<T>(m);
      count(sgns_targets(E, K, p, 0, word, draws, alpha, neu1, neu1e, syn1neg, compute_loss));
      for (int c = first; c <= last; ++c) {
        if (c == p) continue;
        T* x = row(syn0, ids[c]);
        for (int e = 0; e < E; ++e) x[e] += neu1e[e];
      }
    } else {
      for (int c = first; c <= last; ++c) {
        if (c == p) continue;
        const int slot = c < p ? c - p + W : c - p + W - 1;
        T* x = row(syn0, ids[c]);
        for (int e = 0; e < E; ++e) neu1e[e] = T(0);
        count(sgns_targets(E, K, p, slot, word, draws, alpha, x, neu1e, syn1neg, compute_loss));
        for (int e = 0; e < E; ++e) x[e] += neu1e[e];
      }
    }
  }
}

}  // namespace curnn::ref
