// Statistical checks of dropout masks, shared by tests/dropout_test.cpp (CPU generator) and
// tests/dropout_cuda_test.cpp (Philox kernel). All bounds are 5 sigma, so a correct generator
// fails with probability below 1e-6 per check, and the seeds are fixed (the tests are
// deterministic).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace curnn::test {

// Correlation of x[i] and y[i + lag] over the overlapping range (x and y of equal length).
inline double lagged_correlation(const std::vector<float>& x, const std::vector<float>& y,
                                 int lag) {
  const std::size_t n = x.size();
  const std::size_t a = lag >= 0 ? 0 : static_cast<std::size_t>(-lag);
  const std::size_t b = lag >= 0 ? n - static_cast<std::size_t>(lag) : n;
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (std::size_t i = a; i < b; ++i) {
    const double u = x[i], v = y[i + lag];
    sx += u, sy += v, sxx += u * u, syy += v * v, sxy += u * v;
  }
  const double m = static_cast<double>(b - a);
  const double cov = sxy / m - (sx / m) * (sy / m);
  const double vx = sxx / m - (sx / m) * (sx / m), vy = syy / m - (sy / m) * (sy / m);
  return cov / std::sqrt(vx * vy);
}

// Every value is exactly 0 or 1/keep_prob; the kept fraction is within 5 sigma of keep_prob;
// the correlation of neighbours at lags 1..4 is within 5/sqrt(n) of 0.
inline ::testing::AssertionResult check_mask_statistics(const std::string& what,
                                                        const std::vector<float>& mask,
                                                        float keep_prob) {
  const float kept_value = 1.f / keep_prob;
  std::size_t kept = 0, bad = 0, first_bad = 0;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    if (mask[i] == kept_value) {
      ++kept;
    } else if (mask[i] != 0.f) {
      if (bad++ == 0) first_bad = i;
    }
  }
  if (bad > 0) {
    return ::testing::AssertionFailure()
           << what << ": " << bad << " values neither 0 nor " << kept_value << ", first ["
           << first_bad << "] = " << mask[first_bad];
  }
  const double n = static_cast<double>(mask.size()), p = keep_prob;
  const double fraction = static_cast<double>(kept) / n;
  const double sigma = std::sqrt(p * (1 - p) / n);
  if (std::fabs(fraction - p) > 5 * sigma) {
    return ::testing::AssertionFailure()
           << what << ": kept fraction " << fraction << ", expected " << p << " +- 5 * " << sigma;
  }
  double worst_corr = 0;
  if (keep_prob < 1.f) {
    for (int lag = 1; lag <= 4; ++lag) {
      const double r = lagged_correlation(mask, mask, lag);
      if (!(std::fabs(r) <= 5 / std::sqrt(n))) {
        return ::testing::AssertionFailure() << what << ": lag-" << lag << " correlation " << r
                                             << " > 5/sqrt(n) = " << 5 / std::sqrt(n);
      }
      worst_corr = std::fmax(worst_corr, std::fabs(r));
    }
  }
  std::printf("[ mask stat] %s: n=%zu keep=%g kept=%.6f (%.2f sigma) max|lag 1..4 corr|=%.2e\n",
              what.c_str(), mask.size(), p, fraction,
              sigma > 0 ? std::fabs(fraction - p) / sigma : 0.0, worst_corr);
  return ::testing::AssertionSuccess();
}

// Two masks drawn with different (seed, offset) are uncorrelated at lags -4..4 (a generator that
// reused or shifted a stream for the other offset would correlate at some lag).
inline ::testing::AssertionResult check_independent(const std::string& what,
                                                    const std::vector<float>& a,
                                                    const std::vector<float>& b) {
  if (a == b) return ::testing::AssertionFailure() << what << ": identical masks";
  const double bound = 5 / std::sqrt(static_cast<double>(a.size()));
  double worst = 0;
  for (int lag = -4; lag <= 4; ++lag) {
    const double r = lagged_correlation(a, b, lag);
    if (!(std::fabs(r) <= bound)) {
      return ::testing::AssertionFailure()
             << what << ": cross-correlation at lag " << lag << " is " << r << " > " << bound;
    }
    worst = std::fmax(worst, std::fabs(r));
  }
  std::printf("[ mask stat] %s: max|cross corr, lag -4..4|=%.2e (bound %.2e)\n", what.c_str(),
              worst, bound);
  return ::testing::AssertionSuccess();
}

}  // namespace curnn::test
