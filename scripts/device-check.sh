#!/usr/bin/env bash
# The one command for a lent GPU (see DEVELOPERS.md and the device tool): runs every test with
# the GPU ones included, compute-sanitizer (memcheck, racecheck) on the kernel tests, the kernel
# benchmarks and a PyTorch/cuDNN baseline, and writes logs plus a summary under $OUT.
#   - uses the build carried in .carry/ (scripts/device-bundle.sh) when present, else builds
#     here for sm_90 (needs GoogleTest and Google Benchmark installed);
#   - runs every app on the GPU on tiny synthetic data (scripts/reproduce.sh --smoke, ~30 s);
#   - fits in 8 minutes; exits non-zero on a machine without a GPU or when a test fails;
#   - with --apps (and a larger DEVICE_CHECK_BUDGET) also runs the main job's full mode on the
#     carried data (.carry/data), scripts/reproduce.sh --full: PTB small for all 13 epochs, the
#     MNIST BiLSTM for 400,000 samples, word2vec's tutorial (100,001 steps) and the fast trainer
#     on wiki8, with the report (report/report.md, plots if matplotlib is there) under $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
with_apps=0
[ "${1:-}" = "--apps" ] && with_apps=1
OUT=${OUT:-$PWD/out/device-check}
mkdir -p "$OUT"
log=$OUT/logs
mkdir -p "$log"
t0=$(date +%s)
elapsed() { echo $(($(date +%s) - t0)); }
# Everything must end inside the lease: stages get min(their own limit, what is left).
BUDGET=${DEVICE_CHECK_BUDGET:-470}
left() { local l=$((BUDGET - $(elapsed))); [ $l -lt 5 ] && l=5; [ $l -gt "$1" ] && l=$1; echo $l; }
say() { echo "[device-check +$(elapsed)s] $*"; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "device-check: no NVIDIA GPU on this machine (nvidia-smi finds none); nothing to check." >&2
  exit 2
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(cat .carry/COMMIT 2>/dev/null || git rev-parse HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  nvidia-smi | sed -n '3p'
  (command -v nvcc >/dev/null && nvcc --version | tail -2) || true
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# ---- executables ------------------------------------------------------------------------------
if [ -f .carry/build.tar.gz ]; then
  tar -C .carry -xzf .carry/build.tar.gz || { echo "device-check: cannot unpack .carry/build.tar.gz" >&2; exit 1; }
fi
if [ -d .carry/bin ]; then
  bin=$PWD/.carry/bin
  export LD_LIBRARY_PATH="$PWD/.carry/lib:${LD_LIBRARY_PATH:-}"
  say "using the carried build ($(ls "$bin" | wc -l) executables)"
else
  say "building for sm_90"
  export PATH="$PATH:/usr/local/cuda/bin"
  cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
    > "$log/build.log" 2>&1 && cmake --build build-device -j16 >> "$log/build.log" 2>&1 ||
    { tail -30 "$log/build.log"; exit 1; }
  bin=$PWD/build-device/bin
fi
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$d" ] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
done
# CUDA 13 libraries from the Python wheels, if the toolkit's are not on the path.
if ! ldconfig -p | grep -q libcublas.so.13; then
  for d in $(python3 -c 'import nvidia,os;p=nvidia.__path__[0];print(" ".join(os.path.join(p,x,"lib") for x in os.listdir(p)))' 2>/dev/null); do
    [ -d "$d" ] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
  done
fi
missing=$(ldd "$bin"/* 2>/dev/null | grep "not found" | sort -u)
[ -n "$missing" ] && { echo "missing shared libraries:"; echo "$missing"; }

# ---- 1. every test, GPU tests included --------------------------------------------------------
say "tests"
failed=0
summary=$OUT/summary.md
{
  echo "# device-check summary"
  echo
  echo '```'; cat "$OUT/env.txt"; echo '```'
  echo
  echo "| test binary | passed | failed | skipped |"
  echo "|---|---|---|---|"
} > "$summary"
for t in "$bin"/*_test; do
  name=$(basename "$t")
  timeout "$(left 120)" "$t" --gtest_brief=0 > "$log/$name.log" 2>&1
  rc=$?
  p=$(grep -c '^\[       OK \]' "$log/$name.log"); f=$(grep -c '^\[  FAILED  \].*(' "$log/$name.log")
  s=$(grep -c '^\[  SKIPPED \].*(' "$log/$name.log")
  [ $rc -ne 0 ] && failed=1 && grep -E '^\[  FAILED  \]|Failure|error' "$log/$name.log" | head -20
  echo "| $name | $p | $f | $s |" >> "$summary"
  say "$name rc=$rc passed=$p failed=$f skipped=$s"
done

# run_reproduce MODE LIMIT DATA NAME: scripts/reproduce.sh --MODE with the apps of this build on
# DATA, its report in $OUT/NAME and its log in $log/NAME.log; appends its summary table (or the
# log's end) to the summary and returns its exit status.
export CURNN_COMMIT=$(tr '\n' ' ' < .carry/COMMIT 2>/dev/null)
run_reproduce() {
  local mode=$1 lim=$2 data=$3 name=$4 rc
  timeout "$lim" bash scripts/reproduce.sh "--$mode" --no-setup --build-dir "$(dirname "$bin")" \
    --data-dir "$data" --no-fetch --out "$OUT/$name" > "$log/$name.log" 2>&1
  rc=$?
  { echo; echo "## scripts/reproduce.sh --$mode: rc=$rc"; echo
    if [ -f "$OUT/$name/report.md" ]; then sed -n '/^| experiment/,/^$/p' "$OUT/$name/report.md"
    else echo '```'; tail -15 "$log/$name.log"; echo '```'; fi; } >> "$summary"
  return $rc
}

# ---- 1b. every app on the GPU, on tiny synthetic data: the main job's --smoke mode ---------------
say "apps: scripts/reproduce.sh --smoke on tiny data (on the GPU)"
python3 tests/support/make_tiny_data.py "$OUT/tiny-data"
run_reproduce smoke "$(left 120)" "$OUT/tiny-data" smoke || { failed=1; tail -15 "$log/smoke.log"; }
rm -rf "$OUT/tiny-data"

# ---- 2. compute-sanitizer on the kernel tests --------------------------------------------------
san=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
{ echo; echo "| sanitizer | binary | result |"; echo "|---|---|---|"; } >> "$summary"
if [ -n "$san" ]; then
  say "compute-sanitizer memcheck and racecheck (all kernel tests in parallel)"
  lim=$(left 170)
  for tool in memcheck racecheck; do
    for t in "$bin"/*_cuda_test; do
      name=$(basename "$t")
      ( timeout "$lim" "$san" --tool "$tool" --error-exitcode 99 "$t" --gtest_filter='*Cuda*' \
          > "$log/$name.$tool.log" 2>&1; echo $? > "$log/$name.$tool.rc" ) &
    done
  done
  wait
  for tool in memcheck racecheck; do
    for t in "$bin"/*_cuda_test; do
      name=$(basename "$t"); rc=$(cat "$log/$name.$tool.rc")
      res=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log/$name.$tool.log" | tail -1)
      [ "$rc" = 124 ] && res="timeout ($lim s) $res"
      [ "$rc" != 0 ] && failed=1 && grep -E '=========' "$log/$name.$tool.log" | head -8
      echo "| $tool | $name | rc=$rc ${res:-} |" >> "$summary"
    done
  done
else
  echo "| - | - | compute-sanitizer not found |" >> "$summary"
fi

# ---- 3. PyTorch / cuDNN baseline at the experiments' shapes --------------------------------------
say "pytorch baseline"
PYTHONUNBUFFERED=1 timeout "$(left 100)" python3 bench/pytorch_baseline.py --out "$log/pytorch_baseline.json" \
  > "$log/pytorch_baseline.txt" 2>&1
{ echo; echo "## PyTorch baseline"; echo '```'; cat "$log/pytorch_baseline.txt"; echo '```'; } >> "$summary"

# ---- 4. kernel benchmarks ------------------------------------------------------------------------
say "benchmarks"
for b in "$bin"/*_bench; do
  name=$(basename "$b")
  timeout "$(left 45)" "$b" --benchmark_min_time=0.03 --benchmark_format=console \
    --benchmark_out="$log/$name.json" --benchmark_out_format=json > "$log/$name.txt" 2>&1
done
{ echo; echo "## benchmarks"; echo '```'; cat "$log"/*_bench.txt 2>/dev/null | grep -vE '^\*\*\*|^-+$|^Running|^Run on|^CPU Caches|^  L[123]|^Load Average'; echo '```'; } >> "$summary"

# ---- 5. the experiments: the main job's full mode, with its report (--apps) ------------------------
data=$PWD/.carry/data
if [ $with_apps = 1 ] && [ -d "$data" ]; then
  lim=$(left 600)
  say "scripts/reproduce.sh --full (limit $lim s)"
  run_reproduce full "$lim" "$data" report
  [ -d "$OUT/report.partial" ] && say "reproduce.sh did not finish: partial logs in report.partial/"
  rm -f "$OUT"/report*/word2vec/embeddings.txt "$OUT"/report*/word2vec/vectors.bin
fi

tar -C "$OUT" -czf "$OUT/logs.tar.gz" logs && rm -rf "$log"
say "done (failed=$failed)"
cat "$summary"
exit $failed
