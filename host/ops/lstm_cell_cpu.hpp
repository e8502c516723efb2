// The CPU backend's LSTM cell over rows: ref::lstm_cell_forward / ref::lstm_cell_backward's
// contract and their exact results (bit for bit), computed faster. See lstm_cell_cpu.cpp; tested
// against the reference in tests/lstm_cell_cpu_test.cpp.
#pragma once

namespace curnn::ops::cpu {

// As ref::lstm_cell_forward<float> (include/curnn/ref/lstm_cell.hpp): preact [B, 4H], bias
// [4H], c_prev [B, H]; gates [B, 4H], c, h [B, H]; dropout_mask, h_dropped, c_copy, h_copy
// [B, H] or nullptr.
void lstm_cell_forward_rows(int B, int H, const float* preact, const float* bias,
                            const float* c_prev, float forget_bias, float* gates, float* c,
                            float* h, const float* dropout_mask, float* h_dropped, float* c_copy,
                            float* h_copy);

// As ref::lstm_cell_backward<float>: gates [B, 4H], c, c_prev [B, H]; dh, dh_out, dropout_mask,
// dc [B, H] or nullptr; dpreact [B, 4H], dc_prev [B, H].
void lstm_cell_backward_rows(int B, int H, const float* gates, const float* c, const float* c_prev,
                             const float* dh, const float* dh_out, const float* dropout_mask,
                             const float* dc, float* dpreact, float* dc_prev);

}  // namespace curnn::ops::cpu
