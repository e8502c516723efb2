"""Builds libcurnn_c.so (CMake target curnn_c) and puts it into the curnn package; metadata in
pyproject.toml. Environment:
  CURNN_CMAKE_ARGS  extra configure arguments, e.g. "-DCURNN_CUDA=OFF" or
                    "-DCMAKE_CUDA_ARCHITECTURES=80" (default: CUDA when nvcc is found)
  CURNN_BUILD_DIR   an already configured CMake build directory to build curnn_c in (no
                    configure step; e.g. the checkout's build/)
  CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default: the CPU count)
"""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

ROOT = Path(__file__).resolve().parent
LIBRARY = "libcurnn_c.so"


def cmake_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(curnn VERSION ([0-9.]+)", text).group(1)


def run(command):
    print("setup.py:", " ".join(command), flush=True)
    subprocess.run(command, check=True)


class BuildPyWithLibrary(build_py):
    """build_py, then the C library next to the package's modules."""

    def run(self):
        super().run()
        build_dir = os.environ.get("CURNN_BUILD_DIR")
        if build_dir:
            build_dir = Path(build_dir).resolve()
        else:
            build_dir = Path(self.get_finalized_command("build").build_temp).resolve() / "cmake"
            configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir),
                         "-DCMAKE_BUILD_TYPE=Release", "-DCURNN_BUILD_TESTS=OFF",
                         "-DCURNN_BUILD_BENCH=OFF", "-DCURNN_BUILD_APPS=OFF",
                         "-DCURNN_BUILD_C_API=ON"]
            if shutil.which("ninja"):
                configure += ["-G", "Ninja"]
            run(configure + shlex.split(os.environ.get("CURNN_CMAKE_ARGS", "")))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        run(["cmake", "--build", str(build_dir), "--target", "curnn_c", "-j", jobs])
        target = Path(self.build_lib) / "curnn"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(build_dir / "lib" / LIBRARY, target / LIBRARY)


class BinaryDistribution(Distribution):
    """The wheel holds a compiled library: tag it for this platform."""

    def has_ext_modules(self):
        return True


setup(version=cmake_version(), cmdclass={"build_py": BuildPyWithLibrary},
      distclass=BinaryDistribution)
