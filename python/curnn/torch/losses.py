"""libcurnn's fused losses as autograd functions: softmax cross-entropy (ops::softmax_xent) and
TensorFlow's sampled NCE loss (ops::nce_loss with TensorFlow's log-uniform candidate sampler).

Both compute the loss and its gradient in one libcurnn call in forward (that is what the fused
kernels do) and keep the gradient; backward only scales it by the incoming gradient. Tensors are
passed to libcurnn as they are: it rejects wrong dtypes, devices, shapes and non-contiguous
tensors with its message (curnn.ArgumentError).
Tests: tests/python/test_losses.py.
"""

import ctypes

import torch

from .. import _lib
from ._tensors import context_for, describe

_REDUCTIONS = ("mean", "sum", "none")
_INT32_MAX = 2**31 - 1


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _ids(ids):
    """Integer class ids as libcurnn's int32 (out-of-range values stay out of range, so libcurnn
    reports them); other dtypes pass unchanged for libcurnn to reject."""
    if ids.dtype in (torch.int64, torch.int16, torch.uint8, torch.int8):
        return ids.clamp(-1, _INT32_MAX).to(torch.int32)
    return ids


def _reduce(loss, reduction):
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


def _scale(grad_output, reduction, count):
    """The per-example factor of a reduced loss's gradient: a scalar tensor, or [N] ('none')."""
    if reduction == "mean":
        return grad_output / count
    return grad_output


class _SoftmaxXent(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, targets, reduction):
        context = context_for(logits)
        rows = logits.shape[0] if logits.dim() >= 1 else 0
        options = {"dtype": logits.dtype, "device": logits.device}
        loss = torch.empty(rows, **options)
        dlogits = torch.empty(tuple(logits.shape), **options) if ctx.needs_input_grad[0] else None
        _lib.check(_lib.lib.curnn_softmax_xent(context.pointer, describe(logits),
                                               describe(_ids(targets)), describe(loss),
                                               describe(dlogits), 1.0))
        ctx.reduction, ctx.rows = reduction, rows
        ctx.save_for_backward(dlogits)
        ctx.mark_non_differentiable(targets)
        return _reduce(loss, reduction)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        (dlogits,) = ctx.saved_tensors
        scale = _scale(grad_output, ctx.reduction, ctx.rows)
        if ctx.reduction == "none":
            scale = scale.unsqueeze(1)
        return dlogits * scale, None, None


def softmax_cross_entropy(logits, targets, reduction="mean"):
    """-log softmax(logits)[targets] per row, libcurnn's fused softmax cross-entropy.

    logits [N, V] float32 (float64 on the CPU), targets [N] integer class ids in [0, V);
    reduction 'mean' (default, as torch.nn.functional.cross_entropy), 'sum' or 'none' ([N]).
    No ignore_index, class weights nor label smoothing: a target outside [0, V) is an error on
    the CPU (on CUDA its row's loss is NaN, see include/curnn/ops/softmax_xent.hpp)."""
    _check_reduction(reduction)
    return _SoftmaxXent.apply(logits, targets, reduction)


def log_uniform_candidate_sampler(labels, num_sampled, range_max, generator=None):
    """TensorFlow's tf.nn.log_uniform_candidate_sampler(unique=True) (curnn::LogUniformSampler).

    Draws num_sampled distinct classes of [0, range_max) with P(k) = log((k+2)/(k+1)) /
    log(range_max+1) (classes sorted by decreasing frequency). The seed comes from PyTorch's
    generator (`generator` or the default one), so torch.manual_seed reproduces the draw.
    Returns (sampled [S] int64, true_expected_count [B], sampled_expected_count [S], num_tries),
    on the CPU, float32 counts as TensorFlow's (Q(k) = -expm1(num_tries * log1p(-P(k))))."""
    sampled, log_q_true, log_q_sampled, tries = _sample(labels, num_sampled, range_max, generator)
    return sampled.long(), log_q_true.exp(), log_q_sampled.exp(), tries


def _sample(labels, num_sampled, range_max, generator):
    labels32 = _ids(labels.reshape(-1).cpu()).contiguous()
    sampled = torch.empty(int(num_sampled), dtype=torch.int32)
    log_q_true = torch.empty(labels32.shape[0], dtype=torch.float32)
    log_q_sampled = torch.empty(int(num_sampled), dtype=torch.float32)
    seed = int(torch.randint(0, 2**63 - 1, (), generator=generator))
    tries = ctypes.c_int64(0)
    _lib.check(_lib.lib.curnn_log_uniform_sample(int(range_max), seed, describe(labels32),
                                                 describe(sampled), describe(log_q_true),
                                                 describe(log_q_sampled), ctypes.byref(tries)))
    return sampled, log_q_true, log_q_sampled, tries.value


