#!/usr/bin/env bash
# The main job: set up, build, fetch the data, run the chapter's three experiments with libcurnn
# and write a report with plots.
#
#   scripts/reproduce.sh [--quick|--full|--smoke] [--only ptb|mnist|word2vec]
#                        [--ptb-model small|medium|large] [--seed N] [--out DIR]
#                        [--data-dir DIR] [--data-mirror DIR|none] [--no-fetch]
#                        [--build-dir DIR] [--no-setup] [--records DIR] [--w2v-threads N]
#                        [--estimate-only|--no-estimate]
#                        [--word2vec-c-vectors FILE [--word2vec-c-note TEXT]]
#
# Modes: --full runs the book's full, faithful experiments (the default on a machine with a GPU):
# PTB (13 epochs of small, or --ptb-model medium|large), the BiLSTM on 400,000 MNIST samples
# (test accuracy every 20,000), the word2vec tutorial's 100,001 steps and the fast trainer's 5
# iterations (skip-gram, 128 d, window 5, negative 5, sample 1e-4). On a machine without a GPU it
# runs the CPU-feasible ones (PTB small; medium and large need a GPU) after measuring this
# machine's speed for an estimate of the time (about two hours on 2 idle cores; --estimate-only
# prints it and stops, --no-estimate skips it). --quick runs short CPU-sized versions, labelled
# QUICK everywhere (the default without a GPU); --smoke runs a few steps of each, for tests on
# tiny data (with --data-dir).
# Records: --records DIR (bench/records) writes each experiment's record there after a
# successful run (scripts/write_records.py: command lines, commit, machine, the apps' JSON logs;
# the checkout must have no uncommitted changes); scripts/check-record.sh reruns one.
# --w2v-threads N: the fast trainer's -threads (default: 1 in --full and --smoke on the CPU, so
# that its result repeats bit for bit; all cores in --quick). --word2vec-c-vectors FILE also
# evaluates vectors trained by word2vec.c on the same corpus (analogies per section and
# WordSim-353, next to the fast trainer's in the report); --word2vec-c-note says how they were
# made (word2vec.c's commit and command line) for the report and the record.
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
setup=1 fetch=1 records="" w2v_threads="" estimate=1 estimate_only=0 w2vc_vectors="" w2vc_note=""
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
    --records) records=${2:?--records needs a folder}; shift 2 ;;
    --w2v-threads) w2v_threads=${2:?--w2v-threads needs a number}; shift 2 ;;
    --estimate-only) estimate_only=1; shift ;;
    --no-estimate) estimate=0; shift ;;
    --word2vec-c-vectors) w2vc_vectors=${2:?--word2vec-c-vectors needs a file}; shift 2 ;;
    --word2vec-c-note) w2vc_note=${2:?--word2vec-c-note needs a text}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" 2 ;;
  esac
done
case $only in "" | ptb | mnist | word2vec) ;; *) die "--only $only: expected ptb, mnist or word2vec" 2 ;; esac
case $ptb_model in small | medium | large) ;; *) die "--ptb-model $ptb_model: expected small, medium or large" 2 ;; esac
[[ $seed =~ ^[0-9]+$ ]] || die "--seed $seed: expected a non-negative integer" 2
[[ -z $w2v_threads || $w2v_threads =~ ^[1-9][0-9]{0,3}$ ]] ||
  die "--w2v-threads $w2v_threads: expected a thread count from 1 to 9999" 2
[[ -z $w2vc_vectors || -f $w2vc_vectors ]] || die "--word2vec-c-vectors $w2vc_vectors: no such file" 2
[[ -z $w2vc_vectors ]] || w2vc_vectors=$(cd "$(dirname "$w2vc_vectors")" && pwd)/$(basename "$w2vc_vectors")
[[ -z $w2vc_note || -n $w2vc_vectors ]] || die "--word2vec-c-note needs --word2vec-c-vectors" 2
if ((estimate_only)); then
  mode=${mode:-full}
  [[ $mode == full ]] || die "--estimate-only estimates --full, not --$mode" 2
