#!/usr/bin/env bash
# Tests of the main job, scripts/reproduce.sh, and of scripts/get-data.sh (ctest: reproduce.*).
#   tests/reproduce_test.sh CASE BUILD_DIR
# CASE:
#   smoke            --smoke on tiny synthetic data (tests/support/make_tiny_data.py) writes a
#                    report with all three sections, every plot a real non-empty PNG, and
#                    report.html with the images inlined; nothing marks it incomplete.
#   missing_data     no data, no mirror, no internet (download URLs that cannot be reached):
#                    exit 1, a message naming get-data.sh and --data-mirror, no report folder.
#   half_finished    an experiment that fails (truncated MNIST images): exit 1, the step named,
#                    DIR.partial holds INCOMPLETE.md and no report, DIR is not created, and an
#                    earlier report in DIR is left as it was.
#   bad_arguments    unknown or invalid options: exit 2 and one line naming the option.
#   corrupt_mirror   get-data.sh with a mirror whose PTB file does not match its SHA-256:
#                    exit 1 and a message naming the file.
# The apps must be built in BUILD_DIR/bin.
source "$(dirname "$0")/support/script_test.sh" "$@"
# A real PNG (signature) of at least 5 kB: an image with axes and data, not an empty file.
expect_png() {
  [[ -f $1 ]] || fail "$1 is missing"
  [[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "$1 is not a PNG"
  (($(stat -c %s "$1") >= 5000)) || fail "$1 has only $(stat -c %s "$1") bytes"
}
tiny_data() { python3 "$repo/tests/support/make_tiny_data.py" "$1"; }
reproduce() { bash "$repo/scripts/reproduce.sh" --no-setup --build-dir "$build" "$@"; }

case $case_name in
  smoke)
    tiny_data "$tmp/data"
    reproduce --smoke --data-dir "$tmp/data" --no-fetch --out "$tmp/report" >"$tmp/log" 2>&1 ||
      { cat "$tmp/log" >&2; fail "reproduce.sh --smoke failed"; }
    r="$tmp/report"
    [[ ! -e $r.partial && ! -e $r/INCOMPLETE.md ]] || fail "a finished run left INCOMPLETE markers"
    for heading in "## 1. word2vec" "### The book's experiment: skip-gram with NCE loss" \
      "### Beyond the book: the word2vec.c-style fast trainer" "## 2. PTB language model" \
      "## 3. BiLSTM classifier on MNIST" "## How this was made" "SMOKE (tiny data)"; do
      expect_in "$r/report.md" "$heading"
    done
    # One summary row per experiment, each with a figure.
    expect_in "$r/report.md" "| PTB LSTM LM (small) | test perplexity | "
    expect_in "$r/report.md" "| MNIST BiLSTM (rows as time steps) | test accuracy | 0."
    expect_in "$r/report.md" "| word2vec, the book's skip-gram NCE | average loss, last 2,000 steps | "
    expect_in "$r/report.md" "| word2vec, the fast trainer (skip-gram, negative sampling) | analogy accuracy (top 30k) | "
    expect_in "$r/report.md" "| gram8-plural | 25 / 26 |"  # the analogy table, per section
    expect_in "$r/report.md" "| word | nearest |"         # the nearest-words table
    expect_in "$r/report.md" "--smoke --data-dir"          # the exact command
    for png in ptb.png mnist.png word2vec-loss.png tsne.png; do
      expect_png "$r/$png"
      expect_in "$r/report.md" "]($png)"
    done
    (($(grep -o 'src="data:image/png;base64,' "$r/report.html" | wc -l) == 4)) ||
      fail "report.html does not inline the 4 plots"
    (($(wc -l <"$r/steps.tsv") == 8)) || fail "steps.tsv: $(wc -l <"$r/steps.tsv") commands, expected 8"
    ;;
  missing_data)
    # Every download fails at once (file:// URLs to nowhere), as without internet.
    for v in CURNN_PTB_URL CURNN_MNIST_URLS CURNN_TEXT8_URL CURNN_QUESTIONS_WORDS_URLS \
      CURNN_WORDSIM353_URL; do
      export "$v=file:///nonexistent-curnn-test"
    done
    mkdir "$tmp/empty"
    rc=0
    reproduce --quick --data-mirror none --data-dir "$tmp/empty" --out "$tmp/report" \
      >"$tmp/log" 2>&1 || rc=$?
    ((rc == 1)) || { cat "$tmp/log" >&2; fail "exit status $rc, expected 1"; }
    expect_in "$tmp/log" "scripts/get-data.sh"
    expect_in "$tmp/log" "--data-mirror DIR"
    expect_in "$tmp/log" "No report was written"
    [[ ! -e $tmp/report && ! -e $tmp/report.partial ]] || fail "a run without data left a report folder"
    ;;
  half_finished)
    tiny_data "$tmp/data"
    f="$tmp/data/mnist/t10k-images-idx3-ubyte"
    head -c 5000 "$f" >"$f.cut" && mv "$f.cut" "$f"
    mkdir -p "$tmp/report" && echo "an earlier report" >"$tmp/report/report.md"
    rc=0
    reproduce --smoke --only mnist --data-dir "$tmp/data" --no-fetch --out "$tmp/report" \
      >"$tmp/log" 2>&1 || rc=$?
    ((rc == 1)) || { cat "$tmp/log" >&2; fail "exit status $rc, expected 1"; }
    expect_in "$tmp/log" "step \"mnist\" failed"
    expect_in "$tmp/log" "t10k-images-idx3-ubyte"  # the app names the bad file
    [[ -f $tmp/report.partial/INCOMPLETE.md ]] || fail "no INCOMPLETE.md in the partial run"
    [[ ! -e $tmp/report.partial/report.md ]] || fail "the failed run wrote report.md"
    [[ $(cat "$tmp/report/report.md") == "an earlier report" ]] || fail "the earlier report changed"
    ;;
  bad_arguments)
    for args in "--only foo|--only foo: expected ptb, mnist or word2vec" \
      "--seed x|--seed x: expected a non-negative integer" \
      "--ptb-model huge|--ptb-model huge: expected small, medium or large" \
      "--bogus|unknown argument '--bogus'"; do
      rc=0
      # shellcheck disable=SC2086  # the arguments are split on purpose
      bash "$repo/scripts/reproduce.sh" ${args%%|*} >"$tmp/log" 2>&1 || rc=$?
      ((rc == 2)) || { cat "$tmp/log" >&2; fail "${args%%|*}: exit status $rc, expected 2"; }
      [[ $(wc -l <"$tmp/log") == 1 ]] || { cat "$tmp/log" >&2; fail "${args%%|*}: not one line"; }
      expect_in "$tmp/log" "reproduce.sh: error: ${args#*|}"
    done
    ;;
  corrupt_mirror)
    tiny_data "$tmp/mirror"
    rc=0
    bash "$repo/scripts/get-data.sh" --only ptb --data-mirror "$tmp/mirror" --dest "$tmp/data" \
      >"$tmp/log" 2>&1 || rc=$?
    ((rc == 1)) || { cat "$tmp/log" >&2; fail "exit status $rc, expected 1"; }
    expect_in "$tmp/log" "ptb.train.txt: does not verify"
    ;;
  *) fail "unknown case '$case_name'" ;;
esac
echo "PASS: reproduce.$case_name"
