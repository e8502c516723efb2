// Builds against the installed libcurnn: runs a small GEMM and a fused LSTM cell step on the CPU
// backend (and on the GPU when one is present), and prints the results.
#include <cstdio>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/context.hpp"
#include "curnn/ops/gemm.hpp"
#include "curnn/ops/lstm_cell.hpp"

int main() {
  using namespace curnn;
  const int B = 2, E = 3, H = 4;
  std::vector<float> x = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f};  // [B,E]
  std::vector<float> w(E * 4 * H);                                // [E,4H]
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * static_cast<float>(i % 7) - 0.03f;
  std::vector<float> bias(4 * H, 0.0f), c0(B * H, 0.5f);

  std::vector<Context> contexts;
  contexts.push_back(Context::cpu());
  if (cuda_available()) contexts.push_back(Context::cuda());
  for (Context& ctx : contexts) {
    const Device d = ctx.device();
    Buffer<float> xb = to_buffer(ctx, x), wb = to_buffer(ctx, w), bb = to_buffer(ctx, bias),
                  cb = to_buffer(ctx, c0);
    Buffer<float> pre(d, B * 4 * H), gates(d, B * 4 * H), c(d, B * H), h(d, B * H);
    ops::gemm(ctx, Transpose::No, Transpose::No, xb.view({B, E}), wb.view({E, 4 * H}),
              pre.view({B, 4 * H}), Write::Overwrite);
    ops::lstm_cell_forward(ctx, pre.view({B, 4 * H}), bb.view({4 * H}), cb.view({B, H}), 1.0f,
                           gates.view({B, 4 * H}), c.view({B, H}), h.view({B, H}));
    const std::vector<float> hh = to_vector(ctx, h.view());  // waits for ctx
    std::printf("libcurnn %s on %s: h[0] = %.6f %.6f %.6f %.6f\n", CURNN_VERSION, device_name(d),
                hh[0], hh[1], hh[2], hh[3]);
  }
  return 0;
}
