"""libcurnn from Python: curnn.torch (a drop-in torch.nn.LSTM and fused losses for PyTorch)
and curnn.word2vec (the fast word2vec trainer). The C ABI underneath: include/curnn/c_api.h."""

from ._lib import ArgumentError, CurnnError, cuda_available, has_cuda_backend, version
from . import torch, word2vec  # noqa: E402  (curnn.torch is this package's, not PyTorch)

__version__ = version()
__all__ = ["ArgumentError", "CurnnError", "cuda_available", "has_cuda_backend", "version",
           "torch", "word2vec"]
