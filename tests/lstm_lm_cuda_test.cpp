// The LM engine on CUDA against the CPU reference backend:
//  - dropout off: a small LM trained for 5 SGD steps from the same initial parameters, with the
//    loss at every step and every gradient tensor compared under the one tolerance rule;
//  - dropout on: the CPU and CUDA mask generators differ by design, so the CUDA engine is
//    compared with the LM recomposed on the CPU and fed the masks the CUDA backend draws
//    (tests/lm_fed_masks.hpp; LstmLm.DropoutWindowsMatchTheFedMaskReference checks that
//    recomposition against the CPU engine bit for bit).
#include <gtest/gtest.h>

#include <cmath>

#include "curnn/nn/lstm_lm.hpp"
#include "lm_fed_masks.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

nn::LmConfig odd_config(double keep_prob) {
  nn::LmConfig cfg = nn::lm_config("small");
  cfg.vocab_size = 203, cfg.hidden_size = 37, cfg.num_steps = 7, cfg.batch_size = 5;
  cfg.keep_prob = keep_prob;
  return cfg;
}

// Gradients and parameters go through T = 7 steps of BPTT and then SGD at lr 1: cuBLAS vs the
// CPU GEMM's summation orders compound over the steps, so they get rtol 1e-3 (one op: 1e-4).
constexpr test::Tolerance kBptt{1e-3};

TEST(LstmLmCuda, FiveSgdStepsMatchTheReferenceEngine) {
  CURNN_REQUIRE_CUDA();
  const nn::LmConfig cfg = odd_config(1.0);
  Context cpu = Context::cpu(), gpu = Context::cuda();
  nn::LstmLanguageModel<float> ref_lm(cpu, cfg), gpu_lm(gpu, cfg);
  ref_lm.initialize(17);
  gpu_lm.initialize(17);
  auto ref_state = ref_lm.zero_state(cpu, cfg.batch_size);
  auto gpu_state = gpu_lm.zero_state(gpu, cfg.batch_size);
  const int N = cfg.num_steps * cfg.batch_size;
  const auto dense_parts = test::parts_of(ref_lm.layout(), ref_lm.embedding_numel());
  for (int step = 0; step < 5; ++step) {
    const auto x = test::random_ids(N, cfg.vocab_size, 100 + step);
    const auto y = test::random_ids(N, cfg.vocab_size, 200 + step);
    const ConstIds xi(x.data(), {cfg.num_steps, cfg.batch_size}, Device::CPU);
    const ConstIds yi(y.data(), {cfg.num_steps, cfg.batch_size}, Device::CPU);
    std::vector<float> ref_cost(1, 0.f), ref_norm(1, NAN);
    Buffer<float> gpu_cost = test::device_poisoned<float>(1, 0.f);
    Buffer<float> gpu_norm = test::device_poisoned<float>(1);
    ref_lm.forward(cpu, xi, yi, ref_state, true, 0, 0, Tensor(ref_cost.data(), {1}, Device::CPU));
    gpu_lm.forward(gpu, xi, yi, gpu_state, true, 0, 0, gpu_cost.view());
    ref_lm.backward(cpu);
    gpu_lm.backward(gpu);
    const std::string s = "step " + std::to_string(step) + " ";
    EXPECT_TRUE(test::expect_close(s + "loss rows", test::host_copy(gpu, gpu_lm.loss_rows()),
                                   test::host_copy(cpu, ref_lm.loss_rows())));
    // One element (budget 2 rtol |cost|): a sum of 35 losses, 1e-5 relative as before.
    EXPECT_TRUE(test::expect_close(s + "cost", test::host_copy(gpu, gpu_cost), ref_cost, {5e-6}));
    EXPECT_TRUE(
        test::expect_close_parts(s + "dense gradients", test::host_copy(gpu, gpu_lm.dense_grads()),
                                 test::host_copy(cpu, ref_lm.dense_grads()), dense_parts, kBptt));
    EXPECT_TRUE(test::expect_close(s + "embedding row gradients",
                                   test::host_copy(gpu, gpu_lm.embedding_row_grads()),
                                   test::host_copy(cpu, ref_lm.embedding_row_grads()), kBptt));
    ref_lm.sgd_step(cpu, 1.0f, Tensor(ref_norm.data(), {1}, Device::CPU));
    gpu_lm.sgd_step(gpu, 1.0f, gpu_norm.view());
    EXPECT_TRUE(test::expect_close(s + "global norm", test::host_copy(gpu, gpu_norm), ref_norm));
  }
  EXPECT_TRUE(test::expect_close_parts(
      "parameters after 5 steps", test::host_copy(gpu, gpu_lm.params()),
      test::host_copy(cpu, ref_lm.params()), test::parts_of(ref_lm.layout()), kBptt));
}

// Dropout on (keep 0.5, two layers): three windows with carried state and SGD between them;
// the masks are the CUDA backend's own (seed, offset) masks, fed to the CPU recomposition.
TEST(LstmLmCuda, DropoutWindowsMatchTheFedMaskReference) {
  CURNN_REQUIRE_CUDA();
  Context gpu = Context::cuda();
  test::expect_lm_matches_fed_masks(gpu, odd_config(0.5), /*windows=*/3, {test::kFloatTol, kBptt});
}

}  // namespace
}  // namespace curnn
