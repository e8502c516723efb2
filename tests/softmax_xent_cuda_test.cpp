// Softmax cross-entropy, argmax and accuracy kernels against the CPU reference in float64, through
// the shipped ops on Context::cuda(): the experiments' sizes (PTB V = 10,000 with 20x20 and 20x35
// rows, text8 V = 50,000 with 128 rows, MNIST 10 classes), odd sizes, rows that start off a
// 16-byte boundary, in place and out of place, with and without probs, logits offset by +-1000.
// Outputs start as NaN, and guard zones around every array must come back untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/softmax_xent.hpp"
#include "softmax_xent_testing.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kGuardValue = 3.0e30f;  // around every array; read as a logit it would dominate
constexpr int kGuard = 16;              // guard floats before and after the body

// A device array with `shift` extra floats before its body (to misalign rows) and guard zones.
class GuardedArray {
 public:
  GuardedArray(const std::vector<float>& body, int shift) : n_(body.size()), lead_(kGuard + shift) {
    std::vector<float> host(lead_ + n_ + kGuard, kGuardValue);
    std::copy(body.begin(), body.end(), host.begin() + lead_);
    buffer_ = test::device_copy(host);
  }
  float* body() { return buffer_.data() + lead_; }
  Tensor view(std::initializer_list<std::int64_t> shape) {
    return Tensor(body(), shape, Device::CUDA);
  }
  // The body, after checking (gtest) that the guard zones still hold kGuardValue.
  std::vector<float> body_after(const Context& ctx, const char* what) {
    const std::vector<float> all = test::host_copy(ctx, buffer_);
    std::size_t touched = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if ((i < lead_ || i >= lead_ + n_) && all[i] != kGuardValue) ++touched;
    }
    EXPECT_EQ(touched, 0u) << what << ": guard elements written";
    return std::vector<float>(all.begin() + lead_, all.begin() + lead_ + n_);
  }

 private:
  std::size_t n_, lead_;
  Buffer<float> buffer_;
};

enum class Grad { kNone, kOutOfPlace, kInPlace };

struct Case {
  int N, V;
  Grad grad = Grad::kOutOfPlace;
  bool probs = false;
  double spread = 8.0, offset = 0.0;  // logits U(offset - spread, offset + spread)
  int logits_shift = 0, dlogits_shift = 0, probs_shift = 0;  // floats before each array
  std::uint64_t seed = 1;
};

std::string describe(const Case& c) {
  char s[200];
  std::snprintf(s, sizeof s, "N=%d V=%d %s%s logits %g+-%g shifts %d/%d/%d", c.N, c.V,
                c.grad == Grad::kNone ? "forward-only"
                                      : (c.grad == Grad::kInPlace ? "in-place" : "out-of-place"),
                c.probs ? " +probs" : "", c.offset, c.spread, c.logits_shift, c.dlogits_shift,
                c.probs_shift);
  return s;
}

// Runs ops::softmax_xent on the GPU and compares every output with the float64 reference.
void run_case(Context& ctx, const Case& c) {
  SCOPED_TRACE(describe(c));
  const int N = c.N, V = c.V;
  const std::size_t NV = static_cast<std::size_t>(N) * V;
  const float g = 1.0f / static_cast<float>(N);  // the batch mean's scale
  const auto x = test::random_logits(N, V, c.spread, c.offset, c.seed);
  const auto t = test::random_ids(N, V, c.seed + 1);
  const auto r = test::reference_softmax_xent(N, V, x, t, g);

  GuardedArray logits(x, c.logits_shift);
  GuardedArray loss(test::nan_filled(N), 0);
  GuardedArray dlogits(test::nan_filled(c.grad == Grad::kOutOfPlace ? NV : 0), c.dlogits_shift);
  GuardedArray probs(test::nan_filled(c.probs ? NV : 0), c.probs_shift);
  const Buffer<std::int32_t> targets = test::device_copy(t);
  const Tensor d = c.grad == Grad::kNone
                       ? Tensor()
                       : (c.grad == Grad::kInPlace ? logits.view({N, V}) : dlogits.view({N, V}));
  ops::softmax_xent(ctx, logits.view({N, V}), targets.view({N}), loss.view({N}), d, g,
                    c.probs ? probs.view({N, V}) : Tensor());

  EXPECT_TRUE(test::expect_close("loss", loss.body_after(ctx, "loss"), r.loss));
  const std::vector<float> x_after = logits.body_after(ctx, "logits");
  if (c.grad == Grad::kInPlace) {
    EXPECT_TRUE(test::expect_close("dlogits (in place)", x_after, r.dlogits));
  } else {
    EXPECT_EQ(x_after, x) << "logits changed";
  }
  if (c.grad == Grad::kOutOfPlace) {
    EXPECT_TRUE(test::expect_close("dlogits", dlogits.body_after(ctx, "dlogits"), r.dlogits));
  }
  if (c.probs) EXPECT_TRUE(test::expect_close("probs", probs.body_after(ctx, "probs"), r.probs));
}

