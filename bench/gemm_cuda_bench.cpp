// GEMM (cuBLAS FP32 through ops::gemm) at the PTB LSTM language model's shapes, batch 20,
// V 10,000: small (H 200, T 20), medium (H 650, T 35), large (H 1500, T 35).
//   input_proj         X [T*B, H] · W [H, 4H]              all steps' input projection
//   recurrent_step     h [B, H] · U [H, 4H], accumulated    one time step (latency bound)
//   recurrent_dh_step  dG [B, 4H] · Uᵀ                      one backward time step
//   weight_grad        Xᵀ [H, T*B] · dG [T*B, 4H], accumulated
//   softmax_logits     h [T*B, H] · W [H, V]
//   softmax_dh         dlogits [T*B, V] · Wᵀ
//   softmax_weight_grad hᵀ [H, T*B] · dlogits [T*B, V], accumulated
// Counters: FLOP/s (2 M N K per call) and GB/s (the bytes that must move: A, B and C once, C
// twice when accumulating). Operands stay resident in L2 where they fit, as the recurrent
// weights do in training.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/ops/gemm.hpp"
#include "support/cuda_timer.hpp"

namespace curnn {
namespace {

struct GemmShape {
  std::string name;
  std::int64_t M, N, K;
  Transpose ta, tb;
  Write mode;
};

std::vector<GemmShape> ptb_shapes() {
  constexpr Transpose No = Transpose::No, Yes = Transpose::Yes;
  constexpr Write Over = Write::Overwrite, Acc = Write::Accumulate;
  struct Config {
    const char* name;
    std::int64_t H, T;
  };
  const std::int64_t B = 20, V = 10000;
  std::vector<GemmShape> shapes;
  for (const Config& c :
       {Config{"small", 200, 20}, Config{"medium", 650, 35}, Config{"large", 1500, 35}}) {
    const std::string n = std::string(c.name) + "/";
    const std::int64_t H = c.H, TB = c.T * B;
    shapes.push_back({n + "input_proj", TB, 4 * H, H, No, No, Over});
    shapes.push_back({n + "recurrent_step", B, 4 * H, H, No, No, Acc});
    shapes.push_back({n + "recurrent_dh_step", B, H, 4 * H, No, Yes, Over});
    shapes.push_back({n + "weight_grad", H, 4 * H, TB, Yes, No, Acc});
    shapes.push_back({n + "softmax_logits", TB, V, H, No, No, Over});
    shapes.push_back({n + "softmax_dh", TB, H, V, No, Yes, Over});
    shapes.push_back({n + "softmax_weight_grad", H, V, TB, Yes, No, Acc});
  }
  return shapes;
}

void BM_Gemm(benchmark::State& state, const GemmShape& s) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  Context ctx = Context::cuda();
  const std::int64_t a_rows = s.ta == Transpose::No ? s.M : s.K, a_cols = s.M * s.K / a_rows;
  const std::int64_t b_rows = s.tb == Transpose::No ? s.K : s.N, b_cols = s.K * s.N / b_rows;
  // Small values keep repeated accumulation finite; the timing does not depend on them.
  const auto a = to_buffer(ctx, std::vector<float>(s.M * s.K, 0.01f));
  const auto b = to_buffer(ctx, std::vector<float>(s.K * s.N, 0.01f));
  auto c = to_buffer(ctx, std::vector<float>(s.M * s.N, 0.f));
  const auto run = [&] {
    ops::gemm(ctx, s.ta, s.tb, a.view({a_rows, a_cols}), b.view({b_rows, b_cols}),
              c.view({s.M, s.N}), s.mode);
  };
  for (int i = 0; i < 5; ++i) run();  // warm-up: cuBLAS heuristics and module loading
  ctx.synchronize();
  for (auto _ : state) {
    bench::CudaEventTimer timer(ctx.stream());
    run();
    state.SetIterationTime(timer.seconds());
  }
  const double flops = 2.0 * s.M * s.N * s.K;
  const double bytes =
      4.0 * (s.M * s.K + s.K * s.N + s.M * s.N * (s.mode == Write::Accumulate ? 2 : 1));
  state.counters["FLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (const GemmShape& s : ptb_shapes()) {
    benchmark::RegisterBenchmark(("BM_Gemm/" + s.name).c_str(), BM_Gemm, s)->UseManualTime();
  }
  return true;
}();

}  // namespace
}  // namespace curnn
