"""curnn.torch.LSTM: a drop-in torch.nn.LSTM whose forward and backward run in libcurnn's BPTT
engine (curnn::nn::LstmLayer, include/curnn/nn/lstm.hpp).

Design
 - One torch.autograd.Function per layer and direction (_LstmLayerFunction). Its forward makes a
   libcurnn layer handle that keeps the tape (gates, cell and hidden states of every step) until
   the autograd graph lets go of it; its backward runs libcurnn's BPTT on that tape. Backward may
   run several times (retain_graph, gradcheck): it overwrites only the pre-activations of the
   tape, which backward does not read (tests/python/test_lstm.py checks it).
 - Parameters are PyTorch's (names, shapes, gate order [i, f, g, o], two biases), so
   state_dict() moves between this module and torch.nn.LSTM both ways. libcurnn's layout is
   TensorFlow's: wx [E, 4H] and wh [H, 4H] in gate order [i, j, f, o] (j = PyTorch's g) and one
   bias. The conversion (a gate permutation, a transpose, b_ih + b_hh) is written with torch ops
   in front of the Function, so autograd carries the gradients back to PyTorch's layout; it
   copies the weights once per forward (small next to the activations). libcurnn's cell takes a
   forget_bias (TensorFlow's BasicLSTMCell adds 1.0); here it is 0, as in torch.nn.LSTM.
   bias=False: a zero bias without gradient.
 - Dropout between layers (training mode, not after the last layer), as torch.nn.LSTM: each
   element of a layer's output is zeroed with probability p and the rest scaled by 1/(1-p). The
   mask is drawn with PyTorch's generator (torch.manual_seed reproduces it) and applied inside
   libcurnn's fused cell, which never drops the recurrent connection (Zaremba et al., as
   torch.nn.LSTM). Its random stream differs from torch.nn.LSTM's, so outputs agree in
   expectation, not element by element.
 - Bidirectional: two libcurnn layers (Direction::Forward and Reverse) on the same input, their
   outputs concatenated with torch.cat (libcurnn's BiLstmLayer starts from zero states and keeps
   no final cell state, which torch.nn.LSTM's interface needs).
 - Input layout: like torch.nn.LSTM, any strides and batch_first are accepted (the engine reads
   time-major contiguous [T, B, E]; the module makes that copy when needed). The functional
   lstm_layer() below passes tensors as they are, and libcurnn rejects a non-contiguous one.
 - dtypes: float32 on the CPU and CUDA, float64 on the CPU (gradcheck). Wrong dtypes, devices and
   shapes are rejected by libcurnn with its message (curnn.ArgumentError).
Tests: tests/python/test_lstm.py.
"""

import math
import numbers
import warnings

import torch
from torch.nn.utils.rnn import PackedSequence

from .. import _lib
from ._tensors import context_for, describe, dtype_code

# PyTorch's gate blocks [i, f, g, o] taken in libcurnn's order [i, j = g, f, o].
_TO_CURNN_GATES = (0, 2, 1, 3)


def to_curnn_weight(weight):
    """PyTorch's weight_ih / weight_hh [4H, K] -> libcurnn's wx / wh [K, 4H] (differentiable)."""
    gates, width = weight.shape[0], weight.shape[1:]
    blocks = weight.reshape(4, gates // 4, *width)[list(_TO_CURNN_GATES)]
    return blocks.reshape(gates, *width).t().contiguous()


def to_curnn_bias(bias_ih, bias_hh):
    """PyTorch's two biases [4H] -> libcurnn's one bias [4H] (differentiable)."""
    bias = bias_ih + bias_hh
    return bias.reshape(4, -1)[list(_TO_CURNN_GATES)].reshape(-1).contiguous()


class _LstmLayerFunction(torch.autograd.Function):
    """One LSTM layer over a sequence in libcurnn layout: (x [T, B, E], h0, c0 [B, H] or None,
    wx [E, 4H], wh [H, 4H], bias [4H], mask [T, B, H] or None, reverse)
    -> (y [T, B, H], h_T [B, H], c_T [B, H])."""

    @staticmethod
    def forward(ctx, x, h0, c0, wx, wh, bias, mask, reverse):
        context = context_for(x)
        hidden = wx.shape[1] // 4 if wx.dim() == 2 else 0  # wx [E, 4H]; libcurnn checks wh
        layer = _lib.new_handle(_lib.lib.curnn_lstm_layer_create, _lib.lib.curnn_lstm_layer_free,
                                dtype_code(wx.dtype), wx.shape[0] if wx.dim() == 2 else 0,
                                hidden, 0.0, int(reverse))
        steps, batch = (x.shape[0], x.shape[1]) if x.dim() == 3 else (0, 0)
        options = {"dtype": x.dtype, "device": x.device}
        y = torch.empty(steps, batch, hidden, **options)
        h_last = torch.empty(batch, hidden, **options)
        c_last = torch.empty(batch, hidden, **options)
        _lib.check(_lib.lib.curnn_lstm_layer_forward(
            context.pointer, layer.pointer, describe(wx), describe(wh), describe(bias),
            describe(x), describe(h0), describe(c0), describe(mask), describe(y),
            describe(h_last), describe(c_last)))
        ctx.context, ctx.layer = context, layer
        # The layer's tape holds a view of the mask (no copy): it must live until backward.
        ctx.save_for_backward(x, h0, c0, wx, wh, bias, mask)
        return y, h_last, c_last

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dy, dh_last, dc_last):
        x, h0, c0, wx, wh, bias, _mask = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dx = torch.empty_like(x, memory_format=torch.contiguous_format) if needs[0] else None
        dh0 = torch.empty_like(h0, memory_format=torch.contiguous_format) if (
            h0 is not None and needs[1]) else None
        dc0 = torch.empty_like(c0, memory_format=torch.contiguous_format) if (
            c0 is not None and needs[2]) else None
        dwx = torch.empty_like(wx)
        dwh = torch.empty_like(wh)
        dbias = torch.empty_like(bias)
        _lib.check(_lib.lib.curnn_lstm_layer_backward(
            ctx.context.pointer, ctx.layer.pointer, describe(wx), describe(wh), describe(bias),
            describe(x), describe(dy.contiguous()), describe(dh_last.contiguous()),
            describe(dc_last.contiguous()), describe(dx), describe(dh0), describe(dc0),
            describe(dwx), describe(dwh), describe(dbias)))
        return (dx, dh0, dc0, dwx if needs[3] else None, dwh if needs[4] else None,
                dbias if needs[5] else None, None, None)


