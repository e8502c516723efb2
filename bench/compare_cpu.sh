#!/usr/bin/env bash
# libcurnn's CPU backend against what its users would run instead, on this machine, in one call:
#   - PTB small training: curnn-ptb vs PyTorch (nn.LSTM, bench/pytorch_baseline.py --device cpu);
#   - the BiLSTM on MNIST: curnn-mnist vs PyTorch (bidirectional nn.LSTM, Adam);
#   - word2vec (skip-gram, 128 d, window 5, negative 5, sample 1e-4, one pass): curnn-word2vec's
#     fast trainer vs word2vec.c (--word2vec-c PATH; that row is left out without it).
# Each pair runs alternately (ours, theirs) for every thread count in --threads, --rounds times;
# each side is then quoted at its best (thread count and round), and the ratio is ours / theirs.
# PyTorch runs at every pair of intra-op threads (torch.set_num_threads) and OpenBLAS threads
# (OPENBLAS_NUM_THREADS) from --threads: Debian's python3-torch does its GEMMs in OpenBLAS, whose
# own thread pool torch.set_num_threads does not limit, so both are searched.
# Figures: words/s (PTB, word2vec) and samples/s (MNIST), wall clock, from the programs' own
# output: curnn-ptb's last progress line (training only), curnn-mnist's final line (training
# only), PyTorch's timed steps after 5 warm-up steps, and for word2vec the corpus's words over the
# whole run's wall time (vocabulary counting included, on both sides).
# A benchmark, not a test: run it on an otherwise idle machine. Results go to stdout and to
# --out (a Markdown table).
#
#   bench/compare_cpu.sh [--build-dir build] [--data-dir data] [--word2vec-c PATH]
#                        [--threads "1 2"] [--rounds 2] [--ptb-steps 150] [--mnist-samples 12800]
#                        [--w2v-bytes 24000000] [--python /usr/bin/python3] [--out FILE]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build="$repo/build" data="$repo/data" w2vc="" threads="1 $(nproc)" rounds=2 ptb_steps=150
mnist_samples=12800 w2v_bytes=24000000 python=${CURNN_TORCH_PYTHON:-/usr/bin/python3} out=""

die() { echo "compare_cpu.sh: $1" >&2; exit 2; }
positive() { [[ $2 =~ ^[1-9][0-9]{0,9}$ ]] || die "$1 $2: expected a positive integer"; }
while (($#)); do
  case $1 in
    --build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
    --data-dir) data=${2:?--data-dir needs a folder}; shift 2 ;;
    --word2vec-c) w2vc=${2:?--word2vec-c needs word2vec.c\'s executable}; shift 2 ;;
    --threads) threads=${2:?--threads needs a list such as \"1 2\"}; shift 2 ;;
    --rounds) rounds=${2:?}; positive "$1" "$2"; shift 2 ;;
    --ptb-steps) ptb_steps=${2:?}; positive "$1" "$2"; shift 2 ;;
    --mnist-samples) mnist_samples=${2:?}; positive "$1" "$2"; shift 2 ;;
    --w2v-bytes) w2v_bytes=${2:?}; positive "$1" "$2"; shift 2 ;;
    --python) python=${2:?--python needs an interpreter}; shift 2 ;;
    --out) out=${2:?--out needs a file}; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for t in $threads; do positive --threads "$t"; done
