#!/usr/bin/env bash
# bench/w2v_gpu_quality (ctest: w2v_gpu_quality.*) on a machine without a GPU: the CPU
# configuration trains a tiny corpus and prints its table row (words/s with analogy accuracy);
# bad arguments and unreadable files are one-line errors with exit 1.
#   tests/w2v_gpu_quality_test.sh BUILD_DIR
set -uo pipefail
exe=$(cd "${1:?usage: w2v_gpu_quality_test.sh BUILD_DIR}" && pwd)/bin/w2v_gpu_quality
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=support/script_test.sh
source "$repo/tests/support/script_test.sh"
[[ -x $exe ]] || fail "no $exe"

# Two topics of ten words each, as the trainer's own tests; questions over their words.
python3 - "$tmp" << 'PY'
import random, sys
random.seed(5)
words = []
for line in range(400):
    topic = line % 2
    words += [f"t{1 + topic * 10 + random.randrange(10)}" for _ in range(50)]
open(f"{sys.argv[1]}/corpus.txt", "w").write(" ".join(words) + "\n")
open(f"{sys.argv[1]}/questions.txt", "w").write(
    ": capital-common-countries\nt1 t2 t3 t4\nt11 t12 t13 t14\n: gram1-adjective-to-adverb\n"
    "t1 t12 t3 t14\n")
PY
"$exe" --train "$tmp/corpus.txt" --questions "$tmp/questions.txt" --config cpu --threads 1 \
  --json "$tmp/out.jsonl" > "$tmp/log" 2>&1 || { cat "$tmp/log"; fail "the CPU run failed"; }
expect_in "$tmp/log" "| config | train s | words/s | analogy (top 30k) | vs cpu | seen | loss |"
grep -qE '^\| cpu \| [0-9.]+ \| [0-9.e+]+M \| [0-9.]+ % \| \+0\.00 points \| 3 \| [0-9.]+ \|$' \
  "$tmp/log" || { cat "$tmp/log"; fail "no table row for cpu (3 questions seen)"; }
python3 -c 'import json, sys; r = json.loads(open(sys.argv[1]).readline());
assert r["config"] == "cpu" and r["analogy_seen"] == 3 and r["words_per_s"] > 0, r' \
  "$tmp/out.jsonl" || fail "bad --json line: $(cat "$tmp/out.jsonl")"

bad() {  # bad TEXT ARGS...: exit 1 with a one-line error containing TEXT
  local text=$1; shift
  "$exe" "$@" > "$tmp/bad" 2>&1
  local rc=$?
  ((rc == 1)) || { cat "$tmp/bad"; fail "$* exited $rc, expected 1"; }
  expect_in "$tmp/bad" "$text"
  (($(wc -l < "$tmp/bad") == 1)) || { cat "$tmp/bad"; fail "$*: more than one line"; }
}
bad "--config bogus" --train "$tmp/corpus.txt" --questions "$tmp/questions.txt" --config bogus
bad "CHUNKS is not a number" --train "$tmp/corpus.txt" --questions "$tmp/questions.txt" \
  --config window:x
bad "$tmp/missing.txt" --train "$tmp/missing.txt" --questions "$tmp/questions.txt"
echo "w2v_gpu_quality: OK"
