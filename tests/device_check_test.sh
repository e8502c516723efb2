#!/usr/bin/env bash
# Tests of scripts/device-check.sh on a machine without a GPU (ctest: device_check.*), so that a
# broken stage is found here and not in a lent GPU's 15 minutes.
#   tests/device_check_test.sh CASE BUILD_DIR
# CASE:
#   dry_run          --dry-run exits 0; prints the stage plan, budgets summing to at most 540 s;
#                    $OUT holds summary.md and device-check.tar.gz only (the device tool's rules);
#                    with CUDA binaries, every *_cuda_test is in the summary and its tests failed
#                    for the missing device (CURNN_REQUIRE_GPU=1), none skipped.
#   sanitizer_unavailable  a compute-sanitizer that refuses the device: "sanitizer unavailable"
#                    once, no sanitizer job, exit 0.
#   sanitizer_timeout_and_errors  one binary's sanitizer job hangs, another's finds errors: the
#                    first is a "timeout" (not a failure), the second fails the run (exit 1).
#   cut_off          a run killed after its first stage still leaves summary.md (saying which
#                    stages did not run) and the tarball in $OUT.
#   budget_spent     a total budget too small for the tests: they are "not started", not passed.
#   no_gpu           a real run without a GPU: exit 2, summary.md says so.
#   report_gpu_run   scripts/device_check_report.py on the logs of made-up GPU runs (what a dry
#                    run cannot show): a failed test named with its message, a crash named with
#                    its test, a timeout "incomplete" (exit 3) and not a failure, a sanitizer
#                    timeout not a failure, a benchmark error a failure, all passing "PASSED".
#   bad_arguments    an unknown option or stage: exit 2 and a message naming it.
# Cases that need CUDA test binaries exit 77 (skipped) in a CPU-only build.
set -uo pipefail
case_name=${1:?usage: device_check_test.sh CASE BUILD_DIR}
build=$(cd "${2:?usage: device_check_test.sh CASE BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=support/script_test.sh
source "$repo/tests/support/script_test.sh"
check() {  # check EXPECTED_RC ARGS...: runs the dry run, output in $tmp/log, results in $tmp/out
  local want=$1; shift
  bash "$repo/scripts/device-check.sh" "$@" > "$tmp/log" 2>&1
  local rc=$?
  ((rc == want)) || { cat "$tmp/log" >&2; fail "device-check.sh $* exited $rc, expected $want"; }
}
cuda_binaries() { ls "$build"/bin/*_cuda_test 2> /dev/null; }
need_cuda() {
  [[ -n $(cuda_binaries) ]] || { echo "no CUDA test binaries in $build: skipped"; exit 77; }
}
tarred() {  # tarred NAME: the results' tarball holds NAME
  tar -tzf "$tmp/out/device-check.tar.gz" > "$tmp/tarred" && grep -qx "$1" "$tmp/tarred"
}
dry=(--dry-run --build-dir "$build" --out "$tmp/out")

case $case_name in
  dry_run)
    check 0 "${dry[@]}"
    expect_in "$tmp/log" "stage plan"
    sum=$(awk '$1 == "sum" { print $2 }' "$tmp/log")
    [[ -n $sum ]] && ((sum <= 540)) || fail "the plan's budgets sum to '$sum' s, not at most 540"
    for s in env tests smoke sanitizers bench baseline; do
      grep -qE "^  $s +[0-9]+ s" "$tmp/log" || fail "stage $s missing from the plan"
    done
    [[ $(ls "$tmp/out" | sort | tr '\n' ' ') == "device-check.tar.gz summary.md " ]] ||
      fail "\$OUT holds $(ls "$tmp/out" | tr '\n' ' ')"
    expect_in "$tmp/out/summary.md" "# device-check: DRY RUN OK"
    tarred logs/env.txt || fail "no logs/env.txt in the tarball"
    if [[ -n $(cuda_binaries) ]]; then
      for t in $(cuda_binaries); do expect_in "$tmp/out/summary.md" "| $(basename "$t") |"; done
      expect_in "$tmp/out/summary.md" "forbids skipping GPU tests"
      grep -qE '^Total: [1-9][0-9]* CUDA tests listed, 0 passed, [1-9][0-9]* failed, 0 skipped' \
        "$tmp/out/summary.md" || fail "the dry run's CUDA tests did not all fail for lack of a device"
      expect_in "$tmp/out/summary.md" "| memcheck | "
    fi
    ;;
  sanitizer_unavailable)
    need_cuda
    DEVICE_CHECK_FAKE_SANITIZER=unsupported check 0 "${dry[@]}" --only sanitizers
    expect_in "$tmp/out/summary.md" "**sanitizer unavailable**: Error: Device not supported"
    expect_not_in "$tmp/out/summary.md" "| memcheck |"
    ;;
  sanitizer_timeout_and_errors)
    need_cuda
    hang=$(basename "$(cuda_binaries | head -1)")
    errors=$(basename "$(cuda_binaries | sed -n 2p)")
    DEVICE_CHECK_FAKE_SANITIZER="hang:$hang,errors:$errors" DEVICE_CHECK_SANITIZER_CAP=3 \
      check 1 "${dry[@]}" --only sanitizers
    grep -qE "^\| memcheck \| $hang \| timeout after [0-9]+ s \(0 of [0-9]+ tests finished, no error" \
      "$tmp/out/summary.md" || { cat "$tmp/out/summary.md"; fail "$hang's timeout not reported"; }
    grep -qE "^\| memcheck \| $errors \| ERRORS: ERROR SUMMARY: 1 error" "$tmp/out/summary.md" ||
      { cat "$tmp/out/summary.md"; fail "$errors's errors not reported"; }
    expect_in "$tmp/out/summary.md" "memcheck found errors in $errors"
    expect_in "$tmp/out/summary.md" "Invalid __global__ write of size 4 bytes (fake)"
    expect_not_in <(head -1 "$tmp/out/summary.md") "$hang"
    ;;
  cut_off)
    # The run in its own process group, killed (as the device tool's limit would) once the first
    # stage has written its summary.
    TMPDIR=$tmp setsid bash "$repo/scripts/device-check.sh" "${dry[@]}" > "$tmp/log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
      grep -q "stage env done" "$tmp/log" && break
      sleep 0.1
    done
    kill -9 -- -"$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    grep -q "stage env done" "$tmp/log" || { cat "$tmp/log"; fail "the env stage did not finish"; }
    expect_in "$tmp/out/summary.md" "Written after stage env; not run yet: tests, smoke, sanitizers"
    expect_in "$tmp/out/summary.md" "gpu: NVIDIA H200 (fake: dry run)"
    tarred logs/env.txt || fail "no tarball after the first stage"
    ;;
  budget_spent)
    need_cuda
    DEVICE_CHECK_BUDGET=16 check 1 "${dry[@]}" --only tests
    expect_in "$tmp/out/summary.md" "the stage budgets sum to 180 s, over the 16 s limit"
    for t in $(cuda_binaries); do
      grep -qE "^\| $(basename "$t") \| \| \| \| [0-9]+ \| \| not started: the budget was spent \|" \
        "$tmp/out/summary.md" || { cat "$tmp/out/summary.md"; fail "$(basename "$t") not 'not started'"; }
    done
    ;;
  no_gpu)
    if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
      echo "this machine has a GPU: skipped"; exit 77
    fi
    check 2 --build-dir "$build" --out "$tmp/out"
    expect_in "$tmp/out/summary.md" "# device-check: NO GPU"
    ;;
  report_gpu_run)
    w=$tmp/work
    mkdir -p "$w/state" "$w/logs/tests" "$w/logs/sanitizers" "$w/logs/bench"
    printf 'stage\tbudget_s\twhat\nenv\t15\t-\ntests\t150\t-\nsanitizers\t140\t-\nbench\t75\t-\n' \
      > "$w/state/plan.tsv"
    printf 'env\t15\t0\t1\ntests\t150\t1\t90\n' > "$w/state/stages.tsv"
    touch "$w/state/tests.started"
    echo "gpu: NVIDIA H200, 580.00, 143771 MiB" > "$w/logs/env.txt"
    gtest_run() {  # gtest_run NAME RC LINES...: a test binary's log, list, exit status and time
      local name=$1 rc=$2; shift 2
      printf '%s\n' "$@" > "$w/logs/tests/$name.log"
      printf '%s\n' "$@" | sed -n 's/^\[ RUN      \] //p' > "$w/logs/tests/$name.list"
      echo "$rc" > "$w/logs/tests/$name.rc"; echo "3 150" > "$w/logs/tests/$name.time"
      echo "$name" >> "$w/logs/tests/order.txt"
    }
    summary() {
      python3 "$repo/scripts/device_check_report.py" summary "$w" --out "$tmp/summary.md" --final \
        > "$tmp/verdict"
    }
    gtest_run a_cuda_test 0 "[ RUN      ] A.One" "[       OK ] A.One (5 ms)" "[ RUN      ] A.Two" \
      "[    device] NVIDIA H200 (fake), 132 SMs" "[       OK ] A.Two (7 ms)"
    summary || fail "a passing run: exit $?"
    expect_in "$tmp/verdict" "PASSED"
    expect_in "$tmp/summary.md" "Device: NVIDIA H200 (fake), 132 SMs"
    # A sanitizer timeout is not a failure; clean memcheck is reported with its summary line.
    printf 'memcheck a_cuda_test\nracecheck a_cuda_test\n' > "$w/logs/sanitizers/jobs.txt"
    mem=$w/logs/sanitizers/memcheck.a_cuda_test.log race=$w/logs/sanitizers/racecheck.a_cuda_test.log
    printf '%s\n' "[ RUN      ] A.One" "[       OK ] A.One (50 ms)" "[ RUN      ] A.Two" \
      "[       OK ] A.Two (60 ms)" "========= ERROR SUMMARY: 0 errors" > "$mem"
    echo 0 > "$mem.rc"
    printf '%s\n' "[ RUN      ] A.One" "[       OK ] A.One (50 ms)" "[ RUN      ] A.Two" > "$race"
    echo 124 > "$race.rc"
    echo "60 60" > "$race.time"
    echo '*Cuda*:-X.Y' | tee "$mem.filter" > "$race.filter"
    summary || fail "a sanitizer timeout failed the run: exit $?"
    expect_in "$tmp/summary.md" "| memcheck | a_cuda_test | ERROR SUMMARY: 0 errors (2 of 2 tests) |"
    expect_in "$tmp/summary.md" \
      "| racecheck | a_cuda_test | timeout after 60 s (1 of 2 tests finished, no error in them) |"
    # A test binary cut off by its time limit: incomplete (exit 3), its running test named.
    gtest_run d_cuda_test 124 "[ RUN      ] D.One" "[       OK ] D.One (5 ms)" "[ RUN      ] D.Two"
    summary; rc=$?
    ((rc == 3)) || fail "a timed-out test binary: exit $rc, expected 3 (incomplete)"
    expect_in "$tmp/verdict" "INCOMPLETE: d_cuda_test: timeout after 3 s in D.Two"
    # A failed test and a crash: failures (exit 1), each named; a skip is listed with its reason.
    gtest_run b_cuda_test 1 "[ RUN      ] B.One" "[       OK ] B.One (5 ms)" "[ RUN      ] B.Two" \
      "/src/tests/b_cuda_test.cpp:12: Failure" "Expected equality of these values:" "  got" \
      "    Which is: 3" \
      "[  FAILED  ] B.Two (1 ms)" "[ RUN      ] B.Three" "/src/tests/b_cuda_test.cpp:30: Skipped" \
      "needs data" "[  SKIPPED ] B.Three (0 ms)"
    gtest_run c_cuda_test 139 "[ RUN      ] C.One" "[       OK ] C.One (5 ms)" "[ RUN      ] C.Two"
    summary; rc=$?
    ((rc == 1)) || fail "a failed and a crashed test: exit $rc, expected 1"
    expect_in "$tmp/verdict" \
      "FAILED: 1 CUDA test(s) failed in b_cuda_test; c_cuda_test crashed in C.Two (killed by signal 11)"
    expect_in "$tmp/summary.md" \
      '- `B.Two` (b_cuda_test): b_cuda_test.cpp:12: Failure | Expected equality of these values: | got'
    expect_in "$tmp/summary.md" '- `B.Three` (b_cuda_test): needs data'
    expect_in "$tmp/summary.md" "Total: 9 CUDA tests listed, 5 passed, 1 failed, 1 skipped, 2 not run."
    # A benchmark that reports an error is a failure.
    echo x_cuda_bench > "$w/logs/bench/jobs.txt"
    printf '%s\n' BM_A/1 BM_A/2 > "$w/logs/bench/x_cuda_bench.list"
    echo 0 > "$w/logs/bench/x_cuda_bench.rc"
    echo '{"benchmarks": [{"name": "BM_A/1", "run_type": "iteration", "real_time": 5.0},
      {"name": "BM_A/2", "run_type": "iteration", "error_occurred": true,
       "error_message": "CUDA error: an illegal memory access"}]}' \
      > "$w/logs/bench/x_cuda_bench.json"
    printf '%s\n' "BM_A/1  5.0 us  5.0 us  1000" \
      "BM_A/2  ERROR OCCURRED: 'CUDA error: an illegal memory access'" \
      > "$w/logs/bench/x_cuda_bench.txt"
    summary
    expect_in "$tmp/summary.md" "benchmark BM_A/2: CUDA error: an illegal memory access"
    expect_in "$tmp/summary.md" "BM_A/1  5.0 us"
    # The word2vec quality table: its rows shown; cut off by its limit, the rows that finished
    # and no failure; a crash, a failure.
    printf '%s\n' "w2v_gpu_quality: wiki8-40M: 1 words" "| config | words/s |" "|---|---|" \
      "| cpu | 2.1M |" > "$w/logs/bench/w2v_gpu_quality.txt"
    echo 124 > "$w/logs/bench/w2v_gpu_quality.rc"
    summary
    expect_in "$tmp/summary.md" "| cpu | 2.1M |"
    expect_in "$tmp/summary.md" "Cut off by its time limit"
    expect_not_in "$tmp/summary.md" "w2v_gpu_quality timeout"
    echo 139 > "$w/logs/bench/w2v_gpu_quality.rc"
    summary
    expect_in "$tmp/summary.md" "w2v_gpu_quality killed by signal 11"
    # The side-by-side table: libcurnn's benchmarks over PyTorch's rows of the same run, the
    # goals judged on the best case; a workload without figures "not measured".
    echo '{"benchmarks": [
      {"name": "BM_PtbTrain/cuda_small/min_time:1.000/manual_time", "words/s": 60000},
      {"name": "BM_PtbTrainGraph/cuda_small_graph/min_time:1.000/manual_time", "words/s": 90000},
      {"name": "BM_PtbTrain/cuda_medium/min_time:1.000/manual_time", "words/s": 20000},
      {"name": "BM_PtbTrain/cuda_large/min_time:1.000/manual_time", "words/s": 100000}]}' \
      > "$w/logs/bench/ptb_train_bench.json"
    echo '{"runs": [
      {"run": "ptb-small", "settings": "fp32", "words_per_s": 30000},
      {"run": "ptb-small", "settings": "default", "words_per_s": 40000},
      {"run": "ptb-medium", "settings": "fp32", "words_per_s": 16000}]}' \
      > "$w/logs/pytorch_baseline.json"
    summary
    expect_in "$tmp/summary.md" "## Side by side with PyTorch + cuDNN"
    expect_in "$tmp/summary.md" \
      "| ptb-small | per step, graph | 90,000 words/s | 30,000 | 3.00x | 40,000 | 2.25x |"
    expect_in "$tmp/summary.md" "- ptb-small: best 3.00x PyTorch FP32, goal 2x: met"
    expect_in "$tmp/summary.md" "- ptb-medium: best 1.25x PyTorch FP32, goal 1.5x: NOT met"
    expect_in "$tmp/summary.md" "- ptb-large: 55 epochs would take 8.5 min at 100,000 words/s"
    expect_in "$tmp/summary.md" "- bilstm: goal 2x PyTorch FP32: not measured"
    ;;
  bad_arguments)
    check 2 --bogus
    expect_in "$tmp/log" "unknown argument '--bogus'"
    check 2 --dry-run --only tests,sanitiser
    expect_in "$tmp/log" "--only: unknown stage 'sanitiser'"
    check 2 --build-dir "$tmp/nowhere"
    expect_in "$tmp/log" "no bin/ folder"
    ;;
  *) fail "unknown case $case_name" ;;
esac
echo "PASS: $case_name"
