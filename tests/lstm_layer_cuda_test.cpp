// nn::LstmLayer on CUDA against the same layer on the CPU reference backend (float32 on both):
// both directions, with and without an initial state (h0, c0 in, dh0, dc0 out), with and without
// an output dropout mask, Overwrite and Accumulate gradients; the outputs y, hT, cT and every
// gradient (dWx, dWh, dbias, dx, dh0, dc0), at the experiments' shapes (PTB small and medium,
// MNIST) and odd ones. Inputs are random, outputs NaN-poisoned (tests/lstm_layer_runs.hpp).
#include <gtest/gtest.h>

#include "lstm_layer_runs.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"

namespace curnn {
namespace {

using nn::Direction;
using test::LayerCase;

// T steps of BPTT compound the difference between cuBLAS's and the CPU GEMM's summation orders
// (one op: ~1e-6 of rms); LstmLayer.FloatMatchesDoubleUnderTheCudaTolerance (lstm_lm_test.cpp)
// measures what a float engine shows against a double one at these shapes: well inside 1e-3.
constexpr test::Tolerance kBptt{1e-3};

void expect_cuda_matches_cpu(const LayerCase& k) {
  Context cpu = Context::cpu(), gpu = Context::cuda();
  const test::LayerRun<float> want(cpu, k), got(gpu, k);
  test::expect_layer_results_close(k, got.results(), want.results(), kBptt);
}

TEST(LstmLayerCuda, PtbSmallShapesBothDirections) {
  CURNN_REQUIRE_CUDA();
  expect_cuda_matches_cpu({20, 20, 200, 200, Direction::Forward, true, false, false});
  expect_cuda_matches_cpu({20, 20, 200, 200, Direction::Forward, false, true, false});
  expect_cuda_matches_cpu({20, 20, 200, 200, Direction::Reverse, true, true, false});
  expect_cuda_matches_cpu({20, 20, 200, 200, Direction::Reverse, false, false, true});
}

TEST(LstmLayerCuda, PtbMediumAndMnistShapes) {
  CURNN_REQUIRE_CUDA();
  expect_cuda_matches_cpu({35, 20, 650, 650, Direction::Forward, true, true, false});
  expect_cuda_matches_cpu({28, 128, 28, 128, Direction::Reverse, false, false, false});
  expect_cuda_matches_cpu({28, 128, 28, 128, Direction::Forward, true, true, true});
}

TEST(LstmLayerCuda, OddShapesEveryOption) {
  CURNN_REQUIRE_CUDA();
  for (const Direction dir : {Direction::Forward, Direction::Reverse}) {
    for (const bool state : {false, true}) {
      for (const bool dropout : {false, true}) {
        expect_cuda_matches_cpu({5, 3, 7, 37, dir, state, dropout, dropout && !state});
      }
    }
    expect_cuda_matches_cpu({1, 4, 9, 33, dir, true, true, true});  // a single step
  }
}

}  // namespace
}  // namespace curnn
