#!/usr/bin/env python3
"""Interoperability of curnn's word2vec vector files with gensim (optional; skips without gensim).

  python3 tests/w2v_gensim_compat.py [path/to/w2v_vectors_test]

1. runs the VectorsCompat.GensimFiles test case, which writes curnn.txt and curnn.bin;
2. loads both with gensim's KeyedVectors.load_word2vec_format and checks words and values;
3. saves them with gensim's save_word2vec_format (gensim.txt, gensim.bin: no trailing space or
   newline, str() values) and runs the test case again, which reads them back with curnn.
Exit status 0 on success, 1 on failure, 77 when gensim is missing (ctest's SKIP_RETURN_CODE:
tests/CMakeLists.txt registers this as the test w2v_gensim_compat, run with a python that has
gensim when one is found, e.g. Debian's python3-gensim in /usr/bin/python3).
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from gensim.models import KeyedVectors
except ImportError:
    print("SKIP: gensim is not installed for %s (apt-get install python3-gensim, or pip install "
          "gensim)" % sys.executable)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TEST = os.path.join(HERE, "..", "build", "bin", "w2v_vectors_test")

WORDS = ["</s>", "the", "caf\u00e9", "L" * 99, "x"]
DIM = 7
EXPECTED = (np.arange(len(WORDS) * DIM, dtype=np.float32) * 0.25 - 3.0).reshape(len(WORDS), DIM)


def run_case(test_binary, directory):
    env = dict(os.environ, CURNN_W2V_COMPAT_DIR=directory)
    result = subprocess.run([test_binary, "--gtest_filter=VectorsCompat.GensimFiles"], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0 or "[  PASSED  ] 1 test" not in result.stdout:
        print(result.stdout + result.stderr)
        raise SystemExit("FAIL: %s VectorsCompat.GensimFiles" % test_binary)


def check(kv, name):
    if list(kv.index_to_key) != WORDS:
        raise SystemExit("FAIL: %s words %r" % (name, kv.index_to_key[:5]))
    if not np.array_equal(kv.vectors, EXPECTED):
        raise SystemExit("FAIL: %s values differ" % name)
    print("ok: gensim loads", name)


def main():
    test_binary = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TEST
    if not os.path.exists(test_binary):
        raise SystemExit("FAIL: no test binary %s (build w2v_vectors_test)" % test_binary)
    with tempfile.TemporaryDirectory() as directory:
        run_case(test_binary, directory)
        for name, binary in (("curnn.txt", False), ("curnn.bin", True)):
            kv = KeyedVectors.load_word2vec_format(os.path.join(directory, name), binary=binary)
            check(kv, name)
        kv.save_word2vec_format(os.path.join(directory, "gensim.txt"), binary=False)
        kv.save_word2vec_format(os.path.join(directory, "gensim.bin"), binary=True)
        run_case(test_binary, directory)
        print("ok: curnn reads gensim.txt and gensim.bin")


if __name__ == "__main__":
    main()
