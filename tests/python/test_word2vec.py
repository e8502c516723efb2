"""curnn.word2vec.train: the word2vec fast trainer from Python. With one thread its vectors are
bitwise those of curnn-word2vec (the same trainer behind the app's command line) for the same
flags; the vocabulary follows word2vec.c's order; runs are reproducible from the seed."""

import os
import random
import struct
import subprocess
import tempfile
import unittest
from pathlib import Path

import torch

import curnn.word2vec

APP = Path(os.environ.get("CURNN_BIN_DIR", "")) / "curnn-word2vec"


def write_corpus(path, words=3000, seed=0):
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(60)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    lines = []
    while words > 0:
        n = min(words, rng.randint(5, 40))
        lines.append(" ".join(rng.choices(vocab, weights, k=n)))
        words -= n
    Path(path).write_text("\n".join(lines) + "\n")


def read_binary_vectors(path):
    """word2vec.c's binary format: "V E\\n", then per word "word " + E float32 + "\\n"."""
    data = Path(path).read_bytes()
    header, _, rest = data.partition(b"\n")
    count, dim = map(int, header.split())
    words, rows, pos = [], [], 0
    for _ in range(count):
        end = rest.index(b" ", pos)
        words.append(rest[pos:end].decode("utf-8", "surrogateescape"))
        pos = end + 1
        rows.append(struct.unpack_from(f"<{dim}f", rest, pos))
        pos += 4 * dim + 1
    return words, torch.tensor(rows, dtype=torch.float32)


class Word2Vec(unittest.TestCase):
    options = {"size": 12, "window": 3, "negative": 4, "iter": 2, "min_count": 2,
               "sample": 1e-2, "threads": 1}

    @unittest.skipUnless(APP.is_file(), f"{APP} not built (CURNN_BIN_DIR)")
    def test_same_vectors_as_the_app(self):
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus.txt"
            write_corpus(corpus)
            for cbow, per in ((False, "pair"), (True, "pair"), (False, "window")):
                with self.subTest(cbow=cbow, negatives_per=per):
                    out = Path(tmp) / "vectors.bin"
                    o = self.options
                    command = [str(APP), "-train", str(corpus), "-output", str(out),
                               "-binary", "1", "-cbow", str(int(cbow)), "-size", str(o["size"]),
                               "-window", str(o["window"]), "-negative", str(o["negative"]),
                               "-iter", str(o["iter"]), "-min-count", str(o["min_count"]),
                               "-sample", str(o["sample"]), "-threads", "1", "-debug", "0",
                               "--device", "cpu", "--negatives-per", per]
                    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                    app_words, app_vectors = read_binary_vectors(out)
                    vectors, words = curnn.word2vec.train(str(corpus), cbow=cbow,
                                                          negatives_per=per, **o)
                    self.assertEqual(words, app_words)
                    self.assertTrue(torch.equal(vectors, app_vectors),
                                    f"max difference {(vectors - app_vectors).abs().max()}")

    def test_vocabulary_order_and_reproducibility(self):
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus.txt"
            corpus.write_bytes(b"b a c a b a\nd a b\nc\n\xffz a\n")
            seen = []
            vectors, words = curnn.word2vec.train(
                str(corpus), size=5, min_count=2, iter=3, threads=1, table_size=1000,
                progress=lambda done, total, *rest: seen.append((done, total)))
            # "</s>" first, then by decreasing count; "d" and "\xffz" (1) pruned; 10 words kept.
            self.assertEqual(words, ["</s>", "a", "b", "c"])
            self.assertEqual(tuple(vectors.shape), (4, 5))
            self.assertEqual(vectors.dtype, torch.float32)
            self.assertTrue(seen and seen[-1][0] == seen[-1][1] == 3 * 10, f"progress {seen}")
            again, _ = curnn.word2vec.train(str(corpus), size=5, min_count=2, iter=3, threads=1,
                                            table_size=1000)
            other, _ = curnn.word2vec.train(str(corpus), size=5, min_count=2, iter=3, threads=1,
                                            table_size=1000, seed=2)
            self.assertTrue(torch.equal(vectors, again), "same seed, same vectors")
            self.assertFalse(torch.equal(vectors, other), "another seed, other vectors")
            _, all_words = curnn.word2vec.train(str(corpus), size=5, min_count=1, iter=1,
                                                threads=1, table_size=1000)
            self.assertIn("\udcffz", all_words, "invalid UTF-8 kept as surrogate escapes")

    def test_negatives_per_is_checked(self):
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus.txt"
            write_corpus(corpus, words=200)
            with self.assertRaisesRegex(ValueError, "negatives_per"):
                curnn.word2vec.train(str(corpus), negatives_per="sideways")
            with self.assertRaisesRegex(curnn.ArgumentError, "-negative must be at most 32"):
                curnn.word2vec.train(str(corpus), negatives_per="window", negative=33,
                                     threads=1)


if __name__ == "__main__":
    unittest.main()
