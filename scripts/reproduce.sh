#!/usr/bin/env bash
# The main job: set up, build, fetch the data, run the chapter's three experiments with libcurnn
# and write a report with plots.
#
#   scripts/reproduce.sh [--quick|--full|--smoke] [--only ptb|mnist|word2vec]
#                        [--ptb-model small|medium|large] [--seed N] [--out DIR]
#                        [--data-dir DIR] [--data-mirror DIR|none] [--no-fetch]
#                        [--build-dir DIR] [--no-setup]
#
# Modes: --full runs the book's full, faithful experiments (the default on a machine with a GPU);
# --quick runs short CPU-sized versions, labelled QUICK everywhere (the default without a GPU);
# --smoke runs a few steps of each, for tests on tiny data (with --data-dir).
# Data: scripts/get-data.sh fetches and verifies it into --data-dir (default <repo>/data),
# downloading, or from a local mirror (--data-mirror DIR or CURNN_DATA_MIRROR; the development
# machines' ../shared/data is used when present, where wiki8 stands in for text8; --data-mirror
# none never uses one). --no-fetch uses what --data-dir holds as it is (laid out as get-data.sh
# lays it out), unverified. --no-setup skips installing packages and building: the apps must be
# in --build-dir (default <repo>/build)/bin.
# The report goes to --out (default <repo>/report): report.md, report.html, plots and logs. It is
# written to DIR.partial and renamed to DIR only when every step succeeded; a previous DIR is
# kept as DIR.previous. CURNN_COMMIT names the source's commit in the report where the checkout
# has no .git (scripts/device-check.sh sets it from the carried build).
# Exit status: 0 on success, 1 when a step fails, 2 for bad arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="$PATH:/usr/local/cuda/bin"
# This checkout's t-SNE script, also for apps built elsewhere (a carried build).
export CURNN_TSNE_SCRIPT=${CURNN_TSNE_SCRIPT:-$repo/scripts/tsne_plot.py}
command_line="scripts/reproduce.sh${*:+ $*}"

mode="" only="" ptb_model=small seed=1 out="$repo/report" data="$repo/data" build="$repo/build"
setup=1 fetch=1
mirror=${CURNN_DATA_MIRROR:-}
die() { echo "reproduce.sh: error: $1" >&2; exit "${2:-1}"; }
while (($#)); do
  case $1 in
    --quick | --full | --smoke) mode=${1#--}; shift ;;
    --only) only=${2:?--only needs ptb, mnist or word2vec}; shift 2 ;;
    --ptb-model) ptb_model=${2:?--ptb-model needs small, medium or large}; shift 2 ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --data-mirror) mirror=${2:?--data-mirror needs a folder or none}; shift 2 ;;
    --data-dir) data=${2:?--data-dir needs a folder}; shift 2 ;;
    --build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
    --no-setup) setup=0; shift ;;
    --no-fetch) fetch=0; shift ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" 2 ;;
  esac
done
case $only in "" | ptb | mnist | word2vec) ;; *) die "--only $only: expected ptb, mnist or word2vec" 2 ;; esac
case $ptb_model in small | medium | large) ;; *) die "--ptb-model $ptb_model: expected small, medium or large" 2 ;; esac
[[ $seed =~ ^[0-9]+$ ]] || die "--seed $seed: expected a non-negative integer" 2
[[ -z $mirror && -d "$repo/../shared/data" ]] && mirror="$repo/../shared/data"
[[ $mirror == none ]] && mirror=""
((fetch)) || [[ -d $data ]] || die "--data-dir $data: no such folder" 2
out=$(mkdir -p "$(dirname "$out")" && cd "$(dirname "$out")" && pwd)/$(basename "$out")

