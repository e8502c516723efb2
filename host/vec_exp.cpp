// Vector expf with glibc's results, bit for bit.
//
// glibc (2.28 and later, x86_64) computes expf in double precision (the method of ARM's
// optimized-routines, sysdeps/ieee754/flt-32/e_expf.c), and on CPUs with FMA its ifunc runs the
// variant compiled with FMA (__expf_fma). With N = 32, for |x| < 88:
//   z  = x N / ln2:  kd = fma(N/ln2, x, 0x1.8p52) rounds z to the integer k (ties to even) in
//                    the low bits of kd, r = fma(N/ln2, x, -(kd - 0x1.8p52)) = z - k;
//   2^(k/N) = s:     the bits of 2^((k mod N)/N) (a table) plus k << (52 - 5) (the exponent);
//   expf(x) = (float) ((fma(fma(C0, r, C1), r*r, fma(r, C2, 1))) * s),
// C0..C2 a cubic fitted to 2^(r/N). Every one of those operations is an IEEE operation that the
// vector units perform identically lane by lane, so 8 (AVX-512) or 4 (AVX2) lanes at a time give
// the same bits as the scalar code. Lanes with |x| >= 88, infinities or NaN (glibc's special
// cases: overflow, underflow, denormal results with errno) are recomputed by libm itself.
//
// That libm is this method is checked, not assumed: at first use each implementation is compared
// with std::exp on 2^16 inputs spread over every exponent and sign, and one that differs is never
// used (exp_implementation() says which runs). tests/exhaustive/vec_exhaustive.cpp compares all
// 2^32 inputs (run on glibc 2.36, Debian 12: no difference); tests/vec_exp_test.cpp sweeps ~10^7.
#include "vec_exp.hpp"

// GCC 12's AVX-512 headers trip -Wuninitialized on their own _mm512_undefined_* placeholders.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "vec_blocks.hpp"

