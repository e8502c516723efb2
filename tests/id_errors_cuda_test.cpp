// Ids outside their range on CUDA (issue 10): every kernel that reads ids reports a bad one
// through its context (Context::id_error_slot), which throws at its next synchronisation point
// the ArgumentError that the CPU path throws for the same input: the same message, naming the
// same (first) bad id; once; and for the op that came first when several had bad ids. That no
// memory out of bounds is touched on the way is compute-sanitizer memcheck's part
// (scripts/device-check.sh).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "curnn/ops/embedding.hpp"
#include "curnn/ops/nce.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ops/softmax_xent.hpp"
#include "curnn/ops/word2vec.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using Ints = std::vector<std::int32_t>;

// The message of the ArgumentError that run() throws, or "no error".
template <class Run>
std::string error_of(Run&& run) {
  try {
    run();
  } catch (const ArgumentError& e) {
    return e.message();
  }
  return "no error";
}

// op(ctx) runs one op on ctx with buffers it uploads there itself. The CUDA run's error, thrown
// by the next synchronize(), must be the CPU run's, and must not come back a second time.
template <class Op>
void expect_cpu_error_on_cuda(const std::string& what, Op op) {
  Context cpu = Context::cpu(), gpu = Context::cuda();
  const std::string want = error_of([&] { op(cpu); });
  ASSERT_NE(want, "no error") << what << ": the CPU accepted the input";
  const std::string got = error_of([&] {
    op(gpu);
    gpu.synchronize();
  });
  EXPECT_EQ(got, want) << what;
  EXPECT_NO_THROW(gpu.synchronize()) << what << ": reported twice";
}

template <class T>
Buffer<T> on(const Context& ctx, const std::vector<T>& host) {
  return to_buffer(ctx, host);
}

TEST(IdErrorsCuda, EmbeddingGather) {
  CURNN_REQUIRE_CUDA();
  const int V = 10, E = 8;
  for (const Ints& ids : {Ints{1, 12, 3, -1, 12, 0}, Ints{0, 1, 2, 3, 4, -7}}) {
    expect_cpu_error_on_cuda("gather", [&](Context& ctx) {
      const auto table = on(ctx, test::random_uniform(V * E, -1, 1, 1));
      Buffer<float> out = on(ctx, std::vector<float>(ids.size() * E));
      const auto d_ids = on(ctx, ids);
      const std::int64_t N = static_cast<std::int64_t>(ids.size());
      ops::embedding_gather(ctx, d_ids.view({N}), table.view({V, E}), out.view({N, E}));
    });
  }
}

TEST(IdErrorsCuda, EmbeddingScatterAddBothVersions) {
  CURNN_REQUIRE_CUDA();
  const int V = 9, E = 5;
  const Ints ids = {3, 3, 9, 1, -2, 9};
  for (const bool deterministic : {true, false}) {
    expect_cpu_error_on_cuda(
        deterministic ? "scatter-add, sorted" : "scatter-add, atomic", [&](Context& ctx) {
          ctx.set_deterministic(deterministic);
          const auto dout = on(ctx, test::random_uniform(ids.size() * E, -1, 1, 2));
          Buffer<float> dtable = on(ctx, std::vector<float>(V * E, 0.f));
          const auto d_ids = on(ctx, ids);
          const std::int64_t N = static_cast<std::int64_t>(ids.size());
          ops::embedding_scatter_add(ctx, d_ids.view({N}), dout.view({N, E}), dtable.view({V, E}));
        });
  }
}

TEST(IdErrorsCuda, SparseSgdRows) {
  CURNN_REQUIRE_CUDA();
  const int V = 6, E = 4;
  for (const Ints& rows : {Ints{2, 6, 2, 1}, Ints{5, 0, -1, -1, 7}}) {
    expect_cpu_error_on_cuda("sgd_update_rows", [&](Context& ctx) {
      const std::int64_t N = static_cast<std::int64_t>(rows.size());
      const auto grads = on(ctx, test::random_uniform(rows.size() * E, -1, 1, 3));
      Buffer<float> table = on(ctx, test::random_uniform(V * E, -1, 1, 4));
      const auto d_rows = on(ctx, rows);
      ops::sgd_update_rows(ctx, 0.5f, d_rows.view({N}), grads.view({N, E}), table.view({V, E}));
    });
  }
}

