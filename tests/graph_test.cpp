// The host side of CUDA Graph steps (include/curnn/graph.hpp), without a GPU: GraphPlan (when a
// step runs uncaptured, is captured, is replayed), the capture guard on allocations, the
// device-memory generation, StepGraph on a CPU context, and the DeviceScalar variants of the ops,
// of the language model and of the classifier's Adam on the CPU backend, bitwise equal to the
// variants given the values.
// The captured steps themselves: tests/graph_cuda_test.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/graph.hpp"
#include "curnn/nn/bilstm_classifier.hpp"
#include "curnn/nn/lstm_lm.hpp"
#include "curnn/ops/dropout.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/pinned.hpp"
#include "curnn/word2vec/tutorial_trainer.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using Action = GraphPlan::Action;

template <class T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

TEST(GraphPlan, UncapturedThenCapturedThenReplayedUntilMemoryIsFreed) {
  GraphPlan plan;
  EXPECT_EQ(plan.next(0), Action::RunUncaptured);
  EXPECT_EQ(plan.next(5), Action::RunUncaptured);
  plan.ran_uncaptured(5);  // the generation after the uncaptured run
  EXPECT_EQ(plan.next(5), Action::Capture);
  EXPECT_EQ(plan.next(6), Action::RunUncaptured);  // memory freed before the capture
  plan.captured();
  EXPECT_TRUE(plan.is_captured());
  EXPECT_EQ(plan.next(5), Action::Replay);
  EXPECT_EQ(plan.next(5), Action::Replay);
  EXPECT_EQ(plan.next(7), Action::RunUncaptured);  // a buffer the graph uses may be gone
  plan.ran_uncaptured(7);
  EXPECT_FALSE(plan.is_captured());
  EXPECT_EQ(plan.next(7), Action::Capture);
}

TEST(GraphGuard, AllocationsInsideACaptureScopeThrowAndHostBuffersAreFree) {
  {
    const detail::CaptureScope scope;
    EXPECT_TRUE(detail::capture_scope_active());
    try {
      Buffer<float> b(Device::CUDA, 8);
      FAIL() << "allocated inside a capture scope";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("inside a CUDA Graph capture"), std::string::npos)
          << e.what();
    }
    EXPECT_THROW(PinnedBuffer<float>(8), Error);
    Buffer<float> host(Device::CPU, 8);  // host memory is not the graph's concern
    EXPECT_EQ(host.size(), 8u);
    EXPECT_FALSE(scope.freed_inside());
  }
  EXPECT_FALSE(detail::capture_scope_active());
}

TEST(GraphGuard, HostBuffersLeaveTheDeviceMemoryGenerationAlone) {
  const std::uint64_t before = detail::device_memory_generation();
  { Buffer<float> host(Device::CPU, 100); }
  EXPECT_EQ(detail::device_memory_generation(), before);
}

TEST(StepGraph, CaptureOnACpuContextIsAnArgumentError) {
  Context ctx = Context::cpu();
  StepGraph graph;
  EXPECT_THROW(graph.capture(ctx, [] {}), ArgumentError);
  EXPECT_FALSE(graph.captured());
  EXPECT_THROW(graph.launch(ctx), Error);
  EXPECT_FALSE(ctx.capturing());
}

TEST(StepGraphCache, TheFirstRunOfAKeyIsUncaptured) {
  Context ctx = Context::cpu();
  StepGraphCache<int> cache;
  int calls = 0;
  EXPECT_EQ(cache.run(ctx, 1, [&] { ++calls; }), Action::RunUncaptured);
  EXPECT_EQ(cache.run(ctx, 2, [&] { ++calls; }), Action::RunUncaptured);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cache.stats().uncaptured, 2);
  // The second run of a key captures it: not on the CPU.
  EXPECT_THROW(cache.run(ctx, 1, [&] { ++calls; }), ArgumentError);
}

TEST(StepGraph, TheTutorialTrainerRefusesCudaGraphsOnTheCpu) {
  Context ctx = Context::cpu();
  word2vec::TutorialOptions o;
  o.train_path = "/nonexistent/corpus.txt";  // refused before it is read
  o.cuda_graph = true;
  try {
    (void)word2vec::train_tutorial(ctx, o, nullptr);
    FAIL() << "no error";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda_graph needs a CUDA context"), std::string::npos)
        << e.what();
  }
}

