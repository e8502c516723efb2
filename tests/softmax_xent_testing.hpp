// Shared by tests/softmax_xent_test.cpp and tests/softmax_xent_cuda_test.cpp: the float64
// reference outputs of softmax_xent for float inputs, and logits for the tests.
#pragma once

#include <cstdint>
#include <vector>

#include "curnn/ref/softmax_xent.hpp"
#include "support/random.hpp"

namespace curnn::test {

struct SoftmaxXentOutputs {
  std::vector<double> loss;     // [N]
  std::vector<double> dlogits;  // [N, V]
  std::vector<double> probs;    // [N, V]
};

// ref::softmax_xent<double> on the float logits (converted exactly), all outputs.
inline SoftmaxXentOutputs reference_softmax_xent(int N, int V, const std::vector<float>& logits,
                                                 const std::vector<std::int32_t>& targets,
                                                 double grad_scale) {
  const std::size_t NV = static_cast<std::size_t>(N) * V;
  SoftmaxXentOutputs r{std::vector<double>(N), std::vector<double>(NV), std::vector<double>(NV)};
  const std::vector<double> x = cast<double>(logits);
  ref::softmax_xent<double>(N, V, x.data(), targets.data(), r.loss.data(), r.dlogits.data(),
                            grad_scale, r.probs.data());
  return r;
}

// Logits U(offset - spread, offset + spread), [N, V].
inline std::vector<float> random_logits(int N, int V, double spread, double offset,
                                        std::uint64_t seed) {
  return random_uniform<float>(static_cast<std::size_t>(N) * V, offset - spread, offset + spread,
                               seed);
}

}  // namespace curnn::test
