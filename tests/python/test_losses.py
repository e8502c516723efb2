"""libcurnn's fused losses as autograd functions: softmax cross-entropy against
torch.nn.functional.cross_entropy (float32, float64, every reduction, gradcheck), and the sampled
NCE loss against TensorFlow's nce_loss formula written with torch ops (same sampled classes),
with its log-uniform candidate sampler."""

import math
import unittest

import torch
import torch.nn.functional as F

import curnn
import curnn.torch as ct
from tolerance import DOUBLE_TOL, FLOAT_TOL, assert_close


class SoftmaxCrossEntropy(unittest.TestCase):
    def test_matches_torch_cross_entropy(self):
        g = torch.Generator().manual_seed(0)
        for dtype in (torch.float32, torch.float64):
            tol = FLOAT_TOL if dtype == torch.float32 else DOUBLE_TOL
            for reduction in ("mean", "sum", "none"):
                for rows, classes in ((7, 5), (33, 1500)):
                    logits = 3 * torch.randn(rows, classes, generator=g, dtype=dtype)
                    targets = torch.randint(0, classes, (rows,), generator=g)
                    a = logits.clone().requires_grad_()
                    b = logits.clone().requires_grad_()
                    got = ct.softmax_cross_entropy(a, targets, reduction=reduction)
                    want = F.cross_entropy(b, targets, reduction=reduction)
                    upstream = torch.randn(want.shape, generator=g, dtype=dtype)
                    (got * upstream).sum().backward()
                    (want * upstream).sum().backward()
                    what = f"{dtype} {reduction} [{rows}, {classes}]"
                    assert_close(f"loss {what}", got, want, tol)
                    assert_close(f"dlogits {what}", a.grad, b.grad, tol)

    def test_int32_targets_and_no_grad(self):
        logits = torch.randn(4, 6)
        targets = torch.tensor([0, 5, 2, 3])
        want = F.cross_entropy(logits, targets)
        assert_close("int32 targets", ct.softmax_cross_entropy(logits, targets.int()), want)
        with torch.no_grad():
            assert_close("no_grad", ct.softmax_cross_entropy(logits, targets), want)

    def test_gradcheck_float64(self):
        torch.manual_seed(1)
        logits = torch.randn(5, 7, dtype=torch.float64, requires_grad=True)
        targets = torch.randint(0, 7, (5,))
        for reduction in ("mean", "sum", "none"):
            with self.subTest(reduction=reduction):
                self.assertTrue(torch.autograd.gradcheck(
                    lambda x: ct.softmax_cross_entropy(x, targets, reduction), (logits,)))

    def test_target_out_of_range_is_libcurnns_error(self):
        with self.assertRaisesRegex(curnn.ArgumentError,
                                    r"^targets\[1\] = 7 is not a class id in \[0, 7\)$"):
            ct.softmax_cross_entropy(torch.randn(3, 7), torch.tensor([0, 7, 1]))


def nce_reference(weights, biases, labels, inputs, sampled, true_count, sampled_count):
    """TensorFlow's nce_loss (num_true=1, subtract_log_q, no accidental-hit removal) with torch
    ops: per-example loss [B]."""
    labels, sampled = labels.long(), sampled.long()
    true_logits = (inputs * weights[labels]).sum(1) + biases[labels] - true_count.log()
    sampled_logits = inputs @ weights[sampled].t() + biases[sampled] - sampled_count.log()
    true_xent = F.binary_cross_entropy_with_logits(true_logits, torch.ones_like(true_logits),
                                                   reduction="none")
    sampled_xent = F.binary_cross_entropy_with_logits(
        sampled_logits, torch.zeros_like(sampled_logits), reduction="none")
    return true_xent + sampled_xent.sum(1)


