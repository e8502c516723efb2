// The persistent LSTM loop (kernels/lstm_persistent.cu through nn::PersistentLoop) against the
// per-step loop (nn::GemmPerStepLoop) on the CPU reference backend and on CUDA:
//  - the loop alone: the forward tape (gates, the c and h state slots), y (with a mask only, as
//    nn::LstmLayer calls the loops) and the final state written by the last step (bitwise its
//    tape slots), then dPre (in tape.pre), dh_first and dc_first, both directions, with and
//    without a dropout mask and an initial state / final-state gradients, at the experiments'
//    shapes (PTB small B 20 H 200, T 20 and 35, the batch-1 test pass; the BiLSTM's B 128 H 256
//    T 28) and odd ones (H not a multiple of the cluster, B 1, T 1, H 1 and 2), on exact and on
//    grown (grow-only) tapes;
//  - the layer as the engines call it: outputs (y with a mask, else the tape's), final state
//    (also carried in place, and h only as in the BiLSTM), dx and the weight gradients;
//  - every cluster size and batch split (more clusters than run at once, too), bitwise
//    determinism run to run, both directions in one launch = two launches, and the errors.
// Outputs start as NaN, so an unwritten element fails; inputs are random (never zeros).
// Device check: run this binary under compute-sanitizer --tool racecheck and --tool memcheck.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cuda_upload.hpp"
#include "curnn/cuda/lstm_persistent.hpp"
#include "curnn/nn/lstm.hpp"
#include "curnn/nn/persistent_loop.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using nn::Direction;
using Loop = nn::RecurrentLoop<float>;

struct Shape {
  int T, B, H;
};
struct LoopCase {
  Shape s;
  Direction dir;
  bool mask;   // a dropout mask on y
  bool state;  // a random initial state and final-state gradients (else zero / none)
  float forget_bias;
};

std::string describe(const LoopCase& c) {
  return "T=" + std::to_string(c.s.T) + " B=" + std::to_string(c.s.B) +
         " H=" + std::to_string(c.s.H) + (c.dir == Direction::Forward ? " forward" : " reverse") +
         (c.mask ? " mask" : "") + (c.state ? " state" : "") + " ";
}

// The experiments' shapes and odd ones.
const Shape kExperimentShapes[] = {{20, 20, 200}, {35, 20, 200}, {1, 1, 200}, {28, 128, 256}};
const Shape kOddShapes[] = {{5, 7, 37}, {1, 3, 13}, {3, 1, 1}, {4, 5, 2}, {6, 2, 17}, {9, 33, 100}};

// Every combination of direction, mask and state for a shape.
std::vector<LoopCase> all_cases(const Shape& s) {
  std::vector<LoopCase> cases;
  for (const Direction dir : {Direction::Forward, Direction::Reverse}) {
    for (const bool mask : {false, true}) {
      for (const bool state : {false, true}) {
        cases.push_back({s, dir, mask, state, state ? 1.0f : 0.0f});
      }
    }
  }
  return cases;
}

Buffer<float> put(const Context& ctx, const std::vector<float>& v) {
  return to_buffer(ctx, v);  // queued on ctx's stream (a plain copy on the CPU)
}

std::vector<float> dropout_mask(std::size_t n, std::uint64_t seed) {
  std::vector<float> m = test::random_uniform(n, 0, 1, seed);
  for (float& v : m) v = v < 0.6f ? 1.0f / 0.6f : 0.0f;
  return m;
}

// Host inputs of a loop run (the same for every backend and loop).
struct LoopInputs {
  explicit LoopInputs(const LoopCase& c, std::uint64_t seed = 1) {
    const int T = c.s.T, B = c.s.B, H = c.s.H;
    const std::size_t BH = static_cast<std::size_t>(B) * H;
    const double scale = 1.5 / std::sqrt(static_cast<double>(H));
    wh = test::random_uniform(static_cast<std::size_t>(H) * 4 * H, -scale, scale, seed);
    bias = test::random_uniform(4 * H, -0.3, 0.3, seed + 1);
    pre = test::random_uniform(T * 4 * BH, -1, 1, seed + 2);
    h0 = c.state ? test::random_uniform(BH, -0.8, 0.8, seed + 3) : std::vector<float>(BH, 0.f);
    c0 = c.state ? test::random_uniform(BH, -1, 1, seed + 4) : std::vector<float>(BH, 0.f);
    if (c.mask) mask = dropout_mask(T * BH, seed + 5);
    dy = test::random_uniform(T * BH, -1, 1, seed + 6);
    if (c.state) {
      dh_last = test::random_uniform(BH, -1, 1, seed + 7);
      dc_last = test::random_uniform(BH, -1, 1, seed + 8);
    }
  }
  std::vector<float> wh, bias, pre, h0, c0, mask, dy, dh_last, dc_last;
};

