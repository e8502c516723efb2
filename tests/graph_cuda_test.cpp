// CUDA Graphs of whole steps (include/curnn/graph.hpp, host/graph.cpp) on a GPU: PTB-like
// training steps with dropout replayed from a graph against the same steps queued op by op
// (parameters, carried state, cost and gradient norms compared bitwise), the same for the BiLSTM
// classifier's Adam steps (the whole training state), the errors a capture raises (allocation,
// free, synchronisation, workspace growth, host copies), id errors found by a replay, and
// page-locked uploads read anew at every replay. Without a GPU these tests skip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cuda_upload.hpp"
#include "curnn/context.hpp"
#include "curnn/graph.hpp"
#include "curnn/nn/bilstm_classifier.hpp"
#include "curnn/nn/lstm_lm.hpp"
#include "curnn/ops/embedding.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ops/reduce.hpp"
#include "curnn/pinned.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

template <class T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// What a run of training steps leaves behind.
struct Trained {
  std::vector<float> params, state, cost, norms;
  StepGraphCache<int>::Stats stats;
};

// PTB small's shape (B 20, T 20, H 200, 2 layers, V 10000) with dropout (keep 0.5), a learning
// rate that changes every step and masks at offsets global_step * 3, as curnn-ptb trains.
nn::LmConfig ptb_like() {
  nn::LmConfig c = nn::lm_config("small");
  c.keep_prob = 0.5;
  return c;
}

Trained train(bool graph, int steps) {
  Context ctx = Context::cuda();
  const nn::LmConfig c = ptb_like();
  const int B = c.batch_size, T = c.num_steps;
  const std::size_t words = static_cast<std::size_t>(B) * T;
  nn::LstmLanguageModel<float> lm(ctx, c);
  lm.initialize(ctx, 11);
  auto state = lm.zero_state(ctx, B);
  Buffer<float> cost = test::upload(ctx, std::vector<float>{0.f});
  Buffer<float> norms = test::upload(ctx, std::vector<float>(steps, 0.f));
  // The graph's staging: ids, offset and lr in page-locked memory, uploaded by the step itself.
  PinnedBuffer<std::int32_t> ids_host(2 * words);
  PinnedBuffer<std::uint64_t> offset_host(1);
  PinnedBuffer<float> lr_host(1);
  Buffer<std::int32_t> ids(Device::CUDA, 2 * words);
  Buffer<std::uint64_t> offset(Device::CUDA, 1);
  Buffer<float> lr(Device::CUDA, 1), norm(Device::CUDA, 1);
  UploadFence fence;
  Trained out;
  StepGraphCache<int> graphs;
  for (int s = 0; s < steps; ++s) {
    const std::vector<std::int32_t> x = test::random_ids(words, c.vocab_size, 100 + s);
    const std::vector<std::int32_t> y = test::random_ids(words, c.vocab_size, 200 + s);
    const std::uint64_t mask_offset = static_cast<std::uint64_t>(s) * (c.num_layers + 1);
    const float rate = 1.0f * std::pow(0.9f, static_cast<float>(s));
    const Tensor norm_of_step(norms.data() + s, {1}, Device::CUDA);
    if (!graph) {
      lm.forward(ctx, ConstIds(x.data(), {T, B}, Device::CPU),
                 ConstIds(y.data(), {T, B}, Device::CPU), state, true, 7, mask_offset, cost.view());
      lm.backward(ctx);
      lm.sgd_step(ctx, rate, norm_of_step);
      continue;
    }
    fence.wait();
    std::memcpy(ids_host.data(), x.data(), words * sizeof(std::int32_t));
    std::memcpy(ids_host.data() + words, y.data(), words * sizeof(std::int32_t));
    offset_host.data()[0] = mask_offset;
    lr_host.data()[0] = rate;
    graphs.run(ctx, 0, [&] {
      copy(ctx, ids_host.view(), ids.view());
      copy(ctx, offset_host.view(), offset.view());
      copy(ctx, lr_host.view(), lr.view());
      lm.forward(ctx, ConstIds(ids.data(), {T, B}, Device::CUDA),
                 ConstIds(ids.data() + words, {T, B}, Device::CUDA), state, true, 7,
                 DeviceScalar<std::uint64_t>{offset.data()}, cost.view());
      lm.backward(ctx);
      lm.sgd_step(ctx, DeviceScalar<float>{lr.data()}, norm.view());
    });
    copy(ctx, ConstTensor(norm.data(), {1}, Device::CUDA), norm_of_step);
    fence.mark(ctx);
  }
  out.params = to_vector(ctx, lm.params().view());
  for (int l = 0; l < c.num_layers; ++l) {
    for (const Buffer<float>* b : {&state.c[l], &state.h[l]}) {
      const std::vector<float> v = to_vector(ctx, b->view());
      out.state.insert(out.state.end(), v.begin(), v.end());
    }
  }
  out.cost = to_vector(ctx, cost.view());
  out.norms = to_vector(ctx, norms.view());
  out.stats = graphs.stats();
  return out;
}

