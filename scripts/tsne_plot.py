#!/usr/bin/env python3
"""The book's t-SNE plot of word vectors ("TensorFlow in Action" section 7.1, word2vec_basic.py).

Reads word vectors in word2vec's text format (a "V D" header, then "word v1 ... vD" lines; the
word2vec tutorial trainer writes the 100 most frequent words' normalised vectors to
tsne_input.txt), reduces them to 2-D with scikit-learn's TSNE(perplexity=30, n_components=2,
init='pca', 5,000 iterations) and draws the book's plot_with_labels: an 18x18-inch labelled
scatter, saved as PNG.

    python3 scripts/tsne_plot.py --input out/tsne_input.txt --output out/tsne.png

Needs Debian's python3-sklearn and python3-matplotlib. Exit status: 0 on success, 2 for bad
arguments or input, 3 when scikit-learn or matplotlib is missing (--check-modules only looks
for them).
"""
import argparse
import importlib.util
import inspect
import os
import sys

EXIT_BAD_INPUT = 2
EXIT_MISSING_MODULES = 3
ITERATIONS = 5000
PERPLEXITY = 30.0


def read_vectors(path):
    """Words and vectors of a word2vec text file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline().split()
        if len(header) != 2:
            raise ValueError(f"{path}: the first line must be 'V D'")
        count, dim = int(header[0]), int(header[1])
        words, vectors = [], []
        for line_number, line in enumerate(f, start=2):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != dim + 1:
                raise ValueError(f"{path}:{line_number}: expected a word and {dim} values")
            words.append(fields[0])
            vectors.append([float(v) for v in fields[1:]])
        if len(words) != count:
            raise ValueError(f"{path}: the header says {count} words, the file has {len(words)}")
    return words, vectors


def make_tsne(TSNE, samples):
    """TSNE with the book's settings; the iteration argument is n_iter before scikit-learn 1.5
    and max_iter after. The perplexity must stay below the number of points."""
    perplexity = min(PERPLEXITY, max(1.0, (samples - 1) / 3.0))
    if perplexity != PERPLEXITY:
        print(f"tsne_plot: {samples} words: perplexity {perplexity:g} instead of {PERPLEXITY:g}")
    parameters = inspect.signature(TSNE).parameters
    iterations = "max_iter" if "max_iter" in parameters else "n_iter"
    return TSNE(perplexity=perplexity, n_components=2, init="pca", **{iterations: ITERATIONS})


def plot_with_labels(plt, low_dim_embs, labels, filename):
    """The book's plot_with_labels."""
    assert low_dim_embs.shape[0] >= len(labels), "More labels than embeddings"
    plt.figure(figsize=(18, 18))  # in inches
    for i, label in enumerate(labels):
        x, y = low_dim_embs[i, :]
        plt.scatter(x, y)
        plt.annotate(label, xy=(x, y), xytext=(5, 2), textcoords="offset points",
                     ha="right", va="bottom")
    # Written next to the target and renamed, so a failed run leaves no half-written PNG.
    partial = f"{filename}.partial.{os.getpid()}"
    try:
        plt.savefig(partial, format="png")
        os.replace(partial, filename)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", help="word vectors, word2vec text format")
    parser.add_argument("--output", help="the PNG to write (e.g. tsne.png)")
    parser.add_argument("--check-modules", action="store_true",
                        help="only check that scikit-learn and matplotlib import (exit 0 or 3)")
    args = parser.parse_args()
    if args.check_modules:  # cheap: finds the modules without importing them
        found = all(importlib.util.find_spec(m) for m in ("numpy", "sklearn", "matplotlib"))
        return 0 if found else EXIT_MISSING_MODULES
    if not (args.input and args.output):
        parser.error("--input and --output are required")
    try:
        import numpy as np
        import matplotlib
        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
        from sklearn.manifold import TSNE
    except ImportError as e:
        print(f"tsne_plot: {e} (Debian: apt-get install python3-sklearn python3-matplotlib)",
              file=sys.stderr)
        return EXIT_MISSING_MODULES
    try:
        words, vectors = read_vectors(args.input)
    except (OSError, ValueError) as e:
        print(f"tsne_plot: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if len(words) < 2:
        print(f"tsne_plot: {args.input}: at least 2 words are needed", file=sys.stderr)
        return EXIT_BAD_INPUT
    tsne = make_tsne(TSNE, len(words))
    low_dim_embs = tsne.fit_transform(np.asarray(vectors, dtype=np.float64))
    plot_with_labels(plt, low_dim_embs, words, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
