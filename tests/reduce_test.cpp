// Reductions and elementwise utilities, reference (include/curnn/ref/reduce.hpp): hand-computed
// cases, gradient checks of the linear/bilinear ops in double, and the ops on the CPU backend
// (argument checks, all_finite).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "curnn/ops/reduce.hpp"
#include "curnn/ref/reduce.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using Vec = std::vector<double>;
using FVec = std::vector<float>;

TEST(Reduce, HandComputed) {
  const Vec x{1, 2, 3, 4, 5, 6};  // [2, 3]
  Vec cols{10, 20, 30};
  ref::column_sum<double>(2, 3, x.data(), cols.data(), false);
  EXPECT_EQ(cols, (Vec{5, 7, 9}));
  ref::column_sum<double>(2, 3, x.data(), cols.data(), true);
  EXPECT_EQ(cols, (Vec{10, 14, 18}));
  double s = 100;
  ref::sum<double>(6, x.data(), &s, false);
  EXPECT_EQ(s, 21);
  ref::sum<double>(6, x.data(), &s, true);
  EXPECT_EQ(s, 42);
  ref::sum_squares<double>(6, x.data(), &s, false);
  EXPECT_EQ(s, 91);
  ref::sum_squares<double>(6, x.data(), &s, true);
  EXPECT_EQ(s, 182);
  Vec y{1, 1, 1};
  ref::axpy<double>(3, 2.0, x.data(), y.data());
  EXPECT_EQ(y, (Vec{3, 5, 7}));
  ref::scale<double>(3, y.data(), 0.5);
  EXPECT_EQ(y, (Vec{1.5, 2.5, 3.5}));
  ref::mul<double>(3, x.data(), x.data() + 3, y.data());
  EXPECT_EQ(y, (Vec{4, 10, 18}));
  ref::fill<double>(3, y.data(), -2.0);
  EXPECT_EQ(y, (Vec{-2, -2, -2}));
  EXPECT_TRUE(ref::all_finite<double>(6, x.data()));
}

// Float inputs whose float running sum would lose the small terms: the reference accumulates in
// double.
TEST(Reduce, ReferenceSumsAccumulateInDouble) {
  FVec x(1 << 20, 1.f);
  x[0] = 1 << 25;  // 2^25 + 2^20 - 1 ones: a float accumulator would stay at 2^25
  float s = 0;
  ref::sum<float>(static_cast<std::int64_t>(x.size()), x.data(), &s, false);
  EXPECT_EQ(s, static_cast<float>((1 << 25) + (1 << 20) - 1));
}

TEST(ReduceGrad, ColumnSum) {
  const int N = 4, C = 3;
  const Vec x = test::random_uniform<double>(N * C, -1, 1, 1),
            r = test::random_uniform<double>(C, -1, 1, 2);
  const Vec base = test::random_uniform<double>(C, -1, 1, 3);
  for (const bool accumulate : {false, true}) {
    auto f = [&](const Vec& v) {
      Vec out = base;
      ref::column_sum<double>(N, C, v.data(), out.data(), accumulate);
      return test::project(r, out);
    };
    Vec g(N * C);  // d/dx[n, c] = r[c]
    for (int n = 0; n < N; ++n)
      for (int c = 0; c < C; ++c) g[n * C + c] = r[c];
    EXPECT_TRUE(test::check_gradient("column_sum d/dx", f, x, g));
  }
}

TEST(ReduceGrad, SumSquares) {
  const Vec x = test::random_uniform<double>(7, -1, 1, 4);
  auto f = [&](const Vec& v) {
    double s = 0;
    ref::sum_squares<double>(static_cast<std::int64_t>(v.size()), v.data(), &s, false);
    return s;
  };
  Vec g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) g[i] = 2 * x[i];
  EXPECT_TRUE(test::check_gradient("sum_squares d/dx", f, x, g));
}

