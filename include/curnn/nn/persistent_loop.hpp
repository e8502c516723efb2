// Choosing an LSTM layer's recurrent loop, and the persistent one.
//
// RecurrentMode (the apps' --recurrent auto|per-step|persistent):
//  - per-step:   GemmPerStepLoop (one recurrent GEMM and one fused cell launch per step);
//  - persistent: PersistentLoop, all T steps in one launch of kernels/lstm_persistent.cu with Wh
//                in the shared memory of a Hopper thread-block cluster (float32, CUDA, compute
//                capability 9.0). A CPU context, a double engine or a shape no cluster holds
//                (e.g. H 650: Wh is 6.8 MB) is an ArgumentError saying why, at construction
//                (double) or at the first forward (the rest);
//  - auto:       persistent only on a CUDA context and for shapes listed in
//                kVerifiedPersistentShapes (shapes whose tests and training runs have passed on a
//                GPU), per-step otherwise. The list is empty until then, so auto is per-step.
// Both loops write the same tape (include/curnn/nn/lstm.hpp) and honour the same contract (y only
// with a mask, the final state and the initial state's gradients written by the last step), so
// forward and backward of a layer may use either; AutoLoop runs the backward with the loop that
// ran the forward.
// Tests: tests/persistent_loop_test.cpp (CPU: modes, errors, the plan),
// tests/lstm_persistent_cuda_test.cpp (the persistent loop against GemmPerStepLoop).
#pragma once

#include <array>
#include <initializer_list>
#include <memory>
#include <string>

#include "curnn/context.hpp"
#include "curnn/cuda/lstm_persistent_plan.hpp"
#include "curnn/nn/lstm.hpp"

namespace curnn::nn {

enum class RecurrentMode { Auto, PerStep, Persistent };

// "auto", "per-step", "persistent"; parse_recurrent_mode throws ArgumentError for other names.
const char* recurrent_mode_name(RecurrentMode mode) noexcept;
RecurrentMode parse_recurrent_mode(const std::string& name);

// A layer shape (batch rows and hidden units) on which the persistent loop has been verified on
// a GPU; `auto` picks the persistent loop only for these.
struct VerifiedShape {
  int B, H;
};
inline constexpr std::array<VerifiedShape, 0> kVerifiedPersistentShapes{};
bool persistent_loop_verified(int B, int H);

// Why the persistent loop cannot run B rows x H units on ctx ("" when it can).
std::string persistent_loop_unsupported(const Context& ctx, int B, int H);

// For apps, before any output: ArgumentError naming the reason when `mode` is Persistent and
// the persistent loop cannot run H units at one of the batch sizes on ctx.
void check_recurrent_mode(RecurrentMode mode, const Context& ctx, int H,
                          std::initializer_list<int> batch_sizes);

// The loop for `mode`; ArgumentError for Persistent with Scalar = double.
template <class Scalar>
std::unique_ptr<RecurrentLoop<Scalar>> make_recurrent_loop(RecurrentMode mode);

// All T steps in one launch per direction of the layer (see the kernel's design notes).
class PersistentLoop final : public RecurrentLoop<float> {
 public:
  // Plans each shape for the current device (cuda::plan_persistent_lstm).
  PersistentLoop() = default;
  // Runs every shape with this plan (tests and benchmarks of other cluster sizes; a plan that
  // is not one for the shape is an ArgumentError at launch).
  explicit PersistentLoop(const cuda::persistent::Plan& pinned) : pinned_(pinned) {}

  void forward(Context& ctx, const LstmWeights<float>& w, float forget_bias, Direction dir,
               LstmTape<float>& tape, TensorView<float> y, TensorView<float> h_final,
               TensorView<float> c_final) override;
  void backward(Context& ctx, const LstmWeights<float>& w, Direction dir, LstmTape<float>& tape,
                TensorView<const float> dy, TensorView<const float> dh_last,
                TensorView<const float> dc_last, TensorView<float> dh_first,
                TensorView<float> dc_first) override;

  // The plan for B x H on ctx's current device (the last shape's is cached): null, with the
  // reason in *why_not, when the persistent loop cannot run it.
  const cuda::persistent::Plan* find_plan(const Context& ctx, int B, int H, std::string* why_not);

 private:
  const cuda::persistent::Plan& plan(const Context& ctx, int B, int H);  // ArgumentError if none
  cuda::persistent::Plan pinned_;
  int planned_B_ = 0, planned_H_ = 0;
  cuda::persistent::Plan plan_;
  std::string why_not_;
};

// One direction of a layer as the persistent launchers' arguments: Wh, bias and the tape's
// buffers and mask (the view of the caller's mask; null without dropout); y, the final state and
// the backward's gradients are left null for the caller.
cuda::PersistentLstmDirection persistent_direction(const LstmWeights<float>& w, Direction dir,
                                                   LstmTape<float>& tape);

// `auto`: the persistent loop for verified shapes on CUDA, the per-step loop otherwise.
template <class Scalar>
class AutoLoop final : public RecurrentLoop<Scalar> {
 public:
  void forward(Context& ctx, const LstmWeights<Scalar>& w, float forget_bias, Direction dir,
               LstmTape<Scalar>& tape, TensorView<Scalar> y, TensorView<Scalar> h_final,
               TensorView<Scalar> c_final) override;
  void backward(Context& ctx, const LstmWeights<Scalar>& w, Direction dir, LstmTape<Scalar>& tape,
                TensorView<const Scalar> dy, TensorView<const Scalar> dh_last,
                TensorView<const Scalar> dc_last, TensorView<Scalar> dh_first,
                TensorView<Scalar> dc_first) override;
  // Whether the last forward ran the persistent loop.
  bool used_persistent() const noexcept { return used_persistent_; }

 private:
  GemmPerStepLoop<Scalar> per_step_;
  std::unique_ptr<PersistentLoop> persistent_;
  bool used_persistent_ = false;
};

extern template class AutoLoop<float>;
extern template class AutoLoop<double>;

}  // namespace curnn::nn