fi
[[ -z $mirror && -d "$repo/../shared/data" ]] && mirror="$repo/../shared/data"
[[ $mirror == none ]] && mirror=""
((fetch)) || [[ -d $data ]] || die "--data-dir $data: no such folder" 2
out=$(mkdir -p "$(dirname "$out")" && cd "$(dirname "$out")" && pwd)/$(basename "$out")

wants() { [[ -z $only || $only == "$1" ]]; }
t0=$(date +%s)
say() { echo "[reproduce +$(($(date +%s) - t0))s] $*"; }
gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then gpu=1; fi
[[ -z $mode ]] && mode=$([[ $gpu == 1 ]] && echo full || echo quick)
device=$([[ $gpu == 1 ]] && echo cuda || echo cpu)
say "mode: $mode on $device ($([[ $gpu == 1 ]] && nvidia-smi -L | head -1 || echo "no GPU found"))"
((estimate_only && gpu)) && die "--estimate-only estimates --full on a machine without a GPU" 2
if [[ $mode == full && $gpu == 0 && $ptb_model != small ]] && wants ptb; then
  die "--full --ptb-model $ptb_model needs a GPU (weeks on this CPU); PTB small runs here" 2
fi
if [[ -z $w2v_threads ]]; then
  w2v_threads=$([[ $mode == quick ]] && nproc || echo 1)