[[ -n ${threads// /} ]] || die "--threads: no thread count given"
bin="$build/bin"
for app in curnn-ptb curnn-mnist curnn-word2vec; do
  [[ -x $bin/$app ]] || die "$bin/$app not found (build the apps first, or give --build-dir)"
done
[[ -z $w2vc || -x $w2vc ]] || die "--word2vec-c $w2vc: not an executable"
"$python" -c 'import torch' 2>/dev/null || die "$python cannot import torch (Debian: python3-torch)"
for f in ptb/ptb.train.txt ptb/ptb.valid.txt mnist/train-images-idx3-ubyte; do
  [[ -f $data/$f || -f $data/$f.gz ]] || die "$data/$f(.gz) not found (scripts/get-data.sh)"
done
corpus_gz="$data/text8-substitute/wiki8.gz" corpus_plain="$data/text8/text8" corpus_label=text8
[[ -f $corpus_plain || -f $corpus_gz ]] || die "no word2vec corpus: $corpus_plain or $corpus_gz"
[[ -f $corpus_plain ]] || corpus_label="wiki8 (a text8 substitute)"

work=$(mktemp -d "${TMPDIR:-/tmp}/compare_cpu.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The apps read plain or .gz files: the training files are linked as they are, the evaluation
# sets cut short (their evaluation is not timed).
link_as_is() {  # link_as_is FOLDER NAME: NAME or NAME.gz of the data FOLDER, into $work/FOLDER
  local f
  for f in "$data/$1/$2" "$data/$1/$2.gz"; do
    [[ -f $f ]] && ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$work/$1/" && return
  done
}
# PTB: valid and test cut to 100 lines.
mkdir -p "$work/ptb"
link_as_is ptb ptb.train.txt
read_text() { if [[ -f $1 ]]; then cat "$1"; else zcat "$1.gz"; fi; }
for split in valid test; do
  read_text "$data/ptb/ptb.$split.txt" | head -n 100 >"$work/ptb/ptb.$split.txt" || true
done
# MNIST: the test set cut to 500 images (its IDX header's count rewritten).
mkdir -p "$work/mnist"
link_as_is mnist train-images-idx3-ubyte
link_as_is mnist train-labels-idx1-ubyte
"$python" - "$data/mnist" "$work/mnist" <<'PY'
import gzip, os, struct, sys
src, dst = sys.argv[1:]
for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
    path = os.path.join(src, name)
    data = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read()
    dims = data[3]
    shape = list(struct.unpack(">%dI" % dims, data[4:4 + 4 * dims]))
    item = 1
    for d in shape[1:]:
        item *= d
    shape[0] = min(shape[0], 500)
    data = data[:4] + struct.pack(">%dI" % dims, *shape) + \
        data[4 + 4 * dims:4 + 4 * dims + shape[0] * item]
    open(os.path.join(dst, name), "wb").write(data)
PY
# word2vec: the first --w2v-bytes of the corpus, cut at a space (word2vec.c reads plain text only).
if [[ -f $corpus_plain ]]; then head -c "$w2v_bytes" "$corpus_plain"; else zcat "$corpus_gz" |
  head -c "$w2v_bytes" || true; fi | sed 's/ [^ ]*$//' >"$work/corpus.txt"
corpus_words=$(wc -w <"$work/corpus.txt")

declare -A best best_threads
record() {  # record KEY VALUE THREADS: keep the best (THREADS: a label such as "2 threads")
  local key=$1 value=$2
  if ! [[ $value =~ ^[0-9.]+$ ]]; then
    echo "compare_cpu.sh: no figure for $key; the last program's output:" >&2
    tail -n 5 "$work"/*.log >&2
    exit 1
  fi
  if [[ -z ${best[$key]:-} ]] || awk -v a="$value" -v b="${best[$key]}" 'BEGIN{exit !(a>b)}'; then
    best[$key]=$value best_threads[$key]=$3
  fi
  printf '  %-28s %-26s %12.0f\n' "$key" "$3" "$value"
}
last_match() { grep -oE "$1" "$2" | tail -n 1 | grep -oE '[0-9.]+$' || true; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
wall() {  # wall LOG COMMAND...: runs COMMAND with its output in LOG; prints its wall seconds
  local log=$1 t0=$EPOCHREALTIME
  shift
  "$@" >"$log" 2>&1
  calc "$EPOCHREALTIME - $t0"
}
torch_row() {  # torch_row ROW THREADS BLAS_THREADS FIELD
  OPENBLAS_NUM_THREADS=$3 "$python" "$repo/bench/pytorch_baseline.py" --device cpu \
    --threads "$2" --only "$1" --out "$work/torch.json" >"$work/torch.log" 2>&1
  "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0][sys.argv[2]])' \
    "$work/torch.json" "$4"
}
torch_rows() {  # torch_rows ROW THREADS FIELD: PyTorch at THREADS x each BLAS thread count
  local b
  for b in $threads; do
    record "$1 pytorch" "$(torch_row "$1" "$2" "$b" "$3")" "$2 threads + $b BLAS threads"
  done
}

w2v_flags=(-cbow 0 -size 128 -window 5 -negative 5 -hs 0 -sample 1e-4 -iter 1 -min-count 5
           -binary 1)
echo "compare_cpu.sh: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 |
  sed 's/^ *//')); threads: $threads; rounds: $rounds"
echo "  PTB small: $ptb_steps training steps; MNIST: $mnist_samples samples;" \
  "word2vec: $corpus_words words of $corpus_label"
for ((round = 1; round <= rounds; round++)); do
  echo "round $round"
  for t in $threads; do
    CURNN_NUM_THREADS=$t "$bin/curnn-ptb" --data-path "$work/ptb" --model small --device cpu \
      --seed 1 --max-max-epoch 1 --max-steps "$ptb_steps" >"$work/ptb.log" 2>&1
    record "ptb-small curnn" "$(last_match 'speed: [0-9.]+' "$work/ptb.log")" "$t threads"
    torch_rows ptb-small "$t" words_per_s

    CURNN_NUM_THREADS=$t "$bin/curnn-mnist" --data-path "$work/mnist" --device cpu --seed 1 \
      --max-samples "$mnist_samples" >"$work/mnist.log" 2>&1
    record "bilstm curnn" "$(last_match 'CPU time\): [0-9.]+' "$work/mnist.log")" "$t threads"
    torch_rows bilstm "$t" samples_per_s

    s=$(wall "$work/w2v.log" "$bin/curnn-word2vec" -train "$work/corpus.txt" \
      -output "$work/curnn.bin" "${w2v_flags[@]}" -threads "$t" --device cpu --debug 0)
    record "word2vec curnn" "$(calc "$corpus_words / $s")" "$t threads"
    if [[ -n $w2vc ]]; then
      s=$(wall "$work/w2vc.log" "$w2vc" -train "$work/corpus.txt" -output "$work/w2vc.bin" \
        "${w2v_flags[@]}" -threads "$t" -debug 0)
      record "word2vec word2vec.c" "$(calc "$corpus_words / $s")" "$t threads"
    fi
  done
done

summary() {
  echo "| workload | libcurnn (CPU) | baseline | ratio | goal |"
  echo "|---|---|---|---|---|"
  row() {  # row LABEL OURS THEIRS BASELINE UNIT GOAL
    [[ -n ${best[$2]:-} && -n ${best[$3]:-} ]] || return 0
    printf '| %s | %.0f %s (%s) | %s: %.0f %s (%s) | %.2fx | %s |\n' "$1" \
      "${best[$2]}" "$5" "${best_threads[$2]}" "$4" "${best[$3]}" "$5" "${best_threads[$3]}" \
      "$(calc "${best[$2]} / ${best[$3]}")" "$6"
  }
  row "PTB small training" "ptb-small curnn" "ptb-small pytorch" "PyTorch $("$python" -c \
    'import torch; print(torch.__version__)')" words/s ">= 1.2x"
  row "BiLSTM MNIST training" "bilstm curnn" "bilstm pytorch" "PyTorch" samples/s ">= 1.2x"
  row "word2vec skip-gram, 1 pass" "word2vec curnn" "word2vec word2vec.c" "word2vec.c" words/s \
    ">= 1.0x"
  [[ -n $w2vc ]] || echo "(word2vec.c not given: --word2vec-c PATH adds its row)"
}
echo
summary
if [[ -n $out ]]; then
  { echo "bench/compare_cpu.sh on $(hostname), $(date -u +%F), commit $(git -C "$repo" \
      rev-parse --short HEAD 2>/dev/null || echo unknown); threads tried: $threads;" \
      "rounds: $rounds"; echo; summary; } >"$out.partial" && mv "$out.partial" "$out"
fi