// ---- DeviceScalar variants on the CPU: the same bits as the values -------------------------

TEST(DeviceScalarCpu, SgdUpdatesReadTheLearningRate) {
  Context ctx = Context::cpu();
  const std::vector<float> g = test::random_uniform<float>(37, -1, 1, 1);
  std::vector<float> a = test::random_uniform<float>(37, -1, 1, 2), b = a;
  const float lr = 0.37f;
  ops::sgd_update(ctx, lr, ConstTensor(g.data(), {37}, Device::CPU),
                  Tensor(a.data(), {37}, Device::CPU));
  ops::sgd_update(ctx, DeviceScalar<float>{&lr}, ConstTensor(g.data(), {37}, Device::CPU),
                  Tensor(b.data(), {37}, Device::CPU));
  EXPECT_TRUE(bitwise_equal(a, b));

  const std::vector<std::int32_t> rows = {2, 0, 2, 1};
  const std::vector<float> rg = test::random_uniform<float>(4 * 3, -1, 1, 3);
  std::vector<float> ta = test::random_uniform<float>(3 * 3, -1, 1, 4), tb = ta;
  const ConstIds r(rows.data(), {4}, Device::CPU);
  const ConstTensor rgv(rg.data(), {4, 3}, Device::CPU);
  ops::sgd_update_rows(ctx, lr, r, rgv, Tensor(ta.data(), {3, 3}, Device::CPU));
  ops::sgd_update_rows(ctx, DeviceScalar<float>{&lr}, r, rgv,
                       Tensor(tb.data(), {3, 3}, Device::CPU));
  EXPECT_TRUE(bitwise_equal(ta, tb));

  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(
      ops::sgd_update(ctx, DeviceScalar<float>{&nan}, ConstTensor(g.data(), {37}, Device::CPU),
                      Tensor(b.data(), {37}, Device::CPU)),
      ArgumentError);
  EXPECT_THROW(ops::sgd_update(ctx, DeviceScalar<float>{}, ConstTensor(g.data(), {37}, Device::CPU),
                               Tensor(b.data(), {37}, Device::CPU)),
               ArgumentError);
}

TEST(DeviceScalarCpu, DropoutMaskOffsetIsTheStoredOnePlusTheAddend) {
  Context ctx = Context::cpu();
  std::vector<float> a(101), b(101);
  const std::uint64_t stored = 40;
  ops::dropout_mask(ctx, 9, 42, 0.5f, Tensor(a.data(), {101}, Device::CPU));
  ops::dropout_mask(ctx, 9, DeviceScalar<std::uint64_t>{&stored}, 2, 0.5f,
                    Tensor(b.data(), {101}, Device::CPU));
  EXPECT_TRUE(bitwise_equal(a, b));
  std::vector<double> c(33), d(33);
  ops::dropout_mask(ctx, 9, 41, 0.7, TensorView<double>(c.data(), {33}, Device::CPU));
  ops::dropout_mask(ctx, 9, DeviceScalar<std::uint64_t>{&stored}, 1, 0.7,
                    TensorView<double>(d.data(), {33}, Device::CPU));
  EXPECT_TRUE(bitwise_equal(c, d));
}

TEST(DeviceScalarCpu, AdamReadsTheStepSizeOfItsStep) {
  Context ctx = Context::cpu();
  const AdamParams params{0.01f, 0.9f, 0.999f, 1e-8f};
  const std::vector<float> g = test::random_uniform<float>(29, -1, 1, 5);
  std::vector<float> a = test::random_uniform<float>(3 * 29, -1, 1, 6), b = a;
  const auto views = [](std::vector<float>& s) {
    return std::vector<Tensor>{Tensor(s.data(), {29}, Device::CPU),
                               Tensor(s.data() + 29, {29}, Device::CPU),
                               Tensor(s.data() + 58, {29}, Device::CPU)};
  };
  const ConstTensor gv(g.data(), {29}, Device::CPU);
  for (std::int64_t t = 1; t <= 3; ++t) {
    const auto va = views(a), vb = views(b);
    ops::adam_update(ctx, params, t, gv, va[0], va[1], va[2]);
    const float step_size = ops::adam_step_size_f32(params, t);
    ops::adam_update(ctx, params, DeviceScalar<float>{&step_size}, gv, vb[0], vb[1], vb[2]);
  }
  EXPECT_TRUE(bitwise_equal(a, b));
}

