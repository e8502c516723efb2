// The optimizer kernels (kernels/optim.cu) through the ops:: functions on Context::cuda(),
// against the CPU reference (include/curnn/ref/optim.hpp): the PTB small parameter set (4.6M
// floats in 7 tensors), the BiLSTM-MNIST Adam shapes, odd sizes and misaligned views (the scalar
// path), clipping above and below the clip norm, NaN/Inf propagation, bitwise reproducibility.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cuda_upload.hpp"
#include "curnn/context.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ref/optim.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

// PTB small: embedding [10000, 200], two LSTM layers W [400, 800] + b [800], softmax W
// [200, 10000] + b [10000]: 4,651,200 floats.
const std::vector<std::int64_t> kPtbSmall = {10000 * 200, 400 * 800,   800,  400 * 800,
                                             800,         200 * 10000, 10000};
// BiLSTM MNIST: forward and backward LSTM W [28 + 256, 1024] + b [1024], output W [512, 10] +
// b [10].
const std::vector<std::int64_t> kMnist = {284 * 1024, 1024, 284 * 1024, 1024, 512 * 10, 10};
const std::vector<std::int64_t> kOdd = {1, 3, 5, 31, 1001, 65537};

// A host vector uploaded `shift` floats past a 256-byte aligned device address (shift % 4 != 0
// makes the view misaligned for 128-bit accesses).
class DeviceVector {
 public:
  DeviceVector(const Context& ctx, const std::vector<float>& host, std::size_t shift = 0)
      : shift_(shift), n_(host.size()) {
    std::vector<float> padded(shift, 0.f);
    padded.insert(padded.end(), host.begin(), host.end());
    buf_ = test::upload(ctx, padded);
  }
  Tensor view() {
    return Tensor(buf_.data() + shift_, {static_cast<std::int64_t>(n_)}, Device::CUDA);
  }
  std::vector<float> host(const Context& ctx) const {
    const auto all = test::host_copy(ctx, buf_);
    return std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(shift_), all.end());
  }

 private:
  Buffer<float> buf_;
  std::size_t shift_, n_;
};

std::vector<float> random_vector(std::int64_t n, double lo, double hi, std::uint64_t seed) {
  return test::random_uniform(static_cast<std::size_t>(n), lo, hi, seed);
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// ---- SGD ----------------------------------------------------------------------------------------

void check_sgd(Context& ctx, std::int64_t n, std::size_t grad_shift, std::size_t param_shift) {
  const auto g = random_vector(n, -1, 1, 10 + n), p0 = random_vector(n, -1, 1, 20 + n);
  DeviceVector dg(ctx, g, grad_shift), dp(ctx, p0, param_shift);
  ops::sgd_update(ctx, 0.37f, dg.view(), dp.view());
  auto want = p0;
  ref::sgd_update<float>(0.37f, g.data(), want.data(), n);
  EXPECT_TRUE(test::expect_close("sgd n=" + std::to_string(n) + " shifts " +
                                     std::to_string(grad_shift) + "," + std::to_string(param_shift),
                                 dp.host(ctx), want));
}

TEST(OptimCuda, SgdMatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (std::int64_t n : kPtbSmall) check_sgd(ctx, n, 0, 0);
  for (std::int64_t n : kOdd) {
    check_sgd(ctx, n, 0, 0);
    check_sgd(ctx, n, 1, 1);  // scalar path
    check_sgd(ctx, n, 0, 3);  // one misaligned pointer is enough to take it
  }
}

// ---- sparse-row SGD
// -------------------------------------------------------------------------------

// rows [N] drawn from [0, id_range) (small ranges force many duplicates), row_grads [N, E],
// table [V, E]; the kernel against the reference, and two runs bitwise equal.
void check_sgd_rows(Context& ctx, std::int64_t V, std::int64_t E, std::int64_t N,
                    std::int32_t id_range) {
  const std::string what = "sgd_rows V=" + std::to_string(V) + " E=" + std::to_string(E) +
                           " N=" + std::to_string(N) + " ids<" + std::to_string(id_range);
  const auto rows = test::random_ids(static_cast<std::size_t>(N), id_range, 30 + N);
  const auto grads = random_vector(N * E, -1, 1, 40 + N), table0 = random_vector(V * E, -1, 1, 50);
  auto want = table0;
  ref::sgd_update_rows<float>(0.5f, rows.data(), grads.data(), want.data(), N, E, V);
  Buffer<std::int32_t> drows = test::upload(ctx, rows);
  Buffer<float> dgrads = test::upload(ctx, grads);
  std::vector<float> runs[2];
  for (auto& run : runs) {
    Buffer<float> dtable = test::upload(ctx, table0);
    ops::sgd_update_rows(ctx, 0.5f, drows.view({N}), dgrads.view({N, E}), dtable.view({V, E}));
    run = test::host_copy(ctx, dtable);
  }
  EXPECT_TRUE(test::expect_close(what, runs[0], want));
  EXPECT_TRUE(bitwise_equal(runs[0], runs[1])) << what << ": two runs differ";
}

TEST(OptimCuda, SgdRowsMatchesReferenceWithDuplicates) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  check_sgd_rows(ctx, 10000, 650, 700, 60);     // PTB medium embedding, T*B rows, many repeats
  check_sgd_rows(ctx, 10000, 200, 400, 10000);  // PTB small
  check_sgd_rows(ctx, 50000, 128, 128, 50000);  // word2vec centre rows
  check_sgd_rows(ctx, 37, 33, 1000, 37);        // odd sizes, ~27 repeats per row
  check_sgd_rows(ctx, 5, 1, 3001, 2);           // two long runs
  check_sgd_rows(ctx, 8, 7, 1, 8);
}

