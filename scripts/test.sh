#!/usr/bin/env bash
# The whole test suite, from a clean clone on a fresh machine:
#   1. installs missing packages (scripts/setup.sh);
#   2. builds everything, CUDA code included when nvcc is present (a compile check for sm_90),
#      and runs all tests with ctest (GPU tests skip with "no CUDA device" on a machine without one);
#   3. builds and tests again with -DCURNN_CUDA=OFF (the CPU-only configuration);
#   4. installs the library and builds examples/find_package against it with find_package(curnn);
#   5. installs the Python package with pip into a virtual environment and runs its example.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-$(nproc)}
export PATH="$PATH:/usr/local/cuda/bin"

bash scripts/setup.sh

step() { printf '\n==== %s\n' "$*"; }

step "build (CUDA=AUTO) in build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
step "ctest (CUDA=AUTO)"
(cd build && ctest --output-on-failure -j"$jobs")

step "build and test with -DCURNN_CUDA=OFF in build-nocuda/"
cmake -S . -B build-nocuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DCURNN_CUDA=OFF -DCURNN_BUILD_BENCH=OFF
cmake --build build-nocuda -j"$jobs"
(cd build-nocuda && ctest --output-on-failure -j"$jobs")

step "install, then build examples/find_package against the installed package"
rm -rf build-install build-example
cmake --install build --prefix "$root/build-install" >/dev/null
cmake -S examples/find_package -B build-example -G Ninja -DCMAKE_PREFIX_PATH="$root/build-install"
cmake --build build-example -j"$jobs"
./build-example/curnn_example

step "Python package: pip install . into a virtual environment, then the README's example"
# Debian's python with its site packages (python3-torch). setup.py builds libcurnn_c.so through
# CMake; CURNN_BUILD_DIR points it at build-nocuda/ (already built: no second compile in CI).
rm -rf build-venv build-python
/usr/bin/python3 -m venv --system-site-packages build-venv
CURNN_BUILD_DIR="$root/build-nocuda" build-venv/bin/pip install --no-build-isolation --quiet .
cd /tmp  # the installed package, not python/ of the checkout
"$root/build-venv/bin/python" -c 'import curnn; print("curnn", curnn.__version__, curnn.__file__)' |
  grep "$root/build-venv/"
"$root/build-venv/bin/python" "$root/examples/python/quickstart.py"
cd "$root"

step "all tests passed"
