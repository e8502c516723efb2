// The recurrent-loop choice and the persistent loop's plan, on the CPU (no GPU needed):
//  - the partition of hidden units over a cluster, of k over the split-K threads, and the
//    bank-conflict-free strides (include/curnn/cuda/lstm_persistent_plan.hpp), exhaustively;
//  - the plans at the experiments' shapes on a Hopper block (227 KB of shared memory), their
//    invariants over a sweep of shapes, and H 650 (PTB medium) not fitting;
//  - --recurrent auto|per-step|persistent: names, auto = per-step while no shape is verified on
//    a GPU (bitwise on the CPU, in each way the engines call a layer: y or the tape's outputs,
//    dropout, the state carried in place), and clear errors for persistent on the CPU or in
//    double, in the engines and in the apps' command lines.
// The persistent kernels themselves: tests/lstm_persistent_cuda_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "curnn/cuda/lstm_persistent_plan.hpp"
#include "curnn/nn/bilstm_classifier.hpp"
#include "curnn/nn/lstm.hpp"
#include "curnn/nn/lstm_lm.hpp"
#include "curnn/nn/persistent_loop.hpp"
#include "support/data_files.hpp"
#include "support/random.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

namespace pp = cuda::persistent;

constexpr std::size_t kHopperSmem = 232448;  // cudaDevAttrMaxSharedMemoryPerBlockOptin, H100/H200

TEST(PersistentPlan, UnitsSplitEvenlyAndEveryUnitHasOneOwner) {
  for (int H = 1; H <= 700; ++H) {
    for (int C = 1; C <= 16 && C <= H; ++C) {
      ASSERT_EQ(pp::unit_begin(H, C, 0), 0);
      ASSERT_EQ(pp::unit_begin(H, C, C), H);
      for (int j = 0; j < C; ++j) {
        const int n = pp::unit_begin(H, C, j + 1) - pp::unit_begin(H, C, j);
        ASSERT_TRUE(n == H / C || n == (H + C - 1) / C) << "H=" << H << " C=" << C << " j=" << j;
        ASSERT_GE(n, 1);
      }
      for (int k = 0; k < H; ++k) {
        const int j = pp::unit_owner(H, C, k);
        ASSERT_TRUE(j >= 0 && j < C && pp::unit_begin(H, C, j) <= k &&
                    k < pp::unit_begin(H, C, j + 1))
            << "H=" << H << " C=" << C << " k=" << k << " owner " << j;
      }
    }
  }
}

TEST(PersistentPlan, SplitKSlicesCoverEveryKOnce) {
  for (int H = 1; H <= 700; ++H) {
    for (int KS = 1; KS <= pp::kMaxKSplits && KS <= H; ++KS) {
      ASSERT_EQ(pp::slice_begin(H, KS, 0), 0);
      ASSERT_EQ(pp::slice_begin(H, KS, KS), H);
      for (int s = 0; s < KS; ++s) {
        ASSERT_LT(pp::slice_begin(H, KS, s), pp::slice_begin(H, KS, s + 1)) << H << " " << KS;
      }
    }
  }
}

// 8 lanes reading 16 bytes at rows r .. r+7 of a buffer with this row stride touch 8 distinct
// 4-bank groups of the 32 banks (one wavefront per quarter warp).
TEST(PersistentPlan, StridesAreConflictFree) {
  for (int n4 = 4; n4 <= 2048; n4 += 4) {
    const int s = pp::conflict_free_stride(n4);
    ASSERT_TRUE(s >= n4 && s <= n4 + 4 && s % 4 == 0) << n4 << " -> " << s;
    bool group_used[8] = {};
    for (int row = 0; row < 8; ++row) {
      const int group = (row * s / 4) % 8;
      ASSERT_FALSE(group_used[group]) << "stride " << s << ": rows collide in bank group " << group;
      group_used[group] = true;
    }
  }
}