// On CUDA, rows outside [0, V) are skipped and reported at the next synchronisation (the CPU op
// rejects them before writing; id_errors_cuda_test.cpp checks the message): the result equals
// the reference applied to the in-range rows alone, and no other row changes.
TEST(OptimCuda, SgdRowsSkipsOutOfRangeRows) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const std::int64_t V = 64, E = 40;
  std::vector<std::int32_t> rows = test::random_ids(300, 24, 3);
  for (std::size_t i = 0; i < rows.size(); i += 7) rows[i] = (i % 2) ? -1 - rows[i] : V + rows[i];
  const std::int64_t N = static_cast<std::int64_t>(rows.size());
  const auto grads = random_vector(N * E, -1, 1, 4), table0 = random_vector(V * E, -1, 1, 5);
  std::vector<std::int32_t> in_rows;
  std::vector<float> in_grads;
  for (std::int64_t i = 0; i < N; ++i) {
    if (rows[i] < 0 || rows[i] >= V) continue;
    in_rows.push_back(rows[i]);
    in_grads.insert(in_grads.end(), grads.begin() + i * E, grads.begin() + (i + 1) * E);
  }
  auto want = table0;
  ref::sgd_update_rows<float>(0.5f, in_rows.data(), in_grads.data(), want.data(),
                              static_cast<std::int64_t>(in_rows.size()), E, V);
  Buffer<std::int32_t> drows = test::upload(ctx, rows);
  Buffer<float> dgrads = test::upload(ctx, grads), dtable = test::upload(ctx, table0);
  ops::sgd_update_rows(ctx, 0.5f, drows.view({N}), dgrads.view({N, E}), dtable.view({V, E}));
  EXPECT_THROW(ctx.synchronize(), ArgumentError);
  EXPECT_TRUE(
      test::expect_close("sgd_rows out-of-range skipped", test::host_copy(ctx, dtable), want));
}

// ---- clip_by_global_norm ------------------------------------------------------------------------

struct ClipResult {
  float norm;
  std::vector<std::vector<float>> tensors;
};

// Clips device copies of `host` (NaN-poisoned norm_out) and returns the norm and the tensors.
ClipResult clip_on_gpu(Context& ctx, const std::vector<std::vector<float>>& host, float clip_norm,
                       std::size_t shift = 0) {
  std::vector<DeviceVector> dev;
  std::vector<Tensor> views;
  dev.reserve(host.size());
  for (const auto& h : host) dev.emplace_back(ctx, h, shift);
  for (auto& d : dev) views.push_back(d.view());
  Buffer<float> norm = test::upload_poisoned(ctx, 1);
  ops::clip_by_global_norm(ctx, views, clip_norm, norm.view({1}));
  ClipResult r{test::host_copy(ctx, norm)[0], {}};
  for (const auto& d : dev) r.tensors.push_back(d.host(ctx));
  return r;
}

