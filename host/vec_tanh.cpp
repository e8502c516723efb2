// Vector tanhf with glibc's results, bit for bit.
//
// glibc's tanhf (sysdeps/ieee754/flt-32/s_tanhf.c, fdlibm's) is, for 2^-55 <= |x| < 22,
//   |x| >= 1:  t = expm1f(2|x|),   tanh = 1 - 2 / (t + 2),
//   |x| <  1:  t = expm1f(-2|x|),  tanh = -t / (t + 2),
// with the sign of x; expm1f (s_expm1f.c) reduces u = k ln2 + r (k = 0 for |u| <= ln2 / 2, k = +-1
// below 1.5 ln2, else k = trunc(u / ln2 +- 1/2)), takes a rational approximation of e^r - 1 in
// float and scales it by 2^k through the exponent's bits, by one of five formulas chosen by k.
// Here every lane computes the reduction, the approximation and all five formulas with the same
// float operations in the same order (no FMA: glibc's generic x86_64 build has none), and keeps
// the one its k selects: 8 lanes give the bits the scalar code gives. Lanes with |x| < 2^-26,
// infinities or NaN are recomputed by libm (tanh there is x, x (1 + x), +-1 or NaN); |x| >= 22
// gives +-(1 - 1e-30) = +-1 as in glibc.
//
// That libm is this method is checked, not assumed: at first use the vector code is compared with
// std::tanh on 2^16 inputs spread over every exponent and sign, and never used if it differs
// (tanh_implementation()). tests/exhaustive/vec_exhaustive.cpp compares all 2^32 inputs (glibc
// 2.36, Debian 12: no difference); tests/vec_tanh_test.cpp sweeps ~3.4e7.
#include "vec_tanh.hpp"

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "vec_blocks.hpp"

