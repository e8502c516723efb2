// Helpers shared by the trainer's CPU and CUDA tests.
#pragma once

#include <cmath>
#include <string>

#include "curnn/word2vec/trainer.hpp"
#include "curnn/word2vec/vocab.hpp"

namespace curnn::word2vec::test {

// Cosine similarity of the trained input vectors (syn0 rows) of words a and b.
inline double syn0_cosine(const TrainResult& r, const Vocabulary& vocab, int size,
                          const std::string& a, const std::string& b) {
  const float* x = r.syn0.data() + vocab.find(a) * size;
  const float* y = r.syn0.data() + vocab.find(b) * size;
  double xy = 0, xx = 0, yy = 0;
  for (int e = 0; e < size; ++e) xy += x[e] * y[e], xx += x[e] * x[e], yy += y[e] * y[e];
  return xy / std::sqrt(xx * yy);
}

}  // namespace curnn::word2vec::test
