"""The suite's one tolerance rule (tests/support/compare.hpp) for tensors:
    |got - ref| <= atol + rtol * |ref|      (NaN or Inf in `got` always fails)
assert_close() reports the worst element and the share of the budget it used, also on success,
so every log shows how close to the edge a comparison runs."""

import torch

FLOAT_TOL = (1e-5, 1e-4)   # float32 against float32/float64 (compare.hpp's kFloatTol)
DOUBLE_TOL = (1e-12, 1e-10)


def assert_close(what, got, ref, tol=FLOAT_TOL):
    atol, rtol = tol
    if tuple(got.shape) != tuple(ref.shape):
        raise AssertionError(f"{what}: shape {list(got.shape)} != reference {list(ref.shape)}")
    g = got.detach().to(torch.float64).reshape(-1)
    r = ref.detach().to(torch.float64).reshape(-1)
    n = g.numel()
    if n == 0:
        return
    err = (g - r).abs()
    share = err / (atol + rtol * r.abs())
    non_finite = ~torch.isfinite(g)
    share[non_finite] = float("inf")
    worst = int(torch.argmax(torch.nan_to_num(share, nan=float("inf"))))
    line = (f"{what}: n={n} max|err|={err.max().item():.3g} worst [{worst}] "
            f"got={g[worst].item():.9g} ref={r[worst].item():.9g}, budget used "
            f"{100 * share[worst].item():.1f}% (atol={atol:g} rtol={rtol:g})")
    if bool(non_finite.any()):
        raise AssertionError(f"{line}; {int(non_finite.sum())} non-finite elements")
    over = int((share > 1).sum())
    if over:
        raise AssertionError(f"{line}; {over} elements over")
    print(f"[ tolerance] {line}")
