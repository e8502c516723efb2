#!/usr/bin/env bash
# Builds libcurnn for sm_90 here and packs what a lent GPU machine needs into .carry/ (ignored
# by git, under the device tool's 64 MiB): build.tar.gz with the executables the GPU run uses
# (the *_cuda_test binaries, the CUDA benchmarks, ptb_train_bench and w2v_gpu_quality, the apps;
# CI runs the CPU tests), libcurnn as one shared library (so the executables stay small) and the
# shared libraries that machine lacks (Google Benchmark); COMMIT and BUILD_INFO (compiler,
# options, date) for the run's summary; and the datasets (.carry/data, laid out like
# shared/data, for --apps and the bench stage's word2vec run). Built without OpenBLAS
# (-DCURNN_USE_BLAS=OFF: its 36 MB would not fit beside the data); the CPU references in the
# GPU tests then use their plain loops.
# The CUDA libraries (cudart, cuBLAS, cuRAND) come from the GPU machine's own CUDA 13 install.
# At the end it checks the bundle with `scripts/device-check.sh --dry-run` (which unpacks a copy
# of .carry/build.tar.gz): missing libraries, a broken stage or a misspelt filter show here, not
# in the device time. DEVICE_BUNDLE_CHECK=0 skips that check.
#   scripts/device-bundle.sh            then: device run with carry [".carry"] and
#                                        command "bash scripts/device-check.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
launchers=()
command -v ccache > /dev/null &&
  launchers=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
options=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DBUILD_SHARED_LIBS=ON
  -DCURNN_USE_BLAS=OFF)
cmake -S . -B build-device -G Ninja "${options[@]}" "${launchers[@]}" >/dev/null
cmake --build build-device -j"${JOBS:-2}"
rm -rf .carry && mkdir -p .carry/bin .carry/lib
for exe in build-device/bin/*; do
  case $(basename "$exe") in
    *_cuda_test | *_cuda_bench | ptb_train_bench | w2v_gpu_quality | curnn-*) cp "$exe" .carry/bin/ ;;
  esac
done
cp -L build-device/libcurnn.so* .carry/lib/
# Non-CUDA shared libraries the executables load, except glibc/libstdc++ which the GPU machine has.
for exe in .carry/bin/*; do
  ldd "$exe" | awk '/=> \//{print $3}'
done | sort -u | grep -E 'libbenchmark|libgomp' |
  while read -r lib; do cp -L "$lib" .carry/lib/; done
data=${CURNN_DATA_DIR:-../shared/data}
if [ -d "$data" ]; then
  mkdir -p .carry/data
  for d in ptb mnist word2vec-eval text8-substitute; do
    [ -d "$data/$d" ] && cp -rL "$data/$d" .carry/data/
  done
fi
# The executables and libraries travel stripped and packed (28 + 8 MB -> about 8 MB), beside the
# data (44 MB, compressed already); scripts/device-check.sh unpacks them.
strip --strip-unneeded .carry/bin/* .carry/lib/*
tar -C .carry -czf .carry/build.tar.gz bin lib
rm -rf .carry/bin .carry/lib
git rev-parse HEAD > .carry/COMMIT
git status --porcelain | grep -q . && echo "dirty" >> .carry/COMMIT || true
{
  echo "$(nvcc --version | grep -o "release [0-9.]*, V[0-9.]*") on $(hostname), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cmake ${options[*]}"
} > .carry/BUILD_INFO
size=$(du -sbL .carry | cut -f1)
echo "device-bundle: .carry holds $((size / 1048576)) MiB"
if ((size > 64 * 1048576)); then
  echo "device-bundle: error: more than the 64 MiB the device tool carries" >&2
  exit 1
fi
if [[ ${DEVICE_BUNDLE_CHECK:-1} != 0 ]]; then
  echo "device-bundle: checking the bundle: scripts/device-check.sh --dry-run"
  bash scripts/device-check.sh --dry-run --out build-device/dry-run > build-device/dry-run.log 2>&1 ||
    { tail -40 build-device/dry-run.log; echo "device-bundle: error: the dry run of the bundle failed" \
      "(build-device/dry-run.log, build-device/dry-run/summary.md)" >&2; exit 1; }
  grep -E "^  sum|finished in" build-device/dry-run.log
fi
