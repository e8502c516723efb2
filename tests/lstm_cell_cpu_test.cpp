// The CPU backend's fast LSTM cell rows (host/ops/lstm_cell_cpu.cpp) against the reference
// ref::lstm_cell_forward / ref::lstm_cell_backward<float>, bit for bit (memcmp), on random inputs
// of every magnitude (pre-activations up to +-100, where sigmoid and tanh saturate, zeros of both
// signs, denormals, an infinity and a NaN), widths around the 8 lanes and the 256-unit block,
// with and without dropout, copies and the optional gradients, the state updated in place; and
// through ops:: on a CPU Context (row blocks over the worker threads). Outputs start NaN-poisoned.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../host/ops/lstm_cell_cpu.hpp"
#include "curnn/context.hpp"
#include "curnn/ops/lstm_cell.hpp"
#include "curnn/ref/lstm_cell.hpp"

namespace curnn {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
using Floats = std::vector<float>;

// Values of every kind: mostly N(0, scale), some exact zeros of both signs, denormals, +-100.
Floats random_values(std::size_t n, float scale, std::uint64_t seed, bool specials) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::uniform_int_distribution<int> kind(0, 39);
  Floats v(n);
  for (float& x : v) {
    switch (specials ? kind(rng) : 39) {
      case 0:
        x = 0.0f;
        break;
      case 1:
        x = -0.0f;
        break;
      case 2:
        x = std::numeric_limits<float>::denorm_min() * 77.0f;
        break;
      case 3:
        x = 100.0f;
        break;
      case 4:
        x = -100.0f;
        break;
      default:
        x = normal(rng);
    }
  }
  return v;
}

bool same_bits(const Floats& a, const Floats& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

std::string first_difference(const Floats& a, const Floats& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      char line[96];
      std::snprintf(line, sizeof(line), "element %zu: %a vs %a", i, static_cast<double>(a[i]),
                    static_cast<double>(b[i]));
      return line;
    }
  }
  return "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
}

struct CellCase {
  int B, H;
  bool dropout, copies, in_place, nonfinite;
};

struct ForwardOut {
  Floats gates, c, h, h_dropped, c_copy, h_copy, c_prev;
};

template <class Forward>
ForwardOut run_forward(const CellCase& k, Forward forward, std::uint64_t seed) {
  const std::size_t BH = static_cast<std::size_t>(k.B) * k.H;
  Floats preact = random_values(4 * BH, 4.0f, seed, true);
  if (k.nonfinite) preact[3] = INFINITY, preact[4 * BH - 2] = kNaN;
  const Floats bias = random_values(4 * static_cast<std::size_t>(k.H), 1.0f, seed + 1, false);
  const Floats mask = random_values(BH, 1.0f, seed + 2, false);
  ForwardOut o;
  o.c_prev = random_values(BH, 3.0f, seed + 3, true);
  o.gates.assign(4 * BH, kNaN), o.c.assign(BH, kNaN), o.h.assign(BH, kNaN);
  o.h_dropped.assign(BH, kNaN), o.c_copy.assign(BH, kNaN), o.h_copy.assign(BH, kNaN);
  // In place: c is c_prev's own buffer, the copies go to c_prev too (a layer's one-step state).
  float* c = k.in_place ? o.c_prev.data() : o.c.data();
  float* c_copy = k.copies ? (k.in_place ? o.c_prev.data() : o.c_copy.data()) : nullptr;
  forward(k.B, k.H, preact.data(), bias.data(), o.c_prev.data(), 0.5f, o.gates.data(), c,
          o.h.data(), k.dropout ? mask.data() : nullptr, k.dropout ? o.h_dropped.data() : nullptr,
          c_copy, k.copies ? o.h_copy.data() : nullptr);
  return o;
}

struct BackwardOut {
  Floats dpreact, dc_prev;
};