struct LoopOutputs {
  std::vector<float> y;            // with a mask only (the loops write no y without one)
  std::vector<float> gates, c, h;  // c, h: the T + 1 used slots (initial state and steps)
  std::vector<float> h_final, c_final;
  std::vector<float> dpre, dh_first, dc_first;
  bool unused_slot_untouched = true;  // the slot neither read nor written is still NaN
  bool final_is_last_slot = true;     // h_final, c_final bitwise the last step's tape slots
};

// One direction's tape on ctx, filled as nn::LstmLayer::forward leaves it for the loop: pre =
// x Wx, the initial state in its slot, the mask (a view of a buffer of the caller's); every other
// slot and the gates NaN. `grown`: the tape was reserved for a larger shape first (its buffers
// only grow: an evaluation's last, smaller batch runs on the first elements of larger ones).
struct TapeOnDevice {
  TapeOnDevice(Context& ctx, const LoopCase& c, const LoopInputs& in, bool grown = false) {
    const int T = c.s.T, B = c.s.B, H = c.s.H;
    const std::size_t BH = static_cast<std::size_t>(B) * H;
    if (grown) tape.reserve(ctx.device(), T + 3, B + 2, H);
    tape.reserve(ctx.device(), T, B, H);
    const auto fill = [&](Buffer<float>& dst, const std::vector<float>& src) {
      copy(
          ctx,
          TensorView<const float>(src.data(), {static_cast<std::int64_t>(src.size())}, Device::CPU),
          dst.prefix({static_cast<std::int64_t>(src.size())}));
    };
    fill(tape.pre, in.pre);
    fill(tape.gates, test::nan_filled(T * 4 * BH));
    const int init = c.dir == Direction::Forward ? 0 : T + 1;
    std::vector<float> h_slots = test::nan_filled((T + 2) * BH), c_slots = h_slots;
    std::copy(in.h0.begin(), in.h0.end(), h_slots.begin() + init * BH);
    std::copy(in.c0.begin(), in.c0.end(), c_slots.begin() + init * BH);
    fill(tape.h, h_slots);
    fill(tape.c, c_slots);
    if (c.mask) {
      mask = put(ctx, in.mask);
      tape.mask = mask.view({T, B, H});
    }
    wh = put(ctx, in.wh);
    bias = put(ctx, in.bias);
  }
  nn::LstmWeights<float> weights(int H) {
    return {TensorView<float>(), wh.view({H, 4 * H}), bias.view({4 * H})};
  }
  // The first n elements of a tape buffer, on the host.
  std::vector<float> read(const Context& ctx, const Buffer<float>& b, std::size_t n) const {
    return to_vector(ctx, b.prefix({static_cast<std::int64_t>(n)}));
  }
  nn::LstmTape<float> tape;
  Buffer<float> mask, wh, bias;
};

