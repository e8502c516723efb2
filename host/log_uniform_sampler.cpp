// TensorFlow's log-uniform candidate sampler; see include/curnn/log_uniform_sampler.hpp.
// Tests: tests/nce_test.cpp (NceSampler.*).
#include "curnn/log_uniform_sampler.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "curnn/error.hpp"

namespace curnn {

LogUniformSampler::LogUniformSampler(std::int64_t range_max)
    : range_max_(range_max), log_range_(std::log1p(static_cast<double>(range_max))) {
  CURNN_CHECK_ARG(range_max >= 1 && range_max <= std::numeric_limits<std::int32_t>::max(),
                  "LogUniformSampler range_max " << range_max << " outside [1, 2^31-1]");
}

double LogUniformSampler::probability(std::int64_t k) const {
  CURNN_CHECK_ARG(0 <= k && k < range_max_, "class " << k << " outside [0, " << range_max_ << ")");
  // log((k+2)/(k+1)) = log1p(1/(k+1)): exact for large k, where (k+2)/(k+1) rounds.
  return std::log1p(1.0 / (static_cast<double>(k) + 1.0)) / log_range_;
}

std::int64_t LogUniformSampler::sample(std::mt19937_64& rng) const {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
  const auto k = static_cast<std::int64_t>(std::exp(u * log_range_)) - 1;
  return k < range_max_ ? k : range_max_ - 1;  // exp() >= 1, so k >= 0
}

UniqueSample LogUniformSampler::sample_unique(int num_sampled, std::mt19937_64& rng) const {
  CURNN_CHECK_ARG(num_sampled >= 1 && num_sampled <= range_max_,
                  "sample_unique: num_sampled "
                      << num_sampled << " outside [1, range_max = " << range_max_ << "]");
  UniqueSample s;
  s.ids.reserve(static_cast<std::size_t>(num_sampled));
  // The classes drawn so far: an open-addressing set (linear probing, load <= 1/2), which is
  // several times faster than std::unordered_set's node allocations at 64 samples.
  int log2_capacity = 1;
  while ((std::size_t(1) << log2_capacity) < 2 * static_cast<std::size_t>(num_sampled)) {
    ++log2_capacity;
  }
  const std::size_t mask = (std::size_t(1) << log2_capacity) - 1;
  std::vector<std::int64_t> table(mask + 1, -1);
  while (static_cast<int>(s.ids.size()) < num_sampled) {
    ++s.num_tries;
    const std::int64_t k = sample(rng);
    std::size_t h = static_cast<std::size_t>(
        (static_cast<std::uint64_t>(k) * 0x9E3779B97F4A7C15ull) >> (64 - log2_capacity));
    while (table[h] != -1 && table[h] != k) h = (h + 1) & mask;
    if (table[h] == -1) {
      table[h] = k;
      s.ids.push_back(static_cast<std::int32_t>(k));
    }
  }
  return s;
}

double LogUniformSampler::expected_count(std::int64_t k, std::int64_t num_tries,
                                         int num_sampled) const {
  CURNN_CHECK_ARG(num_sampled >= 1 && num_tries >= num_sampled,
                  "expected_count: num_tries " << num_tries << " < num_sampled " << num_sampled);
  const double p = probability(k);
  if (num_tries == num_sampled) return p * num_sampled;  // TF's ExpectedCountHelper shortcut
  return -std::expm1(static_cast<double>(num_tries) * std::log1p(-p));
}

template <class T>
void LogUniformSampler::log_expected_counts_impl(const UniqueSample& sample,
                                                 const std::int32_t* labels, int B, T* log_q_true,
                                                 T* log_q_sampled) const {
  CURNN_CHECK_ARG(
      B >= 0 && (B == 0 || (labels && log_q_true)) && (sample.ids.empty() || log_q_sampled),
      "log_expected_counts: null pointer");
  const int S = static_cast<int>(sample.ids.size());
  for (int b = 0; b < B; ++b) {
    CURNN_CHECK_ARG(0 <= labels[b] && labels[b] < range_max_,
                    "label[" << b << "] = " << labels[b] << " outside [0, " << range_max_ << ")");
    log_q_true[b] = static_cast<T>(std::log(expected_count(labels[b], sample.num_tries, S)));
  }
  for (int s = 0; s < S; ++s) {
    log_q_sampled[s] = static_cast<T>(std::log(expected_count(sample.ids[s], sample.num_tries, S)));
  }
}

void LogUniformSampler::log_expected_counts(const UniqueSample& sample, const std::int32_t* labels,
                                            int B, float* log_q_true, float* log_q_sampled) const {
  log_expected_counts_impl(sample, labels, B, log_q_true, log_q_sampled);
}
void LogUniformSampler::log_expected_counts(const UniqueSample& sample, const std::int32_t* labels,
                                            int B, double* log_q_true,
                                            double* log_q_sampled) const {
  log_expected_counts_impl(sample, labels, B, log_q_true, log_q_sampled);
}

}  // namespace curnn
