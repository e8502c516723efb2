#!/usr/bin/env bash
# Builds libcurnn for sm_90 here and packs what a lent GPU machine needs into .carry/ (ignored
# by git, under the device tool's 64 MiB): the executables, libcurnn as one shared library (so
# the executables stay small), the shared libraries that machine lacks (Google Benchmark,
# OpenBLAS and its Fortran runtime), and the datasets (.carry/data, laid out like shared/data).
# The CUDA libraries (cudart, cuBLAS, cuRAND) come from the GPU machine's own CUDA 13 install.
#   scripts/device-bundle.sh            then: device run with carry [".carry"] and
#                                        command "bash scripts/device-check.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DBUILD_SHARED_LIBS=ON >/dev/null
cmake --build build-device -j"${JOBS:-2}"
rm -rf .carry && mkdir -p .carry/bin .carry/lib
cp build-device/bin/* .carry/bin/
cp -L build-device/libcurnn.so* .carry/lib/
# Non-CUDA shared libraries the executables load, except glibc/libstdc++ which the GPU machine has.
for exe in .carry/bin/*; do
  ldd "$exe" | awk '/=> \//{print $3}'
done | sort -u | grep -E 'libbenchmark|openblas|libgfortran|libquadmath|libgomp' |
  while read -r lib; do cp -L "$lib" .carry/lib/; done
data=${CURNN_DATA_DIR:-../shared/data}
if [ -d "$data" ]; then
  mkdir -p .carry/data
  for d in ptb mnist word2vec-eval text8-substitute; do
    [ -d "$data/$d" ] && cp -rL "$data/$d" .carry/data/
  done
fi
git rev-parse HEAD > .carry/COMMIT
git status --porcelain | grep -q . && echo "dirty" >> .carry/COMMIT || true
du -sh .carry
