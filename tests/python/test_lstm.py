"""curnn.torch.LSTM against torch.nn.LSTM with the same weights: outputs, final states and every
gradient, in float32 and float64, for 1-3 layers, uni- and bidirectional, batch_first both ways,
with and without an initial state; torch.autograd.gradcheck of the whole module in float64."""

import itertools
import unittest

import torch
from torch.nn.utils import stateless

import curnn
import curnn.torch as ct
from tolerance import DOUBLE_TOL, FLOAT_TOL, assert_close

E, H, T, B = 4, 6, 5, 3


def pair(layers, bidirectional, batch_first, dtype, bias=True, seed=0, device="cpu"):
    """A curnn.torch.LSTM and a torch.nn.LSTM holding the same weights."""
    torch.manual_seed(seed)
    ours = ct.LSTM(E, H, layers, bias=bias, batch_first=batch_first,
                   bidirectional=bidirectional, dtype=dtype)
    ref = torch.nn.LSTM(E, H, layers, bias=bias, batch_first=batch_first,
                        bidirectional=bidirectional, dtype=dtype)
    ref.load_state_dict(ours.state_dict())
    return ours.to(device), ref.to(device)


def run(module, x, state, weights_of_output):
    """Forward, then backward of sum(output * w0) + sum(h_n * w1) + sum(c_n * w2); returns the
    outputs and the gradients of the input, the initial state and every parameter."""
    device = next(module.parameters()).device
    inputs = [x] + (list(state) if state else [])
    inputs = [t.detach().to(device).clone().requires_grad_() for t in inputs]
    weights_of_output = [w.to(device) for w in weights_of_output]
    y, (h, c) = module(inputs[0], tuple(inputs[1:]) if state else None)
    loss = sum((t * w).sum() for t, w in zip((y, h, c), weights_of_output))
    module.zero_grad()
    loss.backward()
    grads = {"d_input": inputs[0].grad}
    if state:
        grads["d_h0"], grads["d_c0"] = inputs[1].grad, inputs[2].grad
    grads.update({"d_" + n: p.grad for n, p in module.named_parameters()})
    return {"output": y, "h_n": h, "c_n": c}, grads


class LstmMatchesTorch(unittest.TestCase):
    def compare(self, layers, bidirectional, batch_first, with_state, dtype, bias=True,
                device="cpu"):
        ours, ref = pair(layers, bidirectional, batch_first, dtype, bias, device=device)
        g = torch.Generator().manual_seed(1)
        shape = (B, T, E) if batch_first else (T, B, E)
        x = torch.randn(shape, generator=g, dtype=dtype)
        D = 2 if bidirectional else 1
        state = None
        if with_state:
            state = (torch.randn(layers * D, B, H, generator=g, dtype=dtype),
                     torch.randn(layers * D, B, H, generator=g, dtype=dtype))
        y_shape = (B, T, D * H) if batch_first else (T, B, D * H)
        weights = [torch.randn(y_shape, generator=g, dtype=dtype),
                   torch.randn(layers * D, B, H, generator=g, dtype=dtype),
                   torch.randn(layers * D, B, H, generator=g, dtype=dtype)]
        got, got_grads = run(ours, x, state, weights)
        want, want_grads = run(ref, x, state, weights)
        tol = FLOAT_TOL if dtype == torch.float32 else DOUBLE_TOL
        self.assertEqual(sorted(got_grads), sorted(want_grads))
        for name in list(want) + list(want_grads):
            a = got.get(name, got_grads.get(name))
            b = want.get(name, want_grads.get(name))
            self.assertIsNotNone(a, name)
            assert_close(f"{name} ({layers}L bi={bidirectional} bf={batch_first} "
                         f"state={with_state} {dtype} {device})", a, b, tol)

    def test_all_configurations(self):
        for dtype, layers, bidirectional, batch_first, with_state in itertools.product(
                (torch.float32, torch.float64), (1, 2, 3), (False, True), (False, True),
                (False, True)):
            with self.subTest(dtype=dtype, layers=layers, bidirectional=bidirectional,
                              batch_first=batch_first, with_state=with_state):
                self.compare(layers, bidirectional, batch_first, with_state, dtype)

    def test_without_bias(self):
        for dtype in (torch.float32, torch.float64):
            with self.subTest(dtype=dtype):
                self.compare(2, True, False, True, dtype, bias=False)
        ours = ct.LSTM(E, H, 2, bias=False)
        self.assertEqual([n for n, _ in ours.named_parameters()],
                         ["weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"])

    def test_unbatched_input(self):
        ours, ref = pair(2, True, False, torch.float64)
        x = torch.randn(T, E, dtype=torch.float64)
        h0 = torch.randn(4, H, dtype=torch.float64)
        c0 = torch.randn(4, H, dtype=torch.float64)
        (y, (h, c)), (y2, (h2, c2)) = ours(x, (h0, c0)), ref(x, (h0, c0))
        for name, a, b in (("output", y, y2), ("h_n", h, h2), ("c_n", c, c2)):
            assert_close(f"unbatched {name}", a, b, DOUBLE_TOL)

    def test_non_contiguous_input_is_accepted_like_torch(self):
        ours, ref = pair(2, False, True, torch.float64)
        x = torch.randn(T, B, E, dtype=torch.float64).transpose(0, 1)  # [B, T, E], strided
        self.assertFalse(x.is_contiguous())
        assert_close("output (strided input)", ours(x)[0], ref(x)[0], DOUBLE_TOL)
        assert_close("output (strided = contiguous)", ours(x)[0], ours(x.contiguous())[0],
                     (0, 0))