LoopOutputs run_loop(Context& ctx, Loop& loop, const LoopCase& c, const LoopInputs& in,
                     bool grown_tape = false) {
  const int T = c.s.T, B = c.s.B, H = c.s.H;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  TapeOnDevice td(ctx, c, in, grown_tape);
  // y only with a mask (as nn::LstmLayer calls the loops); the final state always.
  Buffer<float> y = put(ctx, test::nan_filled(T * BH)), h_final = put(ctx, test::nan_filled(BH)),
                c_final = put(ctx, test::nan_filled(BH));
  const nn::LstmWeights<float> w = td.weights(H);
  loop.forward(ctx, w, c.forget_bias, c.dir, td.tape,
               c.mask ? y.view({T, B, H}) : TensorView<float>(), h_final.view({B, H}),
               c_final.view({B, H}));
  LoopOutputs out;
  if (c.mask) out.y = to_vector(ctx, y.view());
  out.gates = td.read(ctx, td.tape.gates, T * 4 * BH);
  const std::vector<float> h = td.read(ctx, td.tape.h, (T + 2) * BH),
                           cs = td.read(ctx, td.tape.c, (T + 2) * BH);
  const std::size_t first = c.dir == Direction::Forward ? 0 : BH;  // slots 0..T or 1..T+1
  out.h.assign(h.begin() + first, h.begin() + first + (T + 1) * BH);
  out.c.assign(cs.begin() + first, cs.begin() + first + (T + 1) * BH);
  const std::size_t unused = c.dir == Direction::Forward ? (T + 1) * BH : 0;
  for (std::size_t i = unused; i < unused + BH; ++i) {
    out.unused_slot_untouched &= std::isnan(h[i]) && std::isnan(cs[i]);
  }
  out.h_final = to_vector(ctx, h_final.view());
  out.c_final = to_vector(ctx, c_final.view());
  const std::size_t last = (c.dir == Direction::Forward ? T : 1) * BH;  // the final state's slot
  out.final_is_last_slot =
      std::memcmp(out.h_final.data(), h.data() + last, BH * sizeof(float)) == 0 &&
      std::memcmp(out.c_final.data(), cs.data() + last, BH * sizeof(float)) == 0;

  Buffer<float> dy = put(ctx, in.dy), dh_first = put(ctx, test::nan_filled(BH)),
                dc_first = put(ctx, test::nan_filled(BH));
  Buffer<float> dh_last, dc_last;
  if (c.state) dh_last = put(ctx, in.dh_last), dc_last = put(ctx, in.dc_last);
  const auto optional = [&](Buffer<float>& b) {
    return b.size() ? TensorView<const float>(b.view({B, H})) : TensorView<const float>();
  };
  loop.backward(ctx, w, c.dir, td.tape, dy.view({T, B, H}), optional(dh_last), optional(dc_last),
                dh_first.view({B, H}), dc_first.view({B, H}));
  out.dpre = td.read(ctx, td.tape.pre, T * 4 * BH);
  out.dh_first = to_vector(ctx, dh_first.view());
  out.dc_first = to_vector(ctx, dc_first.view());
  ctx.synchronize();  // device-side errors surface here
  return out;
}

// Float32 against float32 in other summation orders, through up to 35 recurrent steps: the BPTT
// budget of tests/lstm_layer_cuda_test.cpp and tests/bilstm_cuda_test.cpp (cuBLAS against
// OpenBLAS at T 28), rtol 1e-3 of the data-scaled rule in tests/support/compare.hpp.
constexpr test::Tolerance kBpttTol{1e-3};

