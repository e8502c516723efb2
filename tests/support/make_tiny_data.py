#!/usr/bin/env python3
"""Writes tiny synthetic stand-ins for the experiments' datasets, laid out as scripts/get-data.sh
lays out the real ones, so that `scripts/reproduce.sh --smoke --data-dir DIR` runs every
experiment end to end in seconds (tests/reproduce_smoke_test.sh). Standard library only.

  DIR/ptb/ptb.{train,valid,test}.txt              sentences of a small Markov-chain language
  DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte
                                                  28x28 images: digit d is a bright bar on
                                                  rows 2d+3 and 2d+4, plus noise
  DIR/text8/text8                                 one line of Zipf-distributed words in pairs
  DIR/word2vec-eval/questions-words.txt           two semantic and two syntactic sections
  DIR/word2vec-eval/wordsim353.tsv                word pairs with scores

The data is a function of --seed alone. It is not text8, PTB or MNIST: the figures it gives
only show that the pipeline runs.
"""
import argparse
import os
import random
import struct


def words_of(n, prefix):
    return ["%s%03d" % (prefix, i) for i in range(n)]


def write_ptb(rng, folder):
    vocab = words_of(120, "w")
    # Each word prefers a handful of successors: a language an LSTM can learn a little of.
    successors = {w: rng.sample(vocab, 6) for w in vocab}

    def sentences(n_words):
        out, count = [], 0
        while count < n_words:
            word, sentence = rng.choice(vocab), []
            for _ in range(rng.randint(5, 15)):
                sentence.append(word if rng.random() > 0.03 else "<unk>")
                word = rng.choice(successors[word]) if rng.random() < 0.9 else rng.choice(vocab)
            out.append(" " + " ".join(sentence) + " ")
            count += len(sentence) + 1
        return "\n".join(out) + "\n"

    os.makedirs(folder, exist_ok=True)
    for name, n_words in (("train", 12000), ("valid", 1500), ("test", 1500)):
        with open(os.path.join(folder, "ptb.%s.txt" % name), "w") as f:
            f.write(sentences(n_words))


def write_mnist(rng, folder):
    os.makedirs(folder, exist_ok=True)
    for prefix, n in (("train", 1200), ("t10k", 200)):
        labels = [rng.randrange(10) for _ in range(n)]
        pixels = bytearray()
        for label in labels:
            image = bytearray(rng.randrange(0, 60) for _ in range(28 * 28))
            for row in (2 * label + 3, 2 * label + 4):
                for col in range(4, 24):
                    image[row * 28 + col] = rng.randrange(180, 256)
            pixels += image
        with open(os.path.join(folder, "%s-images-idx3-ubyte" % prefix), "wb") as f:
            f.write(struct.pack(">IIII", 0x00000803, n, 28, 28) + bytes(pixels))
        with open(os.path.join(folder, "%s-labels-idx1-ubyte" % prefix), "wb") as f:
            f.write(struct.pack(">II", 0x00000801, n) + bytes(labels))


def write_text8(rng, folder, vocab):
    # Zipf-like frequencies; word i is usually followed by its partner i ^ 1, so neighbours in
    # the corpus share contexts.
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    out = []
    for first in rng.choices(range(len(vocab)), weights, k=30000):
        out += [vocab[first], vocab[first ^ 1]]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "text8"), "w") as f:
        f.write(" " + " ".join(out))


def write_word2vec_eval(rng, folder, vocab):
    frequent = vocab[:200]
    sections = ["capital-common-countries", "family", "gram1-adjective-to-adverb", "gram8-plural"]
    lines = []
    for section in sections:
        lines.append(": " + section)
        for _ in range(25):
            a, b, c, d = rng.sample(frequent, 4)
            lines.append(" ".join((a, b, c, d)))
        lines.append("absentword another missing word")  # not in the vocabulary: not "seen"
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "questions-words.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(folder, "wordsim353.tsv"), "w") as f:
        f.write("# Word 1\tWord 2\tHuman (mean)\n")
        for _ in range(30):
            a, b = rng.sample(frequent, 2)
            f.write("%s\t%s\t%.2f\n" % (a, b, rng.uniform(0, 10)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", help="destination folder")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    text8_vocab = words_of(600, "t")
    write_ptb(rng, os.path.join(args.dir, "ptb"))
    write_mnist(rng, os.path.join(args.dir, "mnist"))
    write_text8(rng, os.path.join(args.dir, "text8"), text8_vocab)
    write_word2vec_eval(rng, os.path.join(args.dir, "word2vec-eval"), text8_vocab)


if __name__ == "__main__":
    main()
