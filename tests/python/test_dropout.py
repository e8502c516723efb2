"""Dropout between the layers of curnn.torch.LSTM: torch.nn.LSTM's semantics (each element of
every layer's output but the last zeroed with probability p, the rest scaled by 1/(1-p), the
recurrence never dropped, only in training mode), checked exactly with the module's own masks
and in expectation against torch.nn.LSTM, and reproducible from torch.manual_seed."""

import math
import unittest

import torch

import curnn.torch as ct
from tolerance import DOUBLE_TOL, assert_close

E, H, T, B = 4, 6, 4, 3


def recording(module):
    """Makes module record the dropout masks it draws (list of [D, T, B, H])."""
    masks = []
    draw = module._dropout_masks

    def record(*args):
        mask = draw(*args)
        masks.append(mask)
        return mask
    module._dropout_masks = record
    return masks


def reference_with_masks(module, x, masks):
    """The same network from single-layer torch.nn.LSTMs, multiplying each layer's output by
    the given masks: the definition of dropout between layers."""
    D = module.num_directions
    out = x
    for layer in range(module.num_layers):
        ys = []
        for direction in range(D):
            ref = torch.nn.LSTM(out.shape[2], H, 1, dtype=x.dtype)
            with torch.no_grad():
                for mine, theirs in zip(module.all_weights[layer * D + direction],
                                        ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                         "bias_hh_l0")):
                    getattr(ref, theirs).copy_(mine)
            seq = out.flip(0) if direction == 1 else out
            y = ref(seq)[0]
            ys.append(y.flip(0) if direction == 1 else y)
        y = torch.cat(ys, dim=2)
        if layer < module.num_layers - 1:
            y = y * torch.cat(list(masks[layer]), dim=2)
        out = y
    return out


class DropoutSemantics(unittest.TestCase):
    def test_masks_apply_between_layers_exactly(self):
        for bidirectional in (False, True):
            torch.manual_seed(0)
            module = ct.LSTM(E, H, 3, dropout=0.4, bidirectional=bidirectional,
                             dtype=torch.float64)
            masks = recording(module)
            x = torch.randn(T, B, E, dtype=torch.float64)
            y = module(x)[0]
            self.assertEqual(len(masks), 2, "one mask per layer but the last")
            want = reference_with_masks(module, x, masks)
            assert_close(f"output with dropout (bi={bidirectional})", y, want, DOUBLE_TOL)

    def test_mask_values_and_drop_rate(self):
        p = 0.3
        torch.manual_seed(1)
        module = ct.LSTM(E, H, 2, dropout=p)
        masks = recording(module)
        for _ in range(40):
            module(torch.randn(T, B, E))
        values = torch.cat([m.reshape(-1) for m in masks])
        kept = values != 0
        self.assertTrue(torch.allclose(values[kept], torch.full_like(values[kept], 1 / (1 - p))))
        n = values.numel()
        dropped = n - int(kept.sum())
        sigma = math.sqrt(n * p * (1 - p))
        self.assertLess(abs(dropped - n * p), 5 * sigma, f"{dropped} of {n} dropped, p={p}")

    def test_eval_mode_and_single_layer_have_no_dropout(self):
        torch.manual_seed(2)
        module = ct.LSTM(E, H, 2, dropout=0.5)
        ref = torch.nn.LSTM(E, H, 2, dropout=0.5)
        ref.load_state_dict(module.state_dict())
        module.eval(), ref.eval()
        x = torch.randn(T, B, E)
        assert_close("eval output", module(x)[0], ref(x)[0])
        with self.assertWarns(UserWarning):
            single = ct.LSTM(E, H, 1, dropout=0.5)
        masks = recording(single)
        single(x)
        self.assertEqual(masks, [])

    def test_dropout_one_zeroes_the_next_layers_input(self):
        torch.manual_seed(3)
        module = ct.LSTM(E, H, 2, dropout=1.0, dtype=torch.float64)
        x = torch.randn(T, B, E, dtype=torch.float64)
        y = module(x)[0]
        # Layer 1 sees zeros: its output is the zero-input LSTM's.
        top = torch.nn.LSTM(H, H, 1, dtype=torch.float64)
        with torch.no_grad():
            for a, b in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                            ("weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1")):
                getattr(top, a).copy_(getattr(module, b))
        assert_close("output after dropout=1", y, top(torch.zeros(T, B, H,
                                                                  dtype=torch.float64))[0],
                     DOUBLE_TOL)


class DropoutReproducibility(unittest.TestCase):
    def test_same_seed_same_result_other_seed_other_result(self):
        torch.manual_seed(0)
        module = ct.LSTM(E, H, 3, dropout=0.5, bidirectional=True)
        x = torch.randn(T, B, E)

        def run(seed):
            torch.manual_seed(seed)
            module.zero_grad()
            y = module(x)[0]
            y.square().sum().backward()
            return y.detach(), [p.grad.clone() for p in module.parameters()]

        y1, g1 = run(11)
        y2, g2 = run(11)
        y3, _ = run(12)
        self.assertTrue(torch.equal(y1, y2), "same seed: bitwise the same output")
        self.assertTrue(all(torch.equal(a, b) for a, b in zip(g1, g2)), "and gradients")
        self.assertFalse(torch.equal(y1, y3), "another seed: other masks")


class DropoutInExpectation(unittest.TestCase):
    def test_moments_match_torch(self):
        """Mean and second moment of every output element over many dropout draws agree with
        torch.nn.LSTM's within 4.5 standard errors (the draws are seeded: the test is
        deterministic)."""
        for bidirectional in (False, True):
            torch.manual_seed(5)
            ours = ct.LSTM(E, H, 3, dropout=0.4, bidirectional=bidirectional,
                           dtype=torch.float64)
            ref = torch.nn.LSTM(E, H, 3, dropout=0.4, bidirectional=bidirectional,
                                dtype=torch.float64)
            ref.load_state_dict(ours.state_dict())
            x = 2 * torch.randn(T, B, E, dtype=torch.float64)
            runs = 400
            torch.manual_seed(6)
            with torch.no_grad():
                a = torch.stack([ours(x)[0] for _ in range(runs)])
                b = torch.stack([ref(x)[0] for _ in range(runs)])
            for moment, fa, fb in (("mean", a, b), ("second moment", a * a, b * b)):
                se = torch.sqrt((fa.var(0) + fb.var(0)) / runs)
                z = (fa.mean(0) - fb.mean(0)).abs() / se
                worst = z.max().item()
                print(f"[ dropout] bi={bidirectional} {moment}: worst |z| = {worst:.2f} over "
                      f"{z.numel()} elements, {runs} draws each")
                with self.subTest(bidirectional=bidirectional, moment=moment):
                    self.assertLess(worst, 4.5)


if __name__ == "__main__":
    unittest.main()
