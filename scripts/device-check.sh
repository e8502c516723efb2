#!/usr/bin/env bash
# The one command for a lent GPU machine (an H100/H200 for about 15 minutes of device time,
# start-up included, one `run` of at most 10 minutes): after scripts/device-bundle.sh here,
#   device run, carry [".carry"], command "bash scripts/device-check.sh"
# It finishes within 540 s. Stages, in order of value, each with its own budget (a stage may also
# use what the stages before it left unused); the budget left is printed before each:
#   env         card, driver, CUDA, commit, date; unpacks the carried build (.carry/)
#   tests       only the CUDA tests (--gtest_filter=*Cuda* in every test binary that has them; CI
#               runs the CPU tests), code that never ran on a GPU first, several binaries at a
#               time, with CURNN_REQUIRE_GPU=1: a test that finds no device FAILS, never skips
#   smoke       every app on the GPU on tiny synthetic data (scripts/reproduce.sh --smoke)
#   sanitizers  compute-sanitizer, probed once with one short test ("sanitizer unavailable"
#               instead of N failures); then memcheck one binary at a time, never-run code first,
#               and racecheck on the kernels with shared memory; the tests that raise CUDA API
#               errors on purpose are left out; a timeout is reported as "timeout", not a failure
#   bench       bench/w2v_gpu_quality (the word2vec trainer's words/s with its analogy accuracy,
#               CPU and GPU kernels, on the first 40 MB of the carried wiki8), then the CUDA
#               kernel benchmarks and bench/ptb_train_bench (its cuda_* cases)
#   baseline    PyTorch/cuDNN at the experiments' shapes (bench/pytorch_baseline.py), FP32 with
#               TF32 off and PyTorch's out-of-the-box settings; summary.md then sets libcurnn's
#               PTB and BiLSTM training figures (per step, persistent, graph) beside them as
#               ratios, with issue 13's goals judged
#   apps        only with --apps, with its own budget (DEVICE_CHECK_APPS_BUDGET, default 500 s):
#               scripts/reproduce.sh --full on the carried data (.carry/data); beside the other
#               stages that is more than one `run` holds: `--apps --only apps` is a call of its own
# Output in $OUT (default out/device-check), at most 8 files: summary.md, rewritten after every
# stage (a run cut off by its limit still returns what it learned), and device-check.tar.gz
# with every log; with --apps also apps-report.tar.gz (the report, plots and logs).
# Exit status: 0 all passed; 1 a CUDA test, sanitizer check, benchmark or app run failed; 2 no GPU
# (or bad arguments); 3 incomplete (the budget ran out before every CUDA test ran; none failed).
#
# Options:
#   --dry-run        check this script on a machine without a GPU: a fake nvidia-smi and a fake
#                    compute-sanitizer on PATH, the build in --build-dir (default: the carried
#                    .carry/build.tar.gz when present, else build/, else build-cpu/). Every stage's
#                    command runs where that makes sense without a GPU (the CUDA tests, which must
#                    then fail for "no CUDA device"; the benchmarks, which must report it; the
#                    sanitizer jobs through the fake) or is checked (arguments, files, filters).
#                    Prints the stage plan; exits 0 when the run would be sound, 1 otherwise.
#   --apps           add the apps stage (see above)
#   --only LIST      run only these stages (comma-separated; env always runs), e.g. --only tests
#   --build-dir DIR  use the executables in DIR/bin instead of the carried build
#   --out DIR        where the results go (default $OUT, else out/device-check)
# Environment: DEVICE_CHECK_BUDGET (total seconds, default 540), DEVICE_CHECK_APPS_BUDGET,
# DEVICE_CHECK_JOBS (test binaries at a time, default min(8, cores)), DEVICE_CHECK_SANITIZER_CAP
# (seconds per sanitizer job, default 60); for tests of this script only:
# DEVICE_CHECK_FAKE_SANITIZER (see tests/support/device_check_fakes/compute-sanitizer).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
repo=$PWD

die() { echo "device-check: error: $1" >&2; exit 2; }
dry=0 with_apps=0 build_dir="" only="" out=${OUT:-$repo/out/device-check} help=0
while (($#)); do
  case $1 in
    --dry-run) dry=1; shift ;;
    --apps) with_apps=1; shift ;;
    --only) only=${2:?--only needs a list of stages}; shift 2 ;;
    --build-dir) build_dir=${2:?--build-dir needs a folder}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    -h | --help) help=1; shift ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -z $build_dir || -d $build_dir/bin ]] || die "--build-dir $build_dir: no bin/ folder in it"