TEST(GraphCuda, PtbStepsWithDropoutReplayBitwiseLikeUncaptured) {
  CURNN_REQUIRE_CUDA();
  constexpr int kSteps = 6;
  const Trained plain = train(false, kSteps);
  const Trained replayed = train(true, kSteps);
  // Step 0 ran uncaptured (sizing the buffers), step 1 was captured, and it and the rest replayed.
  EXPECT_EQ(replayed.stats.uncaptured, 1);
  EXPECT_EQ(replayed.stats.captures, 1);
  EXPECT_EQ(replayed.stats.replays, kSteps - 1);
  EXPECT_TRUE(bitwise_equal(plain.params, replayed.params)) << "parameters differ";
  EXPECT_TRUE(bitwise_equal(plain.state, replayed.state)) << "carried state differs";
  EXPECT_TRUE(bitwise_equal(plain.cost, replayed.cost))
      << "cost " << plain.cost[0] << " vs " << replayed.cost[0];
  EXPECT_TRUE(bitwise_equal(plain.norms, replayed.norms)) << "gradient norms differ";
  for (float n : replayed.norms) EXPECT_TRUE(std::isfinite(n) && n > 0.f) << n;
}

// The book's BiLSTM classifier (28 x 28 rows, 256 units, batch 128, Adam), `steps` steps queued
// op by op or replayed from a graph (the step size lr_t in page-locked staging, as curnn-mnist
// --graph on): the whole training state (parameters, m, v).
std::vector<float> train_classifier(bool graph, int steps) {
  Context ctx = Context::cuda();
  nn::ClassifierConfig c;
  const int T = 28, B = 128, E = c.input_size;
  nn::BiLstmClassifier<float> model(ctx, c);
  model.initialize(ctx, 4);
  PinnedBuffer<float> x_host(static_cast<std::size_t>(T) * B * E), step_size_host(1);
  PinnedBuffer<std::int32_t> labels_host(B);
  Buffer<float> x(Device::CUDA, x_host.size()), step_size(Device::CUDA, 1);
  Buffer<std::int32_t> labels(Device::CUDA, B);
  UploadFence fence;
  StepGraphCache<int> graphs;
  for (int s = 0; s < steps; ++s) {
    const std::vector<float> xs = test::random_uniform<float>(x_host.size(), 0, 1, 50 + s);
    const std::vector<std::int32_t> ys = test::random_ids(B, c.num_classes, 60 + s);
    if (!graph) {
      model.forward(ctx, ConstTensor(xs.data(), {T, B, E}, Device::CPU),
                    ConstIds(ys.data(), {B}, Device::CPU), true);
      model.backward(ctx);
      model.adam_step(ctx);
      continue;
    }
    fence.wait();
    std::memcpy(x_host.data(), xs.data(), xs.size() * sizeof(float));
    std::memcpy(labels_host.data(), ys.data(), ys.size() * sizeof(std::int32_t));
    step_size_host.data()[0] = ops::adam_step_size_f32(c.adam, model.adam_steps() + 1);
    graphs.run(ctx, 0, [&] {
      copy(ctx, x_host.view(), x.view());
      copy(ctx, labels_host.view(), labels.view());
      copy(ctx, step_size_host.view(), step_size.view());
      model.forward(ctx, ConstTensor(x.data(), {T, B, E}, Device::CUDA),
                    ConstIds(labels.data(), {B}, Device::CUDA), true);
      model.backward(ctx);
      model.adam_step(ctx, DeviceScalar<float>{step_size.data()});
    });
    model.set_adam_steps(model.adam_steps() + 1);
    fence.mark(ctx);
  }
  EXPECT_EQ(model.adam_steps(), steps);
  if (graph) {
    EXPECT_EQ(graphs.stats().captures, 1);
    EXPECT_EQ(graphs.stats().replays, steps - 1);
  }
  return to_vector(ctx, model.training_state());
}

