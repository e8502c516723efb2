#!/usr/bin/env bash
# bench/compare_cpu.sh's refusals (a benchmark, so ctest checks only that bad input is refused in
# one line with exit 2 before anything runs; its figures are in bench/RESULTS.md).
#   tests/compare_cpu_test.sh BUILD_DIR
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: compare_cpu_test.sh BUILD_DIR}
# shellcheck source=support/script_test.sh
source "$repo/tests/support/script_test.sh"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
expect_refusal() {  # expect_refusal MESSAGE ARGS...
  local message=$1 rc=0
  shift
  bash "$repo/bench/compare_cpu.sh" "$@" >"$log" 2>&1 || rc=$?
  ((rc == 2)) || { cat "$log" >&2; fail "compare_cpu.sh $*: exit status $rc, expected 2"; }
  [[ $(grep -c . "$log") == 1 ]] || { cat "$log" >&2; fail "compare_cpu.sh $*: not one line"; }
  expect_in "$log" "$message"
}
expect_refusal "--rounds 0: expected a positive integer" --build-dir "$build" --rounds 0
expect_refusal "--threads 1x: expected a positive integer" --build-dir "$build" --threads "1 1x"
expect_refusal "--ptb-steps -3: expected a positive integer" --ptb-steps -3
expect_refusal "unknown argument '--frobnicate'" --frobnicate
expect_refusal "/no/such/build/bin/curnn-ptb not found" --build-dir /no/such/build
expect_refusal "--word2vec-c /no/such/word2vec: not an executable" --build-dir "$build" \
  --word2vec-c /no/such/word2vec
expect_refusal "cannot import torch" --build-dir "$build" --python /bin/false
echo "PASS: compare_cpu.bad_arguments"
