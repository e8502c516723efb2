// NCE family on the GPU: ops::nce_loss on Context::cuda() against the double reference, on
// random inputs (sampled classes and log Q from the real sampler), NaN-poisoned outputs, at
// the book's sizes and odd ones; determinism; out-of-range ids.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/log_uniform_sampler.hpp"
#include "curnn/ops/nce.hpp"
#include "curnn/ref/nce.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

// Host inputs of one NCE step: the sampler draws the S classes and their log Q; two labels
// repeat and one label is also a sampled class.
struct NceCase {
  int B, E, S, V;
  float grad_scale;
  std::vector<float> x, weights, biases, log_q_true, log_q_sampled;
  std::vector<std::int32_t> labels, sampled;

  NceCase(int B_, int E_, int S_, int V_, std::uint64_t seed)
      : B(B_),
        E(E_),
        S(S_),
        V(V_),
        grad_scale(1.0f / static_cast<float>(B_)),
        x(test::random_uniform(std::size_t(B) * E, -1, 1, seed)),
        weights(test::random_uniform(std::size_t(V) * E, -0.15, 0.15, seed + 1)),
        biases(test::random_uniform(std::size_t(V), -0.1, 0.1, seed + 2)),
        log_q_true(B),
        log_q_sampled(S),
        labels(test::random_ids(std::size_t(B), V, seed + 3)) {
    const LogUniformSampler sampler(V);
    std::mt19937_64 rng(seed + 4);
    const UniqueSample s = sampler.sample_unique(S, rng);
    sampled = s.ids;
    if (B >= 3) {
      labels[B - 1] = labels[0];
      labels[1] = sampled[S - 1];
    }
    sampler.log_expected_counts(s, labels.data(), B, log_q_true.data(), log_q_sampled.data());
  }

  struct Outputs {
    std::vector<double> loss, dx, dw_true, db_true, dw_sampled, db_sampled;
  };
  Outputs reference(bool backward) const {
    Outputs r{std::vector<double>(B),
              std::vector<double>(std::size_t(B) * E),
              std::vector<double>(std::size_t(B) * E),
              std::vector<double>(B),
              std::vector<double>(std::size_t(S) * E),
              std::vector<double>(S)};
    ref::nce_loss<double>(B, E, S, V, test::cast<double>(x).data(),
                          test::cast<double>(weights).data(), test::cast<double>(biases).data(),
                          labels.data(), sampled.data(), test::cast<double>(log_q_true).data(),
                          test::cast<double>(log_q_sampled).data(), r.loss.data(), grad_scale,
                          backward ? r.dx.data() : nullptr, r.dw_true.data(), r.db_true.data(),
                          r.dw_sampled.data(), r.db_sampled.data());
    return r;
  }
};

// Device copies of a case and NaN-poisoned outputs; runs the shipped op.
struct DeviceNce {
  const NceCase& c;
  Buffer<float> x, weights, biases, log_q_true, log_q_sampled;
  Buffer<std::int32_t> labels, sampled;
  Buffer<float> loss, dx, dw_true, db_true, dw_sampled, db_sampled;

  explicit DeviceNce(const NceCase& c_)
      : c(c_),
        x(test::device_copy(c.x)),
        weights(test::device_copy(c.weights)),
        biases(test::device_copy(c.biases)),
        log_q_true(test::device_copy(c.log_q_true)),
        log_q_sampled(test::device_copy(c.log_q_sampled)),
        labels(test::device_copy(c.labels)),
        sampled(test::device_copy(c.sampled)) {
    poison();
  }
  void poison() {
    loss = test::device_poisoned(c.B);
    dx = test::device_poisoned(std::size_t(c.B) * c.E);
    dw_true = test::device_poisoned(std::size_t(c.B) * c.E);
    db_true = test::device_poisoned(c.B);
    dw_sampled = test::device_poisoned(std::size_t(c.S) * c.E);
    db_sampled = test::device_poisoned(c.S);
  }
  void run(Context& ctx, bool backward) {
    const int B = c.B, E = c.E, S = c.S, V = c.V;
    if (backward) {
      ops::nce_loss(ctx, x.view({B, E}), weights.view({V, E}), biases.view({V}), labels.view({B}),
                    sampled.view({S}), log_q_true.view({B}), log_q_sampled.view({S}),
                    loss.view({B}), c.grad_scale,
                    {dx.view({B, E}), dw_true.view({B, E}), db_true.view({B}),
                     dw_sampled.view({S, E}), db_sampled.view({S})});
    } else {
      ops::nce_loss(ctx, x.view({B, E}), weights.view({V, E}), biases.view({V}), labels.view({B}),
                    sampled.view({S}), log_q_true.view({B}), log_q_sampled.view({S}),
                    loss.view({B}));
    }
  }
};

void expect_matches_reference(const NceCase& c, bool backward) {
  Context ctx = Context::cuda();
  DeviceNce d(c);
  d.run(ctx, backward);
  const auto ref = c.reference(backward);
  const std::string tag = "B" + std::to_string(c.B) + " E" + std::to_string(c.E) + " S" +
                          std::to_string(c.S) + " V" + std::to_string(c.V) + " ";
  EXPECT_TRUE(test::expect_close(tag + "loss", test::host_copy(ctx, d.loss), ref.loss));
  if (!backward) {
    // Forward only writes nothing else: the gradient buffers keep their poison.
    for (float v : test::host_copy(ctx, d.dx)) ASSERT_TRUE(std::isnan(v));
    for (float v : test::host_copy(ctx, d.db_sampled)) ASSERT_TRUE(std::isnan(v));
    return;
  }
  EXPECT_TRUE(test::expect_close(tag + "dx", test::host_copy(ctx, d.dx), ref.dx));
  EXPECT_TRUE(test::expect_close(tag + "dw_true", test::host_copy(ctx, d.dw_true), ref.dw_true));
  EXPECT_TRUE(test::expect_close(tag + "db_true", test::host_copy(ctx, d.db_true), ref.db_true));
  EXPECT_TRUE(
      test::expect_close(tag + "dw_sampled", test::host_copy(ctx, d.dw_sampled), ref.dw_sampled));
  EXPECT_TRUE(
      test::expect_close(tag + "db_sampled", test::host_copy(ctx, d.db_sampled), ref.db_sampled));
}

