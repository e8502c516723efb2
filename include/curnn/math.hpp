// Scalar math shared by the CPU reference ops and the CUDA kernels, so that both compute the
// same formulas (numerically stable forms). Usable from host and device code.
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define CURNN_HD __host__ __device__ __forceinline__
#else
#define CURNN_HD inline
#endif

namespace curnn::math {

template <class T>
CURNN_HD T sigmoid(T x) {
  using std::exp;
  return x >= T(0) ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x));
}

// softplus(x) = log(1 + e^x), stable for large |x|.
template <class T>
CURNN_HD T softplus(T x) {
  using std::exp;
  using std::log1p;
  return x > T(0) ? x + log1p(exp(-x)) : log1p(exp(x));
}

// Sigmoid cross-entropy of logit x against label z in {0,1} (TensorFlow's
// sigmoid_cross_entropy_with_logits): max(x,0) - x*z + log(1 + exp(-|x|)).
template <class T>
CURNN_HD T sigmoid_cross_entropy(T x, T z) {
  using std::abs;
  using std::exp;
  using std::log1p;
  return (x > T(0) ? x : T(0)) - x * z + log1p(exp(-abs(x)));
}

template <class T>
CURNN_HD T ceil_div(T a, T b) {
  return (a + b - 1) / b;
}

}  // namespace curnn::math
