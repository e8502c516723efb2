"""The word2vec fast trainer (curnn::word2vec::train: word2vec.c's skip-gram and CBOW with
negative sampling) from Python: a corpus path in, the word vectors and the vocabulary out.

    vectors, words = curnn.word2vec.train("text8", size=128, cbow=False, iter=1, threads=2)

Semantics, defaults and the deliberate differences from word2vec.c:
include/curnn/word2vec/trainer.hpp and the README. Tests: tests/python/test_word2vec.py.
"""

import ctypes
import os

import torch

from . import _lib
from .torch._tensors import context_for, describe


def _negatives_per_window(negatives_per):
    if negatives_per not in ("pair", "window"):
        raise ValueError(f"negatives_per must be 'pair' or 'window', got {negatives_per!r}")
    return negatives_per == "window"


def train(corpus_path, size=100, window=5, sample=1e-3, negative=5, threads=None, iter=5,
          alpha=None, cbow=True, min_count=5, seed=1, table_size=100_000_000, device="cpu",
          gpu_concurrent_chunks=1024, negatives_per="pair", progress=None,
          progress_interval=1.0):
    """Trains word vectors on the corpus at corpus_path (plain or .gz), as
    `word2vec -train corpus_path -size ... -hs 0`.

    Returns (vectors, words): vectors a float32 CPU tensor [V, size] (syn0), words the
    vocabulary list (id order: "</s>" first, then by decreasing count; bytes that are not UTF-8
    are kept as surrogate escapes, str.encode('utf-8', 'surrogateescape') gives them back).
    alpha defaults to word2vec.c's (0.05 for CBOW, 0.025 for skip-gram); threads to the CPU
    count; device 'cpu' or 'cuda' (the GPU trainer). negatives_per 'pair' draws word2vec.c's
    negatives for every pair, 'window' one set per centre word shared by its window's pairs
    (curnn-word2vec --negatives-per). progress(words_done, total_words, alpha,
    loss, seconds) is called about every progress_interval seconds. Errors (a missing or empty
    corpus, options out of range) raise curnn.CurnnError / curnn.ArgumentError with libcurnn's
    message."""
    options = _lib.W2vOptions(
        size=size, window=window, sample=sample, negative=negative,
        threads=threads if threads is not None else (os.cpu_count() or 1), iter=iter,
        alpha=alpha if alpha is not None else (0.05 if cbow else 0.025), cbow=int(bool(cbow)),
        min_count=min_count, seed=seed, table_size=table_size,
        gpu_concurrent_chunks=gpu_concurrent_chunks,
        window_negatives=int(_negatives_per_window(negatives_per)))
    if device == "cpu":
        context = _lib.cpu_context()
    elif str(device).startswith("cuda"):
        context = context_for(torch.empty(0, device=device))
    else:
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if progress is None:
        callback = _lib.W2V_PROGRESS_FN()  # NULL
    else:
        callback = _lib.W2V_PROGRESS_FN(
            lambda state, done, total, rate, loss, seconds: progress(done, total, rate, loss,
                                                                     seconds))
    result = _lib.new_handle(_lib.lib.curnn_w2v_train, _lib.lib.curnn_w2v_result_free,
                             context.pointer, os.fsencode(corpus_path), options, callback, None,
                             float(progress_interval))
    vocab_size = _lib.lib.curnn_w2v_vocab_size(result.pointer)
    vectors = torch.empty(vocab_size, _lib.lib.curnn_w2v_vector_size(result.pointer),
                          dtype=torch.float32)
    _lib.check(_lib.lib.curnn_w2v_copy_vectors(result.pointer, 0, describe(vectors)))
    words = []
    length = ctypes.c_size_t()
    for i in range(vocab_size):
        pointer = _lib.lib.curnn_w2v_word(result.pointer, i, ctypes.byref(length))
        words.append(ctypes.string_at(pointer, length.value).decode("utf-8", "surrogateescape"))
    return vectors, words
