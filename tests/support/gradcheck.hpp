// Gradient checks of reference ops in double precision, by central differences.
//
// The op under test is wrapped as a scalar function f(x) (usually sum_i r_i * out_i(x) with a
// fixed random projection r, so that every output contributes). check_gradient compares the
// analytic gradient g with the numeric one n = (f(x+eps e_k) - f(x-eps e_k)) / (2 eps) under
//     |g_k - n_k| <= atol + rtol * |n_k|                       (two-sided, elementwise)
// and also requires ||n|| > 0 and ||g|| > 0, so an op that writes zeros, or a test whose
// function does not depend on x at all, fails.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace curnn::test {

struct GradTolerance {
  double atol = 1e-7;
  double rtol = 1e-5;
  double eps = 1e-6;
};

inline ::testing::AssertionResult check_gradient(
    const std::string& what, const std::function<double(const std::vector<double>&)>& f,
    std::vector<double> x, const std::vector<double>& analytic, GradTolerance tol = {}) {
  if (analytic.size() != x.size()) {
    return ::testing::AssertionFailure()
           << what << ": analytic gradient has " << analytic.size() << " elements, x has "
           << x.size();
  }
  double worst_share = 0.0, norm_n = 0.0, norm_g = 0.0;
  std::size_t worst = 0, bad = 0;
  std::vector<double> numeric(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double x0 = x[k];
    x[k] = x0 + tol.eps;
    const double fp = f(x);
    x[k] = x0 - tol.eps;
    const double fm = f(x);
    x[k] = x0;
    numeric[k] = (fp - fm) / (2 * tol.eps);
    const double err = std::fabs(analytic[k] - numeric[k]);
    const double share = err / (tol.atol + tol.rtol * std::fabs(numeric[k]));
    if (!(share <= 1.0)) ++bad;  // also catches NaN
    if (!(share <= worst_share)) worst_share = share, worst = k;
    norm_n += numeric[k] * numeric[k];
    norm_g += analytic[k] * analytic[k];
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: n=%zu worst [%zu] analytic=%.12g numeric=%.12g, budget used %.1f%%, "
                "|numeric|=%.3g |analytic|=%.3g",
                what.c_str(), x.size(), worst, analytic.empty() ? 0.0 : analytic[worst],
                numeric.empty() ? 0.0 : numeric[worst], 100.0 * worst_share, std::sqrt(norm_n),
                std::sqrt(norm_g));
  if (bad > 0) return ::testing::AssertionFailure() << line << "; " << bad << " elements over";
  if (!(norm_n > 0.0) || !(norm_g > 0.0)) {
    return ::testing::AssertionFailure() << line << "; gradient is identically zero";
  }
  std::printf("[  gradient] %s\n", line);
  return ::testing::AssertionSuccess();
}

// sum_i r_i * v_i: the random projection that turns a multi-output op into a scalar.
inline double project(const std::vector<double>& r, const std::vector<double>& v) {
  double s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += r[i] * v[i];
  return s;
}

}  // namespace curnn::test