namespace curnn::host::vec {
namespace {

// fdlibm's float constants (their bit patterns in the comments).
constexpr float kLn2Hi = 0x1.62e3p-1f;            // 0x3f317180: ln 2's high part, k ln2_hi exact
constexpr float kLn2Lo = 0x1.2fefa2p-17f;         // 0x3717f7d1
constexpr float kInvLn2 = 0x1.715476p+0f;         // 0x3fb8aa3b
constexpr float kQ1 = -0x1.111112p-5f;            // 0xbd088889
constexpr float kQ2 = 0x1.a01a02p-10f;            // 0x3ad00d01
constexpr float kQ3 = -0x1.4ce19ap-14f;           // 0xb8a670cd
constexpr float kQ4 = 0x1.0cfca8p-18f;            // 0x36867e54
constexpr float kQ5 = -0x1.afdb76p-23f;           // 0xb457edbb
constexpr float kOneMinusTiny = 1.0f - 1.0e-30f;  // tanh for |x| >= 22: rounds to 1

__attribute__((target("avx2"))) inline __m256 bits_ps(__m256i v) {
  return _mm256_castsi256_ps(v);
}
__attribute__((target("avx2"))) inline __m256i ps_bits(__m256 v) {
  return _mm256_castps_si256(v);
}
__attribute__((target("avx2"))) inline __m256i i32(int v) {
  return _mm256_set1_epi32(v);
}
__attribute__((target("avx2"))) inline __m256 f32(float v) {
  return _mm256_set1_ps(v);
}
// a where mask (all ones), else b.
__attribute__((target("avx2"))) inline __m256 select(__m256i mask, __m256 a, __m256 b) {
  return _mm256_blendv_ps(b, a, bits_ps(mask));
}

// expm1f(u) in every lane whose |u| < 88 and whose k is not +1 (k = +1 needs 0.5 ln2 < u <
// 1.5 ln2, which tanh never asks for); *unhandled gets the lanes with k = +1.
__attribute__((target("avx2"))) __m256 expm1_lanes(__m256 u, __m256i* unhandled) {
  const __m256i ui = ps_bits(u);
  const __m256i hu = _mm256_and_si256(ui, i32(0x7fffffff));
  const __m256i negative = _mm256_cmpgt_epi32(i32(0), ui);
  const __m256i k_zero = _mm256_cmpgt_epi32(i32(0x3eb17219), hu);  // |u| <= ln2 / 2
  const __m256i k_one = _mm256_andnot_si256(k_zero, _mm256_cmpgt_epi32(i32(0x3f851592), hu));
  // |u| >= 1.5 ln2: k = trunc(u / ln2 +- 1/2), hi = u - k ln2_hi, lo = k ln2_lo.
  const __m256 half = select(negative, f32(-0.5f), f32(0.5f));
  const __m256i k_far = _mm256_cvttps_epi32(_mm256_add_ps(half, _mm256_mul_ps(f32(kInvLn2), u)));
  const __m256 t_far = _mm256_cvtepi32_ps(k_far);
  const __m256 hi_far = _mm256_sub_ps(u, _mm256_mul_ps(f32(kLn2Hi), t_far));
  const __m256 lo_far = _mm256_mul_ps(t_far, f32(kLn2Lo));
  // ln2 / 2 < |u| < 1.5 ln2: k = +-1, hi = u -+ ln2_hi, lo = +-ln2_lo.
  const __m256 hi_one =
      select(negative, _mm256_add_ps(u, f32(kLn2Hi)), _mm256_sub_ps(u, f32(kLn2Hi)));
  const __m256 lo_one = select(negative, f32(-kLn2Lo), f32(kLn2Lo));
  const __m256i k = _mm256_andnot_si256(
      k_zero, _mm256_blendv_epi8(k_far, _mm256_or_si256(negative, i32(1)), k_one));
  *unhandled = _mm256_andnot_si256(negative, k_one);
  const __m256 hi = select(k_one, hi_one, hi_far), lo = select(k_one, lo_one, lo_far);
  const __m256 x_reduced = _mm256_sub_ps(hi, lo);
  const __m256 c = _mm256_sub_ps(_mm256_sub_ps(hi, x_reduced), lo);
  const __m256 x = select(k_zero, u, x_reduced);
  // The rational approximation on the reduced x.
  const __m256 hfx = _mm256_mul_ps(x, f32(0.5f));
  const __m256 hxs = _mm256_mul_ps(x, hfx);
  __m256 r1 = _mm256_add_ps(_mm256_mul_ps(f32(kQ5), hxs), f32(kQ4));
  r1 = _mm256_add_ps(_mm256_mul_ps(r1, hxs), f32(kQ3));
  r1 = _mm256_add_ps(_mm256_mul_ps(r1, hxs), f32(kQ2));
  r1 = _mm256_add_ps(_mm256_mul_ps(r1, hxs), f32(kQ1));
  r1 = _mm256_add_ps(_mm256_mul_ps(r1, hxs), f32(1.0f));
  const __m256 t = _mm256_sub_ps(f32(3.0f), _mm256_mul_ps(hfx, r1));
  const __m256 e = _mm256_mul_ps(
      _mm256_div_ps(_mm256_sub_ps(r1, t), _mm256_sub_ps(f32(6.0f), _mm256_mul_ps(t, x))), hxs);
  // k = 0: x - (x e - hxs).
  const __m256 r_zero = _mm256_sub_ps(x, _mm256_sub_ps(_mm256_mul_ps(e, x), hxs));
  // k != 0: e' = (x (e - c) - c) - hxs, then by k.
  const __m256 ek = _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_sub_ps(e, c), x), c), hxs);
  const __m256i k_exponent = _mm256_slli_epi32(k, 23);  // k added to a float's exponent
  const __m256 e_minus_x = _mm256_sub_ps(ek, x);
  //   k = -1: (x - e') / 2 - 1/2.
  const __m256 r_minus_one =
      _mm256_sub_ps(_mm256_mul_ps(_mm256_sub_ps(x, ek), f32(0.5f)), f32(0.5f));
  //   k <= -2 or k > 56: (1 - (e' - x)) 2^k - 1.
  const __m256 r_outer = _mm256_sub_ps(
      bits_ps(_mm256_add_epi32(ps_bits(_mm256_sub_ps(f32(1.0f), e_minus_x)), k_exponent)),
      f32(1.0f));
  //   2 <= k <= 22: ((1 - 2^-k) - (e' - x)) 2^k.
  const __m256 one_minus_2_to_minus_k =
      bits_ps(_mm256_sub_epi32(i32(0x3f800000), _mm256_srlv_epi32(i32(0x1000000), k)));
  const __m256 r_near = bits_ps(
      _mm256_add_epi32(ps_bits(_mm256_sub_ps(one_minus_2_to_minus_k, e_minus_x)), k_exponent));
  //   23 <= k <= 56: ((x - (e' + 2^-k)) + 1) 2^k.
  const __m256 two_to_minus_k = bits_ps(_mm256_slli_epi32(_mm256_sub_epi32(i32(0x7f), k), 23));
  const __m256 r_mid = bits_ps(_mm256_add_epi32(
      ps_bits(_mm256_add_ps(_mm256_sub_ps(x, _mm256_add_ps(ek, two_to_minus_k)), f32(1.0f))),
      k_exponent));
  const __m256i is_minus_one = _mm256_cmpeq_epi32(k, i32(-1));
  const __m256i is_outer =
      _mm256_or_si256(_mm256_cmpgt_epi32(i32(-1), k), _mm256_cmpgt_epi32(k, i32(56)));
  const __m256i is_near = _mm256_cmpgt_epi32(i32(23), k);  // among the rest: 2 <= k <= 22
  __m256 r = select(is_near, r_near, r_mid);
  r = select(is_outer, r_outer, r);
  r = select(is_minus_one, r_minus_one, r);
  return select(k_zero, r_zero, r);
}