// What every plan must satisfy for the kernels' indexing and barriers.
void expect_valid_plan(const pp::Plan& p, int B, int H, int directions, std::size_t smem) {
  const std::string s = "B=" + std::to_string(B) + " H=" + std::to_string(H) +
                        " C=" + std::to_string(p.cluster_size) + ": ";
  EXPECT_EQ(p.units, (H + p.cluster_size - 1) / p.cluster_size) << s;
  EXPECT_GE(p.w_stride, 4 * p.units) << s;
  EXPECT_EQ(p.rows % pp::kRowsPerTile, 0) << s;
  EXPECT_GE(p.state_stride, p.rows) << s;
  EXPECT_GE(static_cast<long long>(p.batch_clusters) * p.rows, B) << s << "rows uncovered";
  EXPECT_LT(static_cast<long long>(p.batch_clusters - 1) * p.rows, B) << s << "an empty cluster";
  EXPECT_EQ(p.tiles, p.rows / 4 * p.units) << s;
  EXPECT_GE(p.k_splits, 1) << s;
  EXPECT_LE(p.k_splits, pp::kMaxKSplits) << s;
  if (p.k_splits > 1) EXPECT_GE(H / p.k_splits, pp::kMinSliceLength) << s;
  EXPECT_GE(p.forward_threads, p.k_splits * p.tiles) << s;
  EXPECT_GE(p.backward_threads, p.tiles) << s;
  for (const int t : {p.forward_threads, p.backward_threads}) {
    EXPECT_TRUE(t % 32 == 0 && t >= 32 && t <= pp::kMaxThreads) << s << "threads " << t;
  }
  EXPECT_LE(p.forward_smem, smem) << s;
  EXPECT_LE(p.backward_smem, smem) << s;
  EXPECT_EQ(p.forward_smem, pp::forward_smem_floats(H, p) * sizeof(float)) << s;
  EXPECT_EQ(p.backward_smem, pp::backward_smem_floats(H, p) * sizeof(float)) << s;
  (void)directions;
}

TEST(PersistentPlan, ExperimentShapesFitSixteenBlockClustersOnHopper) {
  struct Case {
    int B, H, directions, max_active, clusters, rows;
  };
  // max_active: clusters of 16 that run at once (1 = unknown; 8 = about what 132 SMs hold).
  const Case cases[] = {
      {20, 200, 1, 1, 1, 20},  {20, 200, 1, 8, 3, 8},    // PTB small
      {1, 200, 1, 8, 1, 4},                              // PTB's batch-1 test pass
      {128, 256, 1, 1, 2, 64}, {128, 256, 2, 8, 4, 32},  // the BiLSTM, one or both directions
  };
  for (const Case& c : cases) {
    const pp::Plan p = pp::plan_for_cluster(c.B, c.H, 16, c.directions, kHopperSmem, c.max_active);
    ASSERT_TRUE(p) << "B=" << c.B << " H=" << c.H;
    expect_valid_plan(p, c.B, c.H, c.directions, kHopperSmem);
    EXPECT_EQ(p.batch_clusters, c.clusters) << "B=" << c.B << " H=" << c.H;
    EXPECT_EQ(p.rows, c.rows) << "B=" << c.B << " H=" << c.H;
  }
}

TEST(PersistentPlan, EveryPlanOfASweepIsValid) {
  int plans = 0;
  for (int H : {1, 2, 3, 13, 16, 17, 37, 64, 100, 200, 255, 256, 300, 400, 512}) {
    for (int B : {1, 2, 3, 4, 5, 7, 20, 33, 64, 128, 129, 500, 4096}) {
      for (int C : {1, 2, 4, 8, 16}) {
        for (int active : {1, 3, 8, 100}) {
          for (int directions : {1, 2}) {
            const pp::Plan p = pp::plan_for_cluster(B, H, C, directions, kHopperSmem, active);
            if (!p) continue;
            ++plans;
            expect_valid_plan(p, B, H, directions, kHopperSmem);
            if (HasFailure()) return;
          }
        }
      }
    }
  }
  EXPECT_GT(plans, 2000);
}

TEST(PersistentPlan, NoPlanWhereTheWeightsDoNotFit) {
  // PTB medium: Wh [650, 2600] is 6.8 MB, 423 KB per block even in clusters of 16.
  EXPECT_FALSE(pp::plan_for_cluster(20, 650, 16, 1, kHopperSmem, 8));
  EXPECT_GT(pp::weight_bytes_per_block(650, 16), kHopperSmem);
  EXPECT_FALSE(pp::plan_for_cluster(20, 1500, 16, 1, kHopperSmem, 8));  // PTB large
  // Cluster sizes over H or 16 have no plan.
  EXPECT_FALSE(pp::plan_for_cluster(4, 8, 16, 1, kHopperSmem, 1));
  EXPECT_FALSE(pp::plan_for_cluster(4, 64, 32, 1, kHopperSmem, 1));
}

// ---- choosing the loop
// ---------------------------------------------------------------------------

TEST(RecurrentMode, NamesRoundTripAndOthersAreErrors) {
  for (const auto m :
       {nn::RecurrentMode::Auto, nn::RecurrentMode::PerStep, nn::RecurrentMode::Persistent}) {
    EXPECT_EQ(nn::parse_recurrent_mode(nn::recurrent_mode_name(m)), m);
  }
  EXPECT_STREQ(nn::recurrent_mode_name(nn::RecurrentMode::PerStep), "per-step");
  EXPECT_THROW(nn::parse_recurrent_mode("fast"), ArgumentError);
  EXPECT_THROW(nn::parse_recurrent_mode(""), ArgumentError);
}

