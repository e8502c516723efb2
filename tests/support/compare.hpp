// One tolerance rule for every kernel-vs-reference comparison in the suite:
//     |got - ref| <= atol + rtol * |ref|      (NaN or Inf in `got` always fails)
// expect_close() reports the worst element (index, got, ref) and the share of the tolerance
// budget it used, max_i |got_i - ref_i| / (atol + rtol*|ref_i|), on success too, so that every
// log shows how close to the edge a kernel runs.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace curnn::test {

struct Tolerance {
  double atol;
  double rtol;
};
// Float32 kernels against a float32/float64 reference: elementwise ops land near 1e-7
// relative; reductions of length n grow like sqrt(n)*eps, covered by the defaults below.
inline constexpr Tolerance kFloatTol{1e-5, 1e-4};

template <class G, class R>
::testing::AssertionResult expect_close_impl(const std::string& what, const G* got, const R* ref,
                                             std::size_t n, Tolerance tol) {
  double worst_share = 0.0, worst_err = 0.0;
  std::size_t worst = 0, bad = 0, non_finite = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = static_cast<double>(got[i]), r = static_cast<double>(ref[i]);
    if (!std::isfinite(g)) {
      if (non_finite++ == 0) worst = i;
      worst_share = INFINITY;
      continue;
    }
    const double err = std::fabs(g - r);
    const double share = err / (tol.atol + tol.rtol * std::fabs(r));
    if (share > 1.0) ++bad;
    if (share > worst_share) worst_share = share, worst = i;
    if (err > worst_err) worst_err = err;
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: n=%zu max|err|=%.3g worst [%zu] got=%.9g ref=%.9g, budget used %.1f%% "
                "(atol=%g rtol=%g)",
                what.c_str(), n, worst_err, worst, n ? static_cast<double>(got[worst]) : 0.0,
                n ? static_cast<double>(ref[worst]) : 0.0, 100.0 * worst_share, tol.atol,
                tol.rtol);
  if (non_finite > 0) {
    return ::testing::AssertionFailure()
           << line << "; " << non_finite << " non-finite (unwritten or NaN) elements";
  }
  if (bad > 0) return ::testing::AssertionFailure() << line << "; " << bad << " elements over";
  std::printf("[ tolerance] %s\n", line);
  return ::testing::AssertionSuccess();
}

template <class G, class R>
::testing::AssertionResult expect_close(const std::string& what, const std::vector<G>& got,
                                        const std::vector<R>& ref, Tolerance tol = kFloatTol) {
  if (got.size() != ref.size()) {
    return ::testing::AssertionFailure()
           << what << ": size " << got.size() << " != reference size " << ref.size();
  }
  return expect_close_impl(what, got.data(), ref.data(), got.size(), tol);
}

}  // namespace curnn::test
