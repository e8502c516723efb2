"""Runs one module of the Python package's suite (ctest: python.<module>). Exits 77 (ctest's
SKIP_RETURN_CODE) with a reason when this interpreter has no PyTorch."""

import importlib
import sys
import unittest
from pathlib import Path


def main(module):
    try:
        importlib.import_module("torch")
    except ImportError:
        print(f"SKIPPED: {sys.executable} has no PyTorch (configure with -DCURNN_PYTHON=... "
              "naming one that has)")
        return 77
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    suite = unittest.defaultTestLoader.loadTestsFromName(module)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":  # not when multiprocessing's spawn re-imports this main module
    sys.exit(main(sys.argv[1]))
