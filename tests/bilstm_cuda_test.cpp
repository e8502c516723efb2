// The bidirectional LSTM and the MNIST classifier on CUDA against the same engine on the CPU
// reference backend (float32 on both): the layer's outputs, final states, every weight gradient
// and dx at the book's shapes and odd ones; then a few Adam training steps of the classifier with
// both heads (the loss at every step, every gradient, the parameters after).
#include <gtest/gtest.h>

#include "cuda_upload.hpp"
#include "curnn/nn/bilstm.hpp"
#include "curnn/nn/bilstm_classifier.hpp"
#include "curnn/ops/reduce.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

// One direction's weights and gradient buffers on one device.
struct DirectionBuffers {
  DirectionBuffers(const Context& ctx, int E, int H, std::uint64_t seed) : E(E), H(H) {
    wx = upload(ctx, test::random_uniform(E * 4 * H, -0.2, 0.2, seed));
    wh = upload(ctx, test::random_uniform(H * 4 * H, -0.2, 0.2, seed + 1));
    bias = upload(ctx, test::random_uniform(4 * H, -0.2, 0.2, seed + 2));
    dwx = upload_nan(ctx, E * 4 * H), dwh = upload_nan(ctx, H * 4 * H);
    dbias = upload_nan(ctx, 4 * H);
  }
  static Buffer<float> upload(const Context& ctx, const std::vector<float>& v) {
    return test::upload(ctx, v);
  }
  static Buffer<float> upload_nan(const Context& ctx, std::size_t n) {
    return upload(ctx, test::nan_filled(n));
  }
  nn::LstmWeights<float> weights() {
    return {wx.view({E, 4 * H}), wh.view({H, 4 * H}), bias.view({4 * H})};
  }
  nn::LstmWeights<float> grads() {
    return {dwx.view({E, 4 * H}), dwh.view({H, 4 * H}), dbias.view({4 * H})};
  }
  int E, H;
  Buffer<float> wx, wh, bias, dwx, dwh, dbias;
};

// A BiLSTM forward + backward on ctx; the results come back to the host.
struct BiLstmRun {
  BiLstmRun(Context& ctx, int T, int B, int E, int H) : fw(ctx, E, H, 1), bw(ctx, E, H, 11) {
    const auto up = DirectionBuffers::upload;
    Buffer<float> x = up(ctx, test::random_uniform(T * B * E, 0, 1, 21));
    Buffer<float> dy = up(ctx, test::random_uniform(T * B * 2 * H, -1, 1, 22));
    Buffer<float> d_fw_h = up(ctx, test::random_uniform(B * H, -1, 1, 23));
    Buffer<float> d_bw_h = up(ctx, test::random_uniform(B * H, -1, 1, 24));
    Buffer<float> y_buf = DirectionBuffers::upload_nan(ctx, T * B * 2 * H);
    Buffer<float> fw_h_buf = DirectionBuffers::upload_nan(ctx, B * H);
    Buffer<float> bw_h_buf = DirectionBuffers::upload_nan(ctx, B * H);
    Buffer<float> dx_buf = DirectionBuffers::upload_nan(ctx, T * B * E);
    nn::BiLstmLayer<float> layer(E, H, 1.0f);
    layer.forward(ctx, {fw.weights(), bw.weights()}, x.view({T, B, E}), y_buf.view({T, B, 2 * H}),
                  fw_h_buf.view({B, H}), bw_h_buf.view({B, H}));
    layer.backward(ctx, {fw.weights(), bw.weights()}, {fw.grads(), bw.grads()}, Write::Overwrite,
                   x.view({T, B, E}), dy.view({T, B, 2 * H}), d_fw_h.view({B, H}),
                   d_bw_h.view({B, H}), dx_buf.view({T, B, E}));
    y = to_vector(ctx, y_buf.view()), fw_h = to_vector(ctx, fw_h_buf.view()),
    bw_h = to_vector(ctx, bw_h_buf.view());
    dx = to_vector(ctx, dx_buf.view());
    for (DirectionBuffers* d : {&fw, &bw}) {
      grads.push_back(to_vector(ctx, d->dwx.view()));
      grads.push_back(to_vector(ctx, d->dwh.view()));
      grads.push_back(to_vector(ctx, d->dbias.view()));
    }
  }
  DirectionBuffers fw, bw;
  std::vector<float> y, fw_h, bw_h, dx;
  std::vector<std::vector<float>> grads;  // fw wx, wh, bias, then bw's
};