TEST(SoftmaxXentCuda, PtbSmallBatch) {  // 20 x 20 words, V = 10,000
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  run_case(ctx, {400, 10000, Grad::kOutOfPlace, true});
  run_case(ctx, {400, 10000, Grad::kInPlace, false, 8.0, 0.0, 0, 0, 0, 2});
}

TEST(SoftmaxXentCuda, PtbMediumBatch) {  // 20 x 35 words
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  run_case(ctx, {700, 10000, Grad::kInPlace, false, 8.0, 0.0, 0, 0, 0, 3});
  run_case(ctx, {700, 10000, Grad::kNone, false, 8.0, 0.0, 0, 0, 0, 4});
}

TEST(SoftmaxXentCuda, Text8Vocabulary) {  // 128 rows of 50,000
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  run_case(ctx, {128, 50000, Grad::kOutOfPlace, false, 8.0, 0.0, 0, 0, 0, 5});
  run_case(ctx, {128, 50000, Grad::kInPlace, true, 8.0, 0.0, 0, 0, 0, 6});
}

TEST(SoftmaxXentCuda, MnistClasses) {  // 128 rows of 10
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const Grad grad : {Grad::kOutOfPlace, Grad::kInPlace, Grad::kNone}) {
    run_case(ctx, {128, 10, grad, true, 8.0, 0.0, 0, 0, 0, 7});
  }
}

TEST(SoftmaxXentCuda, OddSizes) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const int V : {1, 2, 3, 33, 1001, 1024, 1025, 2047, 4099, 10003}) {
    run_case(ctx, {7, V, Grad::kOutOfPlace, true, 8.0, 0.0, 0, 0, 0, 100u + V});
    run_case(ctx, {5, V, Grad::kInPlace, false, 8.0, 0.0, 0, 0, 0, 200u + V});
  }
  run_case(ctx, {1, 10000, Grad::kOutOfPlace, false});  // PTB test pass: batch 1, 1 step
}

// Rows off a 16-byte boundary: congruent arrays (scalar head, float4 body, scalar tail) and
// incongruent ones (element by element).
TEST(SoftmaxXentCuda, MisalignedRows) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const int V : {10, 1001, 5003, 10000}) {
    for (const int shift : {1, 2, 3}) {
      run_case(ctx, {7, V, Grad::kOutOfPlace, true, 8.0, 0.0, shift, shift, shift, 300u + V});
      run_case(ctx, {7, V, Grad::kInPlace, true, 8.0, 0.0, shift, 0, shift + 4, 400u + V});
    }
    run_case(ctx, {7, V, Grad::kOutOfPlace, true, 8.0, 0.0, 1, 2, 3, 500u + V});
    run_case(ctx, {7, V, Grad::kOutOfPlace, false, 8.0, 0.0, 0, 1, 0, 600u + V});
    run_case(ctx, {7, V, Grad::kNone, true, 8.0, 0.0, 0, 0, 1, 700u + V});
  }
}

// The online max: logits far from zero, where exp overflows or underflows a float.
TEST(SoftmaxXentCuda, LargeOffsetsAndMagnitudes) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const int V : {10, 10000}) {
    run_case(ctx, {20, V, Grad::kOutOfPlace, true, 8.0, 1000.0, 0, 0, 0, 800u + V});
    run_case(ctx, {20, V, Grad::kInPlace, false, 8.0, -1000.0, 0, 0, 0, 900u + V});
    run_case(ctx, {20, V, Grad::kOutOfPlace, true, 50.0, 0.0, 0, 0, 0, 1000u + V});
  }
}

// Documented kernel behaviour for a target outside [0, V): loss NaN, dlogits = g * softmax, and an
// ArgumentError at the context's next synchronisation (its message: id_errors_cuda_test.cpp).
TEST(SoftmaxXentCuda, OutOfRangeTargetGivesNaNLossAndNoOneHot) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const int V : {10, 10000}) {
    const int N = 6;
    const float g = 0.5f;
    const auto x = test::random_logits(N, V, 4.0, 0.0, 1100u + V);
    std::vector<std::int32_t> t = test::random_ids(N, V, 1200u + V);
    const std::vector<std::int32_t> valid = t;
    t[1] = -1;
    t[4] = V;
    t[5] = std::numeric_limits<std::int32_t>::min();
    const auto r = test::reference_softmax_xent(N, V, x, valid, g);
    std::vector<double> want_d = r.dlogits;
    for (const int n : {1, 4, 5}) want_d[static_cast<std::size_t>(n) * V + valid[n]] += g;
    GuardedArray logits(x, 0), loss(test::nan_filled(N), 0),
        d(test::nan_filled(static_cast<std::size_t>(N) * V), 0);
    const Buffer<std::int32_t> targets = test::device_copy(t);
    ops::softmax_xent(ctx, logits.view({N, V}), targets.view({N}), loss.view({N}), d.view({N, V}),
                      g);
    EXPECT_THROW(ctx.synchronize(), ArgumentError);
    const auto got_loss = loss.body_after(ctx, "loss");
    for (int n = 0; n < N; ++n) {
      if (n == 1 || n >= 4) {
        EXPECT_TRUE(std::isnan(got_loss[n])) << "row " << n;
      } else {
        EXPECT_NEAR(got_loss[n], r.loss[n], 1e-5 + 1e-4 * std::fabs(r.loss[n])) << "row " << n;
      }
    }
    EXPECT_TRUE(
        test::expect_close("dlogits with bad targets", d.body_after(ctx, "dlogits"), want_d));
  }
}