TEST(IdErrorsCuda, SoftmaxTargetsWarpAndBlockRows) {
  CURNN_REQUIRE_CUDA();
  for (const int V : {10, 3000}) {  // one warp per row, one block per row
    const Ints targets = {0, V - 1, V, 2, -1};
    const std::int64_t N = static_cast<std::int64_t>(targets.size());
    expect_cpu_error_on_cuda("softmax_xent V=" + std::to_string(V), [&](Context& ctx) {
      const auto logits = on(ctx, test::random_uniform(N * V, -2, 2, 5));
      Buffer<float> loss = on(ctx, std::vector<float>(N)),
                    dlogits = on(ctx, std::vector<float>(N * V));
      const auto d_targets = on(ctx, targets);
      ops::softmax_xent(ctx, logits.view({N, V}), d_targets.view({N}), loss.view({N}),
                        dlogits.view({N, V}), 1.0f);
    });
  }
}

TEST(IdErrorsCuda, CountCorrectLabels) {
  CURNN_REQUIRE_CUDA();
  for (const int C : {10, 2000}) {
    const Ints labels = {1, 0, C + 3, 4};
    const std::int64_t N = static_cast<std::int64_t>(labels.size());
    expect_cpu_error_on_cuda("count_correct C=" + std::to_string(C), [&](Context& ctx) {
      const auto logits = on(ctx, test::random_uniform(N * C, -2, 2, 6));
      const auto d_labels = on(ctx, labels);
      (void)ops::count_correct(ctx, logits.view({N, C}), d_labels.view({N}));
    });
  }
}

TEST(IdErrorsCuda, NceLabelsThenSampled) {
  CURNN_REQUIRE_CUDA();
  const int B = 5, E = 40, S = 7, V = 50;
  struct Case {
    Ints labels, sampled;
  };
  const Case cases[] = {{{1, 2, 50, 4, 5}, {0, 1, 2, 3, 4, 5, 6}},
                        {{1, 2, 3, 4, 5}, {0, 1, 2, -3, 4, 99, 6}},
                        {{1, -2, 3, 4, 5}, {0, 1, 2, -3, 4, 99, 6}}};  // labels are checked first
  for (const Case& c : cases) {
    for (const bool backward : {false, true}) {
      expect_cpu_error_on_cuda(
          backward ? "nce_loss forward+backward" : "nce_loss forward", [&](Context& ctx) {
            const auto x = on(ctx, test::random_uniform(B * E, -1, 1, 7));
            const auto w = on(ctx, test::random_uniform(V * E, -0.1, 0.1, 8));
            const auto b = on(ctx, test::random_uniform(V, -0.1, 0.1, 9));
            const auto lq_true = on(ctx, test::random_uniform(B, -3, -1, 10));
            const auto lq_sampled = on(ctx, test::random_uniform(S, -3, -1, 11));
            const auto labels = on(ctx, c.labels), sampled = on(ctx, c.sampled);
            Buffer<float> loss = on(ctx, std::vector<float>(B)),
                          dx = on(ctx, std::vector<float>(B * E)),
                          dw_true = on(ctx, std::vector<float>(B * E)),
                          db_true = on(ctx, std::vector<float>(B)),
                          dw_sampled = on(ctx, std::vector<float>(S * E)),
                          db_sampled = on(ctx, std::vector<float>(S));
            if (backward) {
              ops::nce_loss(ctx, x.view({B, E}), w.view({V, E}), b.view({V}), labels.view({B}),
                            sampled.view({S}), lq_true.view({B}), lq_sampled.view({S}),
                            loss.view({B}), 1.0f / B,
                            {dx.view({B, E}), dw_true.view({B, E}), db_true.view({B}),
                             dw_sampled.view({S, E}), db_sampled.view({S})});
            } else {
              ops::nce_loss(ctx, x.view({B, E}), w.view({V, E}), b.view({V}), labels.view({B}),
                            sampled.view({S}), lq_true.view({B}), lq_sampled.view({S}),
                            loss.view({B}));
            }
          });
    }
  }
}

