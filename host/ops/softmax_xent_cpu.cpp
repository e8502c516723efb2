// The CPU backend's softmax cross-entropy rows, bit for bit ref::softmax_xent<float>:
//   m = max_v x[v] (the reference's scan: m = x[0], then m = x[v] > m ? x[v] : m),
//   e[v] = exp(x[v] - m), s = e[0] + e[1] + ... (in that order), loss = (m - x[t]) + log(s),
//   p[v] = e[v] / s, d[v] = grad_scale * (p[v] - [v == t]).
// What is faster than the reference, with the same float operations on every element:
//   - the max in 8 lanes (vmaxps(a, b) = a > b ? a : b is the scan's own step): the scan's value,
//     but for the sign of a zero maximum (+0 and -0 compare equal), which no output sees:
//     x[v] - m and m - x[t] differ only in a zero's sign, exp(+-0) = 1, and a zero m - x[t] is
//     added to log(s) >= 0 (-0 + +0 = +0). A NaN x[0] stays NaN in every lane, as in the scan;
//   - the exponentials taken a chunk at a time by host::vec::exp (libm's expf, bit for bit, 8
//     lanes at a time), each chunk summed in order before the next;
//   - the normalisation in 8 lanes (division, subtraction and product are exact IEEE operations
//     lane by lane), the target's element written last.
// The sum stays one sequential chain: its order is the reference's. Without AVX the reference
// runs. Tests: tests/softmax_xent_cpu_test.cpp (against ref::softmax_xent, memcmp).
#include "softmax_xent_cpu.hpp"

#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "../vec_exp.hpp"
#include "curnn/ref/softmax_xent.hpp"

namespace curnn::ops::cpu {
namespace {

constexpr int kChunk = 512;  // elements per exp-then-sum chunk (2 KB: stays in L1)

__attribute__((target("avx"))) float row_max(int V, const float* x) {
  __m256 m8 = _mm256_set1_ps(x[0]);
  int v = 0;
  for (; v + 8 <= V; v += 8) m8 = _mm256_max_ps(_mm256_loadu_ps(x + v), m8);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m8);
  float m = lanes[0];
  for (int l = 1; l < 8; ++l) m = lanes[l] > m ? lanes[l] : m;
  for (; v < V; ++v) m = x[v] > m ? x[v] : m;
  return m;
}

__attribute__((target("avx"))) void rows_avx(int N, int V, const float* logits,
                                             const std::int32_t* targets, float* loss,
                                             float* dlogits, float grad_scale, float* probs) {
  alignas(32) float chunk[kChunk];
  for (int n = 0; n < N; ++n) {
    const std::int64_t row = static_cast<std::int64_t>(n) * V;
    const float* x = logits + row;  // [V]
    const int t = targets[n];
    const float m = row_max(V, x);
    const float x_t = x[t];                        // read before d (which may alias x) is written
    float* d = dlogits ? dlogits + row : nullptr;  // [V]
    float* p = probs ? probs + row : nullptr;      // [V]
    float* e = p ? p : d;                          // the exponentials' row, if any
    const __m256 m8 = _mm256_set1_ps(m);
    float s = 0;
    for (int v0 = 0; v0 < V; v0 += kChunk) {
      const int len = V - v0 < kChunk ? V - v0 : kChunk;
      float* ev = e ? e + v0 : chunk;
      int i = 0;
      for (; i + 8 <= len; i += 8) {
        _mm256_storeu_ps(ev + i, _mm256_sub_ps(_mm256_loadu_ps(x + v0 + i), m8));
      }
      for (; i < len; ++i) ev[i] = x[v0 + i] - m;
      host::vec::exp(len, ev, ev);  // libm's expf, bit for bit
      for (i = 0; i < len; ++i) s += ev[i];
    }
    loss[n] = (m - x_t) + std::log(s);
    if (!e) continue;
    const float p_t = e[t] / s;
    const __m256 s8 = _mm256_set1_ps(s), scale8 = _mm256_set1_ps(grad_scale);
    const __m256 zero8 = _mm256_setzero_ps();
    int v = 0;
    for (; v + 8 <= V; v += 8) {
      const __m256 pv = _mm256_div_ps(_mm256_loadu_ps(e + v), s8);
      if (p) _mm256_storeu_ps(p + v, pv);
      if (d) _mm256_storeu_ps(d + v, _mm256_mul_ps(scale8, _mm256_sub_ps(pv, zero8)));
    }
    for (; v < V; ++v) {
      const float pv = e[v] / s;
      if (p) p[v] = pv;
      if (d) d[v] = grad_scale * (pv - 0.0f);
    }
    if (d) d[t] = grad_scale * (p_t - 1.0f);
  }
}

bool cpu_has_avx() {
  static const bool has = __builtin_cpu_supports("avx");
  return has;
}

}  // namespace

bool softmax_xent_rows_vectorized() {
  return cpu_has_avx();
}

void softmax_xent_rows(int N, int V, const float* logits, const std::int32_t* targets, float* loss,
                       float* dlogits, float grad_scale, float* probs) {
  if (cpu_has_avx()) {
    rows_avx(N, V, logits, targets, loss, dlogits, grad_scale, probs);
  } else {
    ref::softmax_xent<float>(N, V, logits, targets, loss, dlogits, grad_scale, probs);
  }
}

}  // namespace curnn::ops::cpu
