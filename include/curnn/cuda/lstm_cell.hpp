// CUDA launchers of the LSTM cell pointwise ops (kernels/lstm_cell.cu). Float32, raw device
// pointers, queued on `stream`. Semantics and shapes: include/curnn/ref/lstm_cell.hpp.
#pragma once

#include <cuda_runtime_api.h>

namespace curnn::cuda {

// preact [B, 4H], bias [4H], c_prev [B, H] -> gates [B, 4H], c [B, H], h [B, H];
// dropout_mask [B, H] or nullptr; h_dropped [B, H] = h * mask (required iff mask);
// c_copy, h_copy [B, H] or nullptr: second copies of c and h.
void lstm_cell_forward(int B, int H, const float* preact, const float* bias, const float* c_prev,
                       float forget_bias, float* gates, float* c, float* h,
                       const float* dropout_mask, float* h_dropped, float* c_copy, float* h_copy,
                       cudaStream_t stream);

// gates [B, 4H], c [B, H], c_prev [B, H]; dh, dh_out, dropout_mask, dc [B, H] or nullptr
// -> dpreact [B, 4H], dc_prev [B, H] (overwritten).
void lstm_cell_backward(int B, int H, const float* gates, const float* c, const float* c_prev,
                        const float* dh, const float* dh_out, const float* dropout_mask,
                        const float* dc, float* dpreact, float* dc_prev, cudaStream_t stream);

}  // namespace curnn::cuda
