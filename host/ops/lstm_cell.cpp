// LSTM cell ops: argument checks, then the CPU reference or the CUDA kernels.
#include "curnn/ops/lstm_cell.hpp"

#include <cmath>

#include "curnn/ref/lstm_cell.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/lstm_cell.hpp"
#endif

namespace curnn::ops {
namespace {

// An optional [B, H] tensor: absent (null data), or present with exactly that shape and device.
const float* optional_unit_tensor(ConstTensor t, Device device, std::int64_t B, std::int64_t H,
                                  const char* name) {
  if (!t) return nullptr;
  ::curnn::detail::check_tensor(t, {B, H}, device, name, __FILE__, __LINE__);
  return t.data();
}

// B and H from c_prev [B, H].
void batch_and_hidden(ConstTensor c_prev, std::int64_t* B, std::int64_t* H) {
  CURNN_CHECK_ARG(c_prev && c_prev.rank() == 2,
                  "c_prev must be [B, H], got " << c_prev.shape_string());
  *B = c_prev.dim(0);
  *H = c_prev.dim(1);
  CURNN_CHECK_ARG(*B * 4 * *H <= 0x7fffffff, "B*4H = " << *B * 4 * *H << " is too large");
}

}  // namespace

void lstm_cell_forward(Context& ctx, ConstTensor preact, ConstTensor bias, ConstTensor c_prev,
                       float forget_bias, Tensor gates, Tensor c, Tensor h,
                       ConstTensor dropout_mask, Tensor h_dropped) {
  std::int64_t B, H;
  batch_and_hidden(c_prev, &B, &H);
  const Device dev = ctx.device();
  CURNN_CHECK_TENSOR(c_prev, dev, {B, H});
  CURNN_CHECK_TENSOR(preact, dev, {B, 4 * H});
  CURNN_CHECK_TENSOR(bias, dev, {4 * H});
  CURNN_CHECK_TENSOR(gates, dev, {B, 4 * H});
  CURNN_CHECK_TENSOR(c, dev, {B, H});
  CURNN_CHECK_TENSOR(h, dev, {B, H});
  CURNN_CHECK_ARG(std::isfinite(forget_bias), "forget_bias " << forget_bias);
  CURNN_CHECK_ARG(static_cast<bool>(dropout_mask) == static_cast<bool>(h_dropped),
                  "dropout_mask and h_dropped must be given together");
  const float* mask = optional_unit_tensor(dropout_mask, dev, B, H, "dropout_mask");
  float* hd = nullptr;
  if (mask) {
    CURNN_CHECK_TENSOR(h_dropped, dev, {B, H});
    hd = h_dropped.data();
  }
  const int b = static_cast<int>(B), hh = static_cast<int>(H);
  if (!ctx.is_cuda()) {
    ref::lstm_cell_forward<float>(b, hh, preact.data(), bias.data(), c_prev.data(), forget_bias,
                                  gates.data(), c.data(), h.data(), mask, hd);
    return;
  }
#if CURNN_HAVE_CUDA
  cuda::lstm_cell_forward(b, hh, preact.data(), bias.data(), c_prev.data(), forget_bias,
                          gates.data(), c.data(), h.data(), mask, hd, ctx.stream());
#endif
}

void lstm_cell_backward(Context& ctx, ConstTensor gates, ConstTensor c, ConstTensor c_prev,
                        ConstTensor dh, ConstTensor dh_out, ConstTensor dropout_mask,
                        ConstTensor dc, Tensor dpreact, Tensor dc_prev) {
  std::int64_t B, H;
  batch_and_hidden(c_prev, &B, &H);
  const Device dev = ctx.device();
  CURNN_CHECK_TENSOR(c_prev, dev, {B, H});
  CURNN_CHECK_TENSOR(gates, dev, {B, 4 * H});
  CURNN_CHECK_TENSOR(c, dev, {B, H});
  CURNN_CHECK_TENSOR(dpreact, dev, {B, 4 * H});
  CURNN_CHECK_TENSOR(dc_prev, dev, {B, H});
  const float* dh_p = optional_unit_tensor(dh, dev, B, H, "dh");
  const float* dh_out_p = optional_unit_tensor(dh_out, dev, B, H, "dh_out");
  const float* mask = optional_unit_tensor(dropout_mask, dev, B, H, "dropout_mask");
  const float* dc_p = optional_unit_tensor(dc, dev, B, H, "dc");
  const int b = static_cast<int>(B), hh = static_cast<int>(H);
  if (!ctx.is_cuda()) {
    ref::lstm_cell_backward<float>(b, hh, gates.data(), c.data(), c_prev.data(), dh_p, dh_out_p,
                                   mask, dc_p, dpreact.data(), dc_prev.data());
    return;
  }
#if CURNN_HAVE_CUDA
  cuda::lstm_cell_backward(b, hh, gates.data(), c.data(), c_prev.data(), dh_p, dh_out_p, mask, dc_p,
                           dpreact.data(), dc_prev.data(), ctx.stream());
#endif
}

}  // namespace curnn::ops
