"""ctypes binding of libcurnn's C ABI (include/curnn/c_api.h).

Why ctypes and a C ABI rather than a compiled extension against libtorch: the shared library
does not depend on the Python version nor on PyTorch's C++ ABI, so one build of libcurnn_c.so
serves Debian's CPU-only torch 1.13 on Python 3.11 and a CUDA PyTorch on Python 3.12 alike.
Tensors cross the boundary as descriptors (data pointer, dtype, device, shape, strides): no
copies, and libcurnn itself checks them and reports what is wrong.

The library is found through the CURNN_LIBRARY environment variable (a path to libcurnn_c.so,
e.g. build/lib/libcurnn_c.so of a CMake build) or next to this file (``pip install .`` puts it
there).
"""

import ctypes
import os
import threading
from pathlib import Path

API_VERSION = 1
MAX_RANK = 8

# curnn_dtype and curnn_device codes.
FLOAT32, FLOAT64, INT32, INT64, FLOAT16, BFLOAT16, OTHER_DTYPE = range(7)
DEVICE_CPU, DEVICE_CUDA, DEVICE_OTHER = range(3)


class CurnnError(RuntimeError):
    """A failure inside libcurnn; the message is libcurnn's."""


class ArgumentError(CurnnError, ValueError):
    """libcurnn rejected an argument (shape, dtype, device, contiguity or value)."""


class TensorDesc(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int32),
        ("device", ctypes.c_int32),
        ("device_index", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.c_int64 * MAX_RANK),
        ("strides", ctypes.c_int64 * MAX_RANK),
    ]


class W2vOptions(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_int32),
        ("window", ctypes.c_int32),
        ("sample", ctypes.c_double),
        ("negative", ctypes.c_int32),
        ("threads", ctypes.c_int32),
        ("iter", ctypes.c_int32),
        ("alpha", ctypes.c_double),
        ("cbow", ctypes.c_int32),
        ("min_count", ctypes.c_int64),
        ("seed", ctypes.c_uint64),
        ("table_size", ctypes.c_int64),
        ("gpu_concurrent_chunks", ctypes.c_int32),
        ("window_negatives", ctypes.c_int32),
    ]


ALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
FREE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
W2V_PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                   ctypes.c_double, ctypes.c_double, ctypes.c_double)

_P = ctypes.c_void_p
_T = ctypes.POINTER(TensorDesc)
_STATUS = ctypes.c_int
_PROTOTYPES = {
    "curnn_api_version": (ctypes.c_int, []),
    "curnn_version": (ctypes.c_char_p, []),
    "curnn_has_cuda_backend": (ctypes.c_int, []),
    "curnn_cuda_available": (ctypes.c_int, []),
    "curnn_last_error": (ctypes.c_char_p, []),
    "curnn_context_cpu": (_STATUS, [ctypes.POINTER(_P)]),
    "curnn_context_wrap_cuda": (_STATUS, [ctypes.c_int, _P, ALLOC_FN, FREE_FN, _P,
                                          ctypes.POINTER(_P)]),
    "curnn_context_free": (None, [_P]),
    "curnn_context_device": (ctypes.c_int, [_P]),
    "curnn_lstm_layer_create": (_STATUS, [ctypes.c_int32, ctypes.c_int64, ctypes.c_int64,
                                          ctypes.c_float, ctypes.c_int, ctypes.POINTER(_P)]),
    "curnn_lstm_layer_free": (None, [_P]),
    "curnn_lstm_layer_forward": (_STATUS, [_P, _P] + [_T] * 10),
    "curnn_lstm_layer_backward": (_STATUS, [_P, _P] + [_T] * 13),
    "curnn_softmax_xent": (_STATUS, [_P, _T, _T, _T, _T, ctypes.c_double]),
    "curnn_log_uniform_sample": (_STATUS, [ctypes.c_int64, ctypes.c_uint64, _T, _T, _T, _T,
                                           ctypes.POINTER(ctypes.c_int64)]),
    "curnn_nce_loss": (_STATUS, [_P] + [_T] * 8 + [ctypes.c_float] + [_T] * 5),
    "curnn_w2v_train": (_STATUS, [_P, ctypes.c_char_p, ctypes.POINTER(W2vOptions),
                                  W2V_PROGRESS_FN, _P, ctypes.c_double, ctypes.POINTER(_P)]),
    "curnn_w2v_result_free": (None, [_P]),
    "curnn_w2v_vocab_size": (ctypes.c_int64, [_P]),
    "curnn_w2v_vector_size": (ctypes.c_int64, [_P]),
    "curnn_w2v_word": (ctypes.POINTER(ctypes.c_char), [_P, ctypes.c_int64,
                                                       ctypes.POINTER(ctypes.c_size_t)]),
    "curnn_w2v_word_count": (ctypes.c_int64, [_P, ctypes.c_int64]),
    "curnn_w2v_copy_vectors": (_STATUS, [_P, ctypes.c_int, _T]),
    "curnn_w2v_stats": (None, [_P] + [ctypes.POINTER(ctypes.c_int64)] * 3
                        + [ctypes.POINTER(ctypes.c_double)] * 2),
}


def _library_path():
    env = os.environ.get("CURNN_LIBRARY")
    if env:
        if not Path(env).is_file():
            raise ImportError(f"CURNN_LIBRARY={env}: no such file")
        return env
    bundled = Path(__file__).resolve().parent / "libcurnn_c.so"
    if bundled.is_file():
        return str(bundled)
    raise ImportError(
        "libcurnn_c.so not found: install the package with `pip install .` from the libcurnn "
        "checkout, or set CURNN_LIBRARY to build/lib/libcurnn_c.so of a CMake build")


def _load():
    lib = ctypes.CDLL(_library_path())
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    found = lib.curnn_api_version()
    if found != API_VERSION:
        raise ImportError(f"libcurnn_c.so has C API version {found}, this package needs "
                          f"{API_VERSION}: rebuild or reinstall both from one checkout")
    return lib


lib = _load()


def check(status):
    """Raises the libcurnn error of a failed call (read on the calling thread)."""
    if status != 0:
        message = lib.curnn_last_error().decode("utf-8", "replace")
        raise (ArgumentError if status == 1 else CurnnError)(message)


class Handle:
    """Owns a C handle and frees it with `free` when garbage-collected."""

    def __init__(self, pointer, free):
        self.pointer = pointer
        self._free = free

    def __del__(self):
        if self.pointer:
            self._free(self.pointer)
            self.pointer = None


def new_handle(create, free, *args):
    out = ctypes.c_void_p()
    check(create(*args, ctypes.byref(out)))
    return Handle(out, free)


_threads = threading.local()


def cpu_context():
    """This thread's CPU context (contexts keep per-call scratch, so threads do not share)."""
    ctx = getattr(_threads, "cpu", None)
    if ctx is None:
        ctx = _threads.cpu = new_handle(lib.curnn_context_cpu, lib.curnn_context_free)
    return ctx


def version():
    return lib.curnn_version().decode()


def has_cuda_backend():
    """True when libcurnn was built with its CUDA backend."""
    return bool(lib.curnn_has_cuda_backend())


def cuda_available():
    """True when libcurnn has its CUDA backend and sees a device."""
    return bool(lib.curnn_cuda_available())
