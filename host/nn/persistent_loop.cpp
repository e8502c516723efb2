// Recurrent-loop selection and the persistent loop. Design notes:
// include/curnn/nn/persistent_loop.hpp and kernels/lstm_persistent.cu.
#include "curnn/nn/persistent_loop.hpp"

#include <type_traits>

#if CURNN_HAVE_CUDA
#include "curnn/cuda/lstm_persistent.hpp"
#endif

namespace curnn::nn {

const char* recurrent_mode_name(RecurrentMode mode) noexcept {
  switch (mode) {
    case RecurrentMode::Auto:
      return "auto";
    case RecurrentMode::PerStep:
      return "per-step";
    case RecurrentMode::Persistent:
      return "persistent";
  }
  return "?";
}

RecurrentMode parse_recurrent_mode(const std::string& name) {
  for (const RecurrentMode m :
       {RecurrentMode::Auto, RecurrentMode::PerStep, RecurrentMode::Persistent}) {
    if (name == recurrent_mode_name(m)) return m;
  }
  CURNN_CHECK_ARG(false, "unknown recurrent loop '" << name << "' (auto, per-step or persistent)");
  return RecurrentMode::Auto;
}

bool persistent_loop_verified(int B, int H) {
  for (const VerifiedShape& s : kVerifiedPersistentShapes) {
    if (s.B == B && s.H == H) return true;
  }
  return false;
}

std::string persistent_loop_unsupported(const Context& ctx, int B, int H) {
  if (!ctx.is_cuda()) return "the persistent recurrent loop needs a CUDA device, not the CPU";
#if CURNN_HAVE_CUDA
  std::string why;
  return cuda::plan_persistent_lstm(B, H, 1, &why) ? std::string() : why;
#else
  (void)B, (void)H;
  return "this build has no CUDA backend";
#endif
}

void check_recurrent_mode(RecurrentMode mode, const Context& ctx, int H,
                          std::initializer_list<int> batch_sizes) {
  if (mode != RecurrentMode::Persistent) return;
  for (const int B : batch_sizes) {
    const std::string why = persistent_loop_unsupported(ctx, B, H);
    CURNN_CHECK_ARG(why.empty(), "--recurrent persistent cannot run batch "
                                     << B << " x hidden " << H << ": " << why
                                     << " (use --recurrent auto or per-step)");
  }
}

template <class Scalar>
std::unique_ptr<RecurrentLoop<Scalar>> make_recurrent_loop(RecurrentMode mode) {
  switch (mode) {
    case RecurrentMode::PerStep:
      return std::make_unique<GemmPerStepLoop<Scalar>>();
    case RecurrentMode::Persistent:
      if constexpr (std::is_same_v<Scalar, float>) {
        return std::make_unique<PersistentLoop>();
      } else {
        CURNN_CHECK_ARG(false, "the persistent recurrent loop is float32 only");
      }
      break;
    case RecurrentMode::Auto:
      return std::make_unique<AutoLoop<Scalar>>();
  }
  return nullptr;
}

// ---- the persistent loop ----------------------------------------------------------------------

const cuda::persistent::Plan* PersistentLoop::find_plan(const Context& ctx, int B, int H,
                                                        std::string* why_not) {
  if (!ctx.is_cuda()) {
    if (why_not) *why_not = persistent_loop_unsupported(ctx, B, H);
    return nullptr;
  }
  if (pinned_) return &pinned_;
  if (planned_B_ != B || planned_H_ != H) {
#if CURNN_HAVE_CUDA
    why_not_.clear();
    plan_ = cuda::plan_persistent_lstm(B, H, 1, &why_not_);
#else
    why_not_ = persistent_loop_unsupported(ctx, B, H);
#endif
    planned_B_ = B, planned_H_ = H;
  }
  if (!plan_ && why_not) *why_not = why_not_;
  return plan_ ? &plan_ : nullptr;
}

const cuda::persistent::Plan& PersistentLoop::plan(const Context& ctx, int B, int H) {
  std::string why;
  const cuda::persistent::Plan* p = find_plan(ctx, B, H, &why);
  CURNN_CHECK_ARG(p != nullptr, "--recurrent persistent cannot run batch "
                                    << B << " x hidden " << H << ": " << why
                                    << " (use --recurrent auto or per-step)");
  return *p;
}

cuda::PersistentLstmDirection persistent_direction(const LstmWeights<float>& w, Direction dir,
                                                   LstmTape<float>& tape) {
  cuda::PersistentLstmDirection d;
  d.wh = w.wh.data();
  d.bias = w.bias.data();
  d.reverse = dir == Direction::Reverse;
  d.pre = tape.pre.data();
  d.gates = tape.gates.data();
  d.c = tape.c.data();
  d.h = tape.h.data();
  d.mask = tape.mask ? tape.mask.data() : nullptr;
  return d;
}

namespace {

// The tape's buffers only grow (LstmTape::reserve): they hold at least T x B x H's slots, which
// the kernels address from their first elements. The mask is a view of the caller's.
void check_tape(const LstmWeights<float>& w, const LstmTape<float>& tape) {
  const int T = tape.T, B = tape.B, H = tape.H;
  CURNN_CHECK_ARG(T > 0 && B > 0 && H > 0, "empty LSTM tape");
  CURNN_CHECK_TENSOR(w.wh, Device::CUDA, {H, 4 * H});
  CURNN_CHECK_TENSOR(w.bias, Device::CUDA, {4 * H});
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const auto holds = [](const Buffer<float>& b, std::size_t n) {
    return b.device() == Device::CUDA && b.size() >= n;
  };
  CURNN_CHECK_ARG(holds(tape.pre, T * 4 * BH) && holds(tape.gates, T * 4 * BH) &&
                      holds(tape.c, (T + 2) * BH) && holds(tape.h, (T + 2) * BH),
                  "LSTM tape buffers too small for T=" << T << " B=" << B << " H=" << H);
  if (tape.mask) CURNN_CHECK_TENSOR(tape.mask, Device::CUDA, {T, B, H});
}

}  // namespace

void PersistentLoop::forward(Context& ctx, const LstmWeights<float>& w, float forget_bias,
                             Direction dir, LstmTape<float>& tape, TensorView<float> y,
                             TensorView<float> h_final, TensorView<float> c_final) {
  const int T = tape.T, B = tape.B, H = tape.H;
  const cuda::persistent::Plan& p = plan(ctx, B, H);
  check_tape(w, tape);
  // As GemmPerStepLoop: y = h * mask with a mask (then required); without one y is not written.
  CURNN_CHECK_ARG(y || !tape.mask, "LSTM recurrent loop with a dropout mask needs y");
  if (tape.mask) CURNN_CHECK_TENSOR(y, Device::CUDA, {T, B, H});
  if (h_final) CURNN_CHECK_TENSOR(h_final, Device::CUDA, {B, H});
  if (c_final) CURNN_CHECK_TENSOR(c_final, Device::CUDA, {B, H});
#if CURNN_HAVE_CUDA
  cuda::PersistentLstmDirection d = persistent_direction(w, dir, tape);
  d.y = tape.mask ? y.data() : nullptr;
  d.h_final = h_final.data();
  d.c_final = c_final.data();
  cuda::persistent_lstm_forward(p, T, B, H, forget_bias, &d, 1, ctx.stream());
#else
  (void)p, (void)forget_bias, (void)dir, (void)y;
#endif
}

void PersistentLoop::backward(Context& ctx, const LstmWeights<float>& w, Direction dir,
                              LstmTape<float>& tape, TensorView<const float> dy,
                              TensorView<const float> dh_last, TensorView<const float> dc_last,
                              TensorView<float> dh_first, TensorView<float> dc_first) {
  const int T = tape.T, B = tape.B, H = tape.H;
  const cuda::persistent::Plan& p = plan(ctx, B, H);
  check_tape(w, tape);
  CURNN_CHECK_TENSOR(dy, Device::CUDA, {T, B, H});
  if (dh_last) CURNN_CHECK_TENSOR(dh_last, Device::CUDA, {B, H});
  if (dc_last) CURNN_CHECK_TENSOR(dc_last, Device::CUDA, {B, H});
  if (dh_first) CURNN_CHECK_TENSOR(dh_first, Device::CUDA, {B, H});
  if (dc_first) CURNN_CHECK_TENSOR(dc_first, Device::CUDA, {B, H});
#if CURNN_HAVE_CUDA
  cuda::PersistentLstmDirection d = persistent_direction(w, dir, tape);
  d.dy = dy.data();
  d.dh_last = dh_last.data();
  d.dc_last = dc_last.data();
  d.dh_first = dh_first.data();
  d.dc_first = dc_first.data();
  cuda::persistent_lstm_backward(p, T, B, H, &d, 1, ctx.stream());
#else
  (void)p, (void)dir;
#endif
}

// ---- auto --------------------------------------------------------------------------------------

template <class Scalar>
void AutoLoop<Scalar>::forward(Context& ctx, const LstmWeights<Scalar>& w, float forget_bias,
                               Direction dir, LstmTape<Scalar>& tape, TensorView<Scalar> y,
                               TensorView<Scalar> h_final, TensorView<Scalar> c_final) {
  used_persistent_ = false;
  if constexpr (std::is_same_v<Scalar, float>) {
    if (ctx.is_cuda() && persistent_loop_verified(tape.B, tape.H)) {
      if (!persistent_) persistent_ = std::make_unique<PersistentLoop>();
      if (persistent_->find_plan(ctx, tape.B, tape.H, nullptr)) {
        persistent_->forward(ctx, w, forget_bias, dir, tape, y, h_final, c_final);
        used_persistent_ = true;
        return;
      }
    }
  }
  per_step_.forward(ctx, w, forget_bias, dir, tape, y, h_final, c_final);
}

template <class Scalar>
void AutoLoop<Scalar>::backward(Context& ctx, const LstmWeights<Scalar>& w, Direction dir,
                                LstmTape<Scalar>& tape, TensorView<const Scalar> dy,
                                TensorView<const Scalar> dh_last, TensorView<const Scalar> dc_last,
                                TensorView<Scalar> dh_first, TensorView<Scalar> dc_first) {
  if constexpr (std::is_same_v<Scalar, float>) {
    if (used_persistent_) {
      persistent_->backward(ctx, w, dir, tape, dy, dh_last, dc_last, dh_first, dc_first);
      return;
    }
  }
  per_step_.backward(ctx, w, dir, tape, dy, dh_last, dc_last, dh_first, dc_first);
}

template std::unique_ptr<RecurrentLoop<float>> make_recurrent_loop<float>(RecurrentMode);
template std::unique_ptr<RecurrentLoop<double>> make_recurrent_loop<double>(RecurrentMode);
template class AutoLoop<float>;
template class AutoLoop<double>;

}  // namespace curnn::nn
