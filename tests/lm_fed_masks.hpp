// A reference for the LM with dropout on any backend: one training window of the PTB LM
// (curnn/nn/lstm_lm.hpp) recomposed on the CPU from its public pieces (embedding gather,
// nn::LstmLayer, GEMMs, softmax cross-entropy) with the dropout masks FED by the caller.
//
// Why: the CPU and CUDA mask generators differ by design (include/curnn/ref/dropout.hpp), so
// the CPU engine cannot reproduce a CUDA run with dropout. The masks the engine uses are
// ops::dropout_mask(ctx, seed, mask_offset + k, keep_prob, [T*B*H]) with k = 0 for the
// embedding output and k = 1 + l for layer l's output; lm_masks() draws exactly those on the
// engine's own backend, and FedMaskLm::window() runs the window on the CPU with them.
// tests/lstm_lm_test.cpp checks this recomposition against the CPU engine (with CPU masks);
// tests/lstm_lm_cuda_test.cpp then uses it as the reference of the CUDA engine with CUDA masks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/nn/lstm.hpp"
#include "curnn/nn/lstm_lm.hpp"
#include "curnn/ops/dropout.hpp"
#include "curnn/ops/embedding.hpp"
#include "curnn/ops/gemm.hpp"
#include "curnn/ops/reduce.hpp"
#include "curnn/ops/softmax_xent.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn::test {

// n NaNs on ctx's device (the CPU or a GPU).
inline Buffer<float> poisoned_on(const Context& ctx, std::size_t n) {
  if (ctx.is_cuda()) return device_poisoned<float>(n);
  Buffer<float> b(Device::CPU, n);
  std::fill(b.data(), b.data() + n, std::numeric_limits<float>::quiet_NaN());
  return b;
}

// The L+1 masks [T*B*H] of the training window that starts at mask_offset, drawn on ctx's
// backend as the engine draws them, returned to the host.
inline std::vector<std::vector<float>> lm_masks(Context& ctx, const nn::LmConfig& cfg,
                                                std::uint64_t seed, std::uint64_t mask_offset,
                                                int T, int B) {
  std::vector<std::vector<float>> masks;
  for (int k = 0; k <= cfg.num_layers; ++k) {
    Buffer<float> m = poisoned_on(ctx, std::size_t(T) * B * cfg.hidden_size);
    ops::dropout_mask(ctx, seed, mask_offset + k, static_cast<float>(cfg.keep_prob), m.view());
    masks.push_back(host_copy(ctx, m));
  }
  return masks;
}

// What one training window gives: the per-word losses, the dense gradients (laid out as the
// engine's dense_grads()) and the gradients of the gathered embedding rows [T*B, H].
struct LmWindowResult {
  std::vector<float> loss_rows, dense_grads, embedding_row_grads;
};

class FedMaskLm {
 public:
  explicit FedMaskLm(const nn::LmConfig& cfg) : cfg_(cfg), cpu_(Context::cpu()), lm_(cpu_, cfg) {
    for (int l = 0; l < cfg.num_layers; ++l) {
      layers_.emplace_back(cfg.hidden_size, cfg.hidden_size, /*forget_bias=*/0.0f);
    }
  }

  // One training window from `params` (the engine's flat layout) and the carried state
  // h[l], c[l] [B*H] (updated in place), with masks[k] [T*B*H] as lm_masks() returns them.
  LmWindowResult window(const std::vector<float>& params, const std::vector<std::int32_t>& inputs,
                        const std::vector<std::int32_t>& targets, int T, int B,
                        const std::vector<std::vector<float>>& masks,
                        std::vector<std::vector<float>>& h, std::vector<std::vector<float>>& c) {
    const int L = cfg_.num_layers, H = cfg_.hidden_size, V = cfg_.vocab_size, N = T * B;
    const float* p = params.data();
    std::copy(p, p + params.size(), lm_.params().data());
    Buffer<float>& w = lm_.params();
    std::vector<std::int32_t> in = inputs, tgt = targets;
    // acts[0]: the dropped-out embedding output; acts[1 + l]: layer l's (dropped-out) output.
    std::vector<std::vector<float>> acts(L + 1, std::vector<float>(std::size_t(N) * H));
    ops::embedding_gather(cpu_, view_of(in, {N}), lm_.slice(w, "embedding"),
                          view_of(acts[0], {N, H}));
    apply(masks[0], acts[0]);
    for (int l = 0; l < L; ++l) {
      layers_[l].forward(cpu_, lm_.layer_weights(w, l), view_of(acts[l], {T, B, H}),
                         view_of(h[l], {B, H}), view_of(c[l], {B, H}),
                         view_of(acts[l + 1], {T, B, H}), view_of(h[l], {B, H}),
                         view_of(c[l], {B, H}), cview(masks[l + 1], {T, B, H}));
    }
    std::vector<float> logits(std::size_t(N) * V), loss(N);
    ops::gemm(cpu_, Transpose::No, Transpose::No, view_of(acts[L], {N, H}),
              lm_.slice(w, "softmax_w"), view_of(logits, {N, V}), Write::Overwrite);
    ops::add_row_vector(cpu_, lm_.slice(w, "softmax_b"), view_of(logits, {N, V}));
    // dlogits over the logits, scaled by 1/B as the engine's cost = sum of losses / B.
    ops::softmax_xent(cpu_, view_of(logits, {N, V}), view_of(tgt, {N}), view_of(loss, {N}),
                      view_of(logits, {N, V}), 1.0f / static_cast<float>(B));

    // Backward: the softmax layer, then down the layers (no gradient into the carried state).
    Buffer<float>& g = lm_.dense_grads();
    const std::int64_t base = lm_.embedding_numel();
    std::vector<float> dy(std::size_t(N) * H), dx(dy.size());
    ops::gemm(cpu_, Transpose::Yes, Transpose::No, view_of(acts[L], {N, H}),
              view_of(logits, {N, V}), lm_.slice(g, "softmax_w", base), Write::Overwrite);
    ops::column_sum(cpu_, view_of(logits, {N, V}), lm_.slice(g, "softmax_b", base), false);
    ops::gemm(cpu_, Transpose::No, Transpose::Yes, view_of(logits, {N, V}),
              lm_.slice(w, "softmax_w"), view_of(dy, {N, H}), Write::Overwrite);
    for (int l = L - 1; l >= 0; --l) {
      layers_[l].backward(cpu_, lm_.layer_weights(w, l), lm_.layer_weights(g, l, base),
                          Write::Overwrite, view_of(acts[l], {T, B, H}), view_of(dy, {T, B, H}), {},
                          {}, view_of(dx, {T, B, H}), {}, {});
      dy.swap(dx);
    }
    apply(masks[0], dy);  // through the embedding output's dropout
    const float* gd = g.data();
    return {loss, std::vector<float>(gd, gd + g.size()), dy};
  }

