#!/usr/bin/env bash
# CURNN_REQUIRE_GPU=1 turns a GPU test that finds no device into a failure, so that skips cannot
# pass for a verified GPU run (scripts/device-check.sh sets it). ctest: require_gpu.*
#   tests/require_gpu_test.sh BIN_DIR
# Runs every BIN_DIR/*_cuda_test with --gtest_filter=*Cuda* (the tests `ctest -R Cuda` runs):
# - where no device is visible (a plain run skips with "no CUDA device"): the plain run exits 0
#   with no test failed; with CURNN_REQUIRE_GPU=1 every binary exits non-zero, no test is
#   skipped, and every test the plain run skipped fails with a message that names
#   CURNN_REQUIRE_GPU and the CUDA runtime's reason;
# - where a device is visible: with CURNN_REQUIRE_GPU=1 the first test of each binary neither
#   fails for CURNN_REQUIRE_GPU nor skips for a missing device (the rest is for the CUDA tests).
set -uo pipefail
bin=${1:?usage: require_gpu_test.sh BIN_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=support/script_test.sh
source "$(dirname "$0")/support/script_test.sh"
filter='*Cuda*'
binaries=("$bin"/*_cuda_test)
[[ -x ${binaries[0]} ]] || fail "no *_cuda_test binaries in $bin"
list() {  # list BINARY FILTER: its tests, one Suite.Test a line
  "$1" --gtest_list_tests --gtest_filter="$2" |
    awk '/^[^ ]/ { s = $1; next } /^  [^ ]/ { print s $1 }'
}

first=$(list "${binaries[0]}" "$filter" | head -1)
[[ -n $first ]] || fail "$(basename "${binaries[0]}") lists no $filter test"
env -u CURNN_REQUIRE_GPU "${binaries[0]}" --gtest_filter="$first" > "$tmp/probe" 2>&1
if grep -q "no CUDA device" "$tmp/probe"; then
  echo "no CUDA device visible: CURNN_REQUIRE_GPU=1 must turn every skip into a failure"
  for t in "${binaries[@]}"; do
    name=$(basename "$t")
    env -u CURNN_REQUIRE_GPU "$t" --gtest_filter="$filter" > "$tmp/$name.plain" 2>&1 ||
      { cat "$tmp/$name.plain" >&2; fail "$name fails without CURNN_REQUIRE_GPU"; }
    skipped=$(grep -c '^\[  SKIPPED \] .* ([0-9]* ms)$' "$tmp/$name.plain")
    ((skipped > 0)) || fail "$name skipped no test without a device (tests that need none?)"
    CURNN_REQUIRE_GPU=1 "$t" --gtest_filter="$filter" > "$tmp/$name.req" 2>&1 &&
      { cat "$tmp/$name.req" >&2; fail "$name passes with CURNN_REQUIRE_GPU=1 and no device"; }
    grep -q '^\[  SKIPPED \]' "$tmp/$name.req" &&
      { grep '^\[  SKIPPED \]' "$tmp/$name.req" >&2; fail "$name skips with CURNN_REQUIRE_GPU=1"; }
    failed=$(grep -c '^\[  FAILED  \] .* ([0-9]* ms)$' "$tmp/$name.req")
    ((failed == skipped)) ||
      fail "$name: $skipped tests skipped without CURNN_REQUIRE_GPU, but $failed failed with it"
    msgs=$(grep -c 'no CUDA device (cuda.*), and CURNN_REQUIRE_GPU=1 forbids skipping GPU tests' \
      "$tmp/$name.req")
    ((msgs == failed)) || { cat "$tmp/$name.req" >&2
      fail "$name: $failed tests failed, $msgs with the message naming CURNN_REQUIRE_GPU and why"; }
    echo "  $name: $skipped skipped without, $failed failed with CURNN_REQUIRE_GPU=1"
  done
else
  echo "a CUDA device is visible: CURNN_REQUIRE_GPU=1 must not fail the GPU tests for it"
  for t in "${binaries[@]}"; do
    name=$(basename "$t")
    first=$(list "$t" "$filter" | head -1)
    [[ -n $first ]] || continue
    CURNN_REQUIRE_GPU=1 "$t" --gtest_filter="$first" > "$tmp/$name.req" 2>&1
    grep -q 'CURNN_REQUIRE_GPU' "$tmp/$name.req" &&
      { cat "$tmp/$name.req" >&2; fail "$name: $first fails for CURNN_REQUIRE_GPU with a device"; }
    grep -q 'no CUDA device' "$tmp/$name.req" &&
      { cat "$tmp/$name.req" >&2; fail "$name: $first finds no device although one is visible"; }
    echo "  $name: $first ran on the device"
  done
fi
echo "PASS"
