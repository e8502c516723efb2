// Reduction and elementwise kernels (kernels/reduce.cu) against the reference in double, through
// ops:: on a CUDA context: sums over 10M elements, column sums at the engine's bias-gradient
// shapes and odd sizes, accumulate mode, misaligned views, bitwise reproducibility (run twice, and
// for sum also at two alignments), elementwise ops, NaN/Inf detection. Outputs are NaN-poisoned.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cuda_upload.hpp"
#include "curnn/ops/reduce.hpp"
#include "curnn/ref/reduce.hpp"
#include "device_array.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using DVec = std::vector<double>;
using FVec = std::vector<float>;

bool same_bits(const FVec& a, const FVec& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// ops::sum or ops::sum_squares of x (at `offset`), into out = `start` (accumulate) or NaN.
float device_sum(Context& ctx, const FVec& x, int offset, bool squares, bool accumulate,
                 float start) {
  test::DeviceArray xd(ctx, x, offset), out(ctx, FVec{accumulate ? start : NAN});
  const auto n = static_cast<std::int64_t>(x.size());
  if (squares) {
    ops::sum_squares(ctx, xd.view(n), out.view(1), accumulate);
  } else {
    ops::sum(ctx, xd.view(n), out.view(1), accumulate);
  }
  return out.host(ctx)[0];
}

double reference_sum(const FVec& x, bool squares) {
  double s = 0;
  for (float v : x) s += squares ? double(v) * v : double(v);
  return s;
}

TEST(ReduceCuda, SumTenMillion) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const std::size_t n = 10'000'000;
  // Mixed signs, and all positive (where a float running sum would drift far).
  for (const auto& [lo, hi] : {std::pair{-1.0, 1.0}, std::pair{0.5, 1.5}}) {
    const FVec x = test::random_uniform<float>(n, lo, hi, 7);
    for (const bool squares : {false, true}) {
      const std::string what = std::string(squares ? "sum_squares" : "sum") + " 10M U(" +
                               std::to_string(lo) + "," + std::to_string(hi) + ")";
      EXPECT_TRUE(test::expect_close(what, FVec{device_sum(ctx, x, 0, squares, false, 0)},
                                     DVec{reference_sum(x, squares)}));
    }
  }
}

TEST(ReduceCuda, SumOddSizesAlignmentsAndAccumulate) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  // One block (<= 4096 elements), several, the 1024-block cap; tails of 1..3.
  for (const std::size_t n : {1u, 3u, 4u, 5u, 1023u, 4097u, 100'003u, 5'000'001u}) {
    const FVec x = test::random_uniform<float>(n, -1, 1, n);
    for (const int offset : {0, 1, 3})
      for (const bool squares : {false, true})
        for (const bool accumulate : {false, true}) {
          const float start = 0.75f;
          const double ref = reference_sum(x, squares) + (accumulate ? start : 0.0);
          const std::string what = std::string(squares ? "sum_squares" : "sum") +
                                   " n=" + std::to_string(n) + " offset=" + std::to_string(offset) +
                                   (accumulate ? " accumulate" : "");
          EXPECT_TRUE(test::expect_close(
              what, FVec{device_sum(ctx, x, offset, squares, accumulate, start)}, DVec{ref}));
        }
  }
}

// The partition depends only on N, and a misaligned group is read in the same order as an
// aligned float4, so the bits do not depend on the address.
TEST(ReduceCuda, SumBitsIndependentOfRunAndAlignment) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const FVec x = test::random_uniform<float>(3'000'001, -1, 1, 9);
  const float a = device_sum(ctx, x, 0, false, false, 0),
              b = device_sum(ctx, x, 0, false, false, 0),
              c = device_sum(ctx, x, 1, false, false, 0);
  EXPECT_TRUE(same_bits({a}, {b})) << a << " " << b;
  EXPECT_TRUE(same_bits({a}, {c})) << a << " " << c;
}