TEST(SoftmaxXentCuda, RepeatedRunsAreBitwiseIdentical) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  const int N = 128, V = 50000;
  const auto x = test::random_logits(N, V, 8.0, 0.0, 1300);
  const Buffer<float> logits = test::device_copy(x);
  const Buffer<std::int32_t> targets = test::device_copy(test::random_ids(N, V, 1301));
  std::vector<float> first_loss, first_d;
  for (int run = 0; run < 2; ++run) {
    Buffer<float> loss = test::device_poisoned(N), d = test::device_poisoned(x.size());
    ops::softmax_xent(ctx, logits.view({N, V}), targets.view({N}), loss.view({N}), d.view({N, V}),
                      1.0f / N);
    if (run == 0) {
      first_loss = test::host_copy(ctx, loss);
      first_d = test::host_copy(ctx, d);
      EXPECT_FALSE(std::isnan(first_loss[0]));
    } else {
      EXPECT_EQ(test::host_copy(ctx, loss), first_loss);
      EXPECT_EQ(test::host_copy(ctx, d), first_d);
    }
  }
}

TEST(SoftmaxXentCuda, HostTensorsAreRejected) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  std::vector<float> x(20, 1.f), loss(2);
  std::vector<std::int32_t> t(2, 0);
  EXPECT_THROW(ops::softmax_xent(ctx, ConstTensor(x.data(), {2, 10}, Device::CPU),
                                 ConstIds(t.data(), {2}, Device::CPU),
                                 Tensor(loss.data(), {2}, Device::CPU), Tensor(), 1.f),
               ArgumentError);
}

// ---- argmax and accuracy ---------------------------------------------------------------------

// Small integers as floats (many ties), some -inf, and two NaNs in row 3.
std::vector<float> tie_heavy_rows(int N, int C, std::uint64_t seed) {
  std::vector<float> x = test::random_uniform<float>(static_cast<std::size_t>(N) * C, 0, 6, seed);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = i % 97 == 5 ? -std::numeric_limits<float>::infinity() : std::floor(x[i]);
  }
  if (N > 3) {
    x[3 * static_cast<std::size_t>(C) + (C - 1)] = kNaN;
    x[3 * static_cast<std::size_t>(C) + (C - 1) / 2] = kNaN;
  }
  return x;
}

TEST(ArgmaxCuda, MatchesReferenceWithTies) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const int C : {1, 2, 10, 33, 1001, 1025, 10000, 50000}) {
    for (const int N : {7, 128}) {
      for (const int shift : {0, 1}) {
        SCOPED_TRACE(testing::Message() << "N=" << N << " C=" << C << " shift=" << shift);
        const auto x = tie_heavy_rows(N, C, 1400u + C + N);
        std::vector<std::int32_t> want(N);
        ref::argmax_rows<float>(N, C, x.data(), want.data());
        GuardedArray xd(x, shift);
        Buffer<std::int32_t> out = test::device_poisoned<std::int32_t>(N, -7);
        ops::argmax_rows(ctx, xd.view({N, C}), out.view({N}));
        EXPECT_EQ(test::host_copy(ctx, out), want);
      }
    }
  }
}

TEST(CountCorrectCuda, MatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const auto [N, C] :
       {std::pair{10000, 10}, std::pair{128, 10000}, std::pair{7, 33}, std::pair{1000, 1001}}) {
    SCOPED_TRACE(testing::Message() << "N=" << N << " C=" << C);
    const auto x = tie_heavy_rows(N, C, 1500u + C);
    std::vector<std::int32_t> predicted(N);
    ref::argmax_rows<float>(N, C, x.data(), predicted.data());
    std::vector<std::int32_t> labels = test::random_ids(N, C, 1501u + C);
    for (int n = 0; n < N; n += 2) labels[n] = predicted[n];
    std::int64_t want = 0;
    for (int n = 0; n < N; ++n) want += labels[n] == predicted[n];
    const Buffer<float> xd = test::device_copy(x);
    const Buffer<std::int32_t> ld = test::device_copy(labels);
    EXPECT_EQ(ops::count_correct(ctx, xd.view({N, C}), ld.view({N})), want);
    EXPECT_GE(want, N / 2);
    // A label outside [0, C) is an ArgumentError, as on the CPU (id_errors_cuda_test.cpp).
    labels[1] = -1;
    const Buffer<std::int32_t> bad = test::device_copy(labels);
    EXPECT_THROW(ops::count_correct(ctx, xd.view({N, C}), bad.view({N})), ArgumentError);
  }
}

}  // namespace
}  // namespace curnn
