// Embedding kernels against the reference: gather (every vector width, a misaligned table),
// deterministic scatter-add (bitwise equal to ref::embedding_scatter_add<float>, and to itself
// run to run) and atomic scatter-add (within tolerance of the double reference), at the
// experiments' sizes (V 10,000 / 50,000; E 128 / 200 / 650 / 1500; N = 20x35, 20x20, 128) and odd
// ones, with many repeated ids, and with ids outside [0, V).
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "curnn/ops/embedding.hpp"
#include "curnn/ref/embedding.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

// A copy (gather) and the sequential sums the deterministic kernel reproduces have no rounding
// differences to allow for.
constexpr test::Tolerance kExact{0.0};  // bitwise equal

struct Case {
  std::int64_t V, E, N;
  std::int64_t distinct;  // ids drawn from this many distinct values (0: uniform over [0, V))
};

std::string describe(const char* op, const Case& c) {
  return std::string(op) + " V=" + std::to_string(c.V) + " E=" + std::to_string(c.E) +
         " N=" + std::to_string(c.N) +
         (c.distinct ? " distinct=" + std::to_string(c.distinct) : std::string());
}

std::vector<std::int32_t> case_ids(const Case& c, std::uint64_t seed) {
  if (c.distinct == 0) return test::random_ids(c.N, static_cast<std::int32_t>(c.V), seed);
  const auto pool = test::random_ids(c.distinct, static_cast<std::int32_t>(c.V), seed);
  auto ids = test::random_ids(c.N, static_cast<std::int32_t>(c.distinct), seed + 1);
  for (auto& id : ids) id = pool[id];
  return ids;
}

const Case kCases[] = {
    {10000, 650, 700, 50},   // PTB medium, 20x35 ids from only 50 distinct words
    {10000, 1500, 700, 50},  // PTB large
    {10000, 200, 400, 0},    // PTB small, 20x20
    {50000, 128, 128, 0},    // word2vec batch
    {50000, 37, 700, 50},    // odd E (scalar path)
    {10000, 130, 700, 700},  // float2 path
    {1000, 64, 700, 1},      // one id 700 times: a run longer than a warp
    {3, 5, 1, 0},            // a single id
};

TEST(EmbeddingCuda, GatherMatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  std::uint64_t seed = 100;
  for (const Case& c : kCases) {
    const auto table = test::random_uniform(c.V * c.E, -1, 1, seed++);
    const auto ids = case_ids(c, seed++);
    std::vector<float> want(c.N * c.E);
    ref::embedding_gather<float>(c.N, c.V, c.E, ids.data(), table.data(), want.data());
    const Buffer<float> d_table = test::device_copy(table);
    const Buffer<std::int32_t> d_ids = test::device_copy(ids);
    Buffer<float> out = test::device_poisoned(c.N * c.E);
    ops::embedding_gather(ctx, d_ids.view(), d_table.view({c.V, c.E}), out.view({c.N, c.E}));
    EXPECT_TRUE(test::expect_close(describe("gather", c), test::host_copy(ctx, out), want, kExact));
  }
}

// A table and output 4 bytes off 16-byte alignment with E % 4 == 0: the kernel must fall back
// from float4 to scalar accesses.
TEST(EmbeddingCuda, GatherMisaligned) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const Case c{500, 128, 300, 0};
  const auto table = test::random_uniform(c.V * c.E + 1, -1, 1, 7);
  const auto ids = case_ids(c, 8);
  std::vector<float> want(c.N * c.E + 1, std::numeric_limits<float>::quiet_NaN());
  ref::embedding_gather<float>(c.N, c.V, c.E, ids.data(), table.data() + 1, want.data() + 1);
  const Buffer<float> d_table = test::device_copy(table);
  const Buffer<std::int32_t> d_ids = test::device_copy(ids);
  Buffer<float> out = test::device_poisoned(c.N * c.E + 1);
  ops::embedding_gather(ctx, d_ids.view(),
                        ConstTensor(d_table.data() + 1, {c.V, c.E}, Device::CUDA),
                        Tensor(out.data() + 1, {c.N, c.E}, Device::CUDA));
  auto got = test::host_copy(ctx, out);
  EXPECT_TRUE(std::isnan(got[0])) << "wrote before the output";
  got.erase(got.begin());
  want.erase(want.begin());
  EXPECT_TRUE(test::expect_close(describe("gather misaligned", c), got, want, kExact));
}

// Runs scatter-add on the GPU from `dtable0` and returns the result.
std::vector<float> cuda_scatter_add(Context& ctx, const Case& c,
                                    const std::vector<std::int32_t>& ids,
                                    const std::vector<float>& dout,
                                    const std::vector<float>& dtable0) {
  const Buffer<std::int32_t> d_ids = test::device_copy(ids);
  const Buffer<float> d_dout = test::device_copy(dout);
  Buffer<float> d_table = test::device_copy(dtable0);
  ops::embedding_scatter_add(ctx, d_ids.view(), d_dout.view({c.N, c.E}), d_table.view({c.V, c.E}));
  bool bad_ids = false;
  for (const std::int32_t id : ids) bad_ids = bad_ids || id < 0 || id >= c.V;
  if (bad_ids) {  // reported at the next synchronisation (id_errors_cuda_test.cpp: the message)
    EXPECT_THROW(ctx.synchronize(), ArgumentError) << describe("scatter_add with bad ids", c);
  }
  return test::host_copy(ctx, d_table);
}

