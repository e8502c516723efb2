#!/usr/bin/env bash
# The main job: set up, build, fetch the data and run the chapter's experiments with libcurnn.
#   scripts/reproduce.sh [--quick|--full] [--only ptb|mnist|word2vec] [--ptb-model small|medium|large]
#                        [--data-mirror DIR] [--out DIR]
# On a machine with a GPU the default is --full (the book's full faithful runs); without one it is
# --quick (short runs on the CPU, labelled as such). Logs (text and JSON lines) go to --out
# (default: report/), with a summary table in report/summary.md.
# Data: scripts/get-data.sh (downloads; or --data-mirror DIR / CURNN_DATA_MIRROR for a local
# copy; on the development machines that is ../shared/data, whose wiki8 stands in for text8).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="$PATH:/usr/local/cuda/bin"

mode="" only="" ptb_model=small out="$repo/report"
mirror=${CURNN_DATA_MIRROR:-}
[[ -z $mirror && -d "$repo/../shared/data" ]] && mirror="$repo/../shared/data"
while (($#)); do
  case $1 in
    --quick) mode=quick; shift ;;
    --full) mode=full; shift ;;
    --only) only=${2:?--only needs ptb, mnist or word2vec}; shift 2 ;;
    --ptb-model) ptb_model=${2:?--ptb-model needs small, medium or large}; shift 2 ;;
    --data-mirror) mirror=${2:?--data-mirror needs a folder}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "reproduce.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case $only in "" | ptb | mnist | word2vec) ;; *) echo "reproduce.sh: error: --only $only" >&2; exit 2 ;; esac
case $ptb_model in small | medium | large) ;; *) echo "reproduce.sh: error: --ptb-model $ptb_model" >&2; exit 2 ;; esac

t0=$(date +%s)
say() { echo "[reproduce +$(($(date +%s) - t0))s] $*"; }
gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then gpu=1; fi
[[ -z $mode ]] && mode=$([[ $gpu == 1 ]] && echo full || echo quick)
device=$([[ $gpu == 1 ]] && echo cuda || echo cpu)
say "mode: $mode on $device ($([[ $gpu == 1 ]] && nvidia-smi -L | head -1 || echo "no GPU: quick CPU runs"))"

say "set-up and build"
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

say "data"
data="$repo/data"
get=(bash scripts/get-data.sh --dest "$data")
[[ -n $mirror ]] && get+=(--data-mirror "$mirror" --symlink)
"${get[@]}" || { echo "reproduce.sh: error: the data is missing; run scripts/get-data.sh (with internet) or pass --data-mirror DIR" >&2; exit 1; }

rm -rf "$out.partial"
mkdir -p "$out.partial"
wants() { [[ -z $only || $only == "$1" ]]; }
rows=()

if wants ptb; then
  if [[ $mode == full ]]; then
    args=(--model "$ptb_model")
    label="full $ptb_model config"
  else
    args=(--model small --max-max-epoch 1 --max-steps 300)
    label="QUICK run: small config, 1 epoch capped at 300 batches"
  fi
  say "PTB language model ($label)"
  s=$(date +%s)
  build/bin/curnn-ptb --data-path "$data/ptb" --device "$device" --seed 1 "${args[@]}" \
    --log-json "$out.partial/ptb.jsonl" | tee "$out.partial/ptb.log"
  test_ppl=$(grep -o 'Test Perplexity: [0-9.]*' "$out.partial/ptb.log" | awk '{print $3}')
  wps=$(grep -o 'speed: [0-9]*' "$out.partial/ptb.log" | tail -1 | awk '{print $2}')
  rows+=("| PTB LM ($ptb_model) | test perplexity | $test_ppl | 116.8 (small) / 82.1 / 78.3 | $(($(date +%s) - s)) s | $wps words/s | $device | $mode |")