fi
commit=${CURNN_COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
dirty=false
[[ -n $(git status --porcelain --untracked-files=no 2>/dev/null || true) ]] && dirty=true
# Records name the commit that made them: refuse before hours of running, not after.
if [[ -n $records && $dirty == true ]]; then
  die "--records: the checkout has uncommitted changes (git status); commit them first" 2
fi

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
mnist_eval_every=$([[ $mode == full ]] && echo 20000 || echo 0)
[[ $mode == smoke ]] && mnist_eval_every=320

# --full on the CPU: measure this machine's speed with short runs, and say how long it will take.
if [[ $mode == full && $gpu == 0 ]] && ((estimate || estimate_only)); then
  say "measuring this machine's speed for a time estimate (a few minutes: 2 on an idle 2-core machine; --no-estimate skips it)"
  scratch=$(mktemp -d)
  estimate_args=(--bin "$bin" --data-dir "$data" --corpus "$corpus" --scratch "$scratch"
    --seed "$seed" --w2v-threads "$w2v_threads" --mnist-eval-every "$mnist_eval_every"
    --evaluations $((2 + (${#w2vc_vectors} > 0))))
  [[ -n $only ]] && estimate_args+=(--only "$only")
  estimate_text=$(python3 scripts/estimate_full_run.py "${estimate_args[@]}") ||
    { rm -rf "$scratch"; die "the time estimate failed (see above); --no-estimate skips it"; }
  rm -rf "$scratch"
  echo "$estimate_text"
  ((estimate_only)) && exit 0
fi

# The run writes into $out.partial; a failure leaves that folder with INCOMPLETE.md and no report.
partial="$out.partial"
rm -rf "$partial"
mkdir -p "$partial"
echo "This run of $command_line did not finish: see the logs here. There is no report." \
  >"$partial/INCOMPLETE.md"
current="start"
# What write_records.py needs besides the logs: the folders the commands name, the commit, the
# machine and the start date.
python3 - "$partial/run.json" "$command_line" "$mode" "$device" "$seed" "$data" "$partial" "$build" \
  "$commit" "$dirty" "$(date -u +%Y-%m-%dT%H:%MZ)" "$w2vc_note" "${CURNN_NUM_THREADS:-}" <<'PY'
import json, os, sys
sys.path.insert(0, "scripts")
import curnn_record
(path, command_line, mode, device, seed, data, run, build, commit, dirty, date, note,
 threads) = sys.argv[1:]
run_info = {"command_line": command_line, "mode": mode, "device": device, "seed": int(seed),
            "data_dir": os.path.abspath(data), "run_dir": os.path.abspath(run),
            "build_dir": os.path.abspath(build), "commit": commit, "dirty": dirty == "true",
            "date": date, "word2vec_c_note": note,
            "environment": {"CURNN_NUM_THREADS": threads or None},
            "machine": curnn_record.machine_facts(build)}
with open(path, "w") as f:
    json.dump(run_info, f, indent=1)
PY
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
  printf '%s\0' "$@" >"$partial/$name.argv"  # the exact argv, for the records
  "$@" 2>&1 | tee "$partial/$name.log"
  ms=$((($(date +%s%N) - s) / 1000000))
  printf '%s\t%d.%03d\t%s\n' "$name" $((ms / 1000)) $((ms % 1000)) "$(printf '%q ' "$@")" \
    >>"$partial/steps.tsv"
}
# evaluate_vectors NAME DESCRIPTION FILE: analogy accuracy and WordSim-353 of word vectors.
evaluate_vectors() {
  step "analogy-$1" "word2vec: analogies with $2" -- "$bin/curnn-analogy" "$3" \
    --questions "$data/word2vec-eval/questions-words.txt" --log-json "$partial/analogy-$1.jsonl"
  step "wordsim-$1" "word2vec: word similarity of $2" -- "$bin/curnn-wordsim" "$3" \
    --pairs "$data/word2vec-eval/wordsim353.tsv" --log-json "$partial/wordsim-$1.jsonl"
}
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

  # The fast trainer at word2vec.c's settings: 5 passes in --full (word2vec.c's 37% analogy
  # figure), 1 otherwise (word2vec.c's 10%).
  iterations=$([[ $mode == full ]] && echo 5 || echo 1)
  step word2vec-fast "word2vec: the fast trainer (skip-gram, 128 d, negative 5, $iterations iteration(s), $w2v_threads thread(s)) on $corpus_label" -- \
    "$bin/curnn-word2vec" -train "$corpus" -output "$partial/word2vec/vectors.bin" -binary 1 \
    -cbow 0 -size 128 -window 5 -negative 5 -hs 0 -sample 1e-4 -iter "$iterations" -min-count 5 \
    -threads "$w2v_threads" --device "$device" --seed "$seed" --log-json "$partial/word2vec-fast.jsonl"
  evaluate_vectors fast "the fast trainer's vectors" "$partial/word2vec/vectors.bin"
  [[ -n $w2vc_vectors ]] && evaluate_vectors word2vec-c "word2vec.c's vectors" "$w2vc_vectors"
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
    full) args=(--eval-every "$mnist_eval_every") ;;
    quick) args=(--max-samples 30000) ;;
    smoke) args=(--max-samples 960 --batch-size 32 --validation-size 100 --eval-every "$mnist_eval_every") ;;
  esac
  step mnist "MNIST BiLSTM ($mode${args[*]:+: ${args[*]}})" -- \
    "$bin/curnn-mnist" --data-path "$data/mnist" --device "$device" --seed "$seed" "${args[@]}" \
    --log-json "$partial/mnist.jsonl"
fi

current=report
say "report"
"$python" scripts/make_report.py --dir "$partial" --mode "$mode" --device "$device" --seed "$seed" \
  --command "$command_line" --corpus-label "$corpus_label" --total-s "$(($(date +%s) - t0))" \
  --date "$(date -u +%Y-%m-%dT%H:%MZ)" --commit "${CURNN_COMMIT:-}" \
  ${estimate_text:+--estimate "$estimate_text"} ${w2vc_note:+--word2vec-c-note "$w2vc_note"}
rm -f "$partial/INCOMPLETE.md"
if [[ -e $out ]]; then rm -rf "$out.previous" && mv "$out" "$out.previous"; fi
mv "$partial" "$out"
say "done in $(($(date +%s) - t0)) s: $out/report.md and $out/report.html"
sed -n '/^| experiment/,/^$/p' "$out/report.md"
if [[ -n $records ]]; then
  trap - EXIT
  python3 scripts/write_records.py --run "$out" --dest "$records" ||
    die "writing the records failed; the report is in $out (retry: scripts/write_records.py --run $out --dest $records)"
fi