 private:
  static TensorView<const float> cview(const std::vector<float>& v,
                                       std::initializer_list<std::int64_t> shape) {
    return TensorView<const float>(v.data(), shape, Device::CPU);
  }
  static void apply(const std::vector<float>& mask, std::vector<float>& x) {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] *= mask[i];
  }

  nn::LmConfig cfg_;
  Context cpu_;
  nn::LstmLanguageModel<float> lm_;
  std::vector<nn::LstmLayer<float>> layers_;
};

// Tolerances of expect_lm_matches_fed_masks: the per-word losses, and everything that went
// back through the T steps of BPTT (gradients, the carried state).
struct LmTolerances {
  Tolerance loss, bptt;
};

// `windows` training windows of an LM with dropout (cfg.keep_prob < 1) on ctx, carried state and
// an SGD step after each, against FedMaskLm fed the masks ctx's backend draws. Every window
// starts both from the engine's own parameters and state, so each is compared from identical
// inputs. Runs on the CPU backend (tests/lstm_lm_test.cpp) and on CUDA (lstm_lm_cuda_test.cpp).
inline void expect_lm_matches_fed_masks(Context& ctx, const nn::LmConfig& cfg, int windows,
                                        LmTolerances tol) {
  const int T = cfg.num_steps, B = cfg.batch_size, L = cfg.num_layers, H = cfg.hidden_size;
  const std::uint64_t seed = 29;
  nn::LstmLanguageModel<float> lm(ctx, cfg);
  lm.initialize(ctx, 13);
  auto state = lm.zero_state(ctx, B);
  FedMaskLm ref(cfg);
  Buffer<float> norm = poisoned_on(ctx, 1);
  for (int w = 0; w < windows; ++w) {
    const std::string s = "window " + std::to_string(w) + " ";
    const auto x = random_ids(std::size_t(T) * B, cfg.vocab_size, 300 + w);
    const auto y = random_ids(x.size(), cfg.vocab_size, 400 + w);
    const std::uint64_t offset = 7 + std::uint64_t(w) * (L + 1);  // as the app advances it
    const std::vector<float> params = host_copy(ctx, lm.params());
    std::vector<std::vector<float>> h, c;
    for (int l = 0; l < L; ++l) {
      h.push_back(host_copy(ctx, state.h[l]));
      c.push_back(host_copy(ctx, state.c[l]));
    }
    const auto masks = lm_masks(ctx, cfg, seed, offset, T, B);
    std::size_t dropped = 0;
    for (const auto& m : masks) dropped += std::count(m.begin(), m.end(), 0.0f);
    const double n = double(masks.size() * masks[0].size()), p = 1 - cfg.keep_prob;
    EXPECT_NEAR(dropped / n, p, 5 * std::sqrt(p * (1 - p) / n)) << s << "the masks' drop rate";

    lm.forward(ctx, ConstIds(x.data(), {T, B}, Device::CPU),
               ConstIds(y.data(), {T, B}, Device::CPU), state, /*training=*/true, seed, offset);
    lm.backward(ctx);
    const LmWindowResult want = ref.window(params, x, y, T, B, masks, h, c);
    EXPECT_TRUE(
        expect_close(s + "loss rows", host_copy(ctx, lm.loss_rows()), want.loss_rows, tol.loss));
    EXPECT_TRUE(expect_close_parts(s + "dense gradients", host_copy(ctx, lm.dense_grads()),
                                   want.dense_grads, parts_of(lm.layout(), lm.embedding_numel()),
                                   tol.bptt));
    EXPECT_TRUE(expect_close(s + "embedding row gradients",
                             host_copy(ctx, lm.embedding_row_grads()), want.embedding_row_grads,
                             tol.bptt));
    for (int l = 0; l < L; ++l) {
      const std::string layer = s + "layer " + std::to_string(l);
      EXPECT_TRUE(expect_close(layer + " carried h", host_copy(ctx, state.h[l]), h[l], tol.bptt));
      EXPECT_TRUE(expect_close(layer + " carried c", host_copy(ctx, state.c[l]), c[l], tol.bptt));
    }
    lm.sgd_step(ctx, 1.0f, norm.view());
  }
}

}  // namespace curnn::test