// dtable0 + scatter of the valid ids only, in T.
template <class T>
std::vector<T> reference_scatter_add(const Case& c, const std::vector<std::int32_t>& ids,
                                     const std::vector<float>& dout,
                                     const std::vector<float>& dtable0) {
  std::vector<std::int32_t> valid_ids;
  std::vector<T> valid_dout;
  for (std::int64_t n = 0; n < c.N; ++n) {
    if (ids[n] < 0 || ids[n] >= c.V) continue;
    valid_ids.push_back(ids[n]);
    valid_dout.insert(valid_dout.end(), dout.begin() + n * c.E, dout.begin() + (n + 1) * c.E);
  }
  std::vector<T> dtable = test::cast<T>(dtable0);
  ref::embedding_scatter_add<T>(static_cast<std::int64_t>(valid_ids.size()), c.V, c.E,
                                valid_ids.data(), valid_dout.data(), dtable.data());
  return dtable;
}

// Both variants against the references; dtable starts random (the op adds).
void check_scatter_add(const Case& c, const std::vector<std::int32_t>& ids, std::uint64_t seed) {
  Context ctx = Context::cuda();
  const auto dout = test::random_uniform(c.N * c.E, -1, 1, seed);
  const auto dtable0 = test::random_uniform(c.V * c.E, -1, 1, seed + 1);
  const auto want_float = reference_scatter_add<float>(c, ids, dout, dtable0);
  const auto want_double = reference_scatter_add<double>(c, ids, dout, dtable0);

  ASSERT_TRUE(ctx.deterministic());
  const auto sorted = cuda_scatter_add(ctx, c, ids, dout, dtable0);
  EXPECT_TRUE(test::expect_close(describe("scatter_add sorted vs ref<float>", c), sorted,
                                 want_float, kExact));
  EXPECT_TRUE(
      test::expect_close(describe("scatter_add sorted vs ref<double>", c), sorted, want_double));
  const auto again = cuda_scatter_add(ctx, c, ids, dout, dtable0);
  EXPECT_EQ(std::memcmp(sorted.data(), again.data(), sorted.size() * sizeof(float)), 0)
      << describe("scatter_add sorted: two runs differ", c);

  ctx.set_deterministic(false);
  const auto atomic = cuda_scatter_add(ctx, c, ids, dout, dtable0);
  EXPECT_TRUE(
      test::expect_close(describe("scatter_add atomic vs ref<double>", c), atomic, want_double));
}

TEST(EmbeddingCuda, ScatterAddMatchesReference) {
  CURNN_REQUIRE_CUDA();
  std::uint64_t seed = 200;
  for (const Case& c : kCases) {
    check_scatter_add(c, case_ids(c, seed), seed + 1);
    seed += 3;
  }
}

// Ids outside [0, V): gather writes a zero row, both scatter-add variants skip them, the context
// reports them at its next synchronisation (the message: id_errors_cuda_test.cpp), and no memory
// out of bounds is touched (the sanitizer runs of this suite check that).
TEST(EmbeddingCuda, OutOfRangeIdsAreZeroedOrSkipped) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const Case c{1000, 68, 200, 0};
  auto ids = case_ids(c, 300);
  const std::int32_t bad[] = {-1, static_cast<std::int32_t>(c.V),
                              std::numeric_limits<std::int32_t>::max(),
                              std::numeric_limits<std::int32_t>::min()};
  for (std::size_t n = 0; n < ids.size(); n += 7) ids[n] = bad[n % 4];

  const auto table = test::random_uniform(c.V * c.E, -1, 1, 301);
  std::vector<float> want(c.N * c.E, 0.f);
  for (std::int64_t n = 0; n < c.N; ++n) {
    if (ids[n] < 0 || ids[n] >= c.V) continue;  // stays zero
    ref::embedding_gather<float>(1, c.V, c.E, &ids[n], table.data(), want.data() + n * c.E);
  }
  const Buffer<float> d_table = test::device_copy(table);
  const Buffer<std::int32_t> d_ids = test::device_copy(ids);
  Buffer<float> out = test::device_poisoned(c.N * c.E);
  ops::embedding_gather(ctx, d_ids.view(), d_table.view({c.V, c.E}), out.view({c.N, c.E}));
  EXPECT_THROW(ctx.synchronize(), ArgumentError);
  EXPECT_TRUE(test::expect_close("gather with bad ids", test::host_copy(ctx, out), want, kExact));

  check_scatter_add(c, ids, 302);
}

}  // namespace
}  // namespace curnn