template <class Backward>
BackwardOut run_backward(const CellCase& k, const ForwardOut& tape, Backward backward,
                         std::uint64_t seed) {
  const std::size_t BH = static_cast<std::size_t>(k.B) * k.H;
  const Floats dh = random_values(BH, 1.0f, seed + 4, true);
  const Floats dh_out = random_values(BH, 1.0f, seed + 5, true);
  const Floats dc = random_values(BH, 1.0f, seed + 6, true);
  const Floats mask = random_values(BH, 1.0f, seed + 2, false);
  const Floats c_prev = random_values(BH, 3.0f, seed + 3, true);
  BackwardOut o{Floats(4 * BH, kNaN), Floats(BH, kNaN)};
  const Floats& c = k.in_place ? tape.c_prev : tape.c;  // where the forward wrote c
  backward(k.B, k.H, tape.gates.data(), c.data(), c_prev.data(), k.copies ? dh.data() : nullptr,
           dh_out.data(), k.dropout ? mask.data() : nullptr, k.in_place ? nullptr : dc.data(),
           o.dpreact.data(), o.dc_prev.data());
  return o;
}

#define EXPECT_SAME(field)                      \
  EXPECT_TRUE(same_bits(got.field, want.field)) \
      << where << ": " #field " " << first_difference(got.field, want.field)

TEST(LstmCellCpu, EqualsTheReferenceBitForBit) {
  int cases = 0;
  for (const int H : {1, 7, 8, 9, 200, 255, 256, 257, 650}) {
    for (int variant = 0; variant < 8; ++variant) {
      const CellCase k{3,           H, (variant & 1) != 0, (variant & 2) != 0, (variant & 4) != 0,
                       variant == 5};
      const std::uint64_t seed = 100u * H + variant;
      const std::string where = "H " + std::to_string(H) + ", variant " + std::to_string(variant);
      {
        const ForwardOut want = run_forward(k, ref::lstm_cell_forward<float>, seed);
        const ForwardOut got = run_forward(k, ops::cpu::lstm_cell_forward_rows, seed);
        EXPECT_SAME(gates);
        EXPECT_SAME(c);
        EXPECT_SAME(h);
        EXPECT_SAME(h_dropped);
        EXPECT_SAME(c_copy);
        EXPECT_SAME(h_copy);
        EXPECT_SAME(c_prev);
        // The backward from the reference's tape (c and gates of every kind, NaN included).
        const BackwardOut want_b = run_backward(k, want, ref::lstm_cell_backward<float>, seed);
        const BackwardOut got_b = run_backward(k, want, ops::cpu::lstm_cell_backward_rows, seed);
        EXPECT_TRUE(same_bits(got_b.dpreact, want_b.dpreact))
            << where << ": dpreact " << first_difference(got_b.dpreact, want_b.dpreact);
        EXPECT_TRUE(same_bits(got_b.dc_prev, want_b.dc_prev))
            << where << ": dc_prev " << first_difference(got_b.dc_prev, want_b.dc_prev);
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 9 * 8);
}

// Through ops:: on a CPU Context: the op splits rows over the worker threads, each block runs the
// fast rows; the result is still the reference's.
TEST(LstmCellCpu, TheOpsOnTheCpuEqualTheReference) {
  const int B = 20, H = 200;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const Floats preact = random_values(4 * BH, 4.0f, 1, true);
  const Floats bias = random_values(4 * H, 1.0f, 2, false);
  const Floats c_prev = random_values(BH, 3.0f, 3, true);
  Floats gates_want(4 * BH), c_want(BH), h_want(BH);
  ref::lstm_cell_forward<float>(B, H, preact.data(), bias.data(), c_prev.data(), 1.0f,
                                gates_want.data(), c_want.data(), h_want.data(), nullptr, nullptr);
  Context ctx = Context::cpu();
  Floats gates(4 * BH, kNaN), c(BH, kNaN), h(BH, kNaN);
  ops::lstm_cell_forward(ctx, ConstTensor(preact.data(), {B, 4 * H}, Device::CPU),
                         ConstTensor(bias.data(), {4 * H}, Device::CPU),
                         ConstTensor(c_prev.data(), {B, H}, Device::CPU), 1.0f,
                         Tensor(gates.data(), {B, 4 * H}, Device::CPU),
                         Tensor(c.data(), {B, H}, Device::CPU),
                         Tensor(h.data(), {B, H}, Device::CPU));
  EXPECT_TRUE(same_bits(gates, gates_want)) << first_difference(gates, gates_want);
  EXPECT_TRUE(same_bits(c, c_want)) << first_difference(c, c_want);
  EXPECT_TRUE(same_bits(h, h_want)) << first_difference(h, h_want);
}

}  // namespace
}  // namespace curnn