TEST(BiLstmCuda, ForwardAndBackwardMatchReference) {
  CURNN_REQUIRE_CUDA();
  struct Case {
    int T, B, E, H;
  };
  for (const Case c : {Case{28, 128, 28, 256}, Case{5, 7, 9, 37}, Case{1, 3, 2, 5}}) {
    Context cpu = Context::cpu(), gpu = Context::cuda();
    const BiLstmRun ref(cpu, c.T, c.B, c.E, c.H), got(gpu, c.T, c.B, c.E, c.H);
    const std::string s = "T=" + std::to_string(c.T) + " B=" + std::to_string(c.B) +
                          " E=" + std::to_string(c.E) + " H=" + std::to_string(c.H) + " ";
    // 28 recurrent steps of cuBLAS vs OpenBLAS summation orders compound the rounding of
    // one op (~1e-6 of rms): a wider rtol than one op's, for outputs and gradients alike.
    const test::Tolerance bptt{1e-3};
    EXPECT_TRUE(test::expect_close(s + "y", got.y, ref.y, bptt));
    EXPECT_TRUE(test::expect_close(s + "forward final h", got.fw_h, ref.fw_h, bptt));
    EXPECT_TRUE(test::expect_close(s + "backward final h", got.bw_h, ref.bw_h, bptt));
    EXPECT_TRUE(test::expect_close(s + "dx", got.dx, ref.dx, bptt));
    const char* names[] = {"forward dWx",  "forward dWh",  "forward dbias",
                           "backward dWx", "backward dWh", "backward dbias"};
    for (int i = 0; i < 6; ++i) {
      EXPECT_TRUE(test::expect_close(s + names[i], got.grads[i], ref.grads[i], bptt));
    }
  }
}

// Issue 10's stream race: the constructor queues a zero fill of the training state on the
// context's (non-blocking) stream, and initialize() used to copy the weights on the legacy
// stream, so a fill still queued could zero them. With a busy stream in front of the fill, the
// state read back must be the host initialisation bit for bit (the CPU model's).
TEST(BiLstmClassifierCuda, InitializeLandsAfterTheConstructorsFill) {
  CURNN_REQUIRE_CUDA();
  nn::ClassifierConfig cfg;  // the book's sizes
  Context cpu = Context::cpu(), gpu = Context::cuda();
  Buffer<float> busy(Device::CUDA, std::size_t(1) << 26);  // 256 MiB of fills: milliseconds
  for (int i = 0; i < 20; ++i) ops::fill(gpu, busy.view(), static_cast<float>(i));
  nn::BiLstmClassifier<float> ref_model(cpu, cfg), gpu_model(gpu, cfg);
  ref_model.initialize(cpu, 9);
  gpu_model.initialize(gpu, 9);
  EXPECT_EQ(test::host_copy<float>(gpu, gpu_model.training_state()),
            to_vector(cpu, ref_model.training_state()));
}

