// LSTM cell kernels (kernels/lstm_cell.cu) against the reference in double, through ops:: on a
// CUDA context: the experiments' sizes (B 20, H 200/650/1500; B 128, H 256) and odd ones, with and
// without a dropout mask, with the optional gradients absent, and through misaligned views (the
// scalar path). Outputs are NaN-poisoned before each run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "curnn/ops/lstm_cell.hpp"
#include "curnn/ref/lstm_cell.hpp"
#include "device_array.hpp"
#include "lstm_cell_inputs.hpp"
#include "support/compare.hpp"
#include "support/cuda_test.hpp"
#include "support/random.hpp"

namespace curnn {
namespace {

using FVec = std::vector<float>;
using DVec = std::vector<double>;

struct Size {
  int B, H;
};
const Size kSizes[] = {{20, 200}, {20, 650}, {20, 1500}, {128, 256}, {3, 37}};

std::string label(const char* what, Size s, bool mask) {
  return std::string(what) + " B=" + std::to_string(s.B) + " H=" + std::to_string(s.H) +
         (mask ? " mask" : "");
}

void check_forward(Context& ctx, Size s, bool with_mask, float forget_bias, int offset) {
  const int B = s.B, H = s.H;
  const std::size_t units = static_cast<std::size_t>(B) * H;
  const auto in = test::lstm_cell_inputs<float>(B, H, with_mask, 100 + B + H);
  // Reference in double on the same float inputs.
  const auto dpre = test::cast<double>(in.preact), dbias = test::cast<double>(in.bias),
             dcp = test::cast<double>(in.c_prev), dmask = test::cast<double>(in.mask);
  DVec g(4 * units), c(units), h(units), hd(units);
  ref::lstm_cell_forward<double>(B, H, dpre.data(), dbias.data(), dcp.data(), forget_bias, g.data(),
                                 c.data(), h.data(), test::data_or_null(dmask), hd.data());

  test::DeviceArray pre(ctx, in.preact, offset), bias(ctx, in.bias, offset),
      cp(ctx, in.c_prev, offset);
  test::DeviceArray gates = test::poisoned(ctx, 4 * units, offset),
                    cd = test::poisoned(ctx, units, offset),
                    hdev = test::poisoned(ctx, units, offset),
                    hdd = test::poisoned(ctx, units, offset);
  std::unique_ptr<test::DeviceArray> mask;
  if (with_mask) mask = std::make_unique<test::DeviceArray>(ctx, in.mask, offset);
  ops::lstm_cell_forward(ctx, pre.view(B, 4 * H), bias.view(4 * H), cp.view(B, H), forget_bias,
                         gates.view(B, 4 * H), cd.view(B, H), hdev.view(B, H),
                         mask ? ConstTensor(mask->view(B, H)) : ConstTensor{},
                         mask ? hdd.view(B, H) : Tensor{});
  EXPECT_TRUE(test::expect_close(label("gates", s, with_mask), gates.host(ctx), g));
  EXPECT_TRUE(test::expect_close(label("c", s, with_mask), cd.host(ctx), c));
  EXPECT_TRUE(test::expect_close(label("h", s, with_mask), hdev.host(ctx), h));
  if (with_mask) {
    EXPECT_TRUE(test::expect_close(label("h_dropped", s, with_mask), hdd.host(ctx), hd));
  } else {
    // Without a mask the kernel must leave h_dropped's memory alone: it stays NaN.
    for (float v : hdd.host(ctx)) ASSERT_TRUE(std::isnan(v));
  }
}

TEST(LstmCellCuda, ForwardMatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const Size s : kSizes)
    for (const bool mask : {false, true}) check_forward(ctx, s, mask, mask ? 1.f : 0.f, 0);
}

// The optional copies of c and h (the LSTM layer's final state): bitwise the c and h the same
// launch writes, on the vector (offset 0) and scalar (offset 1) paths.
TEST(LstmCellCuda, CopiesOfCAndHAreBitwiseCAndH) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const Size s : {Size{20, 200}, Size{3, 37}}) {
    for (const int offset : {0, 1}) {
      const int B = s.B, H = s.H;
      const std::size_t units = static_cast<std::size_t>(B) * H;
      const auto in = test::lstm_cell_inputs<float>(B, H, true, 500 + B + H);
      test::DeviceArray pre(ctx, in.preact, offset), bias(ctx, in.bias, offset),
          cp(ctx, in.c_prev, offset), mask(ctx, in.mask, offset);
      test::DeviceArray gates = test::poisoned(ctx, 4 * units, offset),
                        c = test::poisoned(ctx, units, offset),
                        h = test::poisoned(ctx, units, offset),
                        hd = test::poisoned(ctx, units, offset),
                        c_copy = test::poisoned(ctx, units, offset),
                        h_copy = test::poisoned(ctx, units, offset);
      ops::lstm_cell_forward(ctx, pre.view(B, 4 * H), bias.view(4 * H), cp.view(B, H), 1.f,
                             gates.view(B, 4 * H), c.view(B, H), h.view(B, H), mask.view(B, H),
                             hd.view(B, H), c_copy.view(B, H), h_copy.view(B, H));
      const std::string tag = label("copies", s, true) + " offset " + std::to_string(offset);
      EXPECT_EQ(c_copy.host(ctx), c.host(ctx)) << tag;
      EXPECT_EQ(h_copy.host(ctx), h.host(ctx)) << tag;
    }
  }
}