class LstmParameters(unittest.TestCase):
    def test_names_shapes_and_initialisation_match_torch(self):
        for layers, bidirectional in itertools.product((1, 3), (False, True)):
            torch.manual_seed(7)
            ours = ct.LSTM(E, H, layers, bidirectional=bidirectional)
            torch.manual_seed(7)
            ref = torch.nn.LSTM(E, H, layers, bidirectional=bidirectional)
            a, b = ours.state_dict(), ref.state_dict()
            self.assertEqual(list(a), list(b))
            for name in b:
                self.assertEqual(a[name].shape, b[name].shape, name)
                self.assertTrue(torch.equal(a[name], b[name]), f"{name}: same seed, same init")

    def test_state_dict_moves_both_ways(self):
        torch.manual_seed(3)
        ours = ct.LSTM(E, H, 2, bidirectional=True)
        ref = torch.nn.LSTM(E, H, 2, bidirectional=True)
        ref.load_state_dict(ours.state_dict())
        x = torch.randn(T, B, E)
        assert_close("nn.LSTM loaded from curnn", ref(x)[0], ours(x)[0])
        torch.manual_seed(4)
        ref2 = torch.nn.LSTM(E, H, 2, bidirectional=True)
        ours.load_state_dict(ref2.state_dict())
        assert_close("curnn loaded from nn.LSTM", ours(x)[0], ref2(x)[0])

    def test_constructor_arguments_as_torch(self):
        ours = ct.LSTM(E, H, num_layers=2, bias=False, batch_first=True, dropout=0.25,
                       bidirectional=True)
        ref = torch.nn.LSTM(E, H, num_layers=2, bias=False, batch_first=True, dropout=0.25,
                            bidirectional=True)
        self.assertEqual(repr(ours).replace(type(ours).__name__, ""),
                         repr(ref).replace(type(ref).__name__, ""))
        with self.assertRaises(ValueError):
            ct.LSTM(E, H, dropout=1.5)
        with self.assertWarns(UserWarning):
            ct.LSTM(E, H, num_layers=1, dropout=0.5)


