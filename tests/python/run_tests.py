"""Runs one module of the Python package's suite (ctest: python.<module>). Exits 77 (ctest's
SKIP_RETURN_CODE) with a reason when this interpreter has no PyTorch."""

import sys
import unittest
from pathlib import Path

try:
    import torch  # noqa: F401
except ImportError:
    print(f"SKIPPED: {sys.executable} has no PyTorch (set -DCURNN_PYTHON=... to one that has)")
    sys.exit(77)

sys.path.insert(0, str(Path(__file__).resolve().parent))
suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1])
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
