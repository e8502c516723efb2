// Gradient checks of reference ops in double precision, by central differences.
//
// The op under test is wrapped as a scalar function f(x) (usually sum_i r_i * out_i(x) with a
// fixed random projection r, so that every output contributes). check_gradient compares the
// analytic gradient g with the numeric one n = (f(x+eps e_k) - f(x-eps e_k)) / (2 eps) under the
// suite's one tolerance rule (tests/support/compare.hpp), with n as the reference:
//     |g_k - n_k| <= rtol * (|n_k| + rms(n))                   (two-sided, elementwise)
// The floor rtol*rms(n) scales with the gradient's own size: an absolute floor (1e-7 before)
// let a zeroed or wrong component pass wherever the gradients are small. In double, with
// eps = 1e-6, the numeric derivative's own error is about eps^2 |f'''| + u |f| / eps ~ 1e-10
// for the O(1) functions of these tests, far inside rtol = 1e-5 of gradients of size 1e-3 and
// up. It also requires ||n|| > 0 and ||g|| > 0, so an op that writes zeros, or a test whose
// function does not depend on x at all, fails; NaN or Inf on either side fails.
// Self-test with planted wrong gradients: tests/compare_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "support/compare.hpp"

namespace curnn::test {

struct GradTolerance {
  double rtol = 1e-5;
  double eps = 1e-6;
};

inline ::testing::AssertionResult check_gradient(
    const std::string& what, const std::function<double(const std::vector<double>&)>& f,
    std::vector<double> x, const std::vector<double>& analytic, GradTolerance tol = {}) {
  if (analytic.size() != x.size()) {
    return ::testing::AssertionFailure() << what << ": analytic gradient has " << analytic.size()
                                         << " elements, x has " << x.size();
  }
  std::vector<double> numeric(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double x0 = x[k];
    x[k] = x0 + tol.eps;
    const double fp = f(x);
    x[k] = x0 - tol.eps;
    const double fm = f(x);
    x[k] = x0;
    numeric[k] = (fp - fm) / (2 * tol.eps);
  }
  const double scale = rms_of(numeric.data(), numeric.size());
  double worst_share = 0.0, norm_n = 0.0, norm_g = 0.0;
  std::size_t worst = 0, bad = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double share =
        budget_share(std::fabs(analytic[k] - numeric[k]), numeric[k], scale, tol.rtol);
    if (!(share <= 1.0)) ++bad;  // also catches NaN and Inf on either side
    if (!(share <= worst_share)) worst_share = share, worst = k;
    norm_n += numeric[k] * numeric[k];
    norm_g += analytic[k] * analytic[k];
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: n=%zu worst [%zu] analytic=%.12g numeric=%.12g, budget used %.1f%% "
                "(rtol=%g, rms(numeric)=%.3g), |numeric|=%.3g |analytic|=%.3g",
                what.c_str(), x.size(), worst, analytic.empty() ? 0.0 : analytic[worst],
                numeric.empty() ? 0.0 : numeric[worst], 100.0 * worst_share, tol.rtol, scale,
                std::sqrt(norm_n), std::sqrt(norm_g));
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