FVec device_column_sum(Context& ctx, const FVec& x, int N, int C, bool accumulate,
                       const FVec& start) {
  test::DeviceArray xd(ctx, x),
      out = accumulate ? test::DeviceArray(ctx, start) : test::poisoned(ctx, C);
  ops::column_sum(ctx, xd.view(N, C), out.view(C), accumulate);
  return out.host(ctx);
}

TEST(ReduceCuda, ColumnSumMatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  struct Shape {
    int N, C;
  };
  // Bias gradients over T*B rows: PTB small (400 x 4*200), medium/large (700 x 4*650, 4*1500),
  // softmax bias (700 x 10000), MNIST (3584 x 4*256); odd shapes (one row, one column, ragged
  // tiles and chunks).
  for (const Shape s :
       {Shape{700, 2600}, Shape{400, 800}, Shape{700, 6000}, Shape{700, 10000}, Shape{3584, 1024},
        Shape{1, 1}, Shape{1, 37}, Shape{5, 37}, Shape{131, 33}, Shape{1000, 1}, Shape{20000, 3}}) {
    const std::size_t n = static_cast<std::size_t>(s.N) * s.C;
    const FVec x = test::random_uniform<float>(n, -1, 1, s.N + s.C);
    const FVec start = test::random_uniform<float>(s.C, -1, 1, 5);
    for (const bool accumulate : {false, true}) {
      DVec ref(s.C);
      for (int c = 0; c < s.C; ++c) ref[c] = accumulate ? start[c] : 0.0;
      const DVec xd = test::cast<double>(x);
      ref::column_sum<double>(s.N, s.C, xd.data(), ref.data(), accumulate);
      const std::string what = "column_sum [" + std::to_string(s.N) + "," + std::to_string(s.C) +
                               "]" + (accumulate ? " accumulate" : "");
      EXPECT_TRUE(
          test::expect_close(what, device_column_sum(ctx, x, s.N, s.C, accumulate, start), ref));
    }
  }
}

TEST(ReduceCuda, ColumnSumBitwiseReproducible) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const int N = 700, C = 2600;
  const FVec x = test::random_uniform<float>(static_cast<std::size_t>(N) * C, -1, 1, 11);
  const FVec a = device_column_sum(ctx, x, N, C, false, {});
  const FVec b = device_column_sum(ctx, x, N, C, false, {});
  EXPECT_TRUE(same_bits(a, b));
}

TEST(ReduceCuda, ElementwiseMatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const std::size_t n : {1u, 3u, 1000u, (1u << 20) + 3u})
    for (const int offset : {0, 1}) {
      const FVec a = test::random_uniform<float>(n, -2, 2, n + 1),
                 b = test::random_uniform<float>(n, -2, 2, n + 2);
      const auto N = static_cast<std::int64_t>(n);
      const std::string at = " n=" + std::to_string(n) + " offset=" + std::to_string(offset);
      auto expect = [&](const std::string& what, test::DeviceArray& got, auto ref_op) {
        DVec ref = test::cast<double>(a);
        ref_op(ref);
        EXPECT_TRUE(test::expect_close(what + at, got.host(ctx), ref));
      };
      const DVec bd = test::cast<double>(b);
      {
        test::DeviceArray x = test::poisoned(ctx, n, offset);
        ops::fill(ctx, x.view(N), 0.375f);
        expect("fill", x, [&](DVec& r) { ref::fill<double>(N, r.data(), 0.375); });
      }
      {
        test::DeviceArray x(ctx, a, offset);
        ops::scale(ctx, x.view(N), -1.5f);
        expect("scale", x, [&](DVec& r) { ref::scale<double>(N, r.data(), -1.5); });
      }
      {
        test::DeviceArray x(ctx, b, offset), y(ctx, a, offset);
        ops::axpy(ctx, 0.25f, x.view(N), y.view(N));
        expect("axpy", y, [&](DVec& r) { ref::axpy<double>(N, 0.25, bd.data(), r.data()); });
      }
      {
        test::DeviceArray x(ctx, a, offset), y(ctx, b, offset),
            out = test::poisoned(ctx, n, offset);
        ops::mul(ctx, x.view(N), y.view(N), out.view(N));
        expect("mul", out, [&](DVec& r) { ref::mul<double>(N, r.data(), bd.data(), r.data()); });
        ops::mul(ctx, x.view(N), y.view(N), x.view(N));  // in place: out is a
        expect("mul in place", x,
               [&](DVec& r) { ref::mul<double>(N, r.data(), bd.data(), r.data()); });
      }
    }
}

