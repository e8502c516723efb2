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
#include "curnn/ops/reduce.hpp"
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
  ref_lm.initialize(cpu, 17);
  gpu_lm.initialize(gpu, 17);
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

// Issue 10's stream race, LM side: initialize() used to copy on the legacy stream while the
// context's non-blocking stream could still hold work on the parameters (here a training step
// behind a busy stream): that step's SGD update could land after the new weights. The parameters
// read back must be the host initialisation bit for bit (the CPU model's).
TEST(LstmLmCuda, InitializeLandsAfterQueuedTraining) {
  CURNN_REQUIRE_CUDA();
  nn::LmConfig cfg = nn::lm_config("small");
  cfg.vocab_size = 1000, cfg.hidden_size = 64, cfg.num_steps = 10, cfg.batch_size = 8;
  Context cpu = Context::cpu(), gpu = Context::cuda();
  nn::LstmLanguageModel<float> ref_lm(cpu, cfg), gpu_lm(gpu, cfg);
  ref_lm.initialize(cpu, 23);
  gpu_lm.initialize(gpu, 5);
  Buffer<float> busy(Device::CUDA, std::size_t(1) << 26);
  for (int i = 0; i < 20; ++i) ops::fill(gpu, busy.view(), static_cast<float>(i));
  const int N = cfg.num_steps * cfg.batch_size;
  const auto x = test::random_ids(N, cfg.vocab_size, 41),
             y = test::random_ids(N, cfg.vocab_size, 42);
  auto state = gpu_lm.zero_state(gpu, cfg.batch_size);
  Buffer<float> norm(Device::CUDA, 1);
  gpu_lm.forward(gpu, ConstIds(x.data(), {cfg.num_steps, cfg.batch_size}, Device::CPU),
                 ConstIds(y.data(), {cfg.num_steps, cfg.batch_size}, Device::CPU), state, true, 0,
                 0);
  gpu_lm.backward(gpu);
  gpu_lm.sgd_step(gpu, 1.0f, norm.view());
  gpu_lm.initialize(gpu, 23);
  EXPECT_EQ(test::host_copy(gpu, gpu_lm.params()), to_vector(cpu, ref_lm.params().view()));
}

// Dropout on: the engine keeps views of its masks (no copies into the layers' tapes) and carries
// the state through the layers' last steps. The CUDA and CPU mask generators differ by design,
// so this checks the run itself: finite gradients, carried state and norm, and bitwise
// reproducibility of a repeated step.
TEST(LstmLmCuda, DropoutTrainingStepIsFiniteAndReproducible) {
  CURNN_REQUIRE_CUDA();
  nn::LmConfig cfg = nn::lm_config("medium");
  cfg.vocab_size = 500, cfg.hidden_size = 48, cfg.num_steps = 9, cfg.batch_size = 6;
  Context gpu = Context::cuda();
  const int N = cfg.num_steps * cfg.batch_size;
  const auto x = test::random_ids(N, cfg.vocab_size, 51),
             y = test::random_ids(N, cfg.vocab_size, 52);
  const auto run = [&] {
    nn::LstmLanguageModel<float> lm(gpu, cfg);
    lm.initialize(gpu, 7);
    auto state = lm.zero_state(gpu, cfg.batch_size);
    Buffer<float> norm(Device::CUDA, 1);
    lm.forward(gpu, ConstIds(x.data(), {cfg.num_steps, cfg.batch_size}, Device::CPU),
               ConstIds(y.data(), {cfg.num_steps, cfg.batch_size}, Device::CPU), state, true, 3, 0);
    lm.backward(gpu);
    std::vector<float> out = test::host_copy(gpu, lm.dense_grads());
    const std::vector<float> rows = test::host_copy(gpu, lm.embedding_row_grads());
    out.insert(out.end(), rows.begin(), rows.end());
    for (const auto& h : state.h) {
      const std::vector<float> v = test::host_copy(gpu, h);
      out.insert(out.end(), v.begin(), v.end());
    }
    lm.sgd_step(gpu, 1.0f, norm.view());
    out.push_back(test::host_copy(gpu, norm)[0]);
    return out;
  };
  const std::vector<float> first = run(), second = run();
  for (const float v : first) ASSERT_TRUE(std::isfinite(v));
  EXPECT_EQ(first, second);
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