ClipResult clip_on_cpu(std::vector<std::vector<float>> host, float clip_norm) {
  std::vector<float*> ptrs;
  std::vector<std::int64_t> sizes;
  for (auto& h : host)
    ptrs.push_back(h.data()), sizes.push_back(static_cast<std::int64_t>(h.size()));
  const double norm = ref::clip_by_global_norm<float>(ptrs.data(), sizes.data(),
                                                      static_cast<int>(host.size()), clip_norm);
  return {static_cast<float>(norm), std::move(host)};
}

std::vector<std::vector<float>> random_tensors(const std::vector<std::int64_t>& sizes, double scale,
                                               std::uint64_t seed) {
  std::vector<std::vector<float>> ts;
  for (std::size_t k = 0; k < sizes.size(); ++k)
    ts.push_back(random_vector(sizes[k], -scale, scale, seed + k));
  return ts;
}

// Clipping active (clip_norm below the norm) or not; the regime is asserted from the reference.
void check_clip(Context& ctx, const std::string& what, const std::vector<std::vector<float>>& host,
                float clip_norm, bool expect_clipping, std::size_t shift = 0) {
  const ClipResult want = clip_on_cpu(host, clip_norm);
  ASSERT_EQ(want.norm > clip_norm, expect_clipping) << what << ": norm " << want.norm;
  const ClipResult got = clip_on_gpu(ctx, host, clip_norm, shift);
  // One element: the budget is 2 rtol |norm|, 1e-6 relative as before.
  EXPECT_TRUE(test::expect_close(what + " norm", std::vector<float>{got.norm},
                                 std::vector<float>{want.norm}, {5e-7}));
  for (std::size_t k = 0; k < host.size(); ++k) {
    const std::string name = what + " tensor " + std::to_string(k);
    if (host[k].empty()) {  // nothing to compare (expect_close refuses empty comparisons)
      EXPECT_TRUE(got.tensors[k].empty()) << name;
    } else if (expect_clipping) {
      EXPECT_TRUE(test::expect_close(name, got.tensors[k], want.tensors[k]));
    } else {
      EXPECT_TRUE(bitwise_equal(got.tensors[k], host[k])) << name << " changed without clipping";
    }
  }
}

TEST(OptimCuda, ClipPtbSmallAboveAndBelowClipNorm) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const auto ts = random_tensors(kPtbSmall, 0.01, 100);  // norm about 12.5
  check_clip(ctx, "ptb small clip 5", ts, 5.f, true);
  check_clip(ctx, "ptb small clip 100", ts, 100.f, false);
  check_clip(ctx, "mnist clip 1", random_tensors(kMnist, 0.01, 200), 1.f, true);
  check_clip(ctx, "odd misaligned clip 1", random_tensors(kOdd, 0.1, 300), 1.f, true, 1);
}

// More tensors than one launch's table holds (64), empty tensors among them.
TEST(OptimCuda, ClipManyTensorsOfMixedSizes) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  std::vector<std::int64_t> sizes;
  for (int k = 0; k < 150; ++k) sizes.push_back(k % 7 == 0 ? 0 : (k * 37) % 5000 + 1);
  sizes[10] = 70001;
  sizes[100] = 4096 * 3;
  const auto ts = random_tensors(sizes, 0.1, 400);
  check_clip(ctx, "150 tensors clip 2", ts, 2.f, true);
  check_clip(ctx, "150 tensors clip 1e3", ts, 1e3f, false);
}

// Gradients whose squares overflow float32 (but not the double accumulator) are clipped
// normally, as the double reference does.
TEST(OptimCuda, ClipLargeFiniteGradients) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  auto ts = random_tensors({1000, 3001}, 1.0, 500);
  for (auto& t : ts)
    for (auto& x : t) x *= 1e25f;
  check_clip(ctx, "large gradients", ts, 5.f, true);
}

