// CPU reference of the embedding lookup and its gradient (the specification of
// ops::embedding_gather / ops::embedding_scatter_add):
//     gather:      out[n, :] = table[ids[n], :]                         n = 0..N-1
//     scatter_add: dtable[ids[n], :] += dout[n, :]  for n = 0, 1, ..., N-1 in this order
// scatter_add ADDS into dtable (rows of repeated ids are summed, rows never named are left
// unchanged); it is the gradient of gather with respect to the table, and gather is the gradient
// of scatter_add with respect to dout. Every id must lie in [0, V): an id outside is an
// ArgumentError, raised before anything is written. With T = float, scatter_add's sums are
// sequential in position order, which the deterministic CUDA kernel reproduces bit for bit.
// Tests: tests/embedding_test.cpp, tests/embedding_cuda_test.cpp.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

#include "curnn/error.hpp"

namespace curnn::ref {

// The message of an id outside [0, V) at position n (the CUDA path reports the same text).
inline std::string embedding_id_message(std::int64_t n, std::int32_t id, std::int64_t V) {
  std::ostringstream s;
  s << "embedding: ids[" << n << "] = " << id << " is outside [0, " << V << ")";
  return s.str();
}

// Throws ArgumentError naming the first id outside [0, V).
inline void check_embedding_ids(std::int64_t N, std::int64_t V, const std::int32_t* ids /* [N] */) {
  for (std::int64_t n = 0; n < N; ++n) {
    CURNN_CHECK_ARG(ids[n] >= 0 && ids[n] < V, embedding_id_message(n, ids[n], V));
  }
}

template <class T>
void embedding_gather(std::int64_t N, std::int64_t V, std::int64_t E,
                      const std::int32_t* ids,  // [N]
                      const T* table,           // [V, E]
                      T* out) {                 // [N, E]
  check_embedding_ids(N, V, ids);
  for (std::int64_t n = 0; n < N; ++n) {
    const T* row = table + static_cast<std::int64_t>(ids[n]) * E;
    for (std::int64_t e = 0; e < E; ++e) out[n * E + e] = row[e];
  }
}

template <class T>
void embedding_scatter_add(std::int64_t N, std::int64_t V, std::int64_t E,
                           const std::int32_t* ids,  // [N]
                           const T* dout,            // [N, E]
                           T* dtable) {              // [V, E], added to
  check_embedding_ids(N, V, ids);
  for (std::int64_t n = 0; n < N; ++n) {
    T* row = dtable + static_cast<std::int64_t>(ids[n]) * E;
    for (std::int64_t e = 0; e < E; ++e) row[e] += dout[n * E + e];
  }
}

}  // namespace curnn::ref
