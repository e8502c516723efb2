// LSTM cell ops: argument checks, then the CPU reference (for float its exact faster form,
// lstm_cell_cpu.cpp) or the CUDA kernels.
#include "curnn/ops/lstm_cell.hpp"

#include <algorithm>
#include <cmath>

#include "../parallel.hpp"
#include "curnn/ref/lstm_cell.hpp"
#include "dispatch.hpp"
#include "lstm_cell_cpu.hpp"

#if CURNN_HAVE_CUDA
#include "curnn/cuda/lstm_cell.hpp"
#endif

namespace curnn::ops {
namespace {

// An optional [B, H] tensor: absent (null data), or present with exactly that shape and device.
template <class Scalar>
const Scalar* optional_unit_tensor(TensorView<const Scalar> t, Device device, std::int64_t B,
                                   std::int64_t H, const char* name) {
  if (!t) return nullptr;
  ::curnn::detail::check_tensor(t, {B, H}, device, name, __FILE__, __LINE__);
  return t.data();
}

// B and H from c_prev [B, H].
template <class Scalar>
void batch_and_hidden(TensorView<const Scalar> c_prev, std::int64_t* B, std::int64_t* H) {
  CURNN_CHECK_ARG(c_prev && c_prev.rank() == 2,
                  "c_prev must be [B, H], got " << c_prev.shape_string());
  *B = c_prev.dim(0);
  *H = c_prev.dim(1);
  CURNN_CHECK_ARG(*B * 4 * *H <= 0x7fffffff, "B*4H = " << *B * 4 * *H << " is too large");
}

// Enough rows per thread (about 1024 units, some 50 us of exp and tanh) to pay for handing them
// to a worker (host/parallel.cpp: a few microseconds).
std::int64_t rows_per_thread(std::int64_t H) {
  return std::max<std::int64_t>(1, 1024 / H);
}

template <class Scalar>
void lstm_cell_forward_impl(Context& ctx, TensorView<const Scalar> preact,
                            TensorView<const Scalar> bias, TensorView<const Scalar> c_prev,
                            Scalar forget_bias, TensorView<Scalar> gates, TensorView<Scalar> c,
                            TensorView<Scalar> h, TensorView<const Scalar> dropout_mask,
                            TensorView<Scalar> h_dropped, TensorView<Scalar> c_copy,
                            TensorView<Scalar> h_copy) {
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
  const Scalar* mask = optional_unit_tensor(dropout_mask, dev, B, H, "dropout_mask");
  Scalar* hd = nullptr;
  if (mask) {
    CURNN_CHECK_TENSOR(h_dropped, dev, {B, H});
    hd = h_dropped.data();
  }
  Scalar* cc = nullptr;
  Scalar* hc = nullptr;
  if (c_copy) {
    CURNN_CHECK_TENSOR(c_copy, dev, {B, H});
    cc = c_copy.data();
  }
  if (h_copy) {
    CURNN_CHECK_TENSOR(h_copy, dev, {B, H});
    hc = h_copy.data();
  }
  [[maybe_unused]] const int b = static_cast<int>(B);
  const int hh = static_cast<int>(H);
  if (!ctx.is_cuda()) {
    // Rows are independent: each thread runs the reference on its own block of rows.
    host::parallel_for(B, rows_per_thread(H), [&](std::int64_t r0, std::int64_t r1) {
      const auto at = [&](auto* p, std::int64_t width) { return p ? p + r0 * width : p; };
      constexpr auto rows = [] {
        if constexpr (internal::kIsFloat<Scalar>) {
          return &cpu::lstm_cell_forward_rows;  // the reference's bits, faster
        } else {
          return &ref::lstm_cell_forward<Scalar>;
        }
      }();
      rows(static_cast<int>(r1 - r0), hh, at(preact.data(), 4 * H), bias.data(),
           at(c_prev.data(), H), forget_bias, at(gates.data(), 4 * H), at(c.data(), H),
           at(h.data(), H), at(mask, H), at(hd, H), at(cc, H), at(hc, H));
    });
    return;
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::lstm_cell_forward(b, hh, preact.data(), bias.data(), c_prev.data(), forget_bias,
                            gates.data(), c.data(), h.data(), mask, hd, cc, hc, ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("lstm_cell_forward");
  }
}

template <class Scalar>
void lstm_cell_backward_impl(Context& ctx, TensorView<const Scalar> gates,
                             TensorView<const Scalar> c, TensorView<const Scalar> c_prev,
                             TensorView<const Scalar> dh, TensorView<const Scalar> dh_out,
                             TensorView<const Scalar> dropout_mask, TensorView<const Scalar> dc,
                             TensorView<Scalar> dpreact, TensorView<Scalar> dc_prev) {
  std::int64_t B, H;
  batch_and_hidden(c_prev, &B, &H);
  const Device dev = ctx.device();
  CURNN_CHECK_TENSOR(c_prev, dev, {B, H});
  CURNN_CHECK_TENSOR(gates, dev, {B, 4 * H});
  CURNN_CHECK_TENSOR(c, dev, {B, H});
  CURNN_CHECK_TENSOR(dpreact, dev, {B, 4 * H});
  CURNN_CHECK_TENSOR(dc_prev, dev, {B, H});
  const Scalar* dh_p = optional_unit_tensor(dh, dev, B, H, "dh");
  const Scalar* dh_out_p = optional_unit_tensor(dh_out, dev, B, H, "dh_out");
  const Scalar* mask = optional_unit_tensor(dropout_mask, dev, B, H, "dropout_mask");
  const Scalar* dc_p = optional_unit_tensor(dc, dev, B, H, "dc");
  [[maybe_unused]] const int b = static_cast<int>(B);
  const int hh = static_cast<int>(H);
  if (!ctx.is_cuda()) {
    host::parallel_for(B, rows_per_thread(H), [&](std::int64_t r0, std::int64_t r1) {
      const auto at = [&](auto* p, std::int64_t width) { return p ? p + r0 * width : p; };
      constexpr auto rows = [] {
        if constexpr (internal::kIsFloat<Scalar>) {
          return &cpu::lstm_cell_backward_rows;  // the reference's bits, faster
        } else {
          return &ref::lstm_cell_backward<Scalar>;
        }
      }();
      rows(static_cast<int>(r1 - r0), hh, at(gates.data(), 4 * H), at(c.data(), H),
           at(c_prev.data(), H), at(dh_p, H), at(dh_out_p, H), at(mask, H), at(dc_p, H),
           at(dpreact.data(), 4 * H), at(dc_prev.data(), H));
    });
    return;
  }
  if constexpr (internal::kIsFloat<Scalar>) {
#if CURNN_HAVE_CUDA
    cuda::lstm_cell_backward(b, hh, gates.data(), c.data(), c_prev.data(), dh_p, dh_out_p, mask,
                             dc_p, dpreact.data(), dc_prev.data(), ctx.stream());
#endif
  } else {
    internal::double_needs_cpu("lstm_cell_backward");
  }
}

}  // namespace

void lstm_cell_forward(Context& ctx, ConstTensor preact, ConstTensor bias, ConstTensor c_prev,
                       float forget_bias, Tensor gates, Tensor c, Tensor h,
                       ConstTensor dropout_mask, Tensor h_dropped, Tensor c_copy, Tensor h_copy) {
  lstm_cell_forward_impl<float>(ctx, preact, bias, c_prev, forget_bias, gates, c, h, dropout_mask,
                                h_dropped, c_copy, h_copy);
}
void lstm_cell_forward(Context& ctx, TensorView<const double> preact, TensorView<const double> bias,
                       TensorView<const double> c_prev, double forget_bias,
                       TensorView<double> gates, TensorView<double> c, TensorView<double> h,
                       TensorView<const double> dropout_mask, TensorView<double> h_dropped,
                       TensorView<double> c_copy, TensorView<double> h_copy) {
  lstm_cell_forward_impl<double>(ctx, preact, bias, c_prev, forget_bias, gates, c, h, dropout_mask,
                                 h_dropped, c_copy, h_copy);
}
void lstm_cell_backward(Context& ctx, ConstTensor gates, ConstTensor c, ConstTensor c_prev,
                        ConstTensor dh, ConstTensor dh_out, ConstTensor dropout_mask,
                        ConstTensor dc, Tensor dpreact, Tensor dc_prev) {
  lstm_cell_backward_impl<float>(ctx, gates, c, c_prev, dh, dh_out, dropout_mask, dc, dpreact,
                                 dc_prev);
}
void lstm_cell_backward(Context& ctx, TensorView<const double> gates, TensorView<const double> c,
                        TensorView<const double> c_prev, TensorView<const double> dh,
                        TensorView<const double> dh_out, TensorView<const double> dropout_mask,
                        TensorView<const double> dc, TensorView<double> dpreact,
                        TensorView<double> dc_prev) {
  lstm_cell_backward_impl<double>(ctx, gates, c, c_prev, dh, dh_out, dropout_mask, dc, dpreact,
                                  dc_prev);
}

}  // namespace curnn::ops