TEST(RecurrentMode, AutoIsPerStepUntilShapesAreVerifiedOnAGpu) {
  EXPECT_TRUE(nn::kVerifiedPersistentShapes.empty())
      << "a verified shape: update this test with the GPU run that verified it";
  EXPECT_FALSE(nn::persistent_loop_verified(20, 200));
  EXPECT_FALSE(nn::persistent_loop_verified(128, 256));
}

// How a layer is called (the engines' ways since the copy-free engine): y given without a mask
// (a copy of the tape's outputs), no y (the outputs read through output(), as the BiLSTM and the
// LM without dropout), a dropout mask with y (the LM with dropout), and the state carried in
// place (hT, cT are h0, c0 themselves, as the LM carries it).
enum class LayerCall { WithY, OutputsFromTape, Dropout, StateInPlace };
const LayerCall kLayerCalls[] = {LayerCall::WithY, LayerCall::OutputsFromTape, LayerCall::Dropout,
                                 LayerCall::StateInPlace};

// One layer forward + backward on the CPU with the given loop; returns every output.
template <class Scalar>
std::vector<Scalar> layer_run(nn::RecurrentMode mode, nn::Direction dir,
                              LayerCall call = LayerCall::WithY) {
  Context ctx = Context::cpu();
  const int T = 4, B = 3, E = 5, H = 6, G = 4 * H;
  auto wx = test::random_uniform<Scalar>(E * G, -0.5, 0.5, 1),
       wh = test::random_uniform<Scalar>(H * G, -0.5, 0.5, 2),
       bias = test::random_uniform<Scalar>(G, -0.5, 0.5, 3),
       x = test::random_uniform<Scalar>(T * B * E, -1, 1, 4),
       dy = test::random_uniform<Scalar>(T * B * H, -1, 1, 5),
       h0 = test::random_uniform<Scalar>(B * H, -1, 1, 6),
       c0 = test::random_uniform<Scalar>(B * H, -1, 1, 7),
       mask = test::random_uniform<Scalar>(T * B * H, 0, 1, 8);
  for (Scalar& m : mask) m = m < 0.5 ? Scalar(0) : Scalar(2);
  const Scalar nan = std::numeric_limits<Scalar>::quiet_NaN();
  std::vector<Scalar> y(T * B * H, nan), hT(B * H, nan), cT(B * H, nan), dx(T * B * E, nan),
      dwx(E * G, nan), dwh(H * G, nan), dbias(G, nan), dh0(B * H, nan), dc0(B * H, nan);
  using test::view_of;
  using View = TensorView<Scalar>;
  using ConstView = TensorView<const Scalar>;
  const nn::LstmWeights<Scalar> w{view_of(wx, {E, G}), view_of(wh, {H, G}), view_of(bias, {G})};
  const nn::LstmWeights<Scalar> g{view_of(dwx, {E, G}), view_of(dwh, {H, G}), view_of(dbias, {G})};
  nn::LstmLayer<Scalar> layer(E, H, 1.0f, dir, nn::make_recurrent_loop<Scalar>(mode));
  const bool in_place = call == LayerCall::StateInPlace;
  const View h_final = view_of(in_place ? h0 : hT, {B, H});
  const View c_final = view_of(in_place ? c0 : cT, {B, H});
  layer.forward(ctx, w, view_of(x, {T, B, E}), view_of(h0, {B, H}), view_of(c0, {B, H}),
                call == LayerCall::OutputsFromTape ? View() : view_of(y, {T, B, H}), h_final,
                c_final,
                call == LayerCall::Dropout ? ConstView(view_of(mask, {T, B, H})) : ConstView());
  if (call == LayerCall::OutputsFromTape) y = to_vector(ctx, layer.output());
  if (in_place) hT = h0, cT = c0;
  layer.backward(ctx, w, g, Write::Overwrite, view_of(x, {T, B, E}), view_of(dy, {T, B, H}), {}, {},
                 view_of(dx, {T, B, E}), view_of(dh0, {B, H}), view_of(dc0, {B, H}));
  std::vector<Scalar> all;
  for (const auto* v : {&y, &hT, &cT, &dx, &dwx, &dwh, &dbias, &dh0, &dc0}) {
    all.insert(all.end(), v->begin(), v->end());
  }
  return all;
}