class LstmGradcheck(unittest.TestCase):
    def test_gradcheck_module_float64(self):
        torch.manual_seed(0)
        for bidirectional in (False, True):
            module = ct.LSTM(3, 2, 2, bidirectional=bidirectional, dtype=torch.float64)
            D = 2 if bidirectional else 1
            names = [n for n, _ in module.named_parameters()]
            params = [p.detach().clone().requires_grad_() for p in module.parameters()]
            x = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)
            h0 = torch.randn(2 * D, 2, 2, dtype=torch.float64, requires_grad=True)
            c0 = torch.randn(2 * D, 2, 2, dtype=torch.float64, requires_grad=True)

            def f(x, h0, c0, *values):
                y, (h, c) = stateless.functional_call(module, dict(zip(names, values)),
                                                      (x, (h0, c0)))
                return y, h, c

            with self.subTest(bidirectional=bidirectional):
                self.assertTrue(torch.autograd.gradcheck(f, (x, h0, c0, *params)))

    def test_gradcheck_layer_with_dropout_mask_float64(self):
        torch.manual_seed(1)
        x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
        w_ih = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
        w_hh = torch.randn(8, 2, dtype=torch.float64, requires_grad=True)
        b_ih = torch.randn(8, dtype=torch.float64, requires_grad=True)
        b_hh = torch.randn(8, dtype=torch.float64, requires_grad=True)
        mask = torch.bernoulli(torch.full((4, 2, 2), 0.5, dtype=torch.float64)) * 2
        for reverse in (False, True):
            with self.subTest(reverse=reverse):
                self.assertTrue(torch.autograd.gradcheck(
                    lambda *a: ct.lstm_layer(*a, dropout_mask=mask, reverse=reverse),
                    (x, w_ih, w_hh, b_ih, b_hh)))

    def test_backward_twice_through_one_forward(self):
        ours, _ = pair(2, True, False, torch.float64)
        x = torch.randn(T, B, E, dtype=torch.float64, requires_grad=True)
        y, _ = ours(x)
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        y.sum().backward()
        assert_close("dx after two backward passes", x.grad, 2 * first, DOUBLE_TOL)

    def test_forward_without_grad(self):
        ours, ref = pair(1, False, False, torch.float32)
        x = torch.randn(T, B, E)
        with torch.no_grad():
            y = ours(x)[0]
        self.assertFalse(y.requires_grad)
        assert_close("no_grad output", y, ref(x)[0])


@unittest.skipUnless(torch.cuda.is_available() and curnn.cuda_available(), "no CUDA device")
class LstmCuda(unittest.TestCase):
    """On a GPU: against cuDNN's torch.nn.LSTM, on PyTorch's stream and caching allocator.
    NOTE: written on a machine without a GPU; these have not run yet."""

    def setUp(self):
        torch.backends.cudnn.allow_tf32 = False  # FP32 references, as libcurnn's GEMMs
        torch.backends.cuda.matmul.allow_tf32 = False

    def test_matches_cudnn(self):
        for layers, bidirectional, batch_first, with_state in itertools.product(
                (1, 2, 3), (False, True), (False, True), (False, True)):
            with self.subTest(layers=layers, bidirectional=bidirectional,
                              batch_first=batch_first, with_state=with_state):
                LstmMatchesTorch.compare(self, layers, bidirectional, batch_first, with_state,
                                         torch.float32, device="cuda")

    def test_on_a_side_stream_and_torch_memory(self):
        ours, _ = pair(2, True, False, torch.float32, device="cuda")
        x = torch.randn(T, B, E, device="cuda")
        want = ours(x)[0]
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        before = torch.cuda.memory_allocated()
        with torch.cuda.stream(stream):
            got = ours(x)[0]
            tape_and_outputs = torch.cuda.memory_allocated() - before
        torch.cuda.current_stream().wait_stream(stream)
        assert_close("output on a side stream", got, want)
        self.assertGreater(tape_and_outputs, 4 * T * B * H * 4, "the tape is PyTorch's memory")
        del got
        torch.cuda.synchronize()
        self.assertLessEqual(torch.cuda.memory_allocated(), before, "and goes back to it")

    def test_float64_is_refused_on_cuda(self):
        ours, _ = pair(1, False, False, torch.float64, device="cuda")
        with self.assertRaisesRegex(curnn.ArgumentError, "float64 runs on the CPU backend only"):
            ours(torch.randn(T, B, E, dtype=torch.float64, device="cuda"))


if __name__ == "__main__":
    unittest.main()
