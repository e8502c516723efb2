#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses, fuzz/corpus/<harness>/: a few tiny valid and
nearly valid inputs each (the fuzzer grows its own corpus from them in a scratch folder).

    python3 fuzz/make_seeds.py
"""
import gzip
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def seed(harness, name, data):
    folder = os.path.join(ROOT, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def checkpoint(meta, floats):
    meta = meta.encode("utf-8")
    values = struct.pack(f"<{len(floats)}f", *floats)
    crc = zlib.crc32(values, zlib.crc32(meta))
    return (b"CURNNCK1" + struct.pack("<Q", len(meta)) + meta + struct.pack("<Q", len(floats)) +
            values + struct.pack("<I", crc))


def main():
    images = struct.pack(">IIII", 2051, 2, 3, 3) + bytes(range(0, 180, 10))
    seed("fuzz_idx", "images", images)
    seed("fuzz_idx", "images.gz", gzip.compress(images, mtime=0))
    seed("fuzz_idx", "labels", struct.pack(">II", 2049, 4) + bytes([0, 9, 3, 7]))
    seed("fuzz_idx", "truncated", struct.pack(">III", 2051, 1000, 28))

    seed("fuzz_ptb", "splits", " the cat sat \n on the mat \n\0 the mat \n\0 the cat \n")
    seed("fuzz_ptb", "splits.gz", gzip.compress(b" a b \n b a \n\0 a \n\0 b \n", mtime=0))
    seed("fuzz_ptb", "glued", "a\nb c\t<eos>\r\n\0a\0b")

    seed("fuzz_w2v_corpus", "lines", "the cat sat\non the mat\r\nthe end\n")
    seed("fuzz_w2v_corpus", "lines.gz", gzip.compress(b"a b a b\nc a\n", mtime=0))
    seed("fuzz_w2v_corpus", "long-word", "x" * 97 + "\xe4\xb8\xad yz caf\xc3\xa9 \xff\xfe\n")

    seed("fuzz_vocab", "saved", "</s> 3\nthe 5\ncat 2\nsat 2\n")
    seed("fuzz_vocab", "tabs-crlf", "the\t5\r\n\ncat 9\nx 0\n")
    seed("fuzz_vocab", "big-counts", "a 9223372036854775807\nb 1\n")

    seed("fuzz_vectors", "text", "2 3\na 1 2 3\nb 0.5 -1 2e-3\n")
    seed("fuzz_vectors", "binary", b"2 2\na " + struct.pack("<2f", 1.0, -2.0) + b"\nb " +
         struct.pack("<2f", 0.25, 3.0) + b"\n")
    seed("fuzz_vectors", "huge-header", "4000000000 4000000000\na 1\n")

    seed("fuzz_analogy", "sections", ": capital\nathens greece berlin germany\n"
         "man woman king queen\n: gram\na b c d\n\nMAN Woman king QUEEN\n")
    seed("fuzz_analogy", "no-sections", "a b c d\nb a d c\n")

    seed("fuzz_wordsim", "pairs", "# word1 word2 score\ntiger\tcat\t7.35\ncar\tmoney\t1.2\n"
         "cash money 9\n")
    seed("fuzz_wordsim", "one-pair", "tiger cat 1\n")

    seed("fuzz_checkpoint", "file", b"\x00" + checkpoint(
        '{"format":"curnn-ptb-lm","epochs_done":1,"vocab":["a","caf\\\\xe9","x\\\\\\\\y"]}',
        [1.0, 2.0, -3.5]))
    seed("fuzz_checkpoint", "meta", '\x01{"config":{"hidden_size":8},"vocab":["<eos>","a\\\\xff"]}')
    seed("fuzz_checkpoint", "meta-nested", "\x01" + "[" * 70 + "]" * 70)

    seed("fuzz_tutorial", "text8", "anarchism originated as a term of abuse first used against")
    seed("fuzz_tutorial", "unicode-spaces", "a\xc2\xa0b\xe3\x80\x80c\x1cd\xe2\x80\xa8e a b")

    seed("fuzz_text", "mixed", b"caf\xe9 a\\b \\x41 \xc3\xa9 \xed\xa0\x80 \xf4\x90\x80\x80")
    seed("fuzz_text", "escaped", "caf\\xe9 a\\\\b")


if __name__ == "__main__":
    main()