// TensorFlow: a NaN or infinite global norm makes every clipped tensor NaN, and the returned norm
// tells the caller.
TEST(OptimCuda, ClipNaNOrInfInGradPropagates) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (float poison :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity()}) {
    auto ts = random_tensors(kMnist, 0.01, 600);
    ts[2][12345] = poison;
    const ClipResult got = clip_on_gpu(ctx, ts, 5.f);
    EXPECT_FALSE(std::isfinite(got.norm)) << poison;
    if (std::isnan(poison)) EXPECT_TRUE(std::isnan(got.norm));
    for (std::size_t k = 0; k < ts.size(); ++k) {
      std::size_t not_nan = 0;
      for (float x : got.tensors[k]) not_nan += !std::isnan(x);
      EXPECT_EQ(not_nan, 0u) << "tensor " << k << " poison " << poison;
    }
  }
}

TEST(OptimCuda, ClipNormIsBitwiseReproducible) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const auto ts = random_tensors(kPtbSmall, 0.01, 700);
  const ClipResult a = clip_on_gpu(ctx, ts, 5.f), b = clip_on_gpu(ctx, ts, 5.f);
  EXPECT_EQ(std::memcmp(&a.norm, &b.norm, sizeof(float)), 0) << a.norm << " vs " << b.norm;
  for (std::size_t k = 0; k < ts.size(); ++k)
    EXPECT_TRUE(bitwise_equal(a.tensors[k], b.tensors[k])) << k;
}

// ---- Adam ---------------------------------------------------------------------------------------

// Three steps from a mid-training state (step 37, m and v non-zero), new gradients each step;
// param, m and v against the reference after every step.
void check_adam(Context& ctx, std::int64_t n, std::size_t shift) {
  const AdamParams h{0.01f};
  auto p = random_vector(n, -1, 1, 1 + n), m = random_vector(n, -0.1, 0.1, 2 + n),
       v = random_vector(n, 1e-6, 1e-2, 3 + n);
  DeviceVector dp(ctx, p, shift), dm(ctx, m, shift), dv(ctx, v, shift);
  for (std::int64_t step = 37; step < 40; ++step) {
    const auto g = random_vector(n, -1, 1, 100 * step + n);
    DeviceVector dg(ctx, g, shift);
    ops::adam_update(ctx, h, step, dg.view(), dp.view(), dm.view(), dv.view());
    ref::adam_update<float>(h, step, g.data(), p.data(), m.data(), v.data(), n);
    const std::string what = "adam n=" + std::to_string(n) + " shift " + std::to_string(shift) +
                             " step " + std::to_string(step);
    EXPECT_TRUE(test::expect_close(what + " param", dp.host(ctx), p));
    EXPECT_TRUE(test::expect_close(what + " m", dm.host(ctx), m));
    EXPECT_TRUE(test::expect_close(what + " v", dv.host(ctx), v));
  }
}

TEST(OptimCuda, AdamMatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (std::int64_t n : kMnist) check_adam(ctx, n, 0);
  for (std::int64_t n : kOdd) {
    check_adam(ctx, n, 0);
    check_adam(ctx, n, 1);
  }
}

// Step 1 from zero state on the GPU: each param moves by about lr * sign(g) (TensorFlow's Adam).
TEST(OptimCuda, AdamFirstStepMovesByLrSignGrad) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const std::int64_t n = 512 * 10;
  auto g = random_vector(n, -1, 1, 9);
  for (auto& x : g) x = std::copysign(std::fmax(std::fabs(x), 1e-2f), x);  // |g| >> eps
  const auto p0 = random_vector(n, -1, 1, 10);
  DeviceVector dg(ctx, g), dp(ctx, p0), dm(ctx, std::vector<float>(n, 0.f)),
      dv(ctx, std::vector<float>(n, 0.f));
  ops::adam_update(ctx, AdamParams{0.01f}, 1, dg.view(), dp.view(), dm.view(), dv.view());
  const auto p = dp.host(ctx);
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_NEAR(p0[i] - p[i], 0.01f * (g[i] > 0 ? 1 : -1), 1e-6) << i;
  }
}

}  // namespace
}  // namespace curnn