class _NceLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weights, biases, inputs, labels, sampled, log_q_true, log_q_sampled,
                reduction, sparse_grad):
        context = context_for(inputs)
        batch = inputs.shape[0] if inputs.dim() >= 1 else 0
        width = inputs.shape[1] if inputs.dim() == 2 else 0
        count = sampled.shape[0] if sampled.dim() == 1 else 0
        options = {"dtype": inputs.dtype, "device": inputs.device}
        loss = torch.empty(batch, **options)
        grads = [None] * 5
        if any(ctx.needs_input_grad[:3]):
            grads = [torch.empty(batch, width, **options), torch.empty(batch, width, **options),
                     torch.empty(batch, **options), torch.empty(count, width, **options),
                     torch.empty(count, **options)]
        _lib.check(_lib.lib.curnn_nce_loss(
            context.pointer, describe(inputs), describe(weights), describe(biases),
            describe(labels), describe(sampled), describe(log_q_true), describe(log_q_sampled),
            describe(loss), 1.0, *[describe(g) for g in grads]))
        ctx.reduction, ctx.sparse_grad, ctx.batch = reduction, sparse_grad, batch
        ctx.vocab = weights.shape
        ctx.save_for_backward(labels, sampled, *grads if grads[0] is not None else ())
        return _reduce(loss, reduction)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        labels, sampled, dx, dw_true, db_true, dw_sampled, db_sampled = ctx.saved_tensors
        scale = _scale(grad_output, ctx.reduction, ctx.batch)
        if ctx.reduction == "none":
            # The sampled classes' rows are sums over the batch: only a uniform gradient
            # (the losses summed or averaged later) can scale them.
            if not bool((scale == scale[0]).all()):
                raise RuntimeError(
                    "nce_loss(reduction='none'): backward needs the same gradient for every "
                    "example (sum or average the losses, or use reduction='mean'/'sum')")
            scale = scale[0]
        ids = torch.cat([labels, sampled]).long()
        rows = torch.cat([dw_true, dw_sampled]) * scale
        entries = torch.cat([db_true, db_sampled]) * scale
        vocab, width = ctx.vocab
        if ctx.sparse_grad:
            dweights = torch.sparse_coo_tensor(ids.unsqueeze(0), rows, (vocab, width))
            dbiases = torch.sparse_coo_tensor(ids.unsqueeze(0), entries, (vocab,))
        else:
            dweights = rows.new_zeros(vocab, width).index_add_(0, ids, rows)
            dbiases = entries.new_zeros(vocab).index_add_(0, ids, entries)
        needs = ctx.needs_input_grad
        return (dweights if needs[0] else None, dbiases if needs[1] else None,
                dx * scale if needs[2] else None) + (None,) * 6


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, sampled_values=None,
             reduction="mean", sparse_grad=False, generator=None):
    """TensorFlow's tf.nn.nce_loss (num_true=1, subtract_log_q, no accidental-hit removal) in
    libcurnn's fused op; reduction='mean' is word2vec_basic.py's tf.reduce_mean of it.

    weights [V, E], biases [V] (float32), labels [B] or [B, 1] class ids, inputs [B, E];
    num_sampled classes are drawn per call with log_uniform_candidate_sampler (seeded from
    PyTorch's generator), or given as sampled_values = (sampled [S], true_expected_count [B],
    sampled_expected_count [S]) as in TensorFlow. reduction: 'mean', 'sum' or 'none' (the
    per-example losses [B]; their backward needs one gradient for all examples).
    sparse_grad=True returns sparse COO gradients for weights and biases (rows of the labels and
    sampled classes; repeated ids are summed when coalesced), as torch.nn.Embedding(sparse=True).
    On CUDA the labels are copied to the host for the sampler (a synchronisation)."""
    _check_reduction(reduction)
    labels = labels.reshape(-1) if labels.dim() == 2 and labels.shape[1] == 1 else labels
    if sampled_values is None:
        sampled, log_q_true, log_q_sampled, _ = _sample(labels, num_sampled, num_classes,
                                                        generator)
    else:
        sampled, true_count, sampled_count = sampled_values
        log_q_true, log_q_sampled = true_count.log(), sampled_count.log()
    device = inputs.device
    return _NceLoss.apply(weights, biases, inputs, _ids(labels), _ids(sampled).to(device),
                          log_q_true.to(device), log_q_sampled.to(device), reduction,
                          sparse_grad)