TEST(IdErrorsCuda, SgnsStepInTheReferencesOrder) {
  CURNN_REQUIRE_CUDA();
  const int N = 4, C = 3, K = 2, V = 20, E = 16;
  struct Case {
    const char* what;
    Ints input_ids, count, target, negative;
  };
  const Ints ok_inputs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const Ints ok_negatives = {13, 14, 15, 16, 17, 18, 19, 0};
  const Case cases[] = {
      {"count", ok_inputs, {3, 1, 4, 2}, {1, 2, 3, 4}, ok_negatives},
      {"input id (past an unused slot's bad id)",
       {1, 2, 99, 4, 5, 6, 7, -8, 9, 10, 11, 12},
       {2, 3, 3, 3},
       {1, 2, 3, 4},
       ok_negatives},
      {"target", ok_inputs, {3, 3, 3, 3}, {1, 2, 20, 4}, ok_negatives},
      {"negative before a later item's input",
       {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -11, 12},
       {3, 3, 3, 3},
       {1, 2, 3, 4},
       {13, 14, 15, 21, 17, 18, 19, 0}},
  };
  for (const Case& c : cases) {
    expect_cpu_error_on_cuda(std::string("sgns_step ") + c.what, [&](Context& ctx) {
      const auto in = on(ctx, c.input_ids), count = on(ctx, c.count), target = on(ctx, c.target),
                 neg = on(ctx, c.negative);
      Buffer<float> syn0 = on(ctx, test::random_uniform(V * E, -0.5, 0.5, 12)),
                    syn1neg = on(ctx, test::random_uniform(V * E, -0.5, 0.5, 13)),
                    loss = on(ctx, std::vector<float>(N));
      ops::sgns_step(ctx, in.view({N, C}), count.view({N}), target.view({N}), neg.view({N, K}),
                     0.025f, syn0.view({V, E}), syn1neg.view({V, E}), loss.view({N}));
    });
  }
}

// The context side: the first op (in queue order) with a bad id is the one reported, at the next
// synchronisation point of any kind (here a copy to the host); the context stays usable and
// recycles its slots (more ops between two synchronisations than it has slots).
TEST(IdErrorsCuda, FirstOpReportedAtTheNextSyncPointThenSlotsRecycle) {
  CURNN_REQUIRE_CUDA();
  Context gpu = Context::cuda();
  const int V = 10, E = 4;
  const auto table = on(gpu, test::random_uniform(V * E, -1, 1, 14));
  Buffer<float> out(Device::CUDA, 3 * E);
  const auto good = on(gpu, Ints{1, 2, 3}), bad_late = on(gpu, Ints{0, 0, 11}),
             bad_early = on(gpu, Ints{-4, 0, 0});
  ops::embedding_gather(gpu, good.view({3}), table.view({V, E}), out.view({3, E}));
  ops::embedding_gather(gpu, bad_early.view({3}), table.view({V, E}), out.view({3, E}));
  ops::embedding_gather(gpu, bad_late.view({3}), table.view({V, E}), out.view({3, E}));
  EXPECT_EQ(error_of([&] { (void)to_vector(gpu, out.view()); }),
            "embedding: ids[0] = -4 is outside [0, 10)");
  EXPECT_NO_THROW(gpu.synchronize());
  for (int i = 0; i < 5000; ++i) {  // more than the context's 4096 slots between two syncs
    ops::embedding_gather(gpu, good.view({3}), table.view({V, E}), out.view({3, E}));
  }
  ops::embedding_gather(gpu, bad_late.view({3}), table.view({V, E}), out.view({3, E}));
  EXPECT_EQ(error_of([&] { gpu.synchronize(); }), "embedding: ids[2] = 11 is outside [0, 10)");
  ops::embedding_gather(gpu, good.view({3}), table.view({V, E}), out.view({3, E}));
  const std::vector<float> rows = to_vector(gpu, out.view());
  const std::vector<float> host_table = to_vector(gpu, table.view());
  for (int n = 0; n < 3; ++n) {
    for (int e = 0; e < E; ++e) EXPECT_EQ(rows[n * E + e], host_table[(n + 1) * E + e]);
  }
}

}  // namespace
}  // namespace curnn
