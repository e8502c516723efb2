// One forward + backward of nn::LstmLayer on any backend and element type, from the same random
// inputs (drawn in float, so that a float and a double run start from identical values), with
// every output and gradient brought back to the host as double. Used by
// tests/lstm_layer_cuda_test.cpp (CUDA float vs CPU float) and tests/lstm_lm_test.cpp (CPU
// float vs CPU double: the rounding a float engine may show, under the same tolerance).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_upload.hpp"
#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/nn/lstm.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn::test {

struct LayerCase {
  int T, B, E, H;
  nn::Direction dir;
  bool initial_state;  // h0, c0 given and dh0, dc0 wanted (else all four empty)
  bool dropout;        // an output mask with keep 0.6
  bool accumulate;     // Write::Accumulate into non-zero gradient buffers
};

inline std::string describe(const LayerCase& k) {
  return std::string(k.dir == nn::Direction::Forward ? "forward" : "reverse") +
         " T=" + std::to_string(k.T) + " B=" + std::to_string(k.B) + " E=" + std::to_string(k.E) +
         " H=" + std::to_string(k.H) + (k.initial_state ? " h0/c0" : "") +
         (k.dropout ? " dropout" : "") + (k.accumulate ? " accumulate" : "");
}

// Every result of one run, in double, named for messages.
struct LayerResults {
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;
};

template <class Scalar>
class LayerRun {
 public:
  LayerRun(Context& ctx, const LayerCase& k) : ctx_(ctx) {
    const int G = 4 * k.H;
    const std::size_t TB = std::size_t(k.T) * k.B;
    Buffer<Scalar> wx = put(random_uniform(std::size_t(k.E) * G, -0.3, 0.3, 1)),
                   wh = put(random_uniform(std::size_t(k.H) * G, -0.3, 0.3, 2)),
                   bias = put(random_uniform(G, -0.5, 0.5, 3)),
                   x = put(random_uniform(TB * k.E, -1, 1, 4)),
                   h0 = put(random_uniform(std::size_t(k.B) * k.H, -0.8, 0.8, 5)),
                   c0 = put(random_uniform(std::size_t(k.B) * k.H, -1.5, 1.5, 6)),
                   dy = put(random_uniform(TB * k.H, -1, 1, 7)),
                   dhT = put(random_uniform(std::size_t(k.B) * k.H, -1, 1, 8)),
                   dcT = put(random_uniform(std::size_t(k.B) * k.H, -1, 1, 9));
    std::vector<float> mask = random_uniform(TB * k.H, 0, 1, 10);
    for (float& m : mask) m = m < 0.6f ? 1 / 0.6f : 0.0f;
    Buffer<Scalar> mask_buf = put(mask);
    // Outputs NaN-poisoned; gradients too, or random when accumulating into them.
    const auto grad_start = [&](std::size_t n, std::uint64_t seed) {
      return put(k.accumulate ? random_uniform(n, -1, 1, seed) : nan_filled(n));
    };
    Buffer<Scalar> y = put(nan_filled(TB * k.H)), hT = put(nan_filled(std::size_t(k.B) * k.H)),
                   cT = put(nan_filled(std::size_t(k.B) * k.H)),
                   dwx = grad_start(std::size_t(k.E) * G, 11),
                   dwh = grad_start(std::size_t(k.H) * G, 12), dbias = grad_start(G, 13),
                   dx = put(nan_filled(TB * k.E)), dh0 = put(nan_filled(std::size_t(k.B) * k.H)),
                   dc0 = put(nan_filled(std::size_t(k.B) * k.H));
    using CV = TensorView<const Scalar>;
    using V = TensorView<Scalar>;
    const nn::LstmWeights<Scalar> w{wx.view({k.E, G}), wh.view({k.H, G}), bias.view({G})};
    const nn::LstmWeights<Scalar> g{dwx.view({k.E, G}), dwh.view({k.H, G}), dbias.view({G})};
    nn::LstmLayer<Scalar> layer(k.E, k.H, /*forget_bias=*/1.0f, k.dir);
    layer.forward(ctx, w, x.view({k.T, k.B, k.E}), k.initial_state ? CV(h0.view({k.B, k.H})) : CV(),
                  k.initial_state ? CV(c0.view({k.B, k.H})) : CV(), y.view({k.T, k.B, k.H}),
                  hT.view({k.B, k.H}), cT.view({k.B, k.H}),
                  k.dropout ? CV(mask_buf.view({k.T, k.B, k.H})) : CV());
    layer.backward(ctx, w, g, k.accumulate ? Write::Accumulate : Write::Overwrite,
                   x.view({k.T, k.B, k.E}), dy.view({k.T, k.B, k.H}), dhT.view({k.B, k.H}),
                   dcT.view({k.B, k.H}), dx.view({k.T, k.B, k.E}),
                   k.initial_state ? V(dh0.view({k.B, k.H})) : V(),
                   k.initial_state ? V(dc0.view({k.B, k.H})) : V());
    add("y", y);
    add("final h", hT);
    add("final c", cT);
    add("dWx", dwx);
    add("dWh", dwh);
    add("dbias", dbias);
    add("dx", dx);
    if (k.initial_state) {
      add("dh0", dh0);
      add("dc0", dc0);
    }
  }
  const LayerResults& results() const { return results_; }

 private:
  Buffer<Scalar> put(const std::vector<float>& v) {
    const std::vector<Scalar> s(v.begin(), v.end());
    if (ctx_.is_cuda()) return upload(ctx_, s);
    Buffer<Scalar> b(Device::CPU, s.size());
    std::copy(s.begin(), s.end(), b.data());
    return b;
  }
  void add(const char* name, const Buffer<Scalar>& b) {
    const std::vector<Scalar> v = host_copy(ctx_, b);
    results_.names.push_back(name);
    results_.values.emplace_back(v.begin(), v.end());
  }

  Context& ctx_;
  LayerResults results_;
};

// Every result of `got` against `want` under tol, each tensor on its own.
inline void expect_layer_results_close(const LayerCase& k, const LayerResults& got,
                                       const LayerResults& want, Tolerance tol) {
  ASSERT_EQ(got.names, want.names);
  for (std::size_t i = 0; i < got.names.size(); ++i) {
    EXPECT_TRUE(expect_close(describe(k) + " " + got.names[i], got.values[i], want.values[i], tol));
  }
}

}  // namespace curnn::test