TEST(NceCuda, BookSizeForwardBackward) {
  CURNN_REQUIRE_CUDA();
  expect_matches_reference(NceCase(128, 128, 64, 50000, 100), true);
}

TEST(NceCuda, BookSizeForwardOnly) {
  CURNN_REQUIRE_CUDA();
  expect_matches_reference(NceCase(128, 128, 64, 50000, 200), false);
}

TEST(NceCuda, OddSizesForwardBackward) {
  CURNN_REQUIRE_CUDA();
  expect_matches_reference(NceCase(7, 37, 5, 1001, 300), true);
  expect_matches_reference(NceCase(33, 100, 45, 1001, 310),
                           true);  // 8 rows in flight: a partial round
}

// Every register width of the example kernel: E <= 128 keeps 8 sampled rows in flight per warp,
// E <= 256 four, E <= 512 two, E <= 1024 one; S is chosen to leave a partial last round.
TEST(NceCuda, EveryRowsInFlightWidth) {
  CURNN_REQUIRE_CUDA();
  expect_matches_reference(NceCase(9, 128, 71, 2000, 320), true);   // 8 rows, rounds of 64
  expect_matches_reference(NceCase(9, 200, 45, 2000, 330), true);   // 4 rows, rounds of 32
  expect_matches_reference(NceCase(9, 256, 17, 2000, 340), false);  // 4 rows
  expect_matches_reference(NceCase(5, 400, 21, 800, 350), true);    // 2 rows, rounds of 16
  expect_matches_reference(NceCase(4, 1024, 9, 300, 360), true);    // 1 row, rounds of 8
}

TEST(NceCuda, OddSizesForwardOnly) {
  CURNN_REQUIRE_CUDA();
  expect_matches_reference(NceCase(7, 37, 5, 1001, 400), false);
}

TEST(NceCuda, WideEmbeddingsForwardBackward) {
  CURNN_REQUIRE_CUDA();
  expect_matches_reference(NceCase(6, 300, 40, 500, 500), true);   // E in (256, 512]
  expect_matches_reference(NceCase(5, 1000, 33, 300, 510), true);  // > 48 KB shared memory
}

TEST(NceCuda, DeterministicRunToRun) {
  CURNN_REQUIRE_CUDA();
  const NceCase c(128, 128, 64, 50000, 600);
  Context ctx = Context::cuda();
  DeviceNce d(c);
  d.run(ctx, true);
  const auto dx1 = test::host_copy(ctx, d.dx), dws1 = test::host_copy(ctx, d.dw_sampled);
  const auto loss1 = test::host_copy(ctx, d.loss);
  d.poison();
  d.run(ctx, true);
  EXPECT_EQ(test::host_copy(ctx, d.dx), dx1);
  EXPECT_EQ(test::host_copy(ctx, d.dw_sampled), dws1);
  EXPECT_EQ(test::host_copy(ctx, d.loss), loss1);
}

// Out-of-range ids make what they touch NaN, never read out of bounds, and are an ArgumentError at
// the context's next synchronisation (its message: id_errors_cuda_test.cpp).
TEST(NceCuda, OutOfRangeIdsGiveNaNNotOutOfBoundsReads) {
  CURNN_REQUIRE_CUDA();
  NceCase c(9, 40, 7, 300, 700);
  c.labels[4] = c.V;  // one bad label: only example 4 is NaN
  {
    Context ctx = Context::cuda();
    DeviceNce d(c);
    d.run(ctx, true);
    EXPECT_THROW(ctx.synchronize(), ArgumentError);
    const auto loss = test::host_copy(ctx, d.loss), dx = test::host_copy(ctx, d.dx);
    for (int b = 0; b < c.B; ++b) {
      EXPECT_EQ(std::isnan(loss[b]), b == 4) << b;
      EXPECT_EQ(std::isnan(dx[std::size_t(b) * c.E]), b == 4) << b;
    }
  }
  c.labels[4] = 0;
  c.sampled[3] = -5;  // a bad sampled id poisons every example
  Context ctx = Context::cuda();
  DeviceNce d(c);
  d.run(ctx, false);
  EXPECT_THROW(ctx.synchronize(), ArgumentError);
  for (float v : test::host_copy(ctx, d.loss)) EXPECT_TRUE(std::isnan(v));
}

TEST(NceCuda, RejectsHostTensors) {
  CURNN_REQUIRE_CUDA();
  const NceCase c(4, 8, 3, 20, 800);
  Context ctx = Context::cuda();
  DeviceNce d(c);
  std::vector<float> host_loss(4);
  EXPECT_THROW(ops::nce_loss(ctx, d.x.view({4, 8}), d.weights.view({20, 8}), d.biases.view({20}),
                             d.labels.view({4}), d.sampled.view({3}), d.log_q_true.view({4}),
                             d.log_q_sampled.view({3}), Tensor(host_loss.data(), {4}, Device::CPU)),
               ArgumentError);
}

}  // namespace
}  // namespace curnn
