// Column concat / split on the CPU: a hand-made case, the gradients of both in double (each is the
// other's adjoint), the float64 overloads, and argument errors.
#include <gtest/gtest.h>

#include "curnn/ops/concat.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

TEST(ConcatRef, JoinsRowsAndSplitsThemBack) {
  Context ctx = Context::cpu();
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};  // [N=3, Ca=2]
  const std::vector<float> b = {10, 20, 30};        // [N=3, Cb=1]
  std::vector<float> out = test::nan_filled(9);
  ops::concat_columns(ctx, ConstTensor(a.data(), {3, 2}, Device::CPU),
                      ConstTensor(b.data(), {3, 1}, Device::CPU),
                      Tensor(out.data(), {3, 3}, Device::CPU));
  EXPECT_EQ(out, (std::vector<float>{1, 2, 10, 3, 4, 20, 5, 6, 30}));
  std::vector<float> a2 = test::nan_filled(6), b2 = test::nan_filled(3);
  ops::split_columns(ctx, ConstTensor(out.data(), {3, 3}, Device::CPU),
                     Tensor(a2.data(), {3, 2}, Device::CPU),
                     Tensor(b2.data(), {3, 1}, Device::CPU));
  EXPECT_EQ(a2, a);
  EXPECT_EQ(b2, b);
}

// f(a, b) = r . concat(a, b): d/da and d/db are split(r). g(in) = ra . a + rb . b with
// (a, b) = split(in): d/din = concat(ra, rb). Through the float64 ops on the CPU context.
TEST(ConcatGrad, ConcatAndSplitAreAdjoint) {
  Context ctx = Context::cpu();
  const std::int64_t N = 5, Ca = 3, Cb = 4, C = Ca + Cb;
  using DView = TensorView<double>;
  const auto a = test::random_uniform<double>(N * Ca, -1, 1, 1),
             b = test::random_uniform<double>(N * Cb, -1, 1, 2),
             r = test::random_uniform<double>(N * C, -1, 1, 3),
             ra = test::random_uniform<double>(N * Ca, -1, 1, 4),
             rb = test::random_uniform<double>(N * Cb, -1, 1, 5),
             in = test::random_uniform<double>(N * C, -1, 1, 6);
  const auto concat = [&](const std::vector<double>& x, const std::vector<double>& y) {
    std::vector<double> out(N * C);
    ops::concat_columns(ctx, TensorView<const double>(x.data(), {N, Ca}, Device::CPU),
                        TensorView<const double>(y.data(), {N, Cb}, Device::CPU),
                        DView(out.data(), {N, C}, Device::CPU));
    return out;
  };
  const auto split = [&](const std::vector<double>& wide, std::vector<double>& x,
                         std::vector<double>& y) {
    x.assign(N * Ca, NAN), y.assign(N * Cb, NAN);
    ops::split_columns(ctx, TensorView<const double>(wide.data(), {N, C}, Device::CPU),
                       DView(x.data(), {N, Ca}, Device::CPU),
                       DView(y.data(), {N, Cb}, Device::CPU));
  };
  std::vector<double> da, db;
  split(r, da, db);
  EXPECT_TRUE(test::check_gradient(
      "concat d/da", [&](const std::vector<double>& x) { return test::project(r, concat(x, b)); },
      a, da));
  EXPECT_TRUE(test::check_gradient(
      "concat d/db", [&](const std::vector<double>& y) { return test::project(r, concat(a, y)); },
      b, db));
  EXPECT_TRUE(test::check_gradient(
      "split d/din",
      [&](const std::vector<double>& wide) {
        std::vector<double> x, y;
        split(wide, x, y);
        return test::project(ra, x) + test::project(rb, y);
      },
      in, concat(ra, rb)));
}

TEST(Concat, ShapeErrorsAreArgumentErrors) {
  Context ctx = Context::cpu();
  std::vector<float> a(6), b(6), out(12);
  const auto A = [&](std::initializer_list<std::int64_t> s) {
    return Tensor(a.data(), s, Device::CPU);
  };
  const auto B = [&](std::initializer_list<std::int64_t> s) {
    return Tensor(b.data(), s, Device::CPU);
  };
  const auto O = [&](std::initializer_list<std::int64_t> s) {
    return Tensor(out.data(), s, Device::CPU);
  };
  EXPECT_NO_THROW(ops::concat_columns(ctx, A({3, 2}), B({3, 2}), O({3, 4})));
  EXPECT_THROW(ops::concat_columns(ctx, A({3, 2}), B({2, 3}), O({3, 5})), ArgumentError);  // rows
  EXPECT_THROW(ops::concat_columns(ctx, A({3, 2}), B({3, 2}), O({3, 3})), ArgumentError);  // width
  EXPECT_THROW(ops::concat_columns(ctx, A({6}), B({3, 2}), O({3, 4})), ArgumentError);     // rank
  EXPECT_THROW(ops::split_columns(ctx, O({4, 3}), A({3, 2}), B({3, 2})), ArgumentError);
  EXPECT_THROW(ops::split_columns(ctx, O({3, 4}), A({3, 2}), Tensor()), ArgumentError);
  EXPECT_THROW(
      ops::split_columns(ctx, O({3, 4}), A({3, 2}), Tensor(b.data(), {3, 2}, Device::CUDA)),
      ArgumentError);
}

}  // namespace
}  // namespace curnn