TEST(RecurrentMode, AutoOnTheCpuIsThePerStepLoopBitwise) {
  for (const auto dir : {nn::Direction::Forward, nn::Direction::Reverse}) {
    for (const LayerCall call : kLayerCalls) {
      const std::string what = std::string(dir == nn::Direction::Forward ? "forward" : "reverse") +
                               " call " + std::to_string(static_cast<int>(call));
      const auto a = layer_run<float>(nn::RecurrentMode::Auto, dir, call);
      const auto p = layer_run<float>(nn::RecurrentMode::PerStep, dir, call);
      ASSERT_EQ(a.size(), p.size());
      for (const float v : p) ASSERT_TRUE(std::isfinite(v)) << what << ": an output unwritten";
      EXPECT_EQ(std::memcmp(a.data(), p.data(), a.size() * sizeof(float)), 0) << what;
      const auto ad = layer_run<double>(nn::RecurrentMode::Auto, dir, call);
      const auto pd = layer_run<double>(nn::RecurrentMode::PerStep, dir, call);
      EXPECT_EQ(std::memcmp(ad.data(), pd.data(), ad.size() * sizeof(double)), 0) << what;
    }
  }
}

// An ArgumentError whose message contains every one of `parts`.
template <class F>
void expect_argument_error(F&& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const ArgumentError& e) {
    for (const char* part : parts) {
      EXPECT_NE(std::string(e.message()).find(part), std::string::npos)
          << "'" << part << "' not in: " << e.message();
    }
  }
}

TEST(RecurrentMode, PersistentOnTheCpuOrInDoubleIsAClearError) {
  expect_argument_error(
      [] { layer_run<float>(nn::RecurrentMode::Persistent, nn::Direction::Forward); },
      {"persistent", "CUDA"});
  expect_argument_error([] { nn::make_recurrent_loop<double>(nn::RecurrentMode::Persistent); },
                        {"persistent", "float32"});
  // Through the engines: the LM and the BiLSTM classifier take the mode at construction.
  Context cpu = Context::cpu();
  nn::LmConfig lm = nn::lm_config("test");
  lm.vocab_size = 10;
  nn::LstmLanguageModel<float> model(cpu, lm, nn::RecurrentMode::Persistent);
  model.initialize(cpu, 1);
  auto state = model.zero_state(cpu, lm.batch_size);
  const std::vector<std::int32_t> ids(lm.num_steps * lm.batch_size, 3);
  const ConstIds v(ids.data(), {lm.num_steps, lm.batch_size}, Device::CPU);
  expect_argument_error([&] { model.forward(cpu, v, v, state, true, 1, 0); },
                        {"persistent", "CUDA"});
  nn::ClassifierConfig cc;
  cc.input_size = 3, cc.hidden_size = 4;
  nn::BiLstmClassifier<float> classifier(cpu, cc, nn::RecurrentMode::Persistent);
  classifier.initialize(cpu, 1);
  const std::vector<float> x = test::random_uniform(2 * 5 * 3, 0, 1, 9);
  const std::vector<std::int32_t> labels = {1, 2, 3, 4, 5};
  expect_argument_error(
      [&] {
        classifier.forward(cpu, ConstTensor(x.data(), {2, 5, 3}, Device::CPU),
                           ConstIds(labels.data(), {5}, Device::CPU), true);
      },
      {"persistent", "CUDA"});
}

// ---- the apps' flag
// --------------------------------------------------------------------------------

bool app_built(const std::string& name) {
  return std::filesystem::exists(test::app_path(name));
}

void expect_one_line_error(const test::AppResult& r, const std::string& part) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_LT(r.exit_code, 128) << "crashed: " << r.output;
  EXPECT_EQ(test::count_lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find(part), std::string::npos) << "'" << part << "' not in: " << r.output;
}

TEST(RecurrentFlag, AppsRejectUnknownLoopsAndPersistentOnTheCpu) {
  if (!app_built("curnn-ptb") || !app_built("curnn-mnist")) GTEST_SKIP() << "apps not built";
  expect_one_line_error(test::run_app("curnn-ptb", "--recurrent fast --device cpu"), "--recurrent");
  expect_one_line_error(test::run_app("curnn-mnist", "--recurrent fast --device cpu"),
                        "--recurrent");
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 200; ++i) text += " the cat sat on the mat \n";
  for (const char* split : {"train", "valid", "test"}) {
    test::write_file(dir / (std::string("ptb.") + split + ".txt"), text);
  }
  expect_one_line_error(test::run_app("curnn-ptb", "--data-path " + dir.str() +
                                                       " --model test --device cpu"
                                                       " --recurrent persistent"),
                        "persistent");
  const auto ok = test::run_app("curnn-ptb", "--data-path " + dir.str() +
                                                 " --model test --device cpu --max-steps 2"
                                                 " --recurrent per-step");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

}  // namespace
}  // namespace curnn
