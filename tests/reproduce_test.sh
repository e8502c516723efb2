#!/usr/bin/env bash
# Tests of the main job, scripts/reproduce.sh, and of scripts/get-data.sh (ctest: reproduce.*).
#   tests/reproduce_test.sh CASE BUILD_DIR
# CASE:
#   smoke            --smoke on tiny synthetic data (tests/support/make_tiny_data.py) writes a
#                    report with all three sections, every plot a real non-empty PNG, and
#                    report.html with the images inlined; nothing marks it incomplete; the
#                    summary's values in plausible ranges (check_summary below).
#   summary_checker  check_summary itself: a plausible summary passes; an accuracy of 0, a NaN
#                    perplexity or loss, a perplexity no better than uniform, a percentage over
#                    100, a missing row fail.
#   missing_data     no data, no mirror, no internet (download URLs that cannot be reached):
#                    exit 1, a message naming get-data.sh and --data-mirror, no report folder.
#   half_finished    an experiment that fails (truncated MNIST images): exit 1, the step named,
#                    DIR.partial holds INCOMPLETE.md and no report, DIR is not created, and an
#                    earlier report in DIR is left as it was.
#   bad_arguments    unknown or invalid options: exit 2 and one line naming the option.
#   corrupt_mirror   get-data.sh with a mirror whose PTB file does not match its SHA-256:
#                    exit 1 and a message naming the file.
# The apps must be built in BUILD_DIR/bin.
source "$(dirname "$0")/support/case_test.sh" "$@"
# A real PNG (signature) of at least 5 kB: an image with axes and data, not an empty file.
expect_png() {
  [[ -f $1 ]] || fail "$1 is missing"
  [[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "$1 is not a PNG"
  (($(stat -c %s "$1") >= 5000)) || fail "$1 has only $(stat -c %s "$1") bytes"
}
tiny_data() { python3 "$repo/tests/support/make_tiny_data.py" "$1"; }

# check_summary REPORT_MD: the summary table's values of a smoke run (tiny data: 120 words,
# <unk> and <eos> in the PTB corpus; MNIST digits drawn as a bar on the digit's rows) are numbers
# in plausible ranges, not just present:
#   PTB test perplexity       finite, in (1, 122): better than a uniform guess over the vocabulary
#                             (the smoke run gives ~104 after 16 batches)
#   MNIST test accuracy       in [0.2, 1]: twice chance (0.1) at least (the smoke run: ~0.6)
#   tutorial average loss     finite and > 0
#   fast trainer analogies    finite, in [0%, 100%] (the tiny data's questions are random word
#                             quadruples: 0% is the honest result of one pass over them)
check_summary() {
  python3 - "$1" <<'PY'
import math
import re
import sys

rows = {}
with open(sys.argv[1]) as f:
    for line in f:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8:
            rows[cells[0]] = cells[2]
problems = []


def value(prefix, pattern):
    """The first number of the row whose experiment starts with prefix, or None."""
    names = [name for name in rows if name.startswith(prefix)]
    if not names:
        problems.append("no summary row for %r" % prefix)
        return None
    m = re.match(pattern, rows[names[0]])
    if not m:
        problems.append("%s: %r is not a number" % (names[0], rows[names[0]]))
        return None
    return float(m.group(1).replace(",", ""))


def check(what, v, ok, expected):
    if v is not None and not (math.isfinite(v) and ok(v)):
        problems.append("%s = %r, expected %s" % (what, v, expected))


number = r"(-?(?:nan|inf|[\d,]+(?:\.\d+)?))"
check("PTB test perplexity", value("PTB LSTM LM", number + r"$"),
      lambda v: 1 < v < 122, "in (1, 122)")
check("MNIST test accuracy", value("MNIST BiLSTM", number + r"$"),
      lambda v: 0.2 <= v <= 1, "in [0.2, 1]")
check("word2vec tutorial average loss", value("word2vec, the book's", number + r" at step"),
      lambda v: v > 0, "> 0")
check("word2vec analogy accuracy",
      value("word2vec, the fast trainer", number + r"%(?: \(\d+ iter\., \d+ thread\(s\)\))?$"),
      lambda v: 0 <= v <= 100, "in [0, 100]%")
if problems:
    print("\n".join("summary: " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print("summary values plausible: " + "; ".join("%s %s" % (k, v) for k, v in rows.items()
                                                 if k != "experiment" and not k.startswith("---")))
PY
}
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
    check_summary "$r/report.md" || { sed -n '1,20p' "$r/report.md" >&2; fail "implausible summary"; }
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
  summary_checker)
    # A summary as make_report.py writes it, then planted bugs, each of which must fail.
    header="| experiment | metric | ours | book / reference | wall time | throughput | device | mode |"
    good=("| word2vec, the book's skip-gram NCE | average loss, last 2,000 steps | 5.31 at step 2,000 | 4.6 | 1 min | 9,000 words/s | cpu | SMOKE |"
      "| word2vec, the fast trainer (skip-gram, negative sampling) | analogy accuracy (top 30k) | 61.54% (5 iter., 2 thread(s)) | 70% | 1 min | 1,000 words/s | cpu | SMOKE |"
      "| PTB LSTM LM (small) | test perplexity | 97.3 | 115 (small) | 1 min | 900 words/s | cpu | SMOKE |"
      "| MNIST BiLSTM (rows as time steps) | test accuracy | 0.6450 | 0.98 | 1 min | 50 samples/s | cpu | SMOKE |")
    write_summary() { printf '%s\n' "$header" "|---|---|---|---|---|---|---|---|" "$@" >"$tmp/report.md"; }
    write_summary "${good[@]}"
    check_summary "$tmp/report.md" || fail "a plausible summary was refused"
    for bug in "0.6450|0.0000" "97.3|nan" "97.3|0.0" "97.3|122.4" "61.54%|nan%" "61.54%|250.00%" \
      "5.31 at|nan at" "5.31 at|-0.01 at" "0.6450|1.2000"; do
      write_summary "${good[@]/${bug%%|*}/${bug#*|}}"
      if check_summary "$tmp/report.md" 2>"$tmp/err"; then fail "planted ${bug#*|} passed"; fi
      expect_in "$tmp/err" "summary: "
    done
    write_summary "${good[@]:0:3}"  # the MNIST row missing
    if check_summary "$tmp/report.md" 2>"$tmp/err"; then fail "a missing row passed"; fi
    expect_in "$tmp/err" "no summary row for 'MNIST BiLSTM'"
    ;;
  *) fail "unknown case '$case_name'" ;;
esac
echo "PASS: reproduce.$case_name"
