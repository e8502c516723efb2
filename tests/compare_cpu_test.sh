#!/usr/bin/env bash
# bench/compare_cpu.sh's refusals (a benchmark, so ctest checks only that bad input is refused in
# one line with exit 2 before anything runs; its figures are in bench/RESULTS.md).
#   tests/compare_cpu_test.sh BUILD_DIR
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: compare_cpu_test.sh BUILD_DIR}
failures=0
expect_refusal() {  # expect_refusal MESSAGE_PATTERN ARGS...
  local pattern=$1 out rc
  shift
  out=$(bash "$repo/bench/compare_cpu.sh" "$@" 2>&1)
  rc=$?
  if ((rc != 2)) || [[ $(wc -l <<<"$out") -ne 1 ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAILED: compare_cpu.sh $* -> exit $rc, output:"
    echo "$out"
    failures=$((failures + 1))
  else
    echo "ok: compare_cpu.sh $* -> $out"
  fi
}
expect_refusal "--rounds 0: expected a positive integer" --build-dir "$build" --rounds 0
expect_refusal "--threads 1x: expected a positive integer" --build-dir "$build" --threads "1 1x"
expect_refusal "--ptb-steps -3: expected a positive integer" --ptb-steps -3
expect_refusal "unknown argument '--frobnicate'" --frobnicate
expect_refusal "/no/such/build/bin/curnn-ptb not found" --build-dir /no/such/build
expect_refusal "--word2vec-c /no/such/word2vec: not an executable" --build-dir "$build" \
  --word2vec-c /no/such/word2vec
expect_refusal "cannot import torch" --build-dir "$build" --python /bin/false
exit $((failures > 0))
