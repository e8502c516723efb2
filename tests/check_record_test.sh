#!/usr/bin/env bash
# Tests of scripts/check-record.sh on the short records committed in bench/records/ (the
# *-smoke-* ones: scripts/reproduce.sh --smoke on the tiny synthetic data of
# tests/support/make_tiny_data.py, which is a function of its seed, so it is made afresh here).
#   tests/check_record_test.sh CASE BUILD_DIR      (ctest: check_record.*)
# CASE:
#   all_records   every short record, rerun to the end (--all): PASS, exit 0.
#   first_records the PTB record's first 3 records (the default): PASS after 3, the app stopped.
#   gzipped       the PTB record gzipped (.jsonl.gz) reads and passes like the plain one.
#   altered_figure the PTB record with one figure changed in its last bit (the first epoch's
#                 valid perplexity): exit 1, FAIL naming the record and the field.
#   bad_input     a missing record, a file that is not a record, --records 0: exit 2, one line.
#   missing_data  --data-dir without the datasets: exit 3, naming the missing input.
# Exit 77 (ctest: skipped) when this machine's CPU GEMM (OpenBLAS's kernel set for this CPU)
# differs from the one the records were made with: other kernels round differently.
# When the records no longer match because a change altered the numerics on purpose, remake
# them from a clean checkout (bench/records/README.md says how) and commit them.
source "$(dirname "$0")/support/script_test.sh" "$@"
shopt -s nullglob
records=("$repo"/bench/records/*-smoke-cpu-*.jsonl)
shopt -u nullglob
((${#records[@]} >= 4)) || fail "expected the 4 short records bench/records/*-smoke-cpu-*.jsonl"
ptb_record=$(printf '%s\n' "${records[@]}" | grep '/ptb-small-smoke-cpu-')

# The records name the CPU GEMM they were made with; another OpenBLAS kernel set is a skip.
made_with=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["machine"]["cpu_gemm"])' "$ptb_record")
here=$(cd "$repo/scripts" && python3 -c 'import sys, curnn_record; print(curnn_record.cpu_gemm(sys.argv[1]))' "$build")
if [[ $made_with != "$here" ]]; then
  echo "SKIP: the records were made with CPU GEMM '$made_with'; this build uses '$here'"
  exit 77
fi

python3 "$repo/tests/support/make_tiny_data.py" "$tmp/data"
check() { bash "$repo/scripts/check-record.sh" --build-dir "$build" --data-dir "$tmp/data" "$@"; }
hint="if a change altered the numerics on purpose, remake the short records (bench/records/README.md)"

case $case_name in
  all_records)
    for record in "${records[@]}"; do
      check "$record" --all >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "$record: $hint"; }
      expect_in "$tmp/log" "PASS: "
    done
    ;;
  first_records)
    check "$ptb_record" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "$ptb_record: $hint"; }
    expect_in "$tmp/log" "comparing the first 3 records"
    grep -qE "^PASS: 3 of the record's [0-9]+ comparable records" "$tmp/log" ||
      { cat "$tmp/log" >&2; fail "not a pass after exactly 3 records"; }
    ;;
  gzipped)
    gzip -c "$ptb_record" >"$tmp/record.jsonl.gz"
    check "$tmp/record.jsonl.gz" --until epoch >"$tmp/log" 2>&1 ||
      { cat "$tmp/log" >&2; fail "the gzipped record: $hint"; }
    expect_in "$tmp/log" "PASS: 10 of the record's"  # config, 8 progress lines, epoch 1
    ;;
  altered_figure)
    python3 - "$ptb_record" "$tmp/altered.jsonl" <<'PY'
import json, math, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
epoch = next(l for l in lines if l.get("type") == "epoch")
epoch["valid_perplexity"] = math.nextafter(epoch["valid_perplexity"], math.inf)
with open(sys.argv[2], "w") as f:
    f.writelines(json.dumps(l) + "\n" for l in lines)
PY
    rc=0
    check "$tmp/altered.jsonl" --all >"$tmp/log" 2>&1 || rc=$?
    ((rc == 1)) || { cat "$tmp/log" >&2; fail "exit status $rc, expected 1"; }
    expect_in "$tmp/log" "FAIL: ptb epoch epoch 1 (line "
    expect_in "$tmp/log" "differs: valid_perplexity: recorded "
    ! grep -q "^PASS" "$tmp/log" || fail "an altered record passed"
    ;;
  bad_input)
    printf '{"type": "config"}\n' >"$tmp/not-a-record.jsonl"
    for args in "$tmp/none.jsonl|no such file" "$tmp/not-a-record.jsonl|not a libcurnn record" \
      "$ptb_record --records 0|--records 0: expected 1 or more"; do
      rc=0
      # shellcheck disable=SC2086  # the arguments are split on purpose
      check ${args%%|*} >"$tmp/log" 2>&1 || rc=$?
      ((rc == 2)) || { cat "$tmp/log" >&2; fail "${args%%|*}: exit status $rc, expected 2"; }
      [[ $(grep -c . "$tmp/log") == 1 || ${args#*|} == --records* ]] ||
        { cat "$tmp/log" >&2; fail "${args%%|*}: not one line"; }
      expect_in "$tmp/log" "${args#*|}"
    done
    ;;
  missing_data)
    mkdir "$tmp/empty"
    rc=0
    bash "$repo/scripts/check-record.sh" --build-dir "$build" --data-dir "$tmp/empty" \
      "$ptb_record" >"$tmp/log" 2>&1 || rc=$?
    ((rc == 3)) || { cat "$tmp/log" >&2; fail "exit status $rc, expected 3"; }
    expect_in "$tmp/log" "CANNOT CHECK HERE: ptb reads $tmp/empty/ptb, which is not on this machine"
    ;;
  *) fail "unknown case '$case_name'" ;;
esac
echo "PASS: check_record.$case_name"