// Which of dh, dh_out, dc reach the backward (the others are absent).
struct Present {
  bool dh, dh_out, dc;
};
const Present kVariants[] = {{true, true, true},  {false, true, true},  {true, false, true},
                             {true, true, false}, {false, false, true}, {false, true, false}};

void check_backward(Context& ctx, Size s, bool with_mask, Present p, int offset) {
  const int B = s.B, H = s.H;
  const std::size_t units = static_cast<std::size_t>(B) * H;
  const auto in = test::lstm_cell_inputs<float>(B, H, with_mask, 200 + B + H);
  // A realistic tape from the float reference forward.
  FVec gates(4 * units), c(units), h(units), hd(units);
  ref::lstm_cell_forward<float>(B, H, in.preact.data(), in.bias.data(), in.c_prev.data(), 1.f,
                                gates.data(), c.data(), h.data(), test::data_or_null(in.mask),
                                hd.data());
  const FVec dh = p.dh ? test::random_uniform<float>(units, -1, 1, 301) : FVec{};
  const FVec dh_out = p.dh_out ? test::random_uniform<float>(units, -1, 1, 302) : FVec{};
  const FVec dc = p.dc ? test::random_uniform<float>(units, -1, 1, 303) : FVec{};

  DVec da(4 * units), dcp(units);
  {
    const auto g = test::cast<double>(gates), cc = test::cast<double>(c),
               cp = test::cast<double>(in.c_prev), m = test::cast<double>(in.mask),
               a = test::cast<double>(dh), o = test::cast<double>(dh_out),
               d = test::cast<double>(dc);
    ref::lstm_cell_backward<double>(B, H, g.data(), cc.data(), cp.data(), test::data_or_null(a),
                                    test::data_or_null(o), test::data_or_null(m),
                                    test::data_or_null(d), da.data(), dcp.data());
  }

  auto optional = [&](const FVec& v) {
    return v.empty() ? std::unique_ptr<test::DeviceArray>()
                     : std::make_unique<test::DeviceArray>(ctx, v, offset);
  };
  auto view_of = [&](const std::unique_ptr<test::DeviceArray>& a) {
    return a ? ConstTensor(a->view(B, H)) : ConstTensor{};
  };
  test::DeviceArray gd(ctx, gates, offset), cd(ctx, c, offset), cpd(ctx, in.c_prev, offset);
  const auto dhd = optional(dh), dhod = optional(dh_out), dcd = optional(dc),
             maskd = optional(in.mask);
  test::DeviceArray dad = test::poisoned(ctx, 4 * units, offset),
                    dcpd = test::poisoned(ctx, units, offset);
  ops::lstm_cell_backward(ctx, gd.view(B, 4 * H), cd.view(B, H), cpd.view(B, H), view_of(dhd),
                          view_of(dhod), view_of(maskd), view_of(dcd), dad.view(B, 4 * H),
                          dcpd.view(B, H));
  const std::string what = label("", s, with_mask) + (p.dh ? " dh" : "") +
                           (p.dh_out ? " dh_out" : "") + (p.dc ? " dc" : "");
  EXPECT_TRUE(test::expect_close("dpreact" + what, dad.host(ctx), da));
  EXPECT_TRUE(test::expect_close("dc_prev" + what, dcpd.host(ctx), dcp));
}

TEST(LstmCellCuda, BackwardMatchesReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const Size s : kSizes)
    for (const bool mask : {false, true})
      for (const Present p : kVariants) check_backward(ctx, s, mask, p, 0);
}

// Views one float past a 16-byte boundary (H % 4 == 0 but misaligned): the scalar path.
TEST(LstmCellCuda, MisalignedViewsMatchReference) {
  CURNN_REQUIRE_CUDA();
  Context ctx = Context::cuda();
  for (const bool mask : {false, true}) {
    check_forward(ctx, {5, 64}, mask, 1.f, 1);
    check_backward(ctx, {5, 64}, mask, {true, true, true}, 1);
  }
}

}  // namespace
}  // namespace curnn
