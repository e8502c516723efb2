#!/usr/bin/env bash
# Installs what libcurnn needs to build and test on a fresh Debian/Ubuntu machine (as root, or
# with sudo). The CUDA Toolkit itself is not installed here: without nvcc the CPU side builds.
set -euo pipefail
# python3-torch, -venv, -pip, -setuptools, -wheel: the Python package (python/curnn) and its tests;
# it loads libcurnn_c.so with ctypes and needs no libtorch-dev.
pkgs=(cmake ninja-build g++ googletest libgtest-dev libbenchmark-dev libopenblas-dev zlib1g-dev
      libcli11-dev nlohmann-json3-dev python3 python3-matplotlib python3-sklearn
      python3-torch python3-venv python3-pip python3-setuptools python3-wheel python3-gensim
      clang-14 libfuzzer-14-dev)  # clang + libFuzzer: scripts/test.sh's fuzzing stage
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: CUDA compiler: $( (command -v nvcc || echo /usr/local/cuda/bin/nvcc) )"
else
  echo "setup: no nvcc found: the CUDA backend will not be built (CPU only)"
fi
