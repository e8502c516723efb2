"""torch.Tensor -> libcurnn tensor descriptors, and the libcurnn context for a tensor's device.

On CUDA, libcurnn works on PyTorch's current stream and takes the memory it needs for itself
(the LSTM tape, workspaces) from PyTorch's caching allocator, so its work is ordered with
PyTorch's and its memory is reused like PyTorch's, without copies or synchronisation.
NOTE: the CUDA path has not run yet (written and compiled on a machine without a GPU).
"""

import ctypes
import threading

import torch

from .. import _lib

_DTYPES = {
    torch.float32: _lib.FLOAT32,
    torch.float64: _lib.FLOAT64,
    torch.int32: _lib.INT32,
    torch.int64: _lib.INT64,
    torch.float16: _lib.FLOAT16,
    torch.bfloat16: _lib.BFLOAT16,
}
_DEVICES = {"cpu": _lib.DEVICE_CPU, "cuda": _lib.DEVICE_CUDA}
LIBCURNN_DTYPES = {torch.float32: _lib.FLOAT32, torch.float64: _lib.FLOAT64}


def describe(tensor):
    """The libcurnn descriptor of `tensor` (None for None), for one call. Nothing is checked
    here: libcurnn checks dtype, device, shape and contiguity and says what is wrong. The
    descriptor holds a reference to the tensor, so describe(t.contiguous()) stays valid for the
    call it is an argument of."""
    if tensor is None:
        return None
    d = _lib.TensorDesc()
    d.tensor = tensor  # keeps a temporary's memory alive as long as the descriptor
    device = _DEVICES.get(tensor.device.type, _lib.DEVICE_OTHER)
    d.data = tensor.data_ptr() if device != _lib.DEVICE_OTHER else None
    d.dtype = _DTYPES.get(tensor.dtype, _lib.OTHER_DTYPE)
    d.device = device
    d.device_index = tensor.device.index or 0
    d.rank = tensor.dim()
    for i in range(min(tensor.dim(), _lib.MAX_RANK)):
        d.shape[i] = tensor.shape[i]
        d.strides[i] = tensor.stride(i)
    return ctypes.byref(d)


def dtype_code(dtype):
    return _DTYPES.get(dtype, _lib.OTHER_DTYPE)


# ---- CUDA contexts on PyTorch's stream and allocator ------------------------------------------
# The allocator callbacks' state k (from 1) stands for _cuda_targets[k - 1]: (device, stream).
_cuda_targets = []
_cuda_threads = threading.local()


def _cuda_alloc(state, size):
    device, stream = _cuda_targets[state - 1]
    try:
        return torch.cuda.caching_allocator_alloc(size, device, stream)
    except RuntimeError:  # out of memory: libcurnn reports it
        return None


def _cuda_free(state, pointer):
    torch.cuda.caching_allocator_delete(pointer)


_ALLOC = _lib.ALLOC_FN(_cuda_alloc)  # kept alive for the life of the module
_FREE = _lib.FREE_FN(_cuda_free)


def _cuda_context(device_index):
    """This thread's context for PyTorch's current stream on CUDA device `device_index` (a
    cuBLAS handle is bound to each: contexts are cached, and not shared between threads)."""
    stream = torch.cuda.current_stream(device_index).cuda_stream
    cache = getattr(_cuda_threads, "contexts", None)
    if cache is None:
        cache = _cuda_threads.contexts = {}
    ctx = cache.get((device_index, stream))
    if ctx is None:
        _cuda_targets.append((device_index, stream))
        ctx = _lib.new_handle(_lib.lib.curnn_context_wrap_cuda, _lib.lib.curnn_context_free,
                              device_index, stream, _ALLOC, _FREE, len(_cuda_targets))
        cache[(device_index, stream)] = ctx
    return ctx


def context_for(tensor):
    """The libcurnn context for work on `tensor`'s device: this thread's CPU context, or one
    wrapping PyTorch's current stream on the tensor's CUDA device. Other devices get the CPU
    context, and libcurnn then rejects the tensor with its message."""
    if tensor.device.type == "cuda":
        return _cuda_context(tensor.device.index or 0)
    return _lib.cpu_context()
