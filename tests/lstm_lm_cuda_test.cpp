// The LM engine on CUDA against the same engine on the CPU reference backend: a small LM
// trained for 5 SGD steps from the same initial parameters, with the loss at every step and
// every gradient tensor compared under the one tolerance rule. (Dropout off: the two backends'
// mask generators differ by design.)
#include <gtest/gtest.h>

#include <cmath>

#include "curnn/nn/lstm_lm.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

TEST(LstmLmCuda, FiveSgdStepsMatchTheReferenceEngine) {
  CURNN_REQUIRE_CUDA();
  nn::LmConfig cfg = nn::lm_config("small");
  cfg.vocab_size = 203, cfg.hidden_size = 37, cfg.num_steps = 7, cfg.batch_size = 5;
  cfg.keep_prob = 1.0;
  Context cpu = Context::cpu(), gpu = Context::cuda();
  nn::LstmLanguageModel<float> ref_lm(cpu, cfg), gpu_lm(gpu, cfg);
  ref_lm.initialize(17);
  gpu_lm.initialize(17);
  auto ref_state = ref_lm.zero_state(cpu, cfg.batch_size);
  auto gpu_state = gpu_lm.zero_state(gpu, cfg.batch_size);
  const int N = cfg.num_steps * cfg.batch_size;
  for (int step = 0; step < 5; ++step) {
    const auto x = test::random_ids(N, cfg.vocab_size, 100 + step);
    const auto y = test::random_ids(N, cfg.vocab_size, 200 + step);
    const ConstIds xi(x.data(), {cfg.num_steps, cfg.batch_size}, Device::CPU);
    const ConstIds yi(y.data(), {cfg.num_steps, cfg.batch_size}, Device::CPU);
    std::vector<float> ref_cost(1, 0.f), ref_norm(1, NAN);
    Buffer<float> gpu_cost = test::device_poisoned<float>(1, 0.f), gpu_norm(Device::CUDA, 1);
    ref_lm.forward(cpu, xi, yi, ref_state, true, 0, 0, Tensor(ref_cost.data(), {1}, Device::CPU));
    gpu_lm.forward(gpu, xi, yi, gpu_state, true, 0, 0, gpu_cost.view());
    ref_lm.backward(cpu);
    gpu_lm.backward(gpu);
    const std::string s = "step " + std::to_string(step) + " ";
    EXPECT_TRUE(test::expect_close(s + "loss rows", test::host_copy(gpu, gpu_lm.loss_rows()),
                                   to_vector(ref_lm.loss_rows()), {1e-5, 1e-4}));
    EXPECT_TRUE(test::expect_close(s + "cost", test::host_copy(gpu, gpu_cost), ref_cost,
                                   {1e-4, 1e-5}));
    EXPECT_TRUE(test::expect_close(s + "dense gradients",
                                   test::host_copy(gpu, gpu_lm.dense_grads()),
                                   to_vector(ref_lm.dense_grads().view()), {1e-5, 1e-3}));
    EXPECT_TRUE(test::expect_close(s + "embedding row gradients",
                                   test::host_copy(gpu, gpu_lm.embedding_row_grads()),
                                   to_vector(ref_lm.embedding_row_grads().view()), {1e-6, 1e-3}));
    ref_lm.sgd_step(cpu, 1.0f, Tensor(ref_norm.data(), {1}, Device::CPU));
    gpu_lm.sgd_step(gpu, 1.0f, gpu_norm.view());
    EXPECT_TRUE(test::expect_close(s + "global norm", test::host_copy(gpu, gpu_norm), ref_norm,
                                   {1e-5, 1e-4}));
  }
  EXPECT_TRUE(test::expect_close("parameters after 5 steps", test::host_copy(gpu, gpu_lm.params()),
                                 to_vector(ref_lm.params().view()), {1e-5, 1e-3}));
}

}  // namespace
}  // namespace curnn