t0=$(date +%s)
say() { echo "[reproduce +$(($(date +%s) - t0))s] $*"; }
gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then gpu=1; fi
[[ -z $mode ]] && mode=$([[ $gpu == 1 ]] && echo full || echo quick)
device=$([[ $gpu == 1 ]] && echo cuda || echo cpu)
say "mode: $mode on $device ($([[ $gpu == 1 ]] && nvidia-smi -L | head -1 || echo "no GPU found"))"
[[ $mode == full && $gpu == 0 ]] && say "WARNING: --full on the CPU takes hours to days (PTB small: 13 epochs of about 6 min; medium and large far longer)"

apps=(curnn-ptb curnn-mnist curnn-word2vec curnn-analogy curnn-wordsim)
if ((setup)); then
  say "set-up (scripts/setup.sh) and build of the apps in $build"
  bash scripts/setup.sh
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  # ninja's "[n/N] Building ..." lines, shortened to the file being built; the whole output is
  # kept in $build/reproduce-build.log and its end shown when the build fails.
  cmake --build "$build" -j"$(nproc)" --target "${apps[@]}" 2>&1 | tee "$build/reproduce-build.log" |
    awk '/^\[[0-9]+\/[0-9]+\]/ { print "  build " $1 " " $NF; fflush() }' ||
    { tail -40 "$build/reproduce-build.log" >&2; die "the build failed (log: $build/reproduce-build.log)"; }
fi
bin="$build/bin"
for app in "${apps[@]}"; do
  [[ -x $bin/$app ]] || die "$bin/$app is missing: build it, or drop --no-setup"
done
python=""
for p in "${CURNN_PYTHON:-}" python3 /usr/bin/python3; do
  if [[ -n $p ]] && "$p" -c 'import matplotlib' >/dev/null 2>&1; then python=$p; break; fi
done
if [[ -z $python ]]; then
  ((setup)) && die "no python3 with matplotlib, even after scripts/setup.sh"
  python=python3
  say "WARNING: no python3 with matplotlib here (Debian: python3-matplotlib): the report will have no plots"
fi

if ((fetch)); then
  say "data: scripts/get-data.sh into $data${mirror:+ from the mirror $mirror}"
  get=(bash scripts/get-data.sh --dest "$data")
  case $only in
    ptb | mnist) get+=(--only "$only") ;;
    word2vec) get+=(--only text8,word2vec-eval) ;;
  esac
  [[ -n $mirror ]] && get+=(--data-mirror "$mirror" --symlink)
  "${get[@]}" || die "the data is not in place (see above). With internet access, run
  scripts/get-data.sh; without it, copy the datasets to a folder laid out like shared/data and
  pass --data-mirror DIR (or set CURNN_DATA_MIRROR=DIR). No report was written."
else
  say "data: using $data as it is (--no-fetch: not fetched, not verified)"
fi
corpus="$data/text8/text8" corpus_label="text8"
if [[ ! -f $corpus && -f $data/text8-substitute/wiki8.gz ]]; then
  corpus="$data/text8-substitute/wiki8.gz" corpus_label="wiki8 (a text8 substitute, not text8)"
fi

# The run writes into $out.partial; a failure leaves that folder with INCOMPLETE.md and no report.
partial="$out.partial"
rm -rf "$partial"
mkdir -p "$partial"
echo "This run of $command_line did not finish: see the logs here. There is no report." \
  >"$partial/INCOMPLETE.md"
current="start"
trap 'rc=$?; if ((rc)); then echo "reproduce.sh: error: step \"$current\" failed (exit $rc); its logs are in $partial; no report was written" >&2; fi' EXIT

# step NAME DESCRIPTION -- COMMAND...: runs COMMAND, its output shown and kept in NAME.log, and
# records the command and its wall time in steps.tsv for the report.
step() {
  local name=$1 description=$2
  shift 3
  current=$name
  say "$description"
  local s ms
  s=$(date +%s%N)
  "$@" 2>&1 | tee "$partial/$name.log"
  ms=$((($(date +%s%N) - s) / 1000000))
  printf '%s\t%d.%03d\t%s\n' "$name" $((ms / 1000)) $((ms % 1000)) "$(printf '%q ' "$@")" \
    >>"$partial/steps.tsv"
}
wants() { [[ -z $only || $only == "$1" ]]; }
# evaluate_vectors NAME DESCRIPTION FILE: analogy accuracy and WordSim-353 of word vectors.
evaluate_vectors() {
  step "analogy-$1" "word2vec: analogies with $2" -- "$bin/curnn-analogy" "$3" \
    --questions "$data/word2vec-eval/questions-words.txt" --log-json "$partial/analogy-$1.jsonl"
  step "wordsim-$1" "word2vec: word similarity of $2" -- "$bin/curnn-wordsim" "$3" \
    --pairs "$data/word2vec-eval/wordsim353.tsv" --log-json "$partial/wordsim-$1.jsonl"
}
threads=$(nproc)