TEST(ReduceGrad, Axpy) {
  const int N = 6;
  const Vec x = test::random_uniform<double>(N, -1, 1, 5),
            y = test::random_uniform<double>(N, -1, 1, 6),
            r = test::random_uniform<double>(N, -1, 1, 7);
  const double alpha = -0.7;
  auto f = [&](double a, const Vec& xv, Vec yv) {
    ref::axpy<double>(N, a, xv.data(), yv.data());
    return test::project(r, yv);
  };
  Vec gx(N), gy = r;
  for (int i = 0; i < N; ++i) gx[i] = alpha * r[i];
  EXPECT_TRUE(test::check_gradient(
      "axpy d/dx", [&](const Vec& v) { return f(alpha, v, y); }, x, gx));
  EXPECT_TRUE(test::check_gradient(
      "axpy d/dy", [&](const Vec& v) { return f(alpha, x, v); }, y, gy));
  EXPECT_TRUE(test::check_gradient(
      "axpy d/dalpha", [&](const Vec& v) { return f(v[0], x, y); }, Vec{alpha},
      Vec{test::project(r, x)}));
}

TEST(ReduceGrad, Mul) {
  const int N = 6;
  const Vec a = test::random_uniform<double>(N, -1, 1, 8),
            b = test::random_uniform<double>(N, -1, 1, 9),
            r = test::random_uniform<double>(N, -1, 1, 10);
  auto f = [&](const Vec& av, const Vec& bv) {
    Vec out(N);
    ref::mul<double>(N, av.data(), bv.data(), out.data());
    return test::project(r, out);
  };
  Vec ga(N), gb(N);
  for (int i = 0; i < N; ++i) ga[i] = r[i] * b[i], gb[i] = r[i] * a[i];
  EXPECT_TRUE(test::check_gradient(
      "mul d/da", [&](const Vec& v) { return f(v, b); }, a, ga));
  EXPECT_TRUE(test::check_gradient(
      "mul d/db", [&](const Vec& v) { return f(a, v); }, b, gb));
}

TEST(ReduceOps, CpuBackend) {
  Context ctx = Context::cpu();
  FVec x{1, 2, 3, 4, 5, 6}, out(3), s(1);
  const ConstTensor xt(x.data(), {2, 3}, Device::CPU);
  ops::column_sum(ctx, xt, Tensor(out.data(), {3}, Device::CPU), false);
  EXPECT_EQ(out, (FVec{5, 7, 9}));
  ops::sum(ctx, xt, Tensor(s.data(), {1}, Device::CPU));  // any shape: treated as flat
  EXPECT_EQ(s[0], 21.f);
  ops::sum_squares(ctx, xt, Tensor(s.data(), {1}, Device::CPU), true);
  EXPECT_EQ(s[0], 21.f + 91.f);
  FVec y(6, 1.f);
  const Tensor yt(y.data(), {2, 3}, Device::CPU);
  ops::axpy(ctx, 2.f, xt, yt);
  EXPECT_EQ(y, (FVec{3, 5, 7, 9, 11, 13}));
  ops::mul(ctx, yt, xt, yt);  // in place
  EXPECT_EQ(y, (FVec{3, 10, 21, 36, 55, 78}));
  ops::scale(ctx, yt, -1.f);
  EXPECT_EQ(y[5], -78.f);
  ops::fill(ctx, yt, 0.25f);
  EXPECT_EQ(y, FVec(6, 0.25f));
  EXPECT_TRUE(ops::all_finite(ctx, yt));
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity()}) {
    y[4] = bad;
    EXPECT_FALSE(ops::all_finite(ctx, yt)) << bad;
  }
}

TEST(ReduceOps, RejectsBadArguments) {
  Context ctx = Context::cpu();
  FVec x(6), out(3), s(2);
  const ConstTensor xt(x.data(), {2, 3}, Device::CPU);
  EXPECT_THROW(ops::column_sum(ctx, xt, Tensor(out.data(), {2}, Device::CPU), false),
               ArgumentError);
  EXPECT_THROW(ops::column_sum(ctx, ConstTensor(x.data(), {6}, Device::CPU),
                               Tensor(out.data(), {3}, Device::CPU), false),
               ArgumentError);
  EXPECT_THROW(ops::sum(ctx, xt, Tensor(s.data(), {2}, Device::CPU)), ArgumentError);
  EXPECT_THROW(ops::sum_squares(ctx, ConstTensor(x.data(), {6}, Device::CUDA),
                                Tensor(s.data(), {1}, Device::CPU)),
               ArgumentError);
  FVec y(6);
  EXPECT_THROW(ops::axpy(ctx, 1.f, xt, Tensor(y.data(), {3, 2}, Device::CPU)), ArgumentError);
  EXPECT_THROW(ops::mul(ctx, xt, xt, Tensor(y.data(), {6}, Device::CPU)), ArgumentError);
  EXPECT_THROW(ops::fill(ctx, Tensor(y.data(), {6}, Device::CUDA), 0.f), ArgumentError);
  EXPECT_THROW(ops::all_finite(ctx, ConstTensor(x.data(), {6}, Device::CUDA)), ArgumentError);
}