// add_row_vector (the softmax and output layers' bias) at the experiments' logits shapes (PTB
// [T*B, V] training windows and evaluation rows, MNIST [B, 10]) and odd ones, aligned and 4 bytes
// off: bitwise equal to the float reference (one IEEE add per element on either side) and within
// the rule of the double reference.
TEST(ReduceCuda, AddRowVectorMatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  struct Shape {
    int N, C;
  };
  for (const Shape s : {Shape{400, 10000}, Shape{1, 10000}, Shape{128, 10}, Shape{700, 10000},
                        Shape{3, 37}, Shape{1, 1}, Shape{4099, 257}, Shape{2, 1 << 20}})
    for (const int offset : {0, 1}) {
      const std::size_t n = std::size_t(s.N) * s.C;
      const std::string what = "add_row_vector N=" + std::to_string(s.N) +
                               " C=" + std::to_string(s.C) + " offset=" + std::to_string(offset);
      FVec x = test::random_uniform<float>(n + offset, -2, 2, n + 5),
           v = test::random_uniform<float>(s.C + offset, -2, 2, n + 6);
      Buffer<float> xd = test::upload(ctx, x), vd = test::upload(ctx, v);
      ops::add_row_vector(ctx, ConstTensor(vd.data() + offset, {s.C}, Device::CUDA),
                          Tensor(xd.data() + offset, {s.N, s.C}, Device::CUDA));
      FVec got = test::host_copy(ctx, xd);
      if (offset) EXPECT_EQ(got[0], x[0]) << what << ": wrote before the view";
      got.erase(got.begin(), got.begin() + offset);
      x.erase(x.begin(), x.begin() + offset);
      v.erase(v.begin(), v.begin() + offset);
      DVec want_double = test::cast<double>(x);
      ref::add_row_vector<double>(s.N, s.C, test::cast<double>(v).data(), want_double.data());
      ref::add_row_vector<float>(s.N, s.C, v.data(), x.data());
      EXPECT_TRUE(test::expect_close(what + " vs ref<float>", got, x, {0.0}));
      EXPECT_TRUE(test::expect_close(what + " vs ref<double>", got, want_double));
    }
}

TEST(ReduceCuda, AllFiniteFindsNanAndInf) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const float inf = std::numeric_limits<float>::infinity();
  for (const std::size_t n : {1u, 7u, 4097u, 2'000'003u}) {
    const FVec clean = test::random_uniform<float>(n, -1e30, 1e30, n);
    for (const int offset : {0, 1}) {
      test::DeviceArray x(ctx, clean, offset);
      const auto N = static_cast<std::int64_t>(n);
      EXPECT_TRUE(ops::all_finite(ctx, x.view(N))) << n;
      // A bad value at the first element, the middle, the last (the tail) element.
      for (const std::size_t at : {std::size_t{0}, n / 2, n - 1})
        for (const float bad : {NAN, inf, -inf}) {
          FVec dirty = clean;
          dirty[at] = bad;
          test::DeviceArray y(ctx, dirty, offset);
          EXPECT_FALSE(ops::all_finite(ctx, y.view(N))) << "n=" << n << " at=" << at << " " << bad;
        }
    }
  }
}

}  // namespace
}  // namespace curnn
