// LogUniformSampler: TensorFlow's log-uniform (Zipfian) candidate sampler, as used by
// tf.nn.log_uniform_candidate_sampler and tf.nn.nce_loss in word2vec_basic.py (EXPERIMENTS.md §1).
//
// Classes are ids 0..range_max-1 sorted by descending frequency. One draw:
//     u ~ U[0,1),  k = floor(exp(u * log(range_max + 1))) - 1          (TF
//     LogUniformSampler::Sample)
// so that P(k) = (log(k+2) - log(k+1)) / log(range_max + 1). TF reduces a (never observed)
// round-off overflow with `% range_max`; we clamp to range_max-1 instead.
//
// sample_unique (unique=True): draw until num_sampled distinct classes; ids in first-draw order,
// num_tries = number of draws it took. The expected count of class k ("Q(k)") is then TF's
//     Q(k) = -expm1(num_tries * log1p(-P(k)))                 (RangeSampler, unique=True)
// for true and sampled classes alike, with TF's shortcut Q(k) = P(k) * num_sampled when
// num_tries == num_sampled (no duplicate was drawn). TF evaluates P and Q in float32; we use
// double and round the final log Q once (differences ~1e-7 relative).
//
// Note: Q(k) is TF's approximation of the inclusion probability: the exact probability that k
// is among the first num_sampled distinct draws differs slightly (by <0.5% absolute for the top
// classes at range 50,000, 64 samples); tests/nce_test.cpp computes the exact value.
//
// Random numbers: u = (rng() >> 11) * 2^-53 from a caller-owned std::mt19937_64, so sampling is
// reproducible from a seed and identical across standard libraries.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace curnn {

// The result of one unique sampling round.
struct UniqueSample {
  std::vector<std::int32_t> ids;  // [S] distinct class ids, in the order first drawn
  std::int64_t num_tries = 0;     // draws it took to get S distinct classes (>= S)
};

class LogUniformSampler {
 public:
  // range_max classes, 1 <= range_max <= 2^31 - 1 (ids are int32); else ArgumentError.
  explicit LogUniformSampler(std::int64_t range_max);

  std::int64_t range_max() const noexcept { return range_max_; }

  // P(k) = (log(k+2) - log(k+1)) / log(range_max+1), for 0 <= k < range_max.
  double probability(std::int64_t k) const;

  // One draw from P.
  std::int64_t sample(std::mt19937_64& rng) const;

  // Draws until num_sampled distinct classes (1 <= num_sampled <= range_max, else
  // ArgumentError). Expected draws grow quickly as num_sampled approaches range_max.
  UniqueSample sample_unique(int num_sampled, std::mt19937_64& rng) const;

  // TF's expected count of class k in a unique sample of num_sampled classes that took
  // num_tries draws (see the header comment).
  double expected_count(std::int64_t k, std::int64_t num_tries, int num_sampled) const;

  // log Q for the labels [B] and the sampled classes [S] of `sample` (the -log Q terms that
  // nce_loss subtracts from its logits). Labels out of [0, range_max) are an ArgumentError.
  void log_expected_counts(const UniqueSample& sample, const std::int32_t* labels, int B,
                           float* log_q_true /*[B]*/, float* log_q_sampled /*[S]*/) const;
  void log_expected_counts(const UniqueSample& sample, const std::int32_t* labels, int B,
                           double* log_q_true /*[B]*/, double* log_q_sampled /*[S]*/) const;

 private:
  template <class T>
  void log_expected_counts_impl(const UniqueSample& sample, const std::int32_t* labels, int B,
                                T* log_q_true, T* log_q_sampled) const;
  std::int64_t range_max_;
  double log_range_;  // log(range_max + 1)
};

}  // namespace curnn