def lstm_layer(x, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None, c0=None,
               dropout_mask=None, reverse=False):
    """One LSTM layer in libcurnn's engine with PyTorch's parameters.

    x [T, B, E] (contiguous, time-major); weight_ih [4H, E], weight_hh [4H, H], bias_ih and
    bias_hh [4H] or None (no bias) in PyTorch's gate order; h0, c0 [B, H] or None (zeros);
    dropout_mask [T, B, H] (0 or 1/keep) applied to the output, not to the recurrence;
    reverse: run t = T-1 .. 0 (outputs stay aligned with input time).
    Returns y [T, B, H], h_T, c_T [B, H] (the state after the last step processed).
    """
    wx, wh = to_curnn_weight(weight_ih), to_curnn_weight(weight_hh)
    if bias_ih is None:
        bias = torch.zeros(weight_ih.shape[0], dtype=weight_ih.dtype, device=weight_ih.device)
    else:
        bias = to_curnn_bias(bias_ih, bias_hh)
    return _LstmLayerFunction.apply(x, h0, c0, wx, wh, bias, dropout_mask, reverse)


class LSTM(torch.nn.Module):
    """torch.nn.LSTM's interface (constructor, forward, parameters) on libcurnn's engine.

    Not supported: PackedSequence input and proj_size > 0 (both raise). See the module
    docstring for the design."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not (
                0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        if proj_size != 0:
            raise ValueError("curnn.torch.LSTM has no projections: proj_size must be 0")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be a positive integer, got {hidden_size}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers}")
        self.mode = "LSTM"
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        factory = {"device": device, "dtype": dtype}
        gates = 4 * hidden_size
        self._all_weights = []
        # Registration order as torch.nn.LSTM's: reset_parameters() then draws the same values
        # from the same seed.
        for layer in range(num_layers):
            for direction in range(self.num_directions):
                width = input_size if layer == 0 else hidden_size * self.num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gates, width)), ("weight_hh", (gates, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                names = []
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, torch.nn.Parameter(torch.empty(shape, **factory)))
                    names.append(name)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            torch.nn.init.uniform_(weight, -bound, bound)

    def flatten_parameters(self):
        """No-op (torch.nn.LSTM's is for cuDNN's flat weight buffer)."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _dropout_masks(self, steps, batch, like):
        """[D, T, B, H] masks for one layer's output (0 or 1/(1-p)), from PyTorch's generator."""
        shape = (self.num_directions, steps, batch, self.hidden_size)
        keep = 1.0 - self.dropout
        if keep == 0.0:
            return torch.zeros(shape, dtype=like.dtype, device=like.device)
        mask = torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(keep)
        return mask.div_(keep)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            raise TypeError("curnn.torch.LSTM does not take a PackedSequence: pad the batch "
                            "(torch.nn.utils.rnn.pad_packed_sequence)")
        batched = input.dim() != 2
        batch_dim = 0 if self.batch_first else 1
        x = input if batched else input.unsqueeze(batch_dim)
        if self.batch_first and x.dim() >= 2:
            x = x.transpose(0, 1)
        x = x.contiguous()  # time-major [T, B, E]; libcurnn checks the rank and sizes
        h0 = c0 = None
        if hx is not None:
            h0, c0 = hx
            if not batched:
                if h0.dim() != 2 or c0.dim() != 2:
                    raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D "
                                       f"but got ({h0.dim()}-D, {c0.dim()}-D) tensors")
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            # libcurnn checks each layer's [B, H] slice; the slice count is checked here.
            count = self.num_layers * self.num_directions
            for name, state in (("h0", h0), ("c0", c0)):
                if state.dim() != 3 or state.shape[0] != count:
                    shape = ",".join(map(str, state.shape))
                    raise _lib.ArgumentError(
                        f"{name} has shape [{shape}], expected [{count}, B, {self.hidden_size}] "
                        "(layers x directions, batch, hidden)")
        steps, batch = (x.shape[0], x.shape[1]) if x.dim() == 3 else (0, 0)
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            masks = None
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                masks = self._dropout_masks(steps, batch, x)
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                weights = self.all_weights[index]
                y, h_last, c_last = lstm_layer(
                    x, *weights[:2], *(weights[2:] if self.bias else (None, None)),
                    h0=None if h0 is None else h0[index].contiguous(),
                    c0=None if c0 is None else c0[index].contiguous(),
                    dropout_mask=None if masks is None else masks[direction],
                    reverse=direction == 1)
                outputs.append(y)
                h_n.append(h_last)
                c_n.append(c_last)
            x = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)
        output = x.transpose(0, 1).contiguous() if self.batch_first else x
        h_n, c_n = torch.stack(h_n), torch.stack(c_n)
        if not batched:
            output = output.squeeze(batch_dim)
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)