[[ -z $build_dir ]] || build_dir=$(cd "$build_dir" && pwd)

# ---- the plan ------------------------------------------------------------------------------------
# name:budget in seconds:what. The default stages and the wrap-up fit in TOTAL.
stage_table=(
  "env:15:card, driver, CUDA, commit, date; the carried build unpacked and its libraries checked"
  "tests:150:the CUDA tests only (*Cuda*), CURNN_REQUIRE_GPU=1, never-run code first, in parallel"
  "smoke:60:every app on the GPU on tiny data (scripts/reproduce.sh --smoke)"
  "sanitizers:110:compute-sanitizer probe; memcheck per binary; racecheck on shared-memory kernels"
  "bench:105:word2vec words/s with analogy accuracy; CUDA kernel benchmarks; ptb_train_bench cuda_*"
  "baseline:70:PyTorch/cuDNN baseline (bench/pytorch_baseline.py)"
)
((with_apps)) &&
  stage_table+=("apps:${DEVICE_CHECK_APPS_BUDGET:-500}:scripts/reproduce.sh --full on .carry/data")
stage_table+=("wrapup:15:summary.md and device-check.tar.gz")
TOTAL=${DEVICE_CHECK_BUDGET:-540}
((with_apps)) && TOTAL=$((TOTAL + ${DEVICE_CHECK_APPS_BUDGET:-500}))
known_stages=" env tests smoke sanitizers bench baseline apps "
for s in ${only//,/ }; do
  [[ $known_stages == *" $s "* ]] || die "--only: unknown stage '$s' (stages:$known_stages)"
done
if ((help)); then
  sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  echo; echo "Stage budgets (s):"
  for row in "${stage_table[@]}"; do
    IFS=: read -r n b _ <<< "$row"
    printf '  %-11s %4d\n' "$n" "$b"
  done
  exit 0
fi
selected() { [[ -z $only || $1 == env || $1 == wrapup || ",$only," == *",$1,"* ]]; }

# The CUDA tests; the tests that raise CUDA API errors on purpose (left out of the sanitizers);
# memcheck order: the test binaries of code that never ran on a GPU first, then any binary not
# named here (new tests), then those that already passed memcheck on an H100 (bench/RESULTS.md).
CUDA_FILTER='*Cuda*'
API_ERROR_TESTS=(CoreCuda.ErrorsCarryTheCudaMessage CoreCuda.OutOfMemoryIsAnError
  GraphCuda.FreeSyncWorkspaceGrowthAndHostCopiesInsideCaptureThrow)
NEVER_RAN=(graph_cuda_test lstm_persistent_cuda_test lstm_lm_cuda_test bilstm_cuda_test
  id_errors_cuda_test w2v_train_cuda_test w2v_tutorial_trainer_cuda_test concat_cuda_test
  reduce_cuda_test nce_cuda_test softmax_xent_cuda_test word2vec_cuda_test optim_cuda_test
  core_cuda_test embedding_cuda_test lstm_cell_cuda_test)
RAN_BEFORE=(gemm_cuda_test dropout_cuda_test)
BENCH_FIRST=(ptb_train_bench bilstm_cuda_bench w2v_train_cuda_bench nce_cuda_bench
  word2vec_cuda_bench softmax_xent_cuda_bench optim_cuda_bench)
SAN_CAP=${DEVICE_CHECK_SANITIZER_CAP:-60}
BENCH_CAP=30
W2V_QUALITY_CAP=45

# ---- where things go -----------------------------------------------------------------------------
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/device-check.XXXXXX")
logs=$work/logs state=$work/state
mkdir -p "$logs" "$state"
rm -f "$out/summary.md" "$out/device-check.tar.gz" "$out/apps-report.tar.gz"
if ((dry)); then
  trap 'rm -rf "$work"' EXIT
  # The fakes first on PATH; the rest of PATH as it is (child scripts see them too).
  export PATH="$repo/tests/support/device_check_fakes:$PATH"
fi
problem() { echo "$*" >> "$state/problems.txt"; echo "device-check: PROBLEM: $*" >&2; }

t0=$(date +%s)
now() { echo $(($(date +%s) - t0)); }
say() { echo "[device-check +$(now)s] $*"; }
stage_deadline=$((t0 + TOTAL))
left() { echo $((stage_deadline - $(date +%s))); }
# cap N: seconds a command may run: N, or less when the stage has less left (at least 1).
cap() { local l; l=$(left); ((l > $1)) && l=$1; ((l < 1)) && l=1; echo "$l"; }

{
  printf 'stage\tbudget_s\twhat\n'
  for row in "${stage_table[@]}"; do
    IFS=: read -r name budget what <<< "$row"
    selected "$name" && printf '%s\t%s\t%s\n' "$name" "$budget" "$what"
  done
} > "$state/plan.tsv"
plan_sum=$(awk -F'\t' 'NR > 1 { s += $2 } END { print s + 0 }' "$state/plan.tsv")
echo "device-check$( ((dry)) && echo ' --dry-run'): stage plan (total limit $TOTAL s)"
awk -F'\t' 'NR > 1 { printf "  %-11s %4d s  %s\n", $1, $2, $3 }' "$state/plan.tsv"
echo "  sum         $plan_sum s"
((plan_sum <= TOTAL)) || problem "the stage budgets sum to $plan_sum s, over the $TOTAL s limit"
if ((plan_sum > 585)); then  # one device `run` command ends after 600 s
  msg="the plan needs $plan_sum s, more than one device run (600 s) holds:"
  msg+=" run --only apps on its own"
  if ((dry)); then problem "$msg"; else echo "device-check: WARNING: $msg"; fi
fi

report() {  # summary.md from what the stages left in $work (scripts/device_check_report.py)
  local args=(summary "$work" --out "$out/summary.md")
  ((dry)) && args+=(--dry-run)
  python3 scripts/device_check_report.py "${args[@]}" "$@" > "$state/verdict.txt" \
    2> "$state/report.err"
  local rc=$?
  if ((rc > 3)) || [[ ! -s $out/summary.md ]]; then
    # The report script failed: keep the raw facts in summary.md rather than nothing.
    { echo "# device-check: summary script failed (rc=$rc)"; cat "$state/report.err"
      cat "$logs/env.txt" 2>/dev/null; tail -n +1 "$state"/*.tsv 2>/dev/null; } > "$out/summary.md"
    problem "scripts/device_check_report.py failed: $(tail -1 "$state/report.err")"
    return 4
  fi
  return $rc
}
pack() {  # every log into one tarball ($OUT holds at most 8 files); big logs cut to head + tail
  find "$logs" -type f -size +4M | while read -r f; do
    { head -c 1M "$f"; printf '\n[... cut by device-check ...]\n'; tail -c 1M "$f"; } > "$f.cut"
    mv "$f.cut" "$f"
  done
  tar -C "$work" -czf "$work/device-check.tar.gz" logs state &&
    mv -f "$work/device-check.tar.gz" "$out/"
}

# ---- running a stage -----------------------------------------------------------------------------
cum=0
run_stage() {
  local name=$1 budget=$2 s
  selected "$name" && [[ $name != wrapup ]] || return 0
  cum=$((cum + budget))
  stage_deadline=$((t0 + cum))
  local hard=$((t0 + TOTAL - 15))  # the wrap-up's 15 s are never lent
  ((stage_deadline > hard)) && stage_deadline=$hard
  echo
  say "==== stage $name: budget $budget s, $(left) s until its deadline," \
    "$((t0 + TOTAL - $(date +%s))) s left in all"
  s=$(date +%s)
  declare -F "stage_$name" > /dev/null || problem "no function stage_$name for stage $name"
  # The stage's stderr is kept: bash's own errors in it (a misspelt command, a bad redirection,
  # an unset variable) are this script's defects, and a dry run reports them.
  "stage_$name" 2> "$logs/stage.$name.err"
  cat "$logs/stage.$name.err" >&2
  grep -E "device-check.sh: line [0-9]+: " "$logs/stage.$name.err" | while read -r line; do
    problem "bash error in stage $name: ${line#*device-check.sh: }"
  done
  printf '%s\t%s\t%s\t%s\n' "$name" "$budget" "$((s - t0))" "$(($(date +%s) - s))" \
    >> "$state/stages.tsv"
  report; pack
  say "stage $name done in $(($(date +%s) - s)) s: $(head -1 "$state/verdict.txt")"
}

# ---- env -----------------------------------------------------------------------------------------
bin="" build_root=""
stage_env() {
  if ! command -v nvidia-smi > /dev/null 2>&1; then
    echo "nvidia-smi not found" > "$state/no_gpu"
    return
  elif ! nvidia-smi -L > "$logs/nvidia-smi-L.txt" 2>&1; then
    echo "nvidia-smi -L: $(head -1 "$logs/nvidia-smi-L.txt")" > "$state/no_gpu"
    return
  fi
  find_build || return
  local commit
  commit=$({ tr '\n' ' ' < "$build_root/COMMIT"; } 2> /dev/null ||
    git rev-parse HEAD 2> /dev/null || echo "${CURNN_COMMIT:-unknown}")
  export CURNN_COMMIT=$commit  # the reports of reproduce.sh name the carried build's commit
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $commit"
    if ((dry)); then echo "mode: DRY RUN (fake nvidia-smi and compute-sanitizer; no GPU)"
    else echo "mode: GPU run"; fi
    echo "host: $(nproc) cores," \
      "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "gpu: $(smi --query-gpu=name,driver_version,memory.total --format=csv,noheader)"
    echo "gpu compute capability, max SM clock:" \
      "$(smi --query-gpu=compute_cap,clocks.max.sm --format=csv,noheader)"
    echo "driver's CUDA: $(smi | grep -o 'CUDA Version: [0-9.]*' | head -1)"
    echo "build: $bin"
    sed 's/^/build info: /' "$build_root/BUILD_INFO" 2> /dev/null
    echo "nvcc here: $( (command -v nvcc > /dev/null && nvcc --version | grep release) || echo no)"
    echo "compute-sanitizer:" \
      "$( (s=$(find_sanitizer) && "$s" --version 2>&1 | grep -i version | head -1) || echo none)"
    echo "python3: $(python3 --version 2>&1)"
  } > "$logs/env.txt"
  cat "$logs/env.txt"
  ((dry)) && check_names
  # One executable of each kind (they link the same libraries) and the carried libraries.
  local f kinds=()
  for f in "$build_root"/lib/*.so* "$(ls "$bin"/*_cuda_test | head -1)" \
    "$(ls "$bin"/*_bench | head -1)" "$(ls "$bin"/curnn-* | head -1)"; do
    [[ -f $f ]] && kinds+=("$f")
  done 2> /dev/null
  ((${#kinds[@]})) &&
    ldd "${kinds[@]}" 2> /dev/null | grep "not found" | sort -u > "$logs/missing-libs.txt"
  if [[ -s $logs/missing-libs.txt ]]; then
    say "missing shared libraries:"; cat "$logs/missing-libs.txt"
    ((dry)) && problem "missing shared libraries: $(tr -s ' \t\n' ' ' < "$logs/missing-libs.txt")"
  fi
}

# smi ARGS: nvidia-smi's first lines; a dry run reports a query the fake (and the real one) rejects.
smi() {
  local text rc
  text=$(nvidia-smi "$@" 2>&1); rc=$?
  ((rc == 0)) || { ((dry)) && problem "nvidia-smi $* fails: $(head -1 <<< "$text")"; }
  head -3 <<< "$text"
}
# check_names: the names this script's lists give exist (a dry run; a misspelt one would
# silently change what the GPU run does).
check_names() {
  local n t
  for n in "${NEVER_RAN[@]}" "${RAN_BEFORE[@]}"; do
    [[ -f tests/$n.cpp ]] || problem "NEVER_RAN/RAN_BEFORE name $n: no tests/$n.cpp"
  done
  for n in "${BENCH_FIRST[@]}"; do
    [[ -f bench/$n.cpp || -f bench/$n.cu ]] || problem "BENCH_FIRST name $n: no bench/$n.cpp"
  done
  for t in "${API_ERROR_TESTS[@]}"; do
    grep -qE "TEST(_F)?\(${t%%.*}, *${t#*.}\)" tests/*_cuda_test.cpp ||
      problem "API_ERROR_TESTS: no test $t in tests/*_cuda_test.cpp"
  done
}
# find_build: sets bin (the executables) and build_root (where COMMIT/BUILD_INFO are) and the
# library path: --build-dir, else the carried build, else (dry run) build/ or build-cpu/, else a
# build here (minutes: it eats the later stages' time).
find_build() {
  if [[ -n $build_dir ]]; then
    build_root=$build_dir
  elif [[ -f .carry/build.tar.gz ]]; then
    # A dry run unpacks a copy (the carried folder stays as it is); the GPU run unpacks in place.
    build_root=$repo/.carry
    if ((dry)); then
      build_root=$work/carry
      mkdir -p "$build_root" && cp .carry/COMMIT .carry/BUILD_INFO "$build_root/" 2> /dev/null
    fi
    if ! tar -C "$build_root" -xzf .carry/build.tar.gz; then
      problem "cannot unpack .carry/build.tar.gz"
      echo "cannot unpack .carry/build.tar.gz" > "$state/no_build"
      return 1
    fi
    export LD_LIBRARY_PATH="$build_root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  elif ((dry)) && [[ -d build/bin ]]; then
    build_root=$repo/build
  elif ((dry)) && [[ -d build-cpu/bin ]]; then
    build_root=$repo/build-cpu
  elif ((dry)); then
    problem "no build to check: give --build-dir, or build build/ or build-cpu/ first"
    echo "no build" > "$state/no_build"; return 1
  else
    say "no carried build (.carry/build.tar.gz): building for sm_90 here (takes minutes)"
    export PATH="$PATH:/usr/local/cuda/bin"
    build_root=$repo/build-device
    if ! timeout "$(cap 400)" bash -c 'cmake -S . -B build-device -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCURNN_USE_BLAS=OFF &&
      cmake --build build-device -j"$(nproc)"' > "$logs/build.log" 2>&1; then
      tail -30 "$logs/build.log"
      echo "the build here failed" > "$state/no_build"
      return 1
    fi
  fi
  bin=$build_root/bin
  say "executables: $bin ($(ls "$bin" | wc -l) files)"
  local d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [[ -d $d ]] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"
  done
  # CUDA 13 libraries from the Python wheels (PyTorch's), if the toolkit's are not on the path.
  local have_cublas=0
  ldconfig -p 2> /dev/null | grep -q libcublas.so.13 && have_cublas=1
  for d in ${LD_LIBRARY_PATH//:/ }; do
    compgen -G "$d/libcublas.so.13*" > /dev/null && have_cublas=1
  done
  if ((!have_cublas)); then
    for d in $(python3 -c 'import nvidia, os
print(" ".join(os.path.join(p, x, "lib") for p in nvidia.__path__ for x in os.listdir(p)))' \
      2> /dev/null); do
      [[ -d $d ]] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"
    done
  fi
  return 0
}

# ---- the CUDA tests ------------------------------------------------------------------------------
# discover: every *_cuda_test binary (tests/*_cuda_test.cpp, built only with CUDA) whose
# --gtest_list_tests under CUDA_FILTER lists a test; its tests in $logs/tests/NAME.list (one
# Suite.Test a line). Once per run.
discovered=0
discover() {
  ((discovered)) && return
  discovered=1
  local d=$logs/tests t name
  mkdir -p "$d"
  for t in "$bin"/*_cuda_test; do
    [[ -x $t ]] || continue
    name=$(basename "$t")
    (timeout 60 "$t" --gtest_list_tests --gtest_filter="$CUDA_FILTER" > "$d/$name.listing" 2>&1
      echo $? > "$d/$name.listing.rc") &
  done
  wait
  for t in "$d"/*.listing; do
    [[ -e $t ]] || continue
    name=$(basename "$t" .listing)
    if [[ $(cat "$t.rc") != 0 ]]; then
      echo "$name" >> "$state/cannot_start.txt"
      continue
    fi
    awk '/^[^ ]/ { suite = $1; next } /^  [^ ]/ { print suite $1 }' "$t" > "$d/$name.list"
    [[ -s $d/$name.list ]] || rm -f "$d/$name.list"
  done
}
listed_binaries() {  # the binaries with CUDA tests, in memcheck order
  local n f seen=" "
  for n in "${NEVER_RAN[@]}"; do [[ -f $logs/tests/$n.list ]] && echo "$n" && seen+="$n "; done
  for n in "${RAN_BEFORE[@]}"; do seen+="$n "; done
  for f in "$logs"/tests/*.list; do
    [[ -e $f ]] || continue
    n=$(basename "$f" .list); [[ $seen == *" $n "* ]] || echo "$n"
  done
  for n in "${RAN_BEFORE[@]}"; do [[ -f $logs/tests/$n.list ]] && echo "$n"; done
}
stage_tests() {
  touch "$state/tests.started"
  discover
  local d=$logs/tests name max=${DEVICE_CHECK_JOBS:-$(($(nproc) < 8 ? $(nproc) : 8))} lim
  local names; names=$(listed_binaries)
  if [[ -z $names ]]; then
    say "no test binary in $bin has CUDA tests"
    compgen -G "$bin/*_cuda_test" > /dev/null &&
      problem "no *_cuda_test binary in $bin lists a test under --gtest_filter=$CUDA_FILTER"
    return
  fi
  echo "$names" > "$d/order.txt"
  say "$(echo "$names" | wc -l) binaries, $(cat "$d"/*.list | wc -l) CUDA tests, $max at a time"
  for name in $names; do
    while (($(jobs -rp | wc -l) >= max)); do wait -n; done
    lim=$(left)
    if ((lim < 5)); then echo "the stage's budget was spent" > "$d/$name.notrun"; continue; fi
    (s=$(date +%s)
      CURNN_REQUIRE_GPU=1 timeout -k 5 "$lim" "$bin/$name" --gtest_filter="$CUDA_FILTER" \
        --gtest_color=no > "$d/$name.log" 2>&1
      echo $? > "$d/$name.rc"; echo "$(($(date +%s) - s)) $lim" > "$d/$name.time") &
  done
  wait
}

# ---- the apps on tiny data -----------------------------------------------------------------------
reproduce_apps() {  # the executables scripts/reproduce.sh runs (its apps=(...) line)
  sed -n 's/^apps=(\(.*\))$/\1/p' scripts/reproduce.sh
}
# reproduce MODE DATA DEST LIMIT LOG: scripts/reproduce.sh --MODE with this build's apps; in a dry
# run only its arguments are checked (reproduce.sh --help after them: it rejects unknown ones).
reproduce() {
  local mode=$1 data=$2 dest=$3 lim=$4 log=$5
  local args=("--$mode" --no-setup --build-dir "$build_root" --data-dir "$data" --no-fetch
    --out "$dest")
  echo "bash scripts/reproduce.sh ${args[*]}" > "$log.cmd"
  if ((dry)); then
    bash scripts/reproduce.sh "${args[@]}" --help > "$log" 2>&1 ||
      problem "scripts/reproduce.sh rejects the arguments ${args[*]}: $(tail -1 "$log")"
    echo 0 > "$log.rc"
    return
  fi
  timeout -k 10 "$lim" bash scripts/reproduce.sh "${args[@]}" > "$log" 2>&1
  echo $? > "$log.rc"
}
stage_smoke() {
  local a apps
  apps=$(reproduce_apps)
  if ((dry)); then
    [[ -n $apps ]] || problem "no apps=(...) line in scripts/reproduce.sh"
    for a in $apps; do [[ -x $bin/$a ]] || problem "the smoke stage needs $a, not in $bin"; done
    pycheck tests/support/make_tiny_data.py scripts/make_report.py
    reproduce smoke "$work/tiny-data" "$work/smoke-report" 1 "$logs/smoke.log"
    return
  fi
  if ! python3 tests/support/make_tiny_data.py "$work/tiny-data" > "$logs/tiny-data.log" 2>&1; then
    echo "python3 tests/support/make_tiny_data.py" > "$logs/smoke.log.cmd"
    cp "$logs/tiny-data.log" "$logs/smoke.log"; echo 1 > "$logs/smoke.log.rc"
    return
  fi
  reproduce smoke "$work/tiny-data" "$work/smoke-report" "$(left)" "$logs/smoke.log"
  [[ -f $work/smoke-report/report.md ]] && cp "$work/smoke-report/report.md" "$logs/smoke-report.md"
  rm -rf "$work/tiny-data" "$work"/smoke-report*
}
pycheck() {  # pycheck FILE...: each Python file parses (a dry run; nothing is written)
  local f
  for f; do
    python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$f" \
      2> "$logs/pycheck.err" || problem "$f does not parse: $(tail -1 "$logs/pycheck.err")"
  done
}

# ---- compute-sanitizer ---------------------------------------------------------------------------
find_sanitizer() {
  local s
  local wheel  # pip's nvidia-cuda-sanitizer-api
  wheel=$(python3 -c 'import nvidia; print(list(nvidia.__path__)[0])' 2> /dev/null)
  for s in "$(command -v compute-sanitizer 2> /dev/null)" /usr/local/cuda/bin/compute-sanitizer \
    /usr/local/cuda*/bin/compute-sanitizer \
    "$wheel/cuda_sanitizer_api/compute-sanitizer/compute-sanitizer"; do
    [[ -n $s && -x $s ]] && { echo "$s"; return 0; }
  done
  return 1
}
# san TOOL NAME FILTER LOG: one sanitizer job, its rc and time beside LOG.
san() {
  local tool=$1 name=$2 filter=$3 log=$4 lim s
  lim=$(cap "$SAN_CAP")
  [[ $log == */probe.log ]] || echo "$tool $name" >> "$(dirname "$log")/jobs.txt"
  echo "$filter" > "$log.filter"
  s=$(date +%s)
  CURNN_REQUIRE_GPU=1 timeout -k 5 "$lim" "$sanitizer" --tool "$tool" --error-exitcode 99 \
    --print-limit 20 "$bin/$name" --gtest_filter="$filter" --gtest_color=no > "$log" 2>&1
  echo $? > "$log.rc"
  echo "$(($(date +%s) - s)) $lim" > "$log.time"
}
stage_sanitizers() {
  discover
  local d=$logs/sanitizers name tool probe_bin probe_test shared k
  mkdir -p "$d"
  sanitizer=$(find_sanitizer) || { echo "compute-sanitizer not found" > "$d/unavailable"; return; }
  # The probe: one short test that passed without the sanitizer (any listed one in a dry run).
  probe_bin=core_cuda_test
  [[ -f $logs/tests/$probe_bin.list ]] || probe_bin=$(listed_binaries | head -1)
  [[ -n $probe_bin ]] || { echo "no CUDA test binary to run it on" > "$d/unavailable"; return; }
  local candidates passed
  candidates=$(grep -vxF -f <(printf '%s\n' "${API_ERROR_TESTS[@]}") "$logs/tests/$probe_bin.list")
  passed=$(sed -n 's/^\[       OK \] \([^ ]*\) (.*/\1/p' "$logs/tests/$probe_bin.log" 2> /dev/null)
  probe_test=$(grep -xF -f <(echo "$passed") <<< "$candidates" | head -1)
  [[ -n $probe_test ]] || probe_test=$(head -1 <<< "$candidates")
  say "probe: memcheck on $probe_bin --gtest_filter=$probe_test"
  san memcheck "$probe_bin" "$probe_test" "$d/probe.log"
  python3 scripts/device_check_report.py sanitizer-probe "$d/probe.log" > "$d/probe.verdict"
  if [[ $(head -1 "$d/probe.verdict") != ok ]]; then
    sed -n '2p' "$d/probe.verdict" > "$d/unavailable"
    say "sanitizer unavailable: $(cat "$d/unavailable")"
    return
  fi
  # racecheck: the kernels with shared memory (kernels/NAME.cu -> NAME_cuda_test).
  shared=" "
  for k in $(grep -l __shared__ kernels/*.cu 2> /dev/null); do
    k=$(basename "$k" .cu)_cuda_test
    shared+="$k "
    [[ -f $logs/tests/$k.list ]] || echo "$k" >> "$d/racecheck-missing"
  done
  local memcheck_filter
  memcheck_filter="$CUDA_FILTER:-$(IFS=:; echo "${API_ERROR_TESTS[*]}")"
  for name in $(listed_binaries); do
    for tool in memcheck racecheck; do
      [[ $tool == racecheck && $shared != *" $name "* ]] && continue
      if (($(left) < 10)); then
        echo "the stage's budget was spent" > "$d/$tool.$name.log.notrun"
        echo "$tool $name" >> "$d/jobs.txt"
        continue
      fi
      say "$tool $name (up to $(cap "$SAN_CAP") s)"
      san "$tool" "$name" "$memcheck_filter" "$d/$tool.$name.log"
    done
  done
}

# ---- benchmarks ----------------------------------------------------------------------------------
bench_filter() { [[ $1 == ptb_train_bench ]] && echo 'cuda_' || echo '.'; }
# The word2vec trainer's words/s with its analogy accuracy (bench/w2v_gpu_quality): the CPU
# trainer on every core (negatives per pair and per window), then the GPU pair and window
# kernels, on the first 40 MB of wiki8.
w2v_quality() {
  local d=$1 data=$repo/.carry/data exe=$bin/w2v_gpu_quality
  local corpus=$data/text8-substitute/wiki8.gz questions=$data/word2vec-eval/questions-words.txt.gz
  if [[ ! -x $exe ]]; then
    echo "no $exe" > "$d/w2v_gpu_quality.notrun"
    ((dry)) && problem "the bench stage needs w2v_gpu_quality, not in $bin"
    return
  fi
  if ((dry)); then
    "$exe" --help > "$d/w2v_gpu_quality.txt" 2>&1 ||
      problem "w2v_gpu_quality --help fails: $(tail -1 "$d/w2v_gpu_quality.txt")"
    return
  fi
  if [[ ! -f $corpus || ! -f $questions ]]; then
    echo "no carried wiki8 or analogy questions in $data" > "$d/w2v_gpu_quality.notrun"
    return
  fi
  gzip -dc "$corpus" | head -c 40000000 > "$work/wiki8-40M"
  say "w2v_gpu_quality (up to $(cap $W2V_QUALITY_CAP) s)"
  timeout -k 5 "$(cap $W2V_QUALITY_CAP)" "$exe" --train "$work/wiki8-40M" --questions "$questions" \
    > "$d/w2v_gpu_quality.txt" 2>&1
  echo $? > "$d/w2v_gpu_quality.rc"
  rm -f "$work/wiki8-40M"
}
stage_bench() {
  local d=$logs/bench n b names seen=" "
  mkdir -p "$d"
  names=$(for n in "${BENCH_FIRST[@]}"; do [[ -x $bin/$n ]] && echo "$n" && seen+="$n "; done
    for b in "$bin"/*_cuda_bench; do
      [[ -x $b ]] || continue
      n=$(basename "$b"); [[ $seen == *" $n "* ]] || echo "$n"
    done)
  if [[ -z $names ]]; then
    echo "no CUDA benchmarks in $bin" > "$d/none"
    ((dry)) && say "no CUDA benchmarks in $bin (built without them): the stage is listed, not run"
    return
  fi
  w2v_quality "$d"
  for n in $names; do
    echo "$n" >> "$d/jobs.txt"
    timeout 60 "$bin/$n" --benchmark_list_tests --benchmark_filter="$(bench_filter "$n")" \
      > "$d/$n.list" 2>&1 ||
      { ((dry)) && problem "$n --benchmark_list_tests fails: $(tail -1 "$d/$n.list")"; }
    [[ -s $d/$n.list ]] ||
      { ((dry)) && problem "$n: the filter '$(bench_filter "$n")' matches no benchmark"; }
    if (($(left) < 5)); then echo "the stage's budget was spent" > "$d/$n.notrun"; continue; fi
    say "$n (up to $(cap $BENCH_CAP) s)"
    timeout -k 5 "$(cap $BENCH_CAP)" "$bin/$n" --benchmark_filter="$(bench_filter "$n")" \
      --benchmark_min_time=0.05 --benchmark_format=console --benchmark_out="$d/$n.json" \
      --benchmark_out_format=json --benchmark_color=false > "$d/$n.txt" 2>&1
    echo $? > "$d/$n.rc"
  done
}

# ---- PyTorch / cuDNN baseline --------------------------------------------------------------------
stage_baseline() {
  local args=(bench/pytorch_baseline.py --out "$logs/pytorch_baseline.json")
  echo "python3 ${args[*]}" > "$logs/baseline.cmd"
  if ((dry)); then
    pycheck bench/pytorch_baseline.py
    python3 "${args[@]}" --check-args > "$logs/baseline.txt" 2>&1 ||
      problem "bench/pytorch_baseline.py rejects its arguments: $(tail -1 "$logs/baseline.txt")"
    return
  fi
  PYTHONUNBUFFERED=1 timeout -k 5 "$(left)" python3 "${args[@]}" > "$logs/baseline.txt" 2>&1
  echo $? > "$logs/baseline.rc"
}

# ---- the experiments' full runs (--apps) ---------------------------------------------------------
stage_apps() {
  local data=$repo/.carry/data
  if [[ ! -d $data ]]; then
    echo "no carried data in $data (scripts/device-bundle.sh copies it)" > "$logs/apps.skipped"
    ((dry)) || return
  fi
  reproduce full "$data" "$work/apps-report" "$(left)" "$logs/apps.log"
  local r
  for r in "$work/apps-report" "$work/apps-report.partial"; do
    [[ -d $r ]] || continue
    [[ -f $r/report.md ]] && cp "$r/report.md" "$logs/apps-report.md"
    rm -f "$r"/word2vec/embeddings.txt "$r"/word2vec/vectors.bin
    tar -C "$work" -czf "$out/apps-report.tar.gz" "$(basename "$r")"
  done
}

# ---- the run -------------------------------------------------------------------------------------
final_rc=0
finish() {  # the final summary and tarball; the device tool's rules for $OUT checked
  report --final; final_rc=$?; pack
  if ! python3 scripts/device_check_report.py check-out "$out" > "$state/out-check.txt" 2>&1; then
    problem "what comes back from \$OUT breaks the device tool's rules:" \
      "$(tr '\n' ' ' < "$state/out-check.txt")"
    report --final; final_rc=$?; pack
  fi
  echo
  cat "$out/summary.md"
}
for row in "${stage_table[@]}"; do
  IFS=: read -r name budget _ <<< "$row"
  run_stage "$name" "$budget"
  if [[ $name == env && ( -e $state/no_gpu || -e $state/no_build ) ]]; then
    say "$(cat "$state/no_gpu" "$state/no_build" 2> /dev/null | head -1): nothing to check"
    finish
    exit 2
  fi
done
finish
say "finished in $(now) s: $(head -1 "$state/verdict.txt")"
exit $final_rc
