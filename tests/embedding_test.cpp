// Embedding on the CPU: gather / scatter-add semantics on hand-made cases, the gradients of both
// (each is the other's adjoint), id range and shape errors.
#include <gtest/gtest.h>

#include <limits>

#include "curnn/ops/embedding.hpp"
#include "curnn/ref/embedding.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

TEST(EmbeddingRef, GatherCopiesRows) {
  const std::vector<float> table = {0, 1, 10, 11, 20, 21};  // [V=3, E=2]
  const std::vector<std::int32_t> ids = {2, 0, 2, 1};
  Context ctx = Context::cpu();
  std::vector<float> out = test::nan_filled(8);
  ops::embedding_gather(ctx, ConstIds(ids.data(), {4}, Device::CPU),
                        ConstTensor(table.data(), {3, 2}, Device::CPU),
                        Tensor(out.data(), {4, 2}, Device::CPU));
  EXPECT_EQ(out, (std::vector<float>{20, 21, 0, 1, 20, 21, 10, 11}));
}

TEST(EmbeddingRef, ScatterAddSumsRepeatsAndKeepsOtherRows) {
  const std::vector<std::int32_t> ids = {2, 0, 2};
  const std::vector<float> dout = {1, 2, 3, 4, 5, 6};          // [N=3, E=2]
  std::vector<float> dtable = {100, 100, 7, 7, -1, -1, 9, 9};  // [V=4, E=2], added to
  Context ctx = Context::cpu();
  ops::embedding_scatter_add(ctx, ConstIds(ids.data(), {3}, Device::CPU),
                             ConstTensor(dout.data(), {3, 2}, Device::CPU),
                             Tensor(dtable.data(), {4, 2}, Device::CPU));
  // row 0 += dout[1]; row 2 += dout[0] + dout[2]; rows 1 and 3 untouched.
  EXPECT_EQ(dtable, (std::vector<float>{103, 104, 7, 7, 5, 7, 9, 9}));
}

// Gather's gradient with respect to the table is scatter_add of dout into zeros, and
// scatter_add's gradient with respect to dout is gather: checked in double by central
// differences, with repeated ids and rows that no id names.
TEST(EmbeddingGrad, GatherAndScatterAddAreAdjoint) {
  const std::int64_t N = 7, V = 5, E = 3;
  const std::vector<std::int32_t> ids = {3, 0, 3, 1, 3, 0, 1};  // row 2 and 4 never named
  const auto table = test::random_uniform<double>(V * E, -1, 1, 21);
  const auto r_out = test::random_uniform<double>(N * E, -1, 1, 22);    // projects gather
  const auto r_table = test::random_uniform<double>(V * E, -1, 1, 23);  // projects scatter_add
  const auto dtable0 = test::random_uniform<double>(V * E, -1, 1, 24);

  auto gather_f = [&](const std::vector<double>& t) {
    std::vector<double> out(N * E);
    ref::embedding_gather<double>(N, V, E, ids.data(), t.data(), out.data());
    return test::project(r_out, out);
  };
  std::vector<double> d_table(V * E, 0.0);
  ref::embedding_scatter_add<double>(N, V, E, ids.data(), r_out.data(), d_table.data());
  EXPECT_TRUE(test::check_gradient("gather d/dtable", gather_f, table, d_table));

  const auto dout = test::random_uniform<double>(N * E, -1, 1, 25);
  auto scatter_f = [&](const std::vector<double>& d) {
    std::vector<double> t = dtable0;
    ref::embedding_scatter_add<double>(N, V, E, ids.data(), d.data(), t.data());
    return test::project(r_table, t);
  };
  std::vector<double> d_dout(N * E);
  ref::embedding_gather<double>(N, V, E, ids.data(), r_table.data(), d_dout.data());
  EXPECT_TRUE(test::check_gradient("scatter_add d/ddout", scatter_f, dout, d_dout));
}

TEST(Embedding, IdsOutOfRangeAreArgumentErrorsAndNothingIsWritten) {
  Context ctx = Context::cpu();
  const std::vector<float> table = {1, 2, 3, 4};  // [V=2, E=2]
  for (std::int32_t bad : {-1, 2, std::numeric_limits<std::int32_t>::max()}) {
    const std::vector<std::int32_t> ids = {1, bad};
    std::vector<float> out = test::nan_filled(4);
    EXPECT_THROW(ops::embedding_gather(ctx, ConstIds(ids.data(), {2}, Device::CPU),
                                       ConstTensor(table.data(), {2, 2}, Device::CPU),
                                       Tensor(out.data(), {2, 2}, Device::CPU)),
                 ArgumentError)
        << bad;
    std::vector<float> dtable = {0, 0, 0, 0};
    EXPECT_THROW(ops::embedding_scatter_add(ctx, ConstIds(ids.data(), {2}, Device::CPU),
                                            ConstTensor(table.data(), {2, 2}, Device::CPU),
                                            Tensor(dtable.data(), {2, 2}, Device::CPU)),
                 ArgumentError)
        << bad;
    EXPECT_EQ(dtable, std::vector<float>(4, 0.f)) << "written before the id check";
  }
}

TEST(Embedding, ShapeErrors) {
  Context ctx = Context::cpu();
  std::vector<float> table(12), out(6);
  const std::vector<std::int32_t> ids = {0, 1, 2};
  const ConstIds I(ids.data(), {3}, Device::CPU);
  const ConstTensor T(table.data(), {4, 3}, Device::CPU);
  const Tensor O(out.data(), {3, 2}, Device::CPU);  // E mismatch: 2 vs 3
  EXPECT_THROW(ops::embedding_gather(ctx, I, T, O), ArgumentError);
  EXPECT_THROW(ops::embedding_gather(ctx, I, T, O.reshape({2, 3})), ArgumentError);  // N 2 vs 3
  EXPECT_THROW(ops::embedding_gather(ctx, ConstIds(ids.data(), {3, 1}, Device::CPU), T,
                                     Tensor(table.data(), {3, 3}, Device::CPU)),
               ArgumentError);  // ids not 1-D
  EXPECT_THROW(ops::embedding_scatter_add(ctx, I, T.reshape({12}), O), ArgumentError);
  EXPECT_THROW(ops::embedding_gather(ctx, ConstIds(ids.data(), {3}, Device::CUDA), T,
                                     Tensor(table.data(), {3, 3}, Device::CPU)),
               ArgumentError);  // ids on another device
  EXPECT_NO_THROW(ops::embedding_gather(ctx, I, T, Tensor(table.data(), {3, 3}, Device::CPU)));
}

}  // namespace
}  // namespace curnn