void expect_loop_close(const std::string& what, const LoopOutputs& got, const LoopOutputs& ref) {
  EXPECT_TRUE(test::expect_close(what + "y", got.y, ref.y, kBpttTol));
  EXPECT_TRUE(test::expect_close(what + "gates", got.gates, ref.gates, kBpttTol));
  EXPECT_TRUE(test::expect_close(what + "c slots", got.c, ref.c, kBpttTol));
  EXPECT_TRUE(test::expect_close(what + "h slots", got.h, ref.h, kBpttTol));
  EXPECT_TRUE(test::expect_close(what + "h_final", got.h_final, ref.h_final, kBpttTol));
  EXPECT_TRUE(test::expect_close(what + "c_final", got.c_final, ref.c_final, kBpttTol));
  EXPECT_TRUE(got.final_is_last_slot) << what << "the final state is not the last step's";
  EXPECT_TRUE(test::expect_close(what + "dPre", got.dpre, ref.dpre, kBpttTol));
  EXPECT_TRUE(test::expect_close(what + "dh_first", got.dh_first, ref.dh_first, kBpttTol));
  EXPECT_TRUE(test::expect_close(what + "dc_first", got.dc_first, ref.dc_first, kBpttTol));
  EXPECT_TRUE(got.unused_slot_untouched) << what << "wrote the unused state slot";
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void expect_loop_identical(const std::string& what, const LoopOutputs& a, const LoopOutputs& b) {
  EXPECT_TRUE(same_bits(a.y, b.y)) << what << "y";
  EXPECT_TRUE(same_bits(a.gates, b.gates)) << what << "gates";
  EXPECT_TRUE(same_bits(a.c, b.c)) << what << "c slots";
  EXPECT_TRUE(same_bits(a.h, b.h)) << what << "h slots";
  EXPECT_TRUE(same_bits(a.h_final, b.h_final)) << what << "h_final";
  EXPECT_TRUE(same_bits(a.c_final, b.c_final)) << what << "c_final";
  EXPECT_TRUE(same_bits(a.dpre, b.dpre)) << what << "dPre";
  EXPECT_TRUE(same_bits(a.dh_first, b.dh_first)) << what << "dh_first";
  EXPECT_TRUE(same_bits(a.dc_first, b.dc_first)) << what << "dc_first";
}

// Skips (returns false) where the device has no clusters (before Hopper).
bool persistent_runs_here(std::string* why) {
  return static_cast<bool>(cuda::plan_persistent_lstm(20, 200, 1, why));
}

#define CURNN_REQUIRE_PERSISTENT()                                  \
  do {                                                              \
    CURNN_REQUIRE_CUDA();                                           \
    std::string why_not_;                                           \
    if (!persistent_runs_here(&why_not_)) GTEST_SKIP() << why_not_; \
  } while (0)

std::string describe(const cuda::persistent::Plan& p) {
  char line[256];
  std::snprintf(line, sizeof line,
                "C %d, %d cluster(s) of %d rows, %d units/block, split-K %d, threads %d/%d, "
                "smem %zu/%zu B",
                p.cluster_size, p.batch_clusters, p.rows, p.units, p.k_splits, p.forward_threads,
                p.backward_threads, p.forward_smem, p.backward_smem);
  return line;
}

TEST(PersistentLstmCuda, ExperimentShapesHaveSixteenBlockClusterPlans) {
  CURNN_REQUIRE_PERSISTENT();
  struct Case {
    int B, H, directions;
  };
  for (const Case c : {Case{20, 200, 1}, Case{1, 200, 1}, Case{128, 256, 1}, Case{128, 256, 2}}) {
    std::string why;
    const cuda::persistent::Plan p = cuda::plan_persistent_lstm(c.B, c.H, c.directions, &why);
    ASSERT_TRUE(p) << "B=" << c.B << " H=" << c.H << ": " << why;
    const int active = cuda::persistent_lstm_max_active_clusters(p);
    std::printf("[      plan] B=%d H=%d directions %d: %s; %d clusters run at once\n", c.B, c.H,
                c.directions, describe(p).c_str(), active);
    EXPECT_EQ(p.cluster_size, 16) << describe(p);
    EXPECT_GE(active, 1);
  }
}

// The loop alone, every case, against the per-step loop on CUDA.
TEST(PersistentLstmCuda, LoopMatchesPerStepOnCuda) {
  CURNN_REQUIRE_PERSISTENT();
  Context gpu = Context::cuda();
  std::vector<Shape> shapes(std::begin(kExperimentShapes), std::end(kExperimentShapes));
  shapes.insert(shapes.end(), std::begin(kOddShapes), std::end(kOddShapes));
  shapes.push_back({35, 1, 200});  // the test pass's batch over a long window
  for (const Shape& s : shapes) {
    for (const LoopCase& c : all_cases(s)) {
      const LoopInputs in(c);
      nn::GemmPerStepLoop<float> per_step;
      nn::PersistentLoop persistent;
      const LoopOutputs ref = run_loop(gpu, per_step, c, in);
      const LoopOutputs got = run_loop(gpu, persistent, c, in);
      expect_loop_close(describe(c) + "vs CUDA per-step: ", got, ref);
      // On a tape reserved for a larger shape first (grow-only buffers): the same bits.
      expect_loop_identical(
          describe(c) + "grown tape: ", run_loop(gpu, persistent, c, in, /*grown_tape=*/true), got);
    }
  }
}

// The loop against the CPU reference backend at the experiments' shapes (and two odd ones),
// both directions, with and without mask and state.
TEST(PersistentLstmCuda, LoopMatchesCpuReference) {
  CURNN_REQUIRE_PERSISTENT();
  Context cpu = Context::cpu(), gpu = Context::cuda();
  std::vector<Shape> shapes(std::begin(kExperimentShapes), std::end(kExperimentShapes));
  shapes.push_back(kOddShapes[0]);
  shapes.push_back(kOddShapes[2]);
  for (const Shape& s : shapes) {
    for (const Direction dir : {Direction::Forward, Direction::Reverse}) {
      for (const bool extras : {false, true}) {  // mask and state, or neither
        const LoopCase c{s, dir, extras, extras, extras ? 1.0f : 0.0f};
        const LoopInputs in(c, 7);
        nn::GemmPerStepLoop<float> per_step;
        nn::PersistentLoop persistent;
        const LoopOutputs ref = run_loop(cpu, per_step, c, in);
        const LoopOutputs got = run_loop(gpu, persistent, c, in);
        expect_loop_close(describe(c) + "vs CPU: ", got, ref);
      }
    }
  }
}

// ---- the layer: weight gradients ---------------------------------------------------------------

struct LayerOutputs {
  std::vector<float> y, hT, cT, dx, dwx, dwh, dbias, dh0, dc0;
};

// How the engines call a layer (include/curnn/nn/lstm.hpp): y only with a mask, else the outputs
// read from the tape (output()); and
enum class LayerCall {
  Full,        // every final state and initial-state gradient asked for
  InPlace,     // hT, cT are h0, c0 themselves (the LM carries its state in place)
  FinalHOnly,  // hT only, no cT, no dh0, dc0 (the BiLSTM)
};

LayerOutputs run_layer(Context& ctx, std::unique_ptr<Loop> loop, const LoopCase& c, int E,
                       LayerCall call = LayerCall::Full) {
  const int T = c.s.T, B = c.s.B, H = c.s.H;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const double scale = 1.5 / std::sqrt(static_cast<double>(H));
  Buffer<float> wx = put(ctx, test::random_uniform(E * 4 * H, -scale, scale, 31)),
                wh = put(ctx, test::random_uniform(H * 4 * H, -scale, scale, 32)),
                bias = put(ctx, test::random_uniform(4 * H, -0.3, 0.3, 33)),
                x = put(ctx, test::random_uniform(T * B * E, -1, 1, 34)),
                dy = put(ctx, test::random_uniform(T * BH, -1, 1, 35));
  Buffer<float> h0, c0, dhT, dcT, mask;
  if (c.state) {
    h0 = put(ctx, test::random_uniform(BH, -0.8, 0.8, 36));
    c0 = put(ctx, test::random_uniform(BH, -1, 1, 37));
    dhT = put(ctx, test::random_uniform(BH, -1, 1, 38));
    dcT = put(ctx, test::random_uniform(BH, -1, 1, 39));
  }
  if (c.mask) mask = put(ctx, dropout_mask(T * BH, 40));
  const auto nan = [&](std::size_t n) { return put(ctx, test::nan_filled(n)); };
  Buffer<float> y = nan(T * BH), hT = nan(BH), cT = nan(BH), dx = nan(T * B * E),
                dwx = nan(E * 4 * H), dwh = nan(H * 4 * H), dbias = nan(4 * H), dh0 = nan(BH),
                dc0 = nan(BH);
  const auto opt = [](Buffer<float>& b, std::initializer_list<std::int64_t> shape) {
    return b.size() ? TensorView<float>(b.view(shape)) : TensorView<float>();
  };
  const bool in_place = call == LayerCall::InPlace, all = call != LayerCall::FinalHOnly;
  const nn::LstmWeights<float> w{wx.view({E, 4 * H}), wh.view({H, 4 * H}), bias.view({4 * H})};
  const nn::LstmWeights<float> g{dwx.view({E, 4 * H}), dwh.view({H, 4 * H}), dbias.view({4 * H})};
  nn::LstmLayer<float> layer(E, H, c.forget_bias, c.dir, std::move(loop));
  layer.forward(ctx, w, x.view({T, B, E}), opt(h0, {B, H}), opt(c0, {B, H}),
                c.mask ? y.view({T, B, H}) : TensorView<float>(),
                in_place ? opt(h0, {B, H}) : hT.view({B, H}),
                in_place ? opt(c0, {B, H})
                : all    ? cT.view({B, H})
                         : TensorView<float>(),
                opt(mask, {T, B, H}));
  LayerOutputs out;
  out.y = to_vector(ctx, layer.output());
  out.hT = to_vector(ctx, in_place ? h0.view() : hT.view());
  if (all) out.cT = to_vector(ctx, in_place ? c0.view() : cT.view());
  layer.backward(ctx, w, g, Write::Overwrite, x.view({T, B, E}), dy.view({T, B, H}),
                 opt(dhT, {B, H}), opt(dcT, {B, H}), dx.view({T, B, E}),
                 all ? dh0.view({B, H}) : TensorView<float>(),
                 all ? dc0.view({B, H}) : TensorView<float>());
  const std::pair<std::vector<float>*, Buffer<float>*> results[] = {
      {&out.dx, &dx}, {&out.dwx, &dwx}, {&out.dwh, &dwh}, {&out.dbias, &dbias}};
  for (const auto& [dst, src] : results) *dst = to_vector(ctx, src->view());
  if (all) out.dh0 = to_vector(ctx, dh0.view()), out.dc0 = to_vector(ctx, dc0.view());
  ctx.synchronize();
  return out;
}

TEST(PersistentLstmCuda, LayerOutputsAndWeightGradientsMatchReference) {
  CURNN_REQUIRE_PERSISTENT();
  Context cpu = Context::cpu(), gpu = Context::cuda();
  struct Case {
    LoopCase c;
    int E;
    LayerCall call;
  };
  const Case cases[] = {
      // PTB small, training (dropout: y given) and the test pass (state carried in place)
      {{{20, 20, 200}, Direction::Forward, true, true, 0.0f}, 200, LayerCall::InPlace},
      {{{1, 1, 200}, Direction::Forward, false, true, 0.0f}, 200, LayerCall::InPlace},
      {{{20, 20, 200}, Direction::Forward, false, true, 0.0f}, 200, LayerCall::Full},
      // the BiLSTM's two directions
      {{{28, 128, 256}, Direction::Forward, false, false, 1.0f}, 28, LayerCall::FinalHOnly},
      {{{28, 128, 256}, Direction::Reverse, false, false, 1.0f}, 28, LayerCall::FinalHOnly},
      {{{5, 7, 37}, Direction::Reverse, true, true, 0.5f}, 9, LayerCall::Full},
      {{{5, 7, 37}, Direction::Reverse, false, true, 0.5f}, 9, LayerCall::InPlace},
      {{{3, 1, 1}, Direction::Forward, true, true, 0.5f}, 2, LayerCall::Full},
  };
  for (const Case& k : cases) {
    const LayerOutputs ref =
        run_layer(cpu, std::make_unique<nn::GemmPerStepLoop<float>>(), k.c, k.E, k.call);
    const LayerOutputs cuda_ref =
        run_layer(gpu, std::make_unique<nn::GemmPerStepLoop<float>>(), k.c, k.E, k.call);
    const LayerOutputs got =
        run_layer(gpu, std::make_unique<nn::PersistentLoop>(), k.c, k.E, k.call);
    const std::pair<const LayerOutputs*, const char*> references[] = {{&ref, "CPU"},
                                                                      {&cuda_ref, "CUDA per-step"}};
    for (const auto& [r, against] : references) {
      const std::string s = describe(k.c) + "E=" + std::to_string(k.E) + " call " +
                            std::to_string(static_cast<int>(k.call)) + " vs " + against + ": ";
      EXPECT_TRUE(test::expect_close(s + "y", got.y, r->y, kBpttTol));
      EXPECT_TRUE(test::expect_close(s + "final h", got.hT, r->hT, kBpttTol));
      EXPECT_TRUE(test::expect_close(s + "final c", got.cT, r->cT, kBpttTol));
      EXPECT_TRUE(test::expect_close(s + "dx", got.dx, r->dx, kBpttTol));
      EXPECT_TRUE(test::expect_close(s + "dWx", got.dwx, r->dwx, kBpttTol));
      EXPECT_TRUE(test::expect_close(s + "dWh", got.dwh, r->dwh, kBpttTol));
      EXPECT_TRUE(test::expect_close(s + "dbias", got.dbias, r->dbias, kBpttTol));
      EXPECT_TRUE(test::expect_close(s + "dh0", got.dh0, r->dh0, kBpttTol));
      EXPECT_TRUE(test::expect_close(s + "dc0", got.dc0, r->dc0, kBpttTol));
    }
  }
}

// ---- plans, determinism, two directions, errors ------------------------------------------------

// Every cluster size that fits, with one cluster holding the whole batch and with the batch
// spread over many small clusters (more than run at once: they run in waves).
TEST(PersistentLstmCuda, EveryClusterSizeAndBatchSplitMatchesPerStep) {
  CURNN_REQUIRE_PERSISTENT();
  Context gpu = Context::cuda();
  int device = 0, smem = 0;
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  ASSERT_EQ(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
            cudaSuccess);
  struct Case {
    Shape s;
    int max_active;  // what the plan assumes runs at once: 1 = fewest clusters
  };
  int planned = 0;
  for (const Case k : {Case{{6, 21, 40}, 1}, Case{{6, 21, 40}, 64}, Case{{4, 600, 16}, 1000}}) {
    for (const int C : {16, 8, 4, 2, 1}) {
      const cuda::persistent::Plan p = cuda::persistent::plan_for_cluster(
          k.s.B, k.s.H, C, 1, static_cast<std::size_t>(smem), k.max_active);
      if (!p || cuda::persistent_lstm_max_active_clusters(p) < 1) continue;
      ++planned;
      for (const Direction dir : {Direction::Forward, Direction::Reverse}) {
        const LoopCase c{k.s, dir, true, true, 1.0f};
        const LoopInputs in(c, 11);
        nn::GemmPerStepLoop<float> per_step;
        nn::PersistentLoop persistent(p);
        const LoopOutputs ref = run_loop(gpu, per_step, c, in);
        const LoopOutputs got = run_loop(gpu, persistent, c, in);
        expect_loop_close(describe(c) + "plan " + describe(p) + ": ", got, ref);
      }
    }
  }
  EXPECT_EQ(planned, 15) << "cluster sizes 16, 8, 4, 2, 1 for each of the three cases";
}

TEST(PersistentLstmCuda, BitwiseDeterministicRunToRun) {
  CURNN_REQUIRE_PERSISTENT();
  Context gpu = Context::cuda();
  for (const Shape& s : {Shape{20, 20, 200}, Shape{28, 128, 256}, Shape{5, 7, 37}}) {
    for (const Direction dir : {Direction::Forward, Direction::Reverse}) {
      const LoopCase c{s, dir, true, true, 1.0f};
      const LoopInputs in(c, 21);
      nn::PersistentLoop first, second;
      const LoopOutputs a = run_loop(gpu, first, c, in), b = run_loop(gpu, first, c, in),
                        other = run_loop(gpu, second, c, in);
      expect_loop_identical(describe(c) + "same loop twice: ", a, b);
      expect_loop_identical(describe(c) + "another loop object: ", a, other);
    }
  }
}

// One launch of both directions (the BiLSTM's) gives bitwise what two launches give with the
// same plan, through the launchers' raw arguments: the forward direction with a mask and y, the
// reverse one without a mask but with y (then a copy of h), both with the final state.
TEST(PersistentLstmCuda, TwoDirectionsInOneLaunchEqualSeparateLaunches) {
  CURNN_REQUIRE_PERSISTENT();
  Context gpu = Context::cuda();
  for (const Shape& s : {Shape{28, 128, 256}, Shape{7, 20, 200}, Shape{3, 5, 17}}) {
    const int T = s.T, B = s.B, H = s.H;
    std::string why;
    const cuda::persistent::Plan plan = cuda::plan_persistent_lstm(B, H, 2, &why);
    ASSERT_TRUE(plan) << why;
    const LoopCase cases[2] = {{s, Direction::Forward, true, true, 1.0f},
                               {s, Direction::Reverse, false, true, 1.0f}};
    const LoopInputs inputs[2] = {LoopInputs(cases[0], 41), LoopInputs(cases[1], 51)};
    const std::size_t BH = static_cast<std::size_t>(B) * H;
    const char* names[] = {"y", "h_final", "c_final",  "gates",   "h",
                           "c", "dPre",    "dh_first", "dc_first"};
    constexpr int kOutputs = 9;  // per direction, in the order of names
    // Runs both directions, together or one launch each; returns the outputs of both.
    const auto run = [&](bool together) {
      std::vector<std::unique_ptr<TapeOnDevice>> tapes;
      std::vector<Buffer<float>> buffers;  // per direction: y, h_final, c_final, dy, dh_last,
                                           // dc_last, dh_first, dc_first
      cuda::PersistentLstmDirection dirs[2];
      for (int i = 0; i < 2; ++i) {
        tapes.push_back(std::make_unique<TapeOnDevice>(gpu, cases[i], inputs[i]));
        dirs[i] = nn::persistent_direction(tapes[i]->weights(H), cases[i].dir, tapes[i]->tape);
        buffers.push_back(put(gpu, test::nan_filled(T * BH)));  // y
        buffers.push_back(put(gpu, test::nan_filled(BH)));      // h_final
        buffers.push_back(put(gpu, test::nan_filled(BH)));      // c_final
        buffers.push_back(put(gpu, inputs[i].dy));
        buffers.push_back(put(gpu, inputs[i].dh_last));
        buffers.push_back(put(gpu, inputs[i].dc_last));
        buffers.push_back(put(gpu, test::nan_filled(BH)));  // dh_first
        buffers.push_back(put(gpu, test::nan_filled(BH)));  // dc_first
      }
      for (int i = 0; i < 2; ++i) {
        Buffer<float>* b = &buffers[8 * i];
        dirs[i].y = b[0].data(), dirs[i].h_final = b[1].data(), dirs[i].c_final = b[2].data();
        dirs[i].dy = b[3].data(), dirs[i].dh_last = b[4].data(), dirs[i].dc_last = b[5].data();
        dirs[i].dh_first = b[6].data(), dirs[i].dc_first = b[7].data();
      }
      if (together) {
        cuda::persistent_lstm_forward(plan, T, B, H, 1.0f, dirs, 2, gpu.stream());
        cuda::persistent_lstm_backward(plan, T, B, H, dirs, 2, gpu.stream());
      } else {
        for (int i = 0; i < 2; ++i) {
          cuda::persistent_lstm_forward(plan, T, B, H, 1.0f, &dirs[i], 1, gpu.stream());
          cuda::persistent_lstm_backward(plan, T, B, H, &dirs[i], 1, gpu.stream());
        }
      }
      std::vector<std::vector<float>> out;
      for (int i = 0; i < 2; ++i) {
        nn::LstmTape<float>& t = tapes[i]->tape;
        Buffer<float>* b = &buffers[8 * i];
        for (Buffer<float>* o : {&b[0], &b[1], &b[2], &t.gates, &t.h, &t.c, &t.pre, &b[6], &b[7]}) {
          out.push_back(to_vector(gpu, o->view()));
        }
      }
      gpu.synchronize();
      return out;
    };
    const auto separate = run(false), together = run(true);
    for (std::size_t i = 0; i < separate.size(); ++i) {
      const std::string what = "T=" + std::to_string(T) + " B=" + std::to_string(B) +
                               " H=" + std::to_string(H) +
                               (i < kOutputs ? " forward " : " reverse ") + names[i % kOutputs];
      EXPECT_TRUE(same_bits(separate[i], together[i])) << what;
      const std::string name = names[i % kOutputs];
      if (name == "h" || name == "c") continue;  // they keep one unused NaN slot
      for (float v : together[i]) {
        if (!std::isfinite(v)) {
          ADD_FAILURE() << what << ": non-finite output";
          break;
        }
      }
    }
    // The reverse direction's y without a mask is its h (slots 1..T); each final state is the
    // last step's slot (forward: slot T; reverse: slot 1).
    const std::vector<float>* rev = &together[kOutputs];
    EXPECT_TRUE(
        same_bits(rev[0], std::vector<float>(rev[4].begin() + BH, rev[4].begin() + (T + 1) * BH)))
        << "reverse y without a mask";
    const std::vector<float>* fwd = &together[0];
    EXPECT_TRUE(same_bits(
        fwd[1], std::vector<float>(fwd[4].begin() + T * BH, fwd[4].begin() + (T + 1) * BH)))
        << "forward h_final";
    EXPECT_TRUE(same_bits(rev[2], std::vector<float>(rev[5].begin() + BH, rev[5].begin() + 2 * BH)))
        << "reverse c_final";
  }
}

// H 650 (PTB medium: Wh is 6.8 MB) fits no cluster: --recurrent persistent says so; auto runs the
// per-step loop. And auto stays per-step for the experiments' shapes until they are verified.
TEST(PersistentLstmCuda, UnsupportedShapeIsAClearErrorAndAutoFallsBack) {
  CURNN_REQUIRE_CUDA();
  Context gpu = Context::cuda();
  const LoopCase medium{{3, 20, 650}, Direction::Forward, true, true, 0.0f};
  const LoopInputs in(medium, 61);
  nn::PersistentLoop persistent;
  try {
    run_loop(gpu, persistent, medium, in);
    ADD_FAILURE() << "the persistent loop ran H 650";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("650"), std::string::npos) << e.what();
    std::printf("[   message] %s\n", e.message().c_str());
  }
  nn::AutoLoop<float> automatic;
  nn::GemmPerStepLoop<float> per_step;
  expect_loop_identical("auto at H 650: ", run_loop(gpu, automatic, medium, in),
                        run_loop(gpu, per_step, medium, in));
  EXPECT_FALSE(automatic.used_persistent());
  const LoopCase small{{4, 20, 200}, Direction::Forward, false, false, 0.0f};
  const LoopInputs in_small(small, 62);
  const LoopOutputs a = run_loop(gpu, automatic, small, in_small);
  EXPECT_EQ(automatic.used_persistent(), nn::persistent_loop_verified(20, 200));
  if (!automatic.used_persistent()) {
    expect_loop_identical("auto at B 20 H 200: ", a, run_loop(gpu, per_step, small, in_small));
  }
}

}  // namespace
}  // namespace curnn