fi
if wants mnist && [[ -x build/bin/curnn-mnist ]]; then
  if [[ $mode == full ]]; then
    args=()
    label="full run: 400,000 samples"
  else
    args=(--max-samples 20000)
    label="QUICK run: 20,000 samples"
  fi
  say "MNIST BiLSTM ($label)"
  s=$(date +%s)
  build/bin/curnn-mnist --data-path "$data/mnist" --device "$device" --seed 1 "${args[@]}" \
    --log-json "$out.partial/mnist.jsonl" | tee "$out.partial/mnist.log"
  acc=$(grep -o 'Testing Accuracy: [0-9.]*' "$out.partial/mnist.log" | awk '{print $3}')
  sps=$(grep -oE '[0-9.]+ samples/s' "$out.partial/mnist.log" | tail -1 | awk '{print $1}')
  rows+=("| MNIST BiLSTM | test accuracy | $acc | 0.983 | $(($(date +%s) - s)) s | $sps samples/s | $device | $mode |")
fi
if wants word2vec && [[ -x build/bin/curnn-word2vec ]]; then
  corpus="$data/text8/text8" corpus_label="text8"
  if [[ ! -f $corpus ]]; then
    corpus="$data/text8-substitute/wiki8.gz" corpus_label="wiki8 (a text8 SUBSTITUTE, not text8)"
  fi
  steps=$([[ $mode == full ]] && echo 100001 || echo 10001)
  say "word2vec tutorial: the book's skip-gram NCE, $steps steps on $corpus_label$([[ $mode == quick ]] && echo " (QUICK run)")"
  s=$(date +%s)
  build/bin/curnn-word2vec --tutorial -train "$corpus" --steps "$steps" --device "$device" \
    --seed 1 --output-dir "$out.partial/word2vec" --log-json "$out.partial/word2vec-tutorial.jsonl" \
    | tee "$out.partial/word2vec-tutorial.log"
  loss=$(grep -o 'Average loss at step [0-9]* : [0-9.]*' "$out.partial/word2vec-tutorial.log" | tail -1 | awk '{print $NF}')
  rows+=("| word2vec tutorial ($corpus_label) | final average loss | $loss | about 4.6-4.7 at 100k steps | $(($(date +%s) - s)) s | see log | $device | $mode |")

  say "word2vec fast trainer (word2vec.c settings, skip-gram 128 d, 1 iteration) on $corpus_label"
  s=$(date +%s)
  build/bin/curnn-word2vec -train "$corpus" -output "$out.partial/word2vec/vectors.bin" -binary 1 \
    -cbow 0 -size 128 -window 5 -negative 5 -hs 0 -sample 1e-4 -iter 1 -min-count 5 \
    -threads "$(nproc)" --device "$device" --seed 1 --log-json "$out.partial/word2vec-fast.jsonl" \
    | tee "$out.partial/word2vec-fast.log"
  secs=$(($(date +%s) - s))
  build/bin/curnn-analogy "$out.partial/word2vec/vectors.bin" \
    --questions "$data/word2vec-eval/questions-words.txt" | tee "$out.partial/word2vec-analogy.log"
  build/bin/curnn-wordsim "$out.partial/word2vec/vectors.bin" \
    --pairs "$data/word2vec-eval/wordsim353.tsv" | tee "$out.partial/word2vec-wordsim.log" || true
  acc=$(grep -oE 'Total accuracy: [0-9.]+ *%' "$out.partial/word2vec-analogy.log" | tail -1 | grep -oE '[0-9.]+')
  wps=$(grep -oE '[0-9.]+[kM]? words/s' "$out.partial/word2vec-fast.log" | tail -1)
  rows+=("| word2vec fast, skip-gram ($corpus_label) | analogy accuracy (top 30k) | ${acc}% | word2vec.c 10.2% (wiki8, 1 iter) | $secs s | $wps | $device | $mode |")
  rm -f "$out.partial/word2vec/vectors.bin"
fi
for app in mnist word2vec; do
  if wants $app && [[ ! -x build/bin/curnn-$app ]]; then
    say "$app: the app is not implemented yet (curnn-$app); skipped"
    rows+=("| $app | - | not implemented yet | - | - | - | $device | $mode |")
  fi
done

{
  echo "# libcurnn: reproduction of the chapter's experiments"
  echo
  echo "Mode: **$mode** on **$device**$([[ $mode == quick ]] && echo " (quick CPU runs: not the book's full runs)"). Commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%d)."
  echo
  echo "| experiment | metric | ours | book | wall time | throughput | device | mode |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} > "$out.partial/summary.md"
rm -rf "$out" && mv "$out.partial" "$out"
cat "$out/summary.md"
say "done: report in $out/ (total $(($(date +%s) - t0)) s)"