TEST(GraphCuda, BiLstmAdamStepsReplayBitwiseLikeUncaptured) {
  CURNN_REQUIRE_CUDA();
  EXPECT_TRUE(bitwise_equal(train_classifier(false, 5), train_classifier(true, 5)));
}

TEST(GraphCuda, AllocationInsideCaptureThrowsAndEndsTheCapture) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  StepGraph graph;
  const std::string message =
      error_of([&] { graph.capture(ctx, [] { Buffer<float> b(Device::CUDA, 16); }); });
  EXPECT_NE(message.find("inside a CUDA Graph capture"), std::string::npos) << message;
  EXPECT_FALSE(graph.captured());
  EXPECT_FALSE(ctx.capturing());
  EXPECT_NE(error_of([&] {
              graph.capture(ctx, [] { PinnedBuffer<float> b(16); });
            }).find("inside a CUDA Graph capture"),
            std::string::npos);
  // The context still works.
  Buffer<float> x = test::upload(ctx, std::vector<float>{1.f, 2.f});
  ops::fill(ctx, x.view(), 3.f);
  EXPECT_EQ(to_vector(ctx, x.view()), (std::vector<float>{3.f, 3.f}));
}

TEST(GraphCuda, FreeSyncWorkspaceGrowthAndHostCopiesInsideCaptureThrow) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  StepGraph graph;
  {
    auto doomed = std::make_unique<Buffer<float>>(Device::CUDA, 16);
    EXPECT_NE(error_of([&] { graph.capture(ctx, [&] { doomed.reset(); }); }).find("freed"),
              std::string::npos);
  }
  EXPECT_NE(error_of([&] {
              graph.capture(ctx, [&] { ctx.synchronize(); });
            }).find("inside a CUDA Graph capture"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              graph.capture(ctx, [&] { ctx.workspace(std::size_t{1} << 30); });
            }).find("inside a CUDA Graph capture"),
            std::string::npos);
  Buffer<float> d = test::upload(ctx, std::vector<float>{1.f});
  std::vector<float> pageable(1, 0.f);
  EXPECT_NE(error_of([&] {
              graph.capture(ctx, [&] {
                copy(ctx, ConstTensor(pageable.data(), {1}, Device::CPU), d.view());
              });
            }).find("pageable"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              graph.capture(ctx, [&] {
                copy(ctx, ConstTensor(d.data(), {1}, Device::CUDA),
                     Tensor(pageable.data(), {1}, Device::CPU));
              });
            }).find("to host memory"),
            std::string::npos);
  EXPECT_FALSE(ctx.capturing());
  EXPECT_FALSE(graph.captured());
}

TEST(GraphCuda, ReplaysReadTheStagingAnewAndReportBadIds) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  constexpr int V = 5, E = 3, N = 4;
  const std::vector<float> table_host = test::random_uniform<float>(V * E, -1, 1, 3);
  Buffer<float> table = test::upload(ctx, table_host);
  Buffer<float> rows(Device::CUDA, N * E);
  PinnedBuffer<std::int32_t> ids_host(N);
  Buffer<std::int32_t> ids(Device::CUDA, N);
  UploadFence fence;
  StepGraph graph;
  const auto step = [&] {
    copy(ctx, ids_host.view(), ids.view());
    ops::embedding_gather(ctx, ids.view(), table.view({V, E}), rows.view({N, E}));
  };
  for (int i = 0; i < N; ++i) ids_host.data()[i] = 0;
  graph.capture(ctx, step);
  EXPECT_TRUE(graph.captured());
  EXPECT_GE(graph.node_count(), 2u);
  for (int round = 0; round < 3; ++round) {
    fence.wait();
    for (int i = 0; i < N; ++i) ids_host.data()[i] = (i + round) % V;
    graph.launch(ctx);
    fence.mark(ctx);
    const std::vector<float> got = to_vector(ctx, rows.view());
    for (int i = 0; i < N; ++i) {
      for (int e = 0; e < E; ++e) {
        ASSERT_EQ(got[i * E + e], table_host[((i + round) % V) * E + e]) << round;
      }
    }
  }
  fence.wait();
  ids_host.data()[2] = V;  // out of range
  graph.launch(ctx);
  EXPECT_THROW(ctx.synchronize(), ArgumentError);
  ids_host.data()[2] = 1;
  graph.launch(ctx);
  EXPECT_NO_THROW(ctx.synchronize());  // the slot was reset after the report
}

}  // namespace
}  // namespace curnn
