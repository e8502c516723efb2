// The CPU backend's softmax cross-entropy over rows: ref::softmax_xent's contract and its exact
// results (bit for bit), computed faster. See softmax_xent_cpu.cpp; tested against the reference
// in tests/softmax_xent_cpu_test.cpp.
#pragma once

#include <cstdint>

namespace curnn::ops::cpu {

// As ref::softmax_xent<float> (include/curnn/ref/softmax_xent.hpp), whose argument checks the
// caller has made: loss [N]; dlogits [N, V] or nullptr (may be logits itself); probs [N, V] or
// nullptr. Every output bit equals the reference's.
void softmax_xent_rows(int N, int V, const float* logits /*[N, V]*/,
                       const std::int32_t* targets /*[N]*/, float* loss /*[N]*/,
                       float* dlogits /*[N, V] or nullptr*/, float grad_scale,
                       float* probs /*[N, V] or nullptr*/);

// Test hook: whether softmax_xent_rows takes its vector path on this CPU (AVX2), else it runs
// the reference itself.
bool softmax_xent_rows_vectorized();

}  // namespace curnn::ops::cpu