namespace curnn::host::vec {
namespace {

// 2^(i/32), correctly rounded, i = 0..31. The table holds their bits minus i << 47, so adding
// k << 47 (k = i + 32 e) gives the bits of 2^(k/32).
constexpr double kTwoToTheIOver32[32] = {
    0x1.0000000000000p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0, 0x1.11301d0125b51p+0,
    0x1.172b83c7d517bp+0, 0x1.1d4873168b9aap+0, 0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0,
    0x1.306fe0a31b715p+0, 0x1.371a7373aa9cbp+0, 0x1.3dea64c123422p+0, 0x1.44e086061892dp+0,
    0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0, 0x1.6247eb03a5585p+0,
    0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0, 0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0,
    0x1.8ace5422aa0dbp+0, 0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0,
    0x1.ae89f995ad3adp+0, 0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0, 0x1.cb720dcef9069p+0,
    0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0, 0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0,
};
constexpr double kNOverLn2 = 0x1.71547652b82fep+5;  // 32 / ln 2
constexpr double kShift = 0x1.8p52;                 // rounds to an integer in the low bits
constexpr double kC0 = 0x1.c6af84b912394p-20, kC1 = 0x1.ebfce50fac4f3p-13,
                 kC2 = 0x1.62e42ff0c52d6p-6;
// |x| >= 88 (and infinities, NaN): glibc's special cases, left to libm.
constexpr std::uint32_t kAbsBitsOf88 = 0x42b00000;

struct Table {
  alignas(64) std::int64_t bits[32];
  Table() {
    for (int i = 0; i < 32; ++i) {
      std::memcpy(&bits[i], &kTwoToTheIOver32[i], sizeof(double));
      bits[i] -= std::int64_t{i} << 47;
    }
  }
};
const Table kTable;

void exp_libm(std::int64_t n, const float* x, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

// The lanes of xf (a bit mask) that glibc treats as special cases: |x| >= 88, infinities, NaN.
__attribute__((target("avx2"))) unsigned special_lanes(__m256 xf) {
  const __m256i abs_bits = _mm256_and_si256(_mm256_castps_si256(xf), _mm256_set1_epi32(0x7fffffff));
  return static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(
      _mm256_cmpgt_epi32(abs_bits, _mm256_set1_epi32(static_cast<int>(kAbsBitsOf88 - 1))))));
}

// y[0..8) = out, but the lanes in `special` recomputed by libm from the inputs xf (y may be the
// inputs' own memory).
__attribute__((target("avx"))) void store_with_libm_lanes(unsigned special, __m256 xf, __m256 out,
                                                          float* y) {
  if (special == 0) {
    _mm256_storeu_ps(y, out);
    return;
  }
  alignas(32) float in[8], res[8];
  _mm256_store_ps(in, xf);
  _mm256_store_ps(res, out);
  for (; special != 0; special &= special - 1) {
    const int l = __builtin_ctz(special);
    res[l] = std::exp(in[l]);
  }
  std::memcpy(y, res, sizeof(res));
}

__attribute__((target("avx512f,avx2,fma"))) void exp8_avx512(const float* x, float* y) {
  const __m256 xf = _mm256_loadu_ps(x);
  const __m512d n_over_ln2 = _mm512_set1_pd(kNOverLn2), shift = _mm512_set1_pd(kShift);
  const __m512d xd = _mm512_cvtps_pd(xf);
  __m512d kd = _mm512_fmadd_pd(n_over_ln2, xd, shift);
  const __m512i ki = _mm512_castpd_si512(kd);
  kd = _mm512_sub_pd(kd, shift);
  const __m512d r = _mm512_fmsub_pd(n_over_ln2, xd, kd);
  // Table entry k mod 32: entries 0-15 and 16-31 each by one two-register permute, then bit 4.
  const __m512i t0 = _mm512_load_si512(kTable.bits), t1 = _mm512_load_si512(kTable.bits + 8);
  const __m512i t2 = _mm512_load_si512(kTable.bits + 16), t3 = _mm512_load_si512(kTable.bits + 24);
  const __m512i low = _mm512_permutex2var_epi64(t0, ki, t1);
  const __m512i high = _mm512_permutex2var_epi64(t2, ki, t3);
  const __mmask8 upper = _mm512_test_epi64_mask(ki, _mm512_set1_epi64(16));
  const __m512i t =
      _mm512_add_epi64(_mm512_mask_blend_epi64(upper, low, high), _mm512_slli_epi64(ki, 47));
  const __m512d z = _mm512_fmadd_pd(_mm512_set1_pd(kC0), r, _mm512_set1_pd(kC1));
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d p = _mm512_fmadd_pd(r, _mm512_set1_pd(kC2), _mm512_set1_pd(1.0));
  p = _mm512_fmadd_pd(z, r2, p);
  const __m256 out = _mm512_cvtpd_ps(_mm512_mul_pd(p, _mm512_castsi512_pd(t)));
  store_with_libm_lanes(special_lanes(xf), xf, out, y);
}

__attribute__((target("avx2,fma"))) __m128 exp4_avx2(__m128 xf) {
  const __m256d n_over_ln2 = _mm256_set1_pd(kNOverLn2), shift = _mm256_set1_pd(kShift);
  const __m256d xd = _mm256_cvtps_pd(xf);
  __m256d kd = _mm256_fmadd_pd(n_over_ln2, xd, shift);
  const __m256i ki = _mm256_castpd_si256(kd);
  kd = _mm256_sub_pd(kd, shift);
  const __m256d r = _mm256_fmsub_pd(n_over_ln2, xd, kd);
  const __m256i entry = _mm256_i64gather_epi64(reinterpret_cast<const long long*>(kTable.bits),
                                               _mm256_and_si256(ki, _mm256_set1_epi64x(31)), 8);
  const __m256i t = _mm256_add_epi64(entry, _mm256_slli_epi64(ki, 47));
  const __m256d z = _mm256_fmadd_pd(_mm256_set1_pd(kC0), r, _mm256_set1_pd(kC1));
  const __m256d r2 = _mm256_mul_pd(r, r);
  __m256d p = _mm256_fmadd_pd(r, _mm256_set1_pd(kC2), _mm256_set1_pd(1.0));
  p = _mm256_fmadd_pd(z, r2, p);
  return _mm256_cvtpd_ps(_mm256_mul_pd(p, _mm256_castsi256_pd(t)));
}

__attribute__((target("avx2,fma"))) void exp8_avx2(const float* x, float* y) {
  const __m256 xf = _mm256_loadu_ps(x);
  const __m256 out = _mm256_set_m128(exp4_avx2(_mm256_extractf128_ps(xf, 1)),
                                     exp4_avx2(_mm256_castps256_ps128(xf)));
  store_with_libm_lanes(special_lanes(xf), xf, out, y);
}

// With the two inputs on which glibc's expf without FMA (its SSE2 build) differs from the FMA
// build reproduced here: a libm that took the other ifunc fails the first-use check.
constexpr float kCheckedFirst[] = {
    0.0f,        -0.0f,    88.0f,     -88.0f, 88.7228394f, -87.33654f,     -103.97208f,
    -103.27893f, INFINITY, -INFINITY, NAN,    1e-30f,      0x1.04845ep+5f, -0x1.f8cbb2p+5f};

bool agrees_with_libm(detail::Kernel8 exp8) {
  return detail::agrees_with_libm(
      exp8, [](float v) { return std::exp(v); }, kCheckedFirst);
}

bool cpu_runs_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
                          __builtin_cpu_supports("fma");
  return yes;
}
bool cpu_runs_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

struct Choice {
  detail::Kernel8 exp8 = nullptr;  // nullptr: libm
  const char* name = "libm";
  Choice() {
    if (cpu_runs_avx512() && agrees_with_libm(exp8_avx512)) {
      exp8 = exp8_avx512, name = "avx512";
    } else if (cpu_runs_avx2() && agrees_with_libm(exp8_avx2)) {
      exp8 = exp8_avx2, name = "avx2";
    }
  }
};

const Choice& choice() {
  static const Choice c;  // thread-safe, once
  return c;
}

}  // namespace

void exp(std::int64_t n, const float* x, float* y) {
  const Choice& c = choice();
  if (c.exp8) {
    detail::apply_by_8(c.exp8, n, x, y);
  } else {
    exp_libm(n, x, y);
  }
}

const char* exp_implementation() {
  return choice().name;
}

bool exp_avx512(std::int64_t n, const float* x, float* y) {
  if (!cpu_runs_avx512()) return false;
  detail::apply_by_8(exp8_avx512, n, x, y);
  return true;
}

bool exp_avx2(std::int64_t n, const float* x, float* y) {
  if (!cpu_runs_avx2()) return false;
  detail::apply_by_8(exp8_avx2, n, x, y);
  return true;
}

}  // namespace curnn::host::vec