// add_row_vector, the dense layers' bias: the reference by hand, its gradients (d/dx = r,
// d/dv = column sums of r), and the op on the CPU backend in float and double with its argument
// checks.
TEST(Reduce, AddRowVectorHandComputed) {
  Vec x{1, 2, 3, 4, 5, 6};  // [2, 3]
  const Vec v{10, -20, 0.5};
  ref::add_row_vector<double>(2, 3, v.data(), x.data());
  EXPECT_EQ(x, (Vec{11, -18, 3.5, 14, -15, 6.5}));
  ref::add_row_vector<double>(0, 3, v.data(), x.data());  // no rows: nothing changes
  EXPECT_EQ(x, (Vec{11, -18, 3.5, 14, -15, 6.5}));
}

TEST(ReduceGrad, AddRowVector) {
  const int N = 4, C = 5;
  const Vec x = test::random_uniform<double>(N * C, -1, 1, 11),
            v = test::random_uniform<double>(C, -1, 1, 12),
            r = test::random_uniform<double>(N * C, -1, 1, 13);
  auto f = [&](Vec xv, const Vec& vv) {
    ref::add_row_vector<double>(N, C, vv.data(), xv.data());
    return test::project(r, xv);
  };
  Vec gv(C, 0.0);
  ref::column_sum<double>(N, C, r.data(), gv.data(), false);
  EXPECT_TRUE(test::check_gradient(
      "add_row_vector d/dx", [&](const Vec& p) { return f(p, v); }, x, r));
  EXPECT_TRUE(test::check_gradient(
      "add_row_vector d/dv", [&](const Vec& p) { return f(x, p); }, v, gv));
}

TEST(ReduceOps, AddRowVectorCpuBackend) {
  Context ctx = Context::cpu();
  const int N = 7, C = 13;
  const FVec x0 = test::random_uniform<float>(N * C, -1, 1, 14),
             v = test::random_uniform<float>(C, -1, 1, 15);
  FVec x = x0;
  ops::add_row_vector(ctx, ConstTensor(v.data(), {C}, Device::CPU),
                      Tensor(x.data(), {N, C}, Device::CPU));
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) ASSERT_EQ(x[n * C + c], x0[n * C + c] + v[c]) << n << "," << c;
  Vec xd = test::cast<double>(x0);
  const Vec vd = test::cast<double>(v);
  ops::add_row_vector(ctx, TensorView<const double>(vd.data(), {C}, Device::CPU),
                      TensorView<double>(xd.data(), {N, C}, Device::CPU));
  for (int i = 0; i < N * C; ++i) ASSERT_EQ(xd[i], double(x0[i]) + vd[i % C]) << i;
  // v must be [C] of x [N, C], on the context's device; x must be rank 2.
  EXPECT_THROW(ops::add_row_vector(ctx, ConstTensor(v.data(), {C - 1}, Device::CPU),
                                   Tensor(x.data(), {N, C}, Device::CPU)),
               ArgumentError);
  EXPECT_THROW(ops::add_row_vector(ctx, ConstTensor(v.data(), {C}, Device::CPU),
                                   Tensor(x.data(), {N * C}, Device::CPU)),
               ArgumentError);
  EXPECT_THROW(ops::add_row_vector(ctx, ConstTensor(v.data(), {C}, Device::CUDA),
                                   Tensor(x.data(), {N, C}, Device::CPU)),
               ArgumentError);
}

}  // namespace
}  // namespace curnn