// MNIST evaluation's last batch is smaller: the buffers sized by the training batch serve it
// (no reallocation, hence no cudaFree synchronising the device), with the same results as the CPU.
TEST(BiLstmClassifierCuda, SmallerLastBatchReusesTheBuffers) {
  CURNN_REQUIRE_CUDA();
  nn::ClassifierConfig cfg;
  cfg.hidden_size = 32;
  const int T = 28, E = cfg.input_size, big = 64, small = 17;
  Context cpu = Context::cpu(), gpu = Context::cuda();
  nn::BiLstmClassifier<float> ref_model(cpu, cfg), gpu_model(gpu, cfg);
  ref_model.initialize(cpu, 3);
  gpu_model.initialize(gpu, 3);
  const auto x = test::random_uniform(T * big * E, 0, 1, 31);
  const auto labels = test::random_ids(big, cfg.num_classes, 32);
  gpu_model.forward(gpu, ConstTensor(x.data(), {T, big, E}, Device::CPU),
                    ConstIds(labels.data(), {big}, Device::CPU), false);
  const float* logits_memory = gpu_model.logits().data();
  const auto xs = test::random_uniform(T * small * E, 0, 1, 33);
  const ConstTensor xv(xs.data(), {T, small, E}, Device::CPU);
  const ConstIds yv(labels.data(), {small}, Device::CPU);
  gpu_model.forward(gpu, xv, yv, false);
  ref_model.forward(cpu, xv, yv, false);
  EXPECT_EQ(gpu_model.logits().data(), logits_memory);
  EXPECT_TRUE(test::expect_close(
      "small batch logits", test::host_copy<float>(gpu, gpu_model.logits()),
      to_vector(cpu, ref_model.logits()), {1e-3}));  // BPTT forward: the layer tests' rtol
  EXPECT_EQ(gpu_model.count_correct(gpu), ref_model.count_correct(cpu));
}

// Four Adam steps of the classifier from the same initial parameters on the same batches.
TEST(BiLstmClassifierCuda, AdamStepsMatchReferenceBothHeads) {
  CURNN_REQUIRE_CUDA();
  for (const auto head : {nn::ClassifierHead::OutputsLast, nn::ClassifierHead::FinalStates}) {
    nn::ClassifierConfig cfg;
    cfg.hidden_size = 64, cfg.head = head;
    const int T = 28, B = 32, E = cfg.input_size;
    Context cpu = Context::cpu(), gpu = Context::cuda();
    nn::BiLstmClassifier<float> ref_model(cpu, cfg), gpu_model(gpu, cfg);
    ref_model.initialize(cpu, 5);
    gpu_model.initialize(gpu, 5);
    const std::string h = std::string(nn::head_name(head)) + " ";
    for (int step = 0; step < 4; ++step) {
      const auto x = test::random_uniform(T * B * E, 0, 1, 100 + step);
      const auto labels = test::random_ids(B, cfg.num_classes, 200 + step);
      const ConstTensor xv(x.data(), {T, B, E}, Device::CPU);
      const ConstIds yv(labels.data(), {B}, Device::CPU);
      ref_model.forward(cpu, xv, yv, true);
      gpu_model.forward(gpu, xv, yv, true);
      const std::string s = h + "step " + std::to_string(step) + " ";
      EXPECT_TRUE(test::expect_close(s + "losses", test::host_copy<float>(gpu, gpu_model.losses()),
                                     to_vector(cpu, ref_model.losses())));
      EXPECT_NEAR(gpu_model.mean_loss(gpu), ref_model.mean_loss(cpu), 1e-4) << s;
      ref_model.backward(cpu);
      gpu_model.backward(gpu);
      // Per parameter (their scales differ), with the BPTT rtol of the layer test above.
      EXPECT_TRUE(test::expect_close_parts(
          s + "gradients", test::host_copy<float>(gpu, gpu_model.grads()),
          to_vector(cpu, ref_model.grads()), test::parts_of(ref_model.layout()), {1e-3}));
      ref_model.adam_step(cpu);
      gpu_model.adam_step(gpu);
    }
    // Adam divides by sqrt(v): gradient differences of 1e-3 relative move a parameter by up to
    // ~1e-3 lr per step, hence the same rtol.
    EXPECT_TRUE(test::expect_close_parts(
        h + "parameters after 4 Adam steps", test::host_copy<float>(gpu, gpu_model.params()),
        to_vector(cpu, ref_model.params()), test::parts_of(ref_model.layout()), {1e-3}));
    EXPECT_EQ(gpu_model.adam_steps(), 4);
  }
}

}  // namespace
}  // namespace curnn