class NceLoss(unittest.TestCase):
    V, E, B, S = 50, 8, 6, 10

    def inputs(self, seed):
        g = torch.Generator().manual_seed(seed)
        weights = 0.5 * torch.randn(self.V, self.E, generator=g)
        biases = 0.5 * torch.randn(self.V, generator=g)
        inputs = torch.randn(self.B, self.E, generator=g)
        labels = torch.randint(0, self.V, (self.B,), generator=g)
        labels[1] = labels[0]  # a repeated label
        return weights, biases, labels, inputs

    def compare(self, reduction, sparse_grad=False):
        weights, biases, labels, inputs = self.inputs(0)
        sampled, true_count, sampled_count, _ = ct.log_uniform_candidate_sampler(
            labels, self.S, self.V, generator=torch.Generator().manual_seed(1))
        sampled[0] = labels[2]  # an accidental hit, kept as TensorFlow keeps it
        mine = [t.clone().requires_grad_() for t in (weights, biases, inputs)]
        ref = [t.double().requires_grad_() for t in (weights, biases, inputs)]
        got = ct.nce_loss(mine[0], mine[1], labels, mine[2], self.S, self.V,
                          sampled_values=(sampled, true_count, sampled_count),
                          reduction=reduction, sparse_grad=sparse_grad)
        want = nce_reference(ref[0], ref[1], labels, ref[2], sampled, true_count.double(),
                             sampled_count.double())
        want = {"mean": want.mean(), "sum": want.sum(), "none": want}[reduction]
        scale = 0.7
        (got.sum() * scale).backward()
        (want.sum() * scale).backward()
        assert_close(f"nce loss ({reduction})", got, want)
        for name, a, b in zip(("dweights", "dbiases", "dinputs"), mine, ref):
            grad = a.grad.to_dense() if sparse_grad else a.grad
            assert_close(f"nce {name} ({reduction}, sparse={sparse_grad})", grad, b.grad)

    def test_matches_tensorflow_formula(self):
        for reduction in ("mean", "sum", "none"):
            with self.subTest(reduction=reduction):
                self.compare(reduction)

    def test_sparse_gradients(self):
        self.compare("mean", sparse_grad=True)

    def test_labels_as_column_and_own_sampling(self):
        weights, biases, labels, inputs = self.inputs(2)
        torch.manual_seed(3)
        a = ct.nce_loss(weights, biases, labels.view(-1, 1), inputs, self.S, self.V)
        torch.manual_seed(3)
        b = ct.nce_loss(weights, biases, labels, inputs, self.S, self.V)
        self.assertTrue(torch.equal(a, b), "same seed, same sampled classes")
        torch.manual_seed(3)
        sampled, tc, sc, _ = ct.log_uniform_candidate_sampler(labels, self.S, self.V)
        want = nce_reference(weights.double(), biases.double(), labels, inputs.double(), sampled,
                             tc.double(), sc.double()).mean()
        assert_close("nce with its own sampling", a, want)

    def test_per_example_backward_needs_uniform_gradient(self):
        weights, biases, labels, inputs = self.inputs(4)
        w = weights.clone().requires_grad_()
        loss = ct.nce_loss(w, biases, labels, inputs, self.S, self.V, reduction="none")
        with self.assertRaisesRegex(RuntimeError, "same gradient for every example"):
            (loss * torch.arange(self.B)).sum().backward()

    def test_sampler(self):
        labels = torch.tensor([0, 3, 49])
        g = torch.Generator().manual_seed(9)
        sampled, tc, sc, tries = ct.log_uniform_candidate_sampler(labels, self.S, self.V, g)
        g.manual_seed(9)
        again = ct.log_uniform_candidate_sampler(labels, self.S, self.V, g)
        self.assertTrue(torch.equal(sampled, again[0]), "reproducible from the generator")
        self.assertEqual(len(set(sampled.tolist())), self.S, "unique classes")
        self.assertTrue(bool(((sampled >= 0) & (sampled < self.V)).all()))
        self.assertGreaterEqual(tries, self.S)

        def expected_count(k):  # TensorFlow's RangeSampler with unique=True
            p = (math.log(k + 2) - math.log(k + 1)) / math.log(self.V + 1)
            return p * self.S if tries == self.S else -math.expm1(tries * math.log1p(-p))
        assert_close("true expected counts", tc,
                     torch.tensor([expected_count(k) for k in labels.tolist()]))
        assert_close("sampled expected counts", sc,
                     torch.tensor([expected_count(k) for k in sampled.tolist()]))


if __name__ == "__main__":
    unittest.main()
