#!/usr/bin/env bash
# Builds libcurnn for sm_90 here and packs what a lent GPU machine needs into .carry/ (ignored
# by git, under the device tool's 64 MiB): build.tar.gz with the executables, libcurnn as one
# shared library (so the executables stay small) and the shared libraries that machine lacks
# (Google Benchmark); and the datasets (.carry/data, laid out like shared/data). Built without OpenBLAS
# (-DCURNN_USE_BLAS=OFF: its 36 MB would not fit beside the data); the CPU references in the
# GPU tests then use their plain loops.
# The CUDA libraries (cudart, cuBLAS, cuRAND) come from the GPU machine's own CUDA 13 install.
#   scripts/device-bundle.sh            then: device run with carry [".carry"] and
#                                        command "bash scripts/device-check.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DBUILD_SHARED_LIBS=ON -DCURNN_USE_BLAS=OFF >/dev/null
cmake --build build-device -j"${JOBS:-2}"
rm -rf .carry && mkdir -p .carry/bin .carry/lib
cp build-device/bin/* .carry/bin/
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
size=$(du -sbL .carry | cut -f1)
echo "device-bundle: .carry holds $((size / 1048576)) MiB"
if ((size > 64 * 1048576)); then
  echo "device-bundle: error: more than the 64 MiB the device tool carries" >&2
  exit 1
fi
