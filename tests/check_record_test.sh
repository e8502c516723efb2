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
#   written       scripts/reproduce.sh --smoke --only word2vec with --word2vec-c-vectors (vectors
#                 made by curnn-word2vec standing in for word2vec.c's), then write_records.py:
#                 the three records (tutorial, fast trainer, word2vec.c's vectors) with their
#                 header and commands and no vectors; the report's side-by-side table; the fast
#                 trainer's record checks out; the word2vec.c one cannot without its vectors
#                 (exit 3).
# Exit 77 (ctest: skipped) when this machine's CPU GEMM (OpenBLAS's kernel set for this CPU)
# differs from the one the records were made with: other kernels round differently.
# When the records no longer match because a change altered the numerics on purpose, remake
# them from a clean checkout (bench/records/README.md says how) and commit them.
source "$(dirname "$0")/support/case_test.sh" "$@"
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
    # ... read while the app runs (its log is a temporary file until it ends), then stopped there
    expect_in "$tmp/log" "stopped the rerun of"
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
  written)
    bin="$build/bin"
    "$bin/curnn-word2vec" -train "$tmp/data/text8/text8" -output "$tmp/other-vectors.bin" \
      -binary 1 -size 32 -iter 1 -min-count 5 -threads 1 --device cpu -debug 0 >/dev/null
    bash "$repo/scripts/reproduce.sh" --smoke --only word2vec --no-setup --build-dir "$build" \
      --data-dir "$tmp/data" --no-fetch --out "$tmp/run" --word2vec-c-vectors "$tmp/other-vectors.bin" \
      --word2vec-c-note "a stand-in made by curnn-word2vec" >"$tmp/log" 2>&1 ||
      { cat "$tmp/log" >&2; fail "reproduce.sh --smoke --only word2vec failed"; }
    expect_in "$tmp/run/report.md" "### The fast trainer next to word2vec.c, same corpus"
    expect_in "$tmp/run/report.md" "| section | questions seen (ours) | curnn-word2vec | word2vec.c |"
    expect_in "$tmp/run/report.md" "(a stand-in made by curnn-word2vec)"
    python3 "$repo/scripts/write_records.py" --run "$tmp/run" --dest "$tmp/records" \
      --allow-dirty >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "write_records.py failed"; }
    shopt -s nullglob
    written=("$tmp"/records/*.jsonl*)
    shopt -u nullglob
    ((${#written[@]} == 3)) || { ls "$tmp/records" >&2; fail "expected 3 records"; }
    for experiment in word2vec-tutorial word2vec-fast word2vec-c-vectors; do
      ls "$tmp"/records/"$experiment"-smoke-cpu-*.jsonl >/dev/null 2>&1 ||
        fail "no $experiment-smoke-cpu-<commit>.jsonl record"
    done
    python3 - "$tmp/records" <<'PY' || fail "the records' contents"
import glob, json, os, sys
for path in glob.glob(os.path.join(sys.argv[1], "*.jsonl")):
    lines = [json.loads(l) for l in open(path)]
    header = lines[0]
    assert header["type"] == "record" and header["format"] == "curnn-record/1", path
    for key in ("commit", "date", "machine", "paths", "reproduce", "mode", "device"):
        assert header[key], (path, key)
    assert header["machine"]["logical_cores"] >= 1 and header["machine"]["cpu"], path
    commands = [l for l in lines if l["type"] == "command"]
    assert commands and all(c["argv"] and c["wall_s"] >= 0 for c in commands), path
    assert os.path.getsize(path) < 100 * 1024, path  # small: figures, never vectors
    if "word2vec-c-vectors" in path:
        assert header["vectors_made_by"] == "a stand-in made by curnn-word2vec", header
        assert [c["name"] for c in commands] == ["analogy-word2vec-c", "wordsim-word2vec-c"]
PY
    fast=$(ls "$tmp"/records/word2vec-fast-smoke-cpu-*.jsonl)
    check "$fast" --all >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "the fast trainer's record"; }
    expect_in "$tmp/log" "PASS: 4 of the record's 4 comparable records"
    rm "$tmp/other-vectors.bin"
    rc=0
    check "$(ls "$tmp"/records/word2vec-c-vectors-smoke-cpu-*.jsonl)" >"$tmp/log" 2>&1 || rc=$?
    ((rc == 3)) || { cat "$tmp/log" >&2; fail "word2vec.c's record without its vectors: exit $rc"; }
    expect_in "$tmp/log" "CANNOT CHECK HERE: analogy-word2vec-c reads $tmp/other-vectors.bin"
    ;;
  *) fail "unknown case '$case_name'" ;;
esac
echo "PASS: check_record.$case_name"
