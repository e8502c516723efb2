#!/usr/bin/env bash
# Runs every libFuzzer harness of a -DCURNN_FUZZ=ON build (fuzz/) for a bounded time and prints,
# per harness, the executions, the speed and the coverage libFuzzer reached.
#   scripts/fuzz.sh BUILD_DIR [SECONDS_PER_HARNESS (default 20)]
# Each harness starts from its seeds, fuzz/corpus/<harness>/ (read only), and grows a scratch
# corpus in BUILD_DIR/fuzz-corpus/<harness>/ (kept, so a later run continues from it). A crash, a
# sanitizer report, an input taking over 10 s or 2 GB of memory stops that harness; the input is
# saved as BUILD_DIR/fuzz-crashes/<harness>-crash-<sha1> (or -timeout-, -oom-) and the script
# exits 1 after the table. Fix the reader, then copy the input to fuzz/regressions/<harness>/:
# ctest's fuzz.<harness> runs it in every build from then on. The logs: BUILD_DIR/fuzz-logs/.
set -euo pipefail
build=$(cd "${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS_PER_HARNESS]}" && pwd)
seconds=${2:-20}
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/fuzz-corpus" "$build/fuzz-crashes" "$build/fuzz-logs"
shopt -s nullglob
harnesses=("$build"/bin/fuzz_*)
((${#harnesses[@]})) || { echo "fuzz.sh: no fuzz_* executables in $build/bin (configure with -DCURNN_FUZZ=ON)" >&2; exit 2; }

# The harnesses run FUZZ_JOBS at a time (default: all cores), each single-threaded for SECONDS.
jobs=${FUZZ_JOBS:-$(nproc)}
run_harness() {
  local exe=$1 name corpus
  name=$(basename "$exe")
  corpus="$build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-crashes/$name-" "$corpus" "$repo/fuzz/corpus/$name" \
      >"$build/fuzz-logs/$name.log" 2>&1; then
    echo ok >"$build/fuzz-logs/$name.status"
  else
    echo failed >"$build/fuzz-logs/$name.status"
  fi
}
rm -f "$build"/fuzz-logs/*.status
running=0
for exe in "${harnesses[@]}"; do
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
  run_harness "$exe" &
  running=$((running + 1))
done
wait

failed=()
printf '%-18s %12s %9s %8s %9s %7s  %s\n' harness executions "exec/s" "cov" "features" corpus result
for exe in "${harnesses[@]}"; do
  name=$(basename "$exe")
  log="$build/fuzz-logs/$name.log"
  result=ok
  if [[ $(cat "$build/fuzz-logs/$name.status" 2>/dev/null) != ok ]]; then
    result="FAILED: $(grep -m1 -oE 'Test unit written to .*' "$log" || echo "see $log")"
    failed+=("$name")
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  speed=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
  corp=$(grep -oE 'corp: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
  printf '%-18s %12s %9s %8s %9s %7s  %s\n' "$name" "$runs" "$speed" "$cov" "$ft" "$corp" "$result"
done
echo "(cov: code edges covered; ft: libFuzzer's coverage features; corpus: inputs kept;"
echo " $seconds s per harness)"
if ((${#failed[@]})); then
  echo "fuzz.sh: crashes in ${failed[*]}: the inputs are in $build/fuzz-crashes/" >&2
  exit 1
fi
