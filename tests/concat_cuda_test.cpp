// Column concat / split kernels against the reference (a pure copy: bitwise equal), into
// NaN-poisoned outputs, at the BiLSTM's shapes (N = 28*128 rows, 256 + 256 columns; the head's
// [128, 512]) and odd ones, including sides of one column and rows not multiples of 32.
#include <gtest/gtest.h>

#include "cuda_upload.hpp"
#include "curnn/ops/concat.hpp"
#include "curnn/ref/concat.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

constexpr test::Tolerance kExact{0.0};  // bitwise equal

struct Case {
  std::int64_t N, Ca, Cb;
};
const Case kCases[] = {{28 * 128, 256, 256}, {128, 256, 256}, {28 * 7, 37, 37},
                       {33, 1, 65},          {1, 5, 1},       {1000, 3, 129},
                       {31, 200, 17}};

std::string describe(const char* op, const Case& c) {
  return std::string(op) + " N=" + std::to_string(c.N) + " Ca=" + std::to_string(c.Ca) +
         " Cb=" + std::to_string(c.Cb);
}

TEST(ConcatCuda, ConcatAndSplitMatchReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  std::uint64_t seed = 10;
  for (const Case& c : kCases) {
    const std::int64_t C = c.Ca + c.Cb;
    const auto a = test::random_uniform(c.N * c.Ca, -1, 1, seed++);
    const auto b = test::random_uniform(c.N * c.Cb, -1, 1, seed++);
    const auto wide = test::random_uniform(c.N * C, -1, 1, seed++);
    std::vector<float> ref_out(c.N * C), ref_a(c.N * c.Ca), ref_b(c.N * c.Cb);
    ref::concat_columns<float>(c.N, c.Ca, c.Cb, a.data(), b.data(), ref_out.data());
    ref::split_columns<float>(c.N, c.Ca, c.Cb, wide.data(), ref_a.data(), ref_b.data());

    Buffer<float> da = test::upload(ctx, a), db = test::upload(ctx, b),
                  dwide = test::upload(ctx, wide);
    Buffer<float> out = test::upload_poisoned(ctx, c.N * C);
    Buffer<float> sa = test::upload_poisoned(ctx, c.N * c.Ca),
                  sb = test::upload_poisoned(ctx, c.N * c.Cb);
    ops::concat_columns(ctx, da.view({c.N, c.Ca}), db.view({c.N, c.Cb}), out.view({c.N, C}));
    ops::split_columns(ctx, dwide.view({c.N, C}), sa.view({c.N, c.Ca}), sb.view({c.N, c.Cb}));
    EXPECT_TRUE(
        test::expect_close(describe("concat", c), test::host_copy(ctx, out), ref_out, kExact));
    EXPECT_TRUE(
        test::expect_close(describe("split a", c), test::host_copy(ctx, sa), ref_a, kExact));
    EXPECT_TRUE(
        test::expect_close(describe("split b", c), test::host_copy(ctx, sb), ref_b, kExact));
  }
}

// Views that start at an odd element inside their buffers (the BiLSTM's row slices do).
TEST(ConcatCuda, MisalignedViews) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const std::int64_t N = 9, Ca = 5, Cb = 3, C = Ca + Cb;
  const auto a = test::random_uniform(N * Ca + 1, -1, 1, 1),
             b = test::random_uniform(N * Cb + 1, -1, 1, 2);
  std::vector<float> ref_out(N * C);
  ref::concat_columns<float>(N, Ca, Cb, a.data() + 1, b.data() + 1, ref_out.data());
  Buffer<float> da = test::upload(ctx, a), db = test::upload(ctx, b);
  Buffer<float> out = test::upload_poisoned(ctx, N * C + 1);
  ops::concat_columns(ctx, ConstTensor(da.data() + 1, {N, Ca}, Device::CUDA),
                      ConstTensor(db.data() + 1, {N, Cb}, Device::CUDA),
                      Tensor(out.data() + 1, {N, C}, Device::CUDA));
  std::vector<float> got = test::host_copy(ctx, out);
  got.erase(got.begin());
  EXPECT_TRUE(test::expect_close("concat misaligned", got, ref_out, kExact));
}

}  // namespace
}  // namespace curnn
