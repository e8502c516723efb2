// ops::sgns_step: argument checks, then the CPU reference or the CUDA kernel.
#include "curnn/ops/word2vec.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "curnn/ref/word2vec.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/word2vec.hpp"
#endif

namespace curnn::ops {
namespace {

// Shape letters from a tensor that must be a matrix (checked before reading its dims).
template <class T>
void check_rank2(const TensorView<T>& t, const char* name) {
  CURNN_CHECK_ARG(t && t.rank() == 2, "sgns_step: " << name << " must be a non-empty matrix, got "
                                                    << (t ? t.shape_string() : "null"));
  CURNN_CHECK_ARG(
      t.dim(0) <= std::numeric_limits<int>::max() && t.dim(1) <= std::numeric_limits<int>::max(),
      "sgns_step: " << name << " " << t.shape_string() << " is too large");
}

// The messages of a bad input count or id (the CUDA path reports the same text).
std::string count_message(std::int64_t n, std::int32_t m, std::int64_t C) {
  std::ostringstream s;
  s << "sgns_step: input_count[" << n << "] = " << m << " is outside [0, " << C << "]";
  return s.str();
}
std::string id_message(const char* what, std::int64_t i, std::int32_t id, std::int64_t V) {
  std::ostringstream s;
  s << "sgns_step: " << what << "[" << i << "] = " << id << " is outside [0, " << V << ")";
  return s.str();
}

// CPU only: every id in [0, V) and every count in [0, C], before anything is written.
void check_ids_on_host(std::int64_t N, std::int64_t C, std::int64_t K, std::int64_t V,
                       const std::int32_t* input_ids, const std::int32_t* input_count,
                       const std::int32_t* target_ids, const std::int32_t* negative_ids) {
  const auto check = [V](const char* what, std::int64_t i, std::int32_t id) {
    CURNN_CHECK_ARG(id >= 0 && id < V, id_message(what, i, id, V));
  };
  for (std::int64_t n = 0; n < N; ++n) {
    const std::int32_t m = input_count[n];
    CURNN_CHECK_ARG(m >= 0 && m <= C, count_message(n, m, C));
    for (std::int64_t c = 0; c < m; ++c) check("input_ids", n * C + c, input_ids[n * C + c]);
    check("target_ids", n, target_ids[n]);
    for (std::int64_t k = 0; k < K; ++k) check("negative_ids", n * K + k, negative_ids[n * K + k]);
  }
}

#if CURNN_HAVE_CUDA
// The message of the kernel's id-slot index n * (C + K + 2) + j (cuda/word2vec.hpp).
std::string slot_message(std::int64_t index, std::int32_t value, std::int64_t C, std::int64_t K,
                         std::int64_t V) {
  const std::int64_t n = index / (C + K + 2), j = index % (C + K + 2);
  if (j == 0) return count_message(n, value, C);
  if (j <= C) return id_message("input_ids", n * C + j - 1, value, V);
  if (j == C + 1) return id_message("target_ids", n, value, V);
  return id_message("negative_ids", n * K + j - C - 2, value, V);
}
#endif

}  // namespace

void sgns_step(Context& ctx, ConstIds input_ids, ConstIds input_count, ConstIds target_ids,
               ConstIds negative_ids, float alpha, Tensor syn0, Tensor syn1neg, Tensor loss) {
  check_rank2(input_ids, "input_ids");
  check_rank2(negative_ids, "negative_ids");
  check_rank2(syn0, "syn0");
  const std::int64_t N = input_ids.dim(0), C = input_ids.dim(1), K = negative_ids.dim(1);
  const std::int64_t V = syn0.dim(0), E = syn0.dim(1);
  const Device dev = ctx.device();
  CURNN_CHECK_ARG(N >= 1 && C >= 1 && K >= 1 && V >= 1 && E >= 1,
                  "sgns_step: N " << N << ", C " << C << ", K " << K << ", V " << V << ", E " << E
                                  << " must all be >= 1");
  CURNN_CHECK_TENSOR(input_ids, dev, {N, C});
  CURNN_CHECK_TENSOR(input_count, dev, {N});
  CURNN_CHECK_TENSOR(target_ids, dev, {N});
  CURNN_CHECK_TENSOR(negative_ids, dev, {N, K});
  CURNN_CHECK_TENSOR(syn0, dev, {V, E});
  CURNN_CHECK_TENSOR(syn1neg, dev, {V, E});
  if (loss) CURNN_CHECK_TENSOR(loss, dev, {N});
  CURNN_CHECK_ARG(syn0.data() != syn1neg.data(), "sgns_step: syn0 and syn1neg are the same memory");
  CURNN_CHECK_ARG(std::isfinite(alpha) && alpha >= 0.f, "sgns_step: alpha " << alpha);

  const int e = static_cast<int>(E), k = static_cast<int>(K), c = static_cast<int>(C),
            n = static_cast<int>(N);
  if (dev == Device::CPU) {
    check_ids_on_host(N, C, K, V, input_ids.data(), input_count.data(), target_ids.data(),
                      negative_ids.data());
    ref::sgns_step<float>(e, k, c, n, input_ids.data(), input_count.data(), target_ids.data(),
                          negative_ids.data(), alpha, syn0.data(), syn1neg.data(),
                          loss ? loss.data() : nullptr);
    return;
  }
#if CURNN_HAVE_CUDA
  unsigned long long* bad_id = ctx.id_error_slot([C, K, V](std::int64_t index, std::int32_t value) {
    return slot_message(index, value, C, K, V);
  });
  cuda::sgns_step(e, k, c, n, static_cast<std::int32_t>(V), input_ids.data(), input_count.data(),
                  target_ids.data(), negative_ids.data(), alpha, syn0.data(), syn1neg.data(),
                  loss ? loss.data() : nullptr, bad_id, ctx.stream());
#else
  CURNN_CHECK(false, "sgns_step: a CUDA context in a build without CUDA");
#endif
}

}  // namespace curnn::ops