// Three BiLSTM classifier steps (Adam), adam_step() vs the step size given in memory.
TEST(DeviceScalarCpu, ClassifierAdamStepsAreBitwiseTheSame) {
  nn::ClassifierConfig c;
  c.input_size = 5, c.hidden_size = 6, c.num_classes = 4;
  const int T = 3, B = 2;
  const auto run = [&](bool device_scalar) {
    Context ctx = Context::cpu();
    nn::BiLstmClassifier<float> model(ctx, c);
    model.initialize(ctx, 8);
    for (int s = 0; s < 3; ++s) {
      const auto x = test::random_uniform<float>(T * B * c.input_size, 0, 1, 30 + s);
      const auto y = test::random_ids(B, c.num_classes, 40 + s);
      model.forward(ctx, ConstTensor(x.data(), {T, B, c.input_size}, Device::CPU),
                    ConstIds(y.data(), {B}, Device::CPU), true);
      model.backward(ctx);
      if (device_scalar) {
        const float step_size = ops::adam_step_size_f32(c.adam, model.adam_steps() + 1);
        model.adam_step(ctx, DeviceScalar<float>{&step_size});
        model.set_adam_steps(model.adam_steps() + 1);
      } else {
        model.adam_step(ctx);
      }
    }
    EXPECT_EQ(model.adam_steps(), 3);
    return to_vector(ctx, model.training_state());
  };
  EXPECT_TRUE(bitwise_equal(run(false), run(true)));
}

// Three training steps of a small LM with dropout, values vs DeviceScalar arguments.
TEST(DeviceScalarCpu, LanguageModelStepsAreBitwiseTheSame) {
  nn::LmConfig c = nn::lm_config("small");
  c.vocab_size = 50, c.hidden_size = 8, c.num_steps = 4, c.batch_size = 3, c.keep_prob = 0.6;
  const int T = c.num_steps, B = c.batch_size;
  const auto run = [&](bool device_scalars) {
    Context ctx = Context::cpu();
    nn::LstmLanguageModel<float> lm(ctx, c);
    lm.initialize(ctx, 5);
    auto state = lm.zero_state(ctx, B);
    std::vector<float> out(1, 0.f), norm(3, 0.f);
    for (int s = 0; s < 3; ++s) {
      const auto x = test::random_ids(static_cast<std::size_t>(T) * B, c.vocab_size, 10 + s);
      const auto y = test::random_ids(static_cast<std::size_t>(T) * B, c.vocab_size, 20 + s);
      const std::uint64_t offset = static_cast<std::uint64_t>(s) * 3;
      const float lr = 1.0f / static_cast<float>(s + 1);
      const ConstIds xi(x.data(), {T, B}, Device::CPU), yi(y.data(), {T, B}, Device::CPU);
      const Tensor cost(out.data(), {1}, Device::CPU), n(norm.data() + s, {1}, Device::CPU);
      if (device_scalars) {
        lm.forward(ctx, xi, yi, state, true, 3, DeviceScalar<std::uint64_t>{&offset}, cost);
        lm.backward(ctx);
        lm.sgd_step(ctx, DeviceScalar<float>{&lr}, n);
      } else {
        lm.forward(ctx, xi, yi, state, true, 3, offset, cost);
        lm.backward(ctx);
        lm.sgd_step(ctx, lr, n);
      }
    }
    std::vector<float> all = to_vector(ctx, lm.params().view());
    for (const auto* v : {&out, &norm}) all.insert(all.end(), v->begin(), v->end());
    for (int l = 0; l < c.num_layers; ++l) {
      for (const Buffer<float>* b : {&state.c[l], &state.h[l]}) {
        const std::vector<float> v = to_vector(ctx, b->view());
        all.insert(all.end(), v.begin(), v.end());
      }
    }
    return all;
  };
  EXPECT_TRUE(bitwise_equal(run(false), run(true)));
}

}  // namespace
}  // namespace curnn
