"""Bad input to the Python package: wrong dtypes, devices, shapes and non-contiguous tensors
raise a Python exception carrying libcurnn's one-line message (curnn.ArgumentError, a
ValueError), never a crash. PyTorch's 'meta' device stands in for a wrong device on this
CPU-only machine. The module curnn.torch.LSTM accepts any strides, as torch.nn.LSTM does; the
functions that pass tensors straight to libcurnn (lstm_layer, the losses) reject
non-contiguous ones."""

import tempfile
import unittest
from pathlib import Path

import torch

import curnn
import curnn.torch as ct
import curnn.word2vec

E, H, T, B = 4, 6, 5, 3


class BadInput(unittest.TestCase):
    def expect(self, pattern, fn, error=curnn.ArgumentError):
        with self.assertRaisesRegex(error, pattern) as caught:
            fn()
        message = str(caught.exception)
        self.assertNotIn("\n", message, "one line")
        print(f"[ message] {message}")

    def test_lstm_module(self):
        torch.manual_seed(0)
        lstm = ct.LSTM(E, H, 2)
        x = torch.randn(T, B, E)
        h0 = torch.zeros(2, B, H)
        self.expect(r"^x is float64, expected float32$", lambda: lstm(x.double()))
        self.expect(r"^x is int64, expected float32$", lambda: lstm(x.long()))
        self.expect(r"^x is on an unsupported device, expected cpu$",
                    lambda: lstm(x.to("meta")))
        self.expect(r"LSTM input must be \[T, B, 4\], got \[5,3,5\]",
                    lambda: lstm(torch.randn(T, B, E + 1)))
        self.expect(r"LSTM input x must be \[T, B, 4\], got \[5,3,4,1\]",
                    lambda: lstm(x.unsqueeze(3)))
        self.expect(r"empty LSTM input \[0,3,4\]", lambda: lstm(x[:0]))
        self.expect(r"^h0 has shape \[2,6\], expected \[3,6\]$",
                    lambda: lstm(x, (h0[:, :2], h0[:, :2])))
        self.expect(r"^h0 is float64, expected float32$", lambda: lstm(x, (h0.double(), h0)))
        self.expect(r"^c0 is on an unsupported device, expected cpu$",
                    lambda: lstm(x, (h0, h0.to("meta"))))
        self.expect(r"h0 has shape \[3,3,6\], expected \[2, B, 6\]",
                    lambda: lstm(x, (torch.zeros(3, B, H), h0)))
        self.expect(r"^LSTM layers are float32 or float64, not float16$",
                    lambda: ct.LSTM(E, H).half()(x.half()))
        self.expect(r"^wx is on an unsupported device, expected cpu$",
                    lambda: ct.LSTM(E, H).to("meta")(x))

    def test_lstm_layer_function(self):
        x = torch.randn(T, B, E)
        w_ih, w_hh = torch.randn(4 * H, E), torch.randn(4 * H, H)
        self.expect(r"^x is not contiguous \(shape \[5,3,4\], strides \[4,20,1\]\): pass "
                    r"tensor.contiguous\(\)$",
                    lambda: ct.lstm_layer(torch.randn(B, T, E).transpose(0, 1), w_ih, w_hh))
        self.expect(r"dropout_mask has shape \[5,3,5\], expected \[5,3,6\]",
                    lambda: ct.lstm_layer(x, w_ih, w_hh, dropout_mask=torch.ones(T, B, H - 1)))
        self.expect(r"^dropout_mask is not contiguous",
                    lambda: ct.lstm_layer(x, w_ih, w_hh,
                                          dropout_mask=torch.ones(B, T, H).transpose(0, 1)))
        self.expect(r"^h0 is not contiguous",
                    lambda: ct.lstm_layer(x, w_ih, w_hh, h0=torch.zeros(H, B).t()))
        self.expect(r"w.wh has shape \[5,24\], expected \[6,24\]",
                    lambda: ct.lstm_layer(x, w_ih, torch.randn(4 * H, H - 1)))

    def test_softmax_cross_entropy(self):
        logits, targets = torch.randn(3, 7), torch.tensor([0, 6, 2])
        self.expect(r"^logits is int64, expected float32$",
                    lambda: ct.softmax_cross_entropy(logits.long(), targets))
        self.expect(r"^logits is not contiguous",
                    lambda: ct.softmax_cross_entropy(torch.randn(7, 3).t(), targets))
        self.expect(r"^targets is float32, expected int32$",
                    lambda: ct.softmax_cross_entropy(logits, targets.float()))
        self.expect(r"^targets has shape \[2\], expected \[3\]$",
                    lambda: ct.softmax_cross_entropy(logits, targets[:2]))
        self.expect(r"^logits must be \[N, C\], has shape \[3,7,1\]$",
                    lambda: ct.softmax_cross_entropy(logits.unsqueeze(2), targets))
        self.expect(r"^logits is on an unsupported device, expected cpu$",
                    lambda: ct.softmax_cross_entropy(logits.to("meta"), targets))
        self.expect(r"^targets\[0\] = -1 is not a class id in \[0, 7\)$",
                    lambda: ct.softmax_cross_entropy(logits, torch.tensor([-5, 0, 0])))

    def test_nce_loss(self):
        V, S = 50, 5
        weights, biases = torch.randn(V, E), torch.randn(V)
        inputs, labels = torch.randn(B, E), torch.tensor([1, 2, 3])
        self.expect(r"^inputs is float64, expected float32$",
                    lambda: ct.nce_loss(weights, biases, labels, inputs.double(), S, V))
        self.expect(r"^weights is not contiguous",
                    lambda: ct.nce_loss(torch.randn(E, V).t(), biases, labels, inputs, S, V))
        self.expect(r"^weights has shape \[50,5\], expected \[50,4\]$",
                    lambda: ct.nce_loss(torch.randn(V, E + 1), biases, labels, inputs, S, V))
        self.expect(r"^num_sampled 60 outside \[1, num_classes = 50\]$",
                    lambda: ct.nce_loss(weights, biases, labels, inputs, 60, V))
        self.expect(r"label.*50",
                    lambda: ct.nce_loss(weights, biases, torch.tensor([1, 50, 2]), inputs, S, V))
        self.expect(r"^biases is on an unsupported device, expected cpu$",
                    lambda: ct.nce_loss(weights, biases.to("meta"), labels, inputs, S, V))

    def test_word2vec(self):
        with tempfile.TemporaryDirectory() as tmp:
            missing = str(Path(tmp) / "no-such-corpus.txt")
            self.expect(r"no-such-corpus.txt", lambda: curnn.word2vec.train(missing),
                        error=curnn.CurnnError)
            empty = Path(tmp) / "empty.txt"
            empty.write_text("")
            self.expect(r"empty.txt", lambda: curnn.word2vec.train(str(empty)),
                        error=curnn.CurnnError)
            corpus = Path(tmp) / "corpus.txt"
            corpus.write_text("a b c a b a\n" * 10)
            self.expect(r"size", lambda: curnn.word2vec.train(str(corpus), size=0, min_count=1),
                        error=curnn.ArgumentError)
            self.expect(r"^device must be 'cpu' or 'cuda'",
                        lambda: curnn.word2vec.train(str(corpus), device="tpu"),
                        error=ValueError)


if __name__ == "__main__":
    unittest.main()
