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
