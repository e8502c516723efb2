// NCE family on the CPU: the host-side cost of one word2vec step's sampling (64 unique
// log-uniform classes out of 50,000, and log Q for 128 labels and the 64 classes), and the
// reference NCE loss (the CPU backend) at the book's step, B 128, E 128, S 64.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "curnn/context.hpp"
#include "curnn/log_uniform_sampler.hpp"
#include "curnn/ops/nce.hpp"

namespace curnn {
namespace {

constexpr int kB = 128, kE = 128, kS = 64, kV = 50000;

void BM_SampleUniqueAndLogQ(benchmark::State& state) {
  const LogUniformSampler sampler(kV);
  std::mt19937_64 rng(1);
  std::vector<std::int32_t> labels(kB);
  for (auto& l : labels) l = static_cast<std::int32_t>(sampler.sample(rng));
  std::vector<float> lq_true(kB), lq_sampled(kS);
  for (auto _ : state) {
    const UniqueSample s = sampler.sample_unique(kS, rng);
    sampler.log_expected_counts(s, labels.data(), kB, lq_true.data(), lq_sampled.data());
    benchmark::DoNotOptimize(lq_sampled.data());
  }
  state.counters["steps/s"] = benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SampleUniqueAndLogQ);

void BM_NceLossCpuReference(benchmark::State& state) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  std::vector<float> x(std::size_t(kB) * kE), w(std::size_t(kV) * kE), bias(kV), lq_t(kB, -5.f),
      lq_s(kS, -3.f);
  for (auto& v : x) v = u(rng);
  for (auto& v : w) v = u(rng);
  for (auto& v : bias) v = u(rng);
  const LogUniformSampler sampler(kV);
  std::vector<std::int32_t> labels(kB);
  for (auto& l : labels) l = static_cast<std::int32_t>(sampler.sample(rng));
  std::vector<std::int32_t> sampled = sampler.sample_unique(kS, rng).ids;
  std::vector<float> loss(kB), dx(x.size()), dwt(x.size()), dbt(kB), dws(std::size_t(kS) * kE),
      dbs(kS);
  Context ctx = Context::cpu();
  const auto t = [](std::vector<float>& v, std::initializer_list<std::int64_t> shape) {
    return Tensor(v.data(), shape, Device::CPU);
  };
  const ops::NceGradients grads{t(dx, {kB, kE}), t(dwt, {kB, kE}), t(dbt, {kB}), t(dws, {kS, kE}),
                                t(dbs, {kS})};
  for (auto _ : state) {
    ops::nce_loss(ctx, t(x, {kB, kE}), t(w, {kV, kE}), t(bias, {kV}),
                  Ids(labels.data(), {kB}, Device::CPU), Ids(sampled.data(), {kS}, Device::CPU),
                  t(lq_t, {kB}), t(lq_s, {kS}), t(loss, {kB}), 1.0f / kB, grads);
    benchmark::DoNotOptimize(loss.data());
  }
  state.counters["words/s"] = benchmark::Counter(kB, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_NceLossCpuReference);

}  // namespace
}  // namespace curnn