__attribute__((target("avx2"))) void tanh8_avx2(const float* xp, float* yp) {
  const __m256 x = _mm256_loadu_ps(xp);
  const __m256i xi = ps_bits(x);
  const __m256i ix = _mm256_and_si256(xi, i32(0x7fffffff));
  const __m256i at_least_one = _mm256_cmpgt_epi32(ix, i32(0x3f7fffff));
  const __m256i from_22 = _mm256_cmpgt_epi32(ix, i32(0x41afffff));
  const __m256 ax = bits_ps(ix);
  const __m256 u = select(at_least_one, _mm256_add_ps(ax, ax), _mm256_mul_ps(ax, f32(-2.0f)));
  __m256i unhandled;
  const __m256 t = expm1_lanes(u, &unhandled);
  const __m256 t_plus_2 = _mm256_add_ps(t, f32(2.0f));
  const __m256 z_large = _mm256_sub_ps(f32(1.0f), _mm256_div_ps(f32(2.0f), t_plus_2));
  const __m256 z_small =
      _mm256_div_ps(bits_ps(_mm256_xor_si256(ps_bits(t), i32(INT32_MIN))), t_plus_2);
  __m256 z = select(at_least_one, z_large, z_small);
  z = select(from_22, f32(kOneMinusTiny), z);
  const __m256 out = bits_ps(_mm256_xor_si256(ps_bits(z), _mm256_and_si256(xi, i32(INT32_MIN))));
  // libm's lanes: |x| < 2^-26, infinities and NaN (and k = +1, which tanh never reaches).
  const __m256i by_libm = _mm256_or_si256(_mm256_or_si256(_mm256_cmpgt_epi32(i32(0x32800000), ix),
                                                          _mm256_cmpgt_epi32(ix, i32(0x7f7fffff))),
                                          _mm256_andnot_si256(from_22, unhandled));
  const auto lanes = static_cast<unsigned>(_mm256_movemask_ps(bits_ps(by_libm)));
  if (lanes == 0) {
    _mm256_storeu_ps(yp, out);
    return;
  }
  alignas(32) float in[8], res[8];
  _mm256_store_ps(in, x);
  _mm256_store_ps(res, out);
  for (unsigned m = lanes; m != 0; m &= m - 1) {
    const int l = __builtin_ctz(m);
    res[l] = std::tanh(in[l]);
  }
  std::memcpy(yp, res, sizeof(res));
}

bool cpu_runs_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// The edges of tanhf's and expm1f's cases, checked first at first use.
constexpr float kCheckedFirst[] = {
    0.0f,     -0.0f,     1.0f,     -1.0f,     22.0f, -22.0f, 0.17328679f, 0.51986039f,
    0x1p-26f, -0x1p-26f, INFINITY, -INFINITY, NAN,   9.0f,   19.5f,       28.0f};

bool agrees_with_libm() {
  return detail::agrees_with_libm(
      tanh8_avx2, [](float v) { return std::tanh(v); }, kCheckedFirst);
}

bool use_avx2() {
  static const bool yes = cpu_runs_avx2() && agrees_with_libm();  // once, thread-safe
  return yes;
}

}  // namespace

void tanh(std::int64_t n, const float* x, float* y) {
  if (use_avx2()) {
    detail::apply_by_8(tanh8_avx2, n, x, y);
  } else {
    for (std::int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
  }
}

const char* tanh_implementation() {
  return use_avx2() ? "avx2" : "libm";
}

bool tanh_avx2(std::int64_t n, const float* x, float* y) {
  if (!cpu_runs_avx2()) return false;
  detail::apply_by_8(tanh8_avx2, n, x, y);
  return true;
}

}  // namespace curnn::host::vec
