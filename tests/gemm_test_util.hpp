// Shared by tests/gemm_test.cpp and tests/gemm_cuda_test.cpp: random GEMM problems in all four
// storage layouts, the double-precision reference, and the tolerance rule for a length-K
// reduction.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "curnn/ops/types.hpp"
#include "curnn/ref/gemm.hpp"
#include "support/compare.hpp"
#include "support/random.hpp"

namespace curnn::test {

inline const char* name(Transpose t) {
  return t == Transpose::No ? "N" : "T";
}
inline const char* name(Write w) {
  return w == Write::Overwrite ? "overwrite" : "accumulate";
}

inline constexpr Transpose kTransposes[] = {Transpose::No, Transpose::Yes};
inline constexpr Write kWrites[] = {Write::Overwrite, Write::Accumulate};

// Row-major [R, C] -> [C, R].
template <class T>
std::vector<T> transposed(const std::vector<T>& x, std::int64_t R, std::int64_t C) {
  std::vector<T> y(x.size());
  for (std::int64_t r = 0; r < R; ++r)
    for (std::int64_t c = 0; c < C; ++c) y[c * R + r] = x[r * C + c];
  return y;
}

// The tolerance of a float32 GEMM against the double reference, for inputs in [-1, 1] and a
// reduction of length K. With u = 2^-24 the unit roundoff, the worst-case bound
// |err| <= K u sum_k |a_k b_k| ~ K^2 u / 4 is far too loose to catch anything, while a
// sequential sum of random-sign rounding errors has sigma ~ u sqrt(sum_k E[s_k^2]) =
// u K / sqrt(54) (partial sums s_k have E[s_k^2] = k/9); cuBLAS's blocked sums do better still.
// The budget's floor rtol * rms(C), with rms(C) = sqrt(K)/3 (products of two U(-1, 1) values
// have variance 1/9; Accumulate adds c0 of variance 1/3, which only widens it), is 32 u K for
// rtol = 96 u sqrt(K): about 240 sigma of the sequential estimate (no false alarms over 10^7
// elements), yet below the error of TF32 inputs (relative 2^-11 per operand, sigma ~
// 1.3e-4 sqrt(K)) for K up to several thousand, so an accidental TF32 GEMM fails at the
// elements near zero. The elementwise part rtol * |C| (>= 96 u) covers the rounding of
// C + product in Accumulate; 16 u is the floor for K = 1.
inline Tolerance gemm_tolerance(std::int64_t K) {
  const double u = std::ldexp(1.0, -24);
  return Tolerance{std::max(16 * u, 96 * u * std::sqrt(static_cast<double>(K)))};
}

// A random problem: op(A) [M,K], op(B) [K,N] and an initial C [M,N], all uniform in [-1, 1].
struct GemmProblem {
  std::int64_t M, N, K;
  std::vector<float> op_a;  // [M, K]
  std::vector<float> op_b;  // [K, N]
  std::vector<float> c0;    // [M, N], the starting C of Accumulate tests

  GemmProblem(std::int64_t m, std::int64_t n, std::int64_t k, std::uint64_t seed)
      : M(m),
        N(n),
        K(k),
        op_a(random_uniform(static_cast<std::size_t>(m * k), -1, 1, seed)),
        op_b(random_uniform(static_cast<std::size_t>(k * n), -1, 1, seed + 1)),
        c0(random_uniform(static_cast<std::size_t>(m * n), -1, 1, seed + 2)) {}

  // A as stored for `ta`: [M, K] or [K, M]; B as stored for `tb`: [K, N] or [N, K].
  std::vector<float> stored_a(Transpose ta) const {
    return ta == Transpose::No ? op_a : transposed(op_a, M, K);
  }
  std::vector<float> stored_b(Transpose tb) const {
    return tb == Transpose::No ? op_b : transposed(op_b, K, N);
  }
  std::int64_t a_rows(Transpose ta) const { return ta == Transpose::No ? M : K; }
  std::int64_t a_cols(Transpose ta) const { return ta == Transpose::No ? K : M; }
  std::int64_t b_rows(Transpose tb) const { return tb == Transpose::No ? K : N; }
  std::int64_t b_cols(Transpose tb) const { return tb == Transpose::No ? N : K; }

  // Rows of C (in the order given) under `mode`, in double by ref::gemm<double>. The result does
  // not depend on the layout under test, so it is computed once, from op(A) and op(B)ᵀ, where
  // every dot product reads contiguous memory (ref::gemm's other layouts are checked on their
  // own in tests/gemm_test.cpp).
  std::vector<double> reference_rows(Write mode, const std::vector<std::int64_t>& rows) const {
    const std::vector<double> a = cast<double>(op_a);                     // [M, K]
    const std::vector<double> bt = cast<double>(transposed(op_b, K, N));  // [N, K]
    std::vector<double> c(rows.size() * static_cast<std::size_t>(N));
    for (std::size_t r = 0; r < rows.size(); ++r) {
      double* c_row = c.data() + r * N;
      for (std::int64_t j = 0; j < N; ++j) c_row[j] = c0[rows[r] * N + j];
      ref::gemm<double>(Transpose::No, Transpose::Yes, 1, N, K, a.data() + rows[r] * K,
                        std::max<std::int64_t>(1, K), bt.data(), std::max<std::int64_t>(1, K),
                        c_row, std::max<std::int64_t>(1, N), mode);
    }
    return c;
  }

  // The rows to check: all of them when the reference is cheap (M N K <= budget), else the first,
  // the last and `samples` more spread evenly in between.
  std::vector<std::int64_t> rows_to_check(double budget = 1e8, std::int64_t samples = 30) const {
    std::vector<std::int64_t> rows;
    if (static_cast<double>(M) * N * K <= budget || M <= samples + 2) {
      for (std::int64_t i = 0; i < M; ++i) rows.push_back(i);
    } else {
      for (std::int64_t s = 0; s <= samples + 1; ++s) rows.push_back(s * (M - 1) / (samples + 1));
    }
    return rows;
  }
};

// Rows `rows` of a row-major [*, N] matrix.
template <class T>
std::vector<T> select_rows(const std::vector<T>& x, std::int64_t N,
                           const std::vector<std::int64_t>& rows) {
  std::vector<T> y;
  y.reserve(rows.size() * static_cast<std::size_t>(N));
  for (std::int64_t r : rows) y.insert(y.end(), x.begin() + r * N, x.begin() + (r + 1) * N);
  return y;
}

// Every element finite (the NaN poison of an Overwrite output was replaced everywhere).
inline ::testing::AssertionResult all_finite(const std::string& what, const std::vector<float>& x) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return ::testing::AssertionFailure()
             << what << ": element " << i << " = " << x[i] << " (unwritten?)";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace curnn::test