if wants word2vec; then
  case $mode in
    full) steps=100001 ;;
    quick) steps=30001 ;;
    smoke) steps=2001 ;;
  esac
  step word2vec-tutorial "word2vec: the book's skip-gram NCE, $steps steps on $corpus_label ($mode)" -- \
    "$bin/curnn-word2vec" --tutorial -train "$corpus" --steps "$steps" --device "$device" \
    --seed "$seed" --output-dir "$partial/word2vec" --log-json "$partial/word2vec-tutorial.jsonl"
  evaluate_vectors tutorial "the tutorial's embeddings" "$partial/word2vec/embeddings.txt"

  # The fast trainer at word2vec.c's settings for this comparison: 1 pass in every mode (on the
  # CPU that is the quick run; 5 passes, -iter 5, give the 37% analogy figure).
  step word2vec-fast "word2vec: the fast trainer (skip-gram, 128 d, negative 5, 1 iteration) on $corpus_label" -- \
    "$bin/curnn-word2vec" -train "$corpus" -output "$partial/word2vec/vectors.bin" -binary 1 \
    -cbow 0 -size 128 -window 5 -negative 5 -hs 0 -sample 1e-4 -iter 1 -min-count 5 \
    -threads "$threads" --device "$device" --seed "$seed" --log-json "$partial/word2vec-fast.jsonl"
  evaluate_vectors fast "the fast trainer's vectors" "$partial/word2vec/vectors.bin"
  rm -f "$partial/word2vec/vectors.bin" "$partial/word2vec/embeddings.txt"  # large, re-made by a run
fi

if wants ptb; then
  case $mode in
    full) args=(--model "$ptb_model") ;;
    quick) args=(--model small --max-max-epoch 2 --max-steps 250) ;;
    smoke) args=(--model small --max-max-epoch 2 --max-epoch 1 --max-steps 8) ;;
  esac
  step ptb "PTB language model ($mode: ${args[*]})" -- \
    "$bin/curnn-ptb" --data-path "$data/ptb" --device "$device" --seed "$seed" "${args[@]}" \
    --log-json "$partial/ptb.jsonl"
fi

if wants mnist; then
  case $mode in
    full) args=() ;;
    quick) args=(--max-samples 30000) ;;
    smoke) args=(--max-samples 960 --batch-size 32 --validation-size 100) ;;
  esac
  step mnist "MNIST BiLSTM ($mode${args[*]:+: ${args[*]}})" -- \
    "$bin/curnn-mnist" --data-path "$data/mnist" --device "$device" --seed "$seed" "${args[@]}" \
    --log-json "$partial/mnist.jsonl"
fi

current=report
say "report"
"$python" scripts/make_report.py --dir "$partial" --mode "$mode" --device "$device" --seed "$seed" \
  --command "$command_line" --corpus-label "$corpus_label" --total-s "$(($(date +%s) - t0))" \
  --date "$(date -u +%Y-%m-%dT%H:%MZ)" --commit "${CURNN_COMMIT:-}"
rm -f "$partial/INCOMPLETE.md"
if [[ -e $out ]]; then rm -rf "$out.previous" && mv "$out" "$out.previous"; fi
mv "$partial" "$out"
say "done in $(($(date +%s) - t0)) s: $out/report.md and $out/report.html"
sed -n '/^| experiment/,/^$/p' "$out/report.md"
