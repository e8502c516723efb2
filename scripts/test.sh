#!/usr/bin/env bash
# The whole test suite, from a clean clone on a fresh machine:
#   1. installs missing packages (scripts/setup.sh);
#   2. builds everything, CUDA code included when nvcc is present (a compile check for sm_90),
#      and runs all tests with ctest (GPU tests skip with "no CUDA device" on a machine without one);
#   3. builds and tests again with -DCURNN_CUDA=OFF (the CPU-only configuration) under
#      AddressSanitizer + UndefinedBehaviorSanitizer (-DCURNN_SANITIZE=ON, build-asan/): any memory
#      error, leak or undefined behaviour fails the test that hits it;
#   4. fuzzing: the libFuzzer harness of every reader (fuzz/), built with clang and ASan + UBSan
#      (-DCURNN_FUZZ=ON, build-fuzz/), first on the seeds and the recorded crash inputs (ctest),
#      then each for FUZZ_SECONDS (default 20) s, one per core at a time, printing executions and
#      coverage per harness (scripts/fuzz.sh);
#   5. installs the library and builds examples/find_package against it with find_package(curnn);
#   6. installs the Python package with pip into a virtual environment and runs its example.
# Each stage prints its wall time. JOBS=N sets the build parallelism (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-$(nproc)}
export PATH="$PATH:/usr/local/cuda/bin"

bash scripts/setup.sh

stage_start=$SECONDS
step() {
  printf '\n==== %s\n' "$*"
  echo "(previous stage: $((SECONDS - stage_start)) s; total so far: ${SECONDS} s)"
  stage_start=$SECONDS
}

step "build (CUDA=AUTO) in build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
step "ctest (CUDA=AUTO)"
(cd build && ctest --output-on-failure -j"$jobs")

step "build and test with -DCURNN_CUDA=OFF under ASan + UBSan in build-asan/"
# Not run sanitized (their code runs in the CUDA=AUTO stage above; under the sanitizers they
# would take most of this script's time budget): reproduce.* (the whole main job, python and
# plots included, twice per case) and the PTB app's end-to-end runs on the real dataset
# (PtbApp.RealPtb*, skipped without the data anyway); python.* loads libcurnn_c.so into an
# uninstrumented python, which ASan refuses (its Python package runs in the stage above).
# check_record.all_records and .written rerun whole records' commands to compare their figures
# (a determinism check, made in the plain build; the apps' code runs sanitized in their own tests).
asan_excluded='^reproduce\.|^PtbApp\.RealPtb|^python\.|^check_record\.(all_records|written)$'
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DCURNN_CUDA=OFF -DCURNN_SANITIZE=ON \
  -DCURNN_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$jobs" -E "$asan_excluded")

step "fuzzing: every reader's libFuzzer harness (clang, ASan + UBSan) in build-fuzz/"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCURNN_FUZZ=ON -DCURNN_CUDA=OFF -DCURNN_USE_BLAS=OFF -DCURNN_BUILD_TESTS=OFF \
  -DCURNN_BUILD_APPS=OFF -DCURNN_BUILD_BENCH=OFF
cmake --build build-fuzz -j"$jobs"
(cd build-fuzz && ctest --output-on-failure -j"$jobs")  # the seeds and the recorded crash inputs
bash scripts/fuzz.sh build-fuzz "${FUZZ_SECONDS:-20}"

step "install, then build examples/find_package against the installed package"
rm -rf build-install build-example
cmake --install build --prefix "$root/build-install" >/dev/null
cmake -S examples/find_package -B build-example -G Ninja -DCMAKE_PREFIX_PATH="$root/build-install"
cmake --build build-example -j"$jobs"
./build-example/curnn_example

step "Python package: pip install . into a virtual environment, then the README's example"
# Debian's python with its site packages (python3-torch). setup.py builds libcurnn_c.so through
# CMake; CURNN_BUILD_DIR points it at build/ (already built: no second compile in CI; the
# sanitized build-asan/ cannot be loaded into an uninstrumented python).
rm -rf build-venv build-python
/usr/bin/python3 -m venv --system-site-packages build-venv
CURNN_BUILD_DIR="$root/build" build-venv/bin/pip install --no-build-isolation --quiet .
cd /tmp  # the installed package, not python/ of the checkout
"$root/build-venv/bin/python" -c 'import curnn; print("curnn", curnn.__version__, curnn.__file__)' |
  grep "$root/build-venv/"
"$root/build-venv/bin/python" "$root/examples/python/quickstart.py"
cd "$root"

step "all tests passed (${SECONDS} s in all)"
