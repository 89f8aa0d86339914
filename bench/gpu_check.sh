#!/usr/bin/env bash
# One prepared run on the GPU machine (docs/gpu_check.md):
#   bash bench/gpu_check.sh OUTDIR             the run (one H200: about 8 minutes)
#   bash bench/gpu_check.sh --dry-run OUTDIR   here, without a GPU: prints every step's command
#                                              and checks its programs, options, test filters and
#                                              files; exit 0 when every check passed
# Steps, in this order, so that one lent GPU always yields the performance figures:
# 1. the data slice (.device-carry/data, bench/prepare_gpu_carry.sh; else a synthetic one)
# 2. unpacks .device-carry/debs into a prefix: OpenBLAS, GoogleTest, Google Benchmark, zlib,
#    which the machine lacks; finds cuDNN (pip) and cuBLAS
# 3. configures and builds a CUDA build (sm_90, Ninja, all cores) into build-gpu/
# 4. ctest: the whole test suite, GPU tests included                 -> OUTDIR/ctest.log
# 5. benchmarks: dlfs_bench_gpu                                      -> OUTDIR/gpu-kernels.json
#                dlfs bench (training throughput)                    -> OUTDIR/training.json
#                bench/compare_pytorch.py (dlfs beside PyTorch)      -> OUTDIR/compare_pytorch.json
#                data-parallel training over NCCL, a world of one    -> OUTDIR/nccl.log
#                dlfs bench --profile (ms per graph node, ResNet-18)  -> OUTDIR/profile.json
# 6. sanitizers: compute-sanitizer memcheck on the GPU tests         -> OUTDIR/memcheck-*.log
#                racecheck on the kernels that use shared memory     -> OUTDIR/racecheck-kernels.log
# Every step runs under a timeout cut from one budget (GPU_CHECK_BUDGET_S, default 480 s, build
# included), a failing step does not stop the later ones, and OUTDIR/summary.txt is always
# written: the steps, then test failures, sanitizer findings and benchmark figures apart.
# Exit status: 0 when every step that ran passed, no test failed and no sanitizer found anything.
# GPU_CHECK_EXTRA_FILTER (for scripts/gpu_check_dry_run.sh only) adds a gtest pattern to the
# memcheck kernels filter, so that the test can show the dry run rejecting a bad one.
set -u -o pipefail

DRY_RUN=0
if [ "${1:-}" = "--dry-run" ]; then
  DRY_RUN=1
  shift
fi
if [ $# -ne 1 ]; then
  echo "usage: bash bench/gpu_check.sh [--dry-run] OUTDIR" >&2
  exit 2
fi
mkdir -p "$1" || exit 2
OUT="$(cd "$1" && pwd)"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 2

# ---- budget and caps (docs/gpu_check.md) --------------------------------------------------------
# Caps are upper bounds; each step is also cut to what is left of the budget (SUMMARY_RESERVE_S
# kept for the summary), so the whole run ends within GPU_CHECK_BUDGET_S.
BUDGET_S="${GPU_CHECK_BUDGET_S:-480}"
SUMMARY_RESERVE_S=10
CAP_CONFIGURE=60
CAP_BUILD=240
CAP_CTEST=80
BENCH_RESERVE_S=150 # ctest ends this long before the deadline: the benchmarks' time
CAP_BENCH_KERNELS=75
CAP_BENCH_TRAINING=40
CAP_COMPARE=75
CAP_NCCL=30
CAP_PROFILE=20
CAP_RACECHECK=40
SAN_RC=86 # compute-sanitizer --error-exitcode: findings; a failing gtest binary exits 1
# memcheck, in this order: suite|cap|gtest filter. DLFS_POOL_CACHING=0 makes every request a raw
# cudaMalloc, so the two steady-state pool tests fail by design, and the 4 TiB allocation of
# OutOfMemoryIsAnExceptionWithStats is an API error to the sanitizer: all three are excluded
# (ctest runs them with the pool on).
KERNELS_POSITIVE="*Gpu*${GPU_CHECK_EXTRA_FILTER:+:$GPU_CHECK_EXTRA_FILTER}"
MEMCHECK_PLAN=(
  "kernels|60|$KERNELS_POSITIVE-ThrustPoolGpu.RepeatedCallsMakeNoNewDeviceAllocations"
  "layers|40|*Gpu*"
  "runtime|20|CudaRuntime.*-CudaRuntime.DevicePoolReachesASteadyState:CudaRuntime.OutOfMemoryIsAnExceptionWithStats"
  "optim|20|OptimizerUpdateGpu.*"
  "models|15|GraphGpu.*"
)
BENCH_MODELS=lenet5,resnet18
PROFILE_MODEL=resnet18 # its 28x28 variant at batch 64: which layers a GPU step spends its time in

START_S=$(date +%s)
DEADLINE_S=$((START_S + BUDGET_S))
BUILD="$REPO/build-gpu"
PREFIX="${GPU_CHECK_PREFIX:-/tmp/dlfs-prefix}"
ARCH=x86_64-linux-gnu
JOBS=$(nproc 2>/dev/null || echo 4)
CTEST_JOBS=$((JOBS > 8 ? 8 : JOBS))
CARRY_DATA="$REPO/.device-carry/data"
FALLBACK_DATA="$PREFIX-data" # written where the carry has no usable slice
SUMMARY="$OUT/summary.txt"
SEC_TESTS="$OUT/summary-tests.part"
SEC_SAN="$OUT/summary-sanitizers.part"
SEC_BENCH="$OUT/summary-benchmarks.part"
FAILED=0
TEST_FAILURES=0
SAN_FINDINGS=0
BENCH_FAILURES=0

: > "$SUMMARY"
: > "$SEC_TESTS"
: > "$SEC_SAN"
: > "$SEC_BENCH"
note() { echo "$*" | tee -a "$SUMMARY"; }
sec_tests() { echo "$*" >> "$SEC_TESTS"; }
sec_san() { echo "$*" >> "$SEC_SAN"; }
sec_bench() { echo "$*" >> "$SEC_BENCH"; }

# A command as one line that bash would read back: plain words as they are, others quoted.
show_cmd() {
  local w out=""
  for w in "$@"; do
    if [[ "$w" =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then
      out="$out $w"
    else
      out="$out '${w//\'/\'\\\'\'}'"
    fi
  done
  echo "${out# }"
}

# ---- dry-run checks ------------------------------------------------------------------------------
CHECKS=0
PROBLEMS=0
check_ok() {
  CHECKS=$((CHECKS + 1))
  note "      ok: $*"
}
check_fail() {
  CHECKS=$((CHECKS + 1))
  PROBLEMS=$((PROBLEMS + 1))
  note "      PROBLEM: $*"
}
check_info() { note "      note: $*"; }

# Tools that only the GPU machine needs to have (CUDA driver and toolkit).
GPU_ONLY_TOOLS=" nvidia-smi compute-sanitizer nvcc "
CMAKE_FILES=()
while IFS= read -r f; do CMAKE_FILES+=("$f"); done < <(
  find "$REPO" \( -path "$REPO/build*" -o -path "$REPO/.git" -o -path "$REPO/.device-carry" \) \
    -prune -o \( -name CMakeLists.txt -o -name '*.cmake' \) -type f -print 2>/dev/null | sort)

# The tests of tests/FOLDER as gtest would name them: Suite.Name, Suite/0.Name (typed),
# Inst/Suite.Name/0 (parameterised); macros split over lines are joined first.
list_tests() {
  local f
  for f in "$REPO/tests/$1"/*.cpp; do
    [ -f "$f" ] || continue
    tr '\n' ' ' < "$f" | grep -oE '\b(TEST|TEST_F|TYPED_TEST|TEST_P)\([[:space:]]*[A-Za-z0-9_]+[[:space:]]*,[[:space:]]*[A-Za-z0-9_]+[[:space:]]*\)'
  done | sed -E 's/[[:space:]]//g; s/\(/ /; s/,/ /; s/\)//' | awk '
    $1 == "TYPED_TEST" { print $2 "/0." $3; next }
    $1 == "TEST_P" { print "P/" $2 "." $3 "/0"; next }
    { print $2 "." $3 }'
}

# check_gtest_filter BINARY FOLDER FILTER: each pattern, positive or negative, names a test.
check_gtest_filter() {
  local bin=$1 folder=$2 filter=$3 tests pos neg pat name n selected=0
  tests=$(list_tests "$folder")
  if [ -z "$tests" ]; then
    check_fail "$bin: no TEST in tests/$folder/*.cpp"
    return
  fi
  pos=${filter%%-*}
  neg=""
  [[ "$filter" == *-* ]] && neg=${filter#*-}
  [ -z "$pos" ] && pos="*"
  local IFS=:
  for pat in $pos; do
    n=0
    while IFS= read -r name; do
      # shellcheck disable=SC2053 # $pat is a gtest glob
      [[ "$name" == $pat ]] && n=$((n + 1))
    done <<< "$tests"
    if [ "$n" -gt 0 ]; then
      check_ok "$bin filter pattern '$pat' matches $n tests in tests/$folder"
    else
      check_fail "$bin filter pattern '$pat' matches no TEST in tests/$folder/*.cpp"
    fi
  done
  for pat in $neg; do
    n=0
    while IFS= read -r name; do
      # shellcheck disable=SC2053
      [[ "$name" == $pat ]] && n=$((n + 1))
    done <<< "$tests"
    if [ "$n" -gt 0 ]; then
      check_ok "$bin excluded pattern '$pat' names an existing test"
    else
      check_fail "$bin excluded pattern '$pat' matches no TEST in tests/$folder/*.cpp (stale exclusion)"
    fi
  done
  while IFS= read -r name; do
    local in=0 out=0
    for pat in $pos; do
      # shellcheck disable=SC2053
      [[ "$name" == $pat ]] && in=1
    done
    for pat in $neg; do
      # shellcheck disable=SC2053
      [[ "$name" == $pat ]] && out=1
    done
    [ "$in" = 1 ] && [ "$out" = 0 ] && selected=$((selected + 1))
  done <<< "$tests"
  check_info "$bin: the filter selects $selected tests"
}

# A program that exists only after the build: its target is defined in a CMakeLists.txt and its
# output lands at the path used. Prints the test folder for test suites.
TEST_FOLDER=""
check_build_output() {
  local path=$1 rel target cm srcdir props outdir expected
  rel=${path#"$BUILD"/}
  target=$(basename "$rel")
  TEST_FOLDER=""
  cm=$(grep -lE "(add_executable|dlfs_test_suite)\([[:space:]]*$target([[:space:]]|\))" \
    "${CMAKE_FILES[@]}" 2>/dev/null | head -1)
  if [ -z "$cm" ]; then
    check_fail "build-gpu/$rel: no add_executable($target) or dlfs_test_suite($target) in any CMakeLists.txt"
    return
  fi
  srcdir=$(dirname "${cm#"$REPO"/}")
  [ "$srcdir" = "$(dirname "$cm")" ] && srcdir=.
  props=$(tr '\n' ' ' < "$cm" | grep -oE "set_target_properties\([[:space:]]*${target}[[:space:]]+PROPERTIES[[:space:]]+RUNTIME_OUTPUT_DIRECTORY[[:space:]]+[^ )]+" | head -1)
  outdir=${props##* }
  # shellcheck disable=SC2016 # CMake's ${...}, not the shell's
  case "$outdir" in
    '${CMAKE_BINARY_DIR}'*) expected=${outdir#'${CMAKE_BINARY_DIR}'}; expected=${expected#/} ;;
    *) expected=$srcdir ;; # CMake's default: the binary folder of the defining CMakeLists.txt
  esac
  [ -z "$expected" ] && expected=.
  local shown=build-gpu/$expected
  [ "$expected" = . ] && shown=build-gpu
  if [ "$(dirname "$rel")" = "$expected" ]; then
    check_ok "build-gpu/$rel: target $target (${cm#"$REPO"/}) is built into $shown"
  else
    check_fail "build-gpu/$rel: target $target (${cm#"$REPO"/}) is built into $shown, not build-gpu/$(dirname "$rel")"
  fi
  TEST_FOLDER=$(grep -oE "dlfs_test_suite\([[:space:]]*${target}[[:space:]]+[A-Za-z0-9_/]+" "$cm" \
    | head -1 | awk '{print $2}')
}

check_file() { # PATH WHAT
  if [ -e "$1" ]; then check_ok "$2 ${1#"$REPO"/} exists"; else check_fail "$2 ${1#"$REPO"/} is missing"; fi
}

# The long options a program accepts, one a line, from its sources.
options_of_python() { grep -oE "add_argument\([[:space:]]*\"--[A-Za-z0-9-]+\"" "$1" | grep -oE -- '--[A-Za-z0-9-]+'; }
options_of_dlfs_command() { # COMMAND: the file that declares Options for it, its add/add_flag names
  local f
  f=$(grep -lE "Options [a-z_]+\((std::string\()?\"$1\"" "$REPO"/apps/*.cpp | head -1)
  [ -n "$f" ] && grep -oE "\.add(_flag)?\(\"[a-z0-9-]+\"" "$f" | sed -E 's/.*\("/--/; s/"$//'
}
options_of_bench_gpu() { grep -oE 'arg == "--[a-z0-9-]+"' "$REPO/bench/gpu/main.cpp" | grep -oE -- '--[a-z0-9-]+'; }

# check_options WHAT OPTIONS-LIST ARGS...: every --option among ARGS is in the list.
check_options() {
  local what=$1 known=$2 a opt
  shift 2
  if [ -z "$known" ]; then
    check_fail "$what: found no option declarations"
    return
  fi
  for a in "$@"; do
    [[ "$a" == --* ]] || continue
    opt=${a%%=*}
    if grep -qxF -- "$opt" <<< "$known"; then
      check_ok "$what accepts $opt"
    else
      check_fail "$what has no option $opt"
    fi
  done
}

# value_of OPTION ARGS...: the value after OPTION (or in OPTION=VALUE).
value_of() {
  local opt=$1 prev=""
  shift
  for a in "$@"; do
    [ "$prev" = "$opt" ] && { echo "$a"; return; }
    [[ "$a" == "$opt="* ]] && { echo "${a#*=}"; return; }
    prev=$a
  done
}

check_models() { # LIST [pytorch]: each model is in models/catalog.cpp (and bench/pytorch_models.py)
  local m
  for m in ${1//,/ }; do
    m=${m%@*}
    if grep -qF "{\"$m\"," "$REPO/models/catalog.cpp"; then
      check_ok "model $m is in models/catalog.cpp"
    else
      check_fail "model $m is not in models/catalog.cpp"
    fi
    if [ "${2:-}" = pytorch ]; then
      if grep -qF "\"$m\"" "$REPO/bench/pytorch_models.py"; then
        check_ok "model $m has a PyTorch twin in bench/pytorch_models.py"
      else
        check_fail "model $m has no PyTorch twin in bench/pytorch_models.py"
      fi
    fi
  done
}

check_data_dir() {
  case "$1" in
    "$CARRY_DATA")
      if [ -d "$CARRY_DATA" ]; then
        if python3 "$REPO/bench/idx_slice.py" check "$CARRY_DATA" > "$OUT/dry-run-data-check.log" 2>&1; then
          check_ok "carried data: $(tail -1 "$OUT/dry-run-data-check.log")"
        else
          check_fail "carried data ${CARRY_DATA#"$REPO"/} is broken: $(tail -1 "$OUT/dry-run-data-check.log") (rerun bench/prepare_gpu_carry.sh)"
        fi
      else
        check_info "${CARRY_DATA#"$REPO"/} absent here; bench/prepare_gpu_carry.sh makes it (checked below), else the run generates $FALLBACK_DATA"
      fi
      ;;
    "$FALLBACK_DATA") check_info "$FALLBACK_DATA is written by the data step (bench/idx_slice.py synthetic)" ;;
    *) check_fail "data directory $1 is neither the carried slice nor the generated one" ;;
  esac
}

# The options compare_pytorch.py passes to `dlfs train` (read from its source with Python's ast).
dlfs_train_options_in_compare() {
  python3 - "$REPO/bench/compare_pytorch.py" <<'PY'
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
for node in ast.walk(tree):
    if isinstance(node, ast.List) and len(node.elts) > 1 and \
            isinstance(node.elts[1], ast.Constant) and node.elts[1].value == "train":
        for e in node.elts:
            if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value.startswith("--"):
                print(e.value)
PY
}

# Options of compute-sanitizer that take a value, and the values this script uses (NVIDIA's
# compute-sanitizer documentation); where the tool exists here, its --help is asked as well.
SANITIZER_OPTIONS=$'--tool\n--error-exitcode\n--leak-check\n--racecheck-report'

# dry_check CMD...: the checks for one command.
dry_check() {
  local -a argv=("$@")
  local i=0 prog
  if [ "${argv[0]}" = env ]; then
    i=1
    while [[ "${argv[$i]}" == *=* ]]; do
      local var=${argv[$i]%%=*}
      if [[ "$var" == DLFS_* ]]; then
        if grep -rqF "getenv(\"$var\")" "$REPO"/runtime "$REPO"/kernels "$REPO"/apps 2>/dev/null; then
          check_ok "environment $var is read by the sources (getenv)"
        else
          check_fail "environment $var is read nowhere (no getenv(\"$var\") in runtime/, kernels/, apps/)"
        fi
      fi
      i=$((i + 1))
    done
    check_program env
  fi
  prog=${argv[$i]}
  local -a rest=("${argv[@]:$((i + 1))}")
  case "$prog" in
    *compute-sanitizer)
      check_program "$prog"
      local j=0 known="$SANITIZER_OPTIONS" help=""
      command -v "$prog" >/dev/null 2>&1 && help=$("$prog" --help 2>&1)
      while [[ "${rest[$j]:-}" == --* ]]; do
        if grep -qxF -- "${rest[$j]}" <<< "$known" && { [ -z "$help" ] || grep -qF -- "${rest[$j]}" <<< "$help"; }; then
          check_ok "compute-sanitizer option ${rest[$j]} ${rest[$((j + 1))]:-}"
        else
          check_fail "compute-sanitizer option ${rest[$j]} is not one this script knows it has"
        fi
        case "${rest[$j]} ${rest[$((j + 1))]:-}" in
          "--tool memcheck" | "--tool racecheck" | "--leak-check no" | "--leak-check full" | \
            "--racecheck-report all" | "--racecheck-report hazard" | "--error-exitcode $SAN_RC") ;;
          *) check_fail "compute-sanitizer value '${rest[$((j + 1))]:-}' of ${rest[$j]} is not one this script uses" ;;
        esac
        j=$((j + 2))
      done
      dry_check "${rest[@]:$j}"
      ;;
    "$BUILD"/*)
      check_build_output "$prog"
      case "$prog" in
        "$BUILD"/tests/*)
          local a
          for a in "${rest[@]}"; do
            case "$a" in
              --gtest_filter=*) [ -n "$TEST_FOLDER" ] && check_gtest_filter "$(basename "$prog")" "$TEST_FOLDER" "${a#--gtest_filter=}" ;;
              *) check_fail "$(basename "$prog"): unexpected argument $a" ;;
            esac
          done
          ;;
        "$BUILD"/dlfs)
          local sub=${rest[0]:-}
          if grep -qF "command == \"$sub\"" "$REPO/apps/main.cpp"; then
            check_ok "dlfs has the command $sub (apps/main.cpp)"
          else
            check_fail "dlfs has no command '$sub' (apps/main.cpp)"
          fi
          check_options "dlfs $sub" "$(options_of_dlfs_command "$sub")" "${rest[@]:1}"
          local models
          models=$(value_of --models "${rest[@]:1}")
          [ -n "$models" ] && check_models "$models"
          ;;
        "$BUILD"/bench/gpu/dlfs_bench_gpu)
          check_options dlfs_bench_gpu "$(options_of_bench_gpu)" "${rest[@]}"
          ;;
      esac
      ;;
    python3)
      check_program python3
      local script=${rest[0]:-}
      check_file "$script" script
      [ -f "$script" ] || return
      check_options "$(basename "$script")" "$(options_of_python "$script")" "${rest[@]:1}"
      if [ "$(basename "$script")" = compare_pytorch.py ]; then
        local dlfs_bin data models
        dlfs_bin=$(value_of --dlfs "${rest[@]:1}")
        data=$(value_of --data "${rest[@]:1}")
        models=$(value_of --models "${rest[@]:1}")
        if [ -n "$dlfs_bin" ]; then check_program "$dlfs_bin"; else check_fail "compare_pytorch.py without --dlfs (its default is build/dlfs, which the GPU machine lacks)"; fi
        if [ -n "$data" ]; then check_data_dir "$data"; else check_fail "compare_pytorch.py without --data (its default, Fashion-MNIST, is not on the GPU machine)"; fi
        [ -n "$models" ] && check_models "$models" pytorch
        local -a train_opts
        mapfile -t train_opts < <(dlfs_train_options_in_compare)
        if [ "${#train_opts[@]}" -gt 0 ]; then
          check_options "dlfs train (as compare_pytorch.py calls it)" \
            "$(options_of_dlfs_command train)" "${train_opts[@]}"
        else
          check_fail "compare_pytorch.py: found no dlfs train command line in it"
        fi
      fi
      ;;
    cmake)
      check_program cmake
      local a var
      for a in "${rest[@]}"; do
        case "$a" in
          -G) ;;
          Ninja) check_program ninja ;;
          -D*)
            var=${a#-D}
            var=${var%%=*}
            case "$var" in
              DLFS_*)
                if grep -qE "\b$var\b" "${CMAKE_FILES[@]}"; then
                  check_ok "CMake variable $var is used by the project's CMake files"
                else
                  check_fail "CMake variable $var appears in no CMakeLists.txt or cmake/*.cmake"
                fi
                ;;
              CMAKE_PROJECT_dlfs_INCLUDE)
                if grep -qE '^project\(dlfs ' "$REPO/CMakeLists.txt"; then
                  check_ok "the top CMakeLists.txt declares project(dlfs)"
                else
                  check_fail "CMAKE_PROJECT_dlfs_INCLUDE: the top CMakeLists.txt does not declare project(dlfs)"
                fi
                check_file "${a#*=}" "project include"
                ;;
            esac
            ;;
        esac
      done
      ;;
    *) check_program "$prog" ;;
  esac
}

check_program() {
  local p=$1 base
  case "$p" in
    "$BUILD"/*)
      check_build_output "$p"
      return
      ;;
  esac
  base=$(basename "$p")
  if command -v "$p" >/dev/null 2>&1; then
    check_ok "program $base exists here ($(command -v "$p"))"
  elif [[ "$GPU_ONLY_TOOLS" == *" $base "* ]]; then
    check_info "$base is absent on this machine; the GPU machine has it with its CUDA driver and toolkit (where not, the run skips its steps with a line)"
  else
    check_fail "program $p is not found on this machine"
  fi
}

# ---- running steps ------------------------------------------------------------------------------
# Seconds a step may take: its own cap, but never past the deadline less RESERVE (the summary's
# time, plus what later steps are promised).
step_timeout() {
  local cap=$1 reserve=${2:-0} left
  left=$((DEADLINE_S - $(date +%s) - SUMMARY_RESERVE_S - reserve))
  [ "$left" -lt "$cap" ] && cap=$left
  echo "$cap"
}

# run_step NAME CAP_S LOG CMD...: runs CMD under timeout with output to LOG, notes the result.
# Returns CMD's status (124 on timeout, 125 when there was no time left to start it). RESERVE_S,
# when set for the call, is kept free for later steps. In a dry run: prints and checks CMD.
run_step() {
  local name=$1 cap=$2 log=$3
  shift 3
  if [ "$DRY_RUN" = 1 ]; then
    note "$(printf '%-20s cap %3ss  log %s' "$name" "$cap" "${log#"$OUT"/}")"
    note "    timeout -k 5 $cap $(show_cmd "$@")"
    dry_check "$@"
    return 0
  fi
  local t
  t=$(step_timeout "$cap" "${RESERVE_S:-0}")
  if [ "$t" -lt 5 ]; then
    note "$(printf '%-20s SKIPPED (out of time budget %ss)' "$name" "$BUDGET_S")"
    return 125
  fi
  local began rc took
  began=$(date +%s)
  timeout -k 5 "$t" "$@" > "$log" 2>&1
  rc=$?
  took=$(($(date +%s) - began))
  if [ "$rc" = 0 ]; then
    note "$(printf '%-20s ok        %4ss  %s' "$name" "$took" "${log#"$OUT"/}")"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    note "$(printf '%-20s TIMEOUT   %4ss  (limit %ss) %s' "$name" "$took" "$t" "${log#"$OUT"/}")"
  elif [ "$rc" = "$SAN_RC" ]; then
    note "$(printf '%-20s FINDINGS  %4ss  %s' "$name" "$took" "${log#"$OUT"/}")"
  else
    note "$(printf '%-20s FAILED    %4ss  rc=%s %s' "$name" "$took" "$rc" "${log#"$OUT"/}")"
  fi
  return "$rc"
}

skipped() { note "$(printf '%-20s SKIPPED (%s)' "$1" "$2")"; }
section() { note ""; note "== $*"; }

if [ "$DRY_RUN" = 1 ]; then
  note "dlfs gpu_check DRY RUN $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null): nothing is built or run; each step's command is printed as the GPU run would run it and checked here"
  note "budget ${BUDGET_S}s; -j $JOBS (here; nproc on the GPU machine), ctest -j $CTEST_JOBS"
else
  note "dlfs gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null), $JOBS cores, budget ${BUDGET_S}s"
fi
note "commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"

# ---- the machine ------------------------------------------------------------------------------
gpu_name=""
if [ "$DRY_RUN" = 1 ]; then
  section "machine information (machine.txt)"
  note "    nvidia-smi; nvcc --version; c++ --version; cmake --version; ninja --version; python3 --version; ldd --version"
  for p in nvidia-smi nvcc c++ cmake ninja python3 timeout; do check_program "$p"; done
else
  {
    echo "== nvidia-smi"
    timeout 20 nvidia-smi 2>&1 || echo "nvidia-smi unavailable"
    echo "== nvcc"
    (command -v nvcc || ls /usr/local/cuda/bin/nvcc) 2>&1
    (nvcc --version || /usr/local/cuda/bin/nvcc --version) 2>&1 | tail -2
    echo "== c++"
    c++ --version 2>&1 | head -1
    echo "== cmake"
    cmake --version 2>&1 | head -1
    echo "ninja $(ninja --version 2>&1)"
    echo "== python"
    python3 --version 2>&1
    echo "== os"
    grep PRETTY_NAME /etc/os-release 2>&1
    ldd --version 2>&1 | head -1
  } > "$OUT/machine.txt" 2>&1
  gpu_name=$(timeout 20 nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
  note "gpu: ${gpu_name:-none found by nvidia-smi}"
fi
gpu_present=0
[ -n "$gpu_name" ] && gpu_present=1

# ---- 1. the data for compare_pytorch.py ------------------------------------------------------------
[ "$DRY_RUN" = 1 ] && section "1. data (bench/idx_slice.py)"
DATA_DIR=$CARRY_DATA
if [ "$DRY_RUN" = 1 ]; then
  run_step "data check" 30 "$OUT/data-check.log" \
    python3 "$REPO/bench/idx_slice.py" check "$CARRY_DATA" --min-train 1000 --min-test 100
  note "    only where that check fails:"
  run_step "data synthetic" 60 "$OUT/data.log" \
    python3 "$REPO/bench/idx_slice.py" synthetic "$FALLBACK_DATA" --train 6000 --test 1000
  # The helper itself, run for real on a small set (python3's standard library only).
  if python3 "$REPO/bench/idx_slice.py" synthetic "$OUT/dry-run-data" --train 200 --test 50 \
    > "$OUT/dry-run-data.log" 2>&1 &&
    python3 "$REPO/bench/idx_slice.py" check "$OUT/dry-run-data" --min-train 200 --min-test 50 \
      >> "$OUT/dry-run-data.log" 2>&1; then
    check_ok "bench/idx_slice.py synthetic + check run here: $(tail -1 "$OUT/dry-run-data.log")"
  else
    check_fail "bench/idx_slice.py failed here: $(tail -1 "$OUT/dry-run-data.log")"
  fi
  rm -rf "$OUT/dry-run-data"
  # bench/prepare_gpu_carry.sh's own steps, statically: it slices into .device-carry/data with
  # idx_slice.py (or writes a synthetic set), then checks the result.
  prep="$REPO/bench/prepare_gpu_carry.sh"
  # shellcheck disable=SC2016 # the script's text, searched for literally
  for want in 'data="$carry/data"' '"$slicer" slice "$src" "$data"' '"$slicer" synthetic "$data"' \
    '"$slicer" check "$data"' 'slicer="$repo_root/bench/idx_slice.py"'; do
    if grep -qF -- "$want" "$prep"; then
      check_ok "prepare_gpu_carry.sh has: $want"
    else
      check_fail "prepare_gpu_carry.sh lacks: $want"
    fi
  done
  check_options "idx_slice.py (as prepare_gpu_carry.sh calls it)" \
    "$(options_of_python "$REPO/bench/idx_slice.py")" --train --test --label --min-train --min-test
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    readers="data/mnist_format.hpp bench/idx_slice.py"
    [[ "$f" == train-* ]] && readers="$readers bench/compare_pytorch.py"
    missing_in=""
    for r in $readers; do
      grep -qF "\"$f\"" "$REPO/$r" || missing_in="$missing_in $r"
    done
    if [ -z "$missing_in" ]; then
      check_ok "$f: named alike in $readers"
    else
      check_fail "$f: not named in$missing_in (the slice's file names and the readers' disagree)"
    fi
  done
else
  if timeout 30 python3 "$REPO/bench/idx_slice.py" check "$CARRY_DATA" --min-train 1000 \
    --min-test 100 > "$OUT/data-check.log" 2>&1; then
    note "data: ${CARRY_DATA#"$REPO"/}: $(cat "$CARRY_DATA/SOURCE" 2>/dev/null || echo 'no SOURCE file')"
  else
    DATA_DIR=$FALLBACK_DATA
    if run_step "data synthetic" 60 "$OUT/data.log" \
      python3 "$REPO/bench/idx_slice.py" synthetic "$FALLBACK_DATA" --train 6000 --test 1000; then
      note "data: no usable carried slice ($(head -1 "$OUT/data-check.log")); SYNTHETIC set in $FALLBACK_DATA"
    else
      note "data: no carried slice and the synthetic one failed (data.log)"
    fi
  fi
fi

# ---- 2. dependencies: the carried prefix ------------------------------------------------------------
[ "$DRY_RUN" = 1 ] && section "2. carried packages (.device-carry/debs) and CUDA"
CMAKE_HINTS=()
LIB_PATH=""
add_lib_path() { LIB_PATH="${LIB_PATH:+$LIB_PATH:}$1"; }
# The dynamic linker's cache (ldconfig may be off a non-root PATH). Outputs are captured before
# grepping: with pipefail, grep -q closing a pipe early would read as a failure.
ld_cache() { { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null; }
have_system_lib() {
  local cache
  cache=$(ld_cache)
  grep -q "[[:space:]]$1 " <<< "$cache"
}

# dpkg -x where dpkg exists; otherwise a .deb is an ar archive holding data.tar.*.
unpack_deb() {
  local deb=$1 dest=$2
  if command -v dpkg > /dev/null; then
    dpkg -x "$deb" "$dest"
  else
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && ar x "$deb" && tar -xf data.tar.* -C "$dest")
    local rc=$?
    rm -rf "$tmp"
    return $rc
  fi
}
deb_dest() {
  case "$(basename "$1")" in
    # Runtime libraries of OpenBLAS, used only where the machine has none of its own (a
    # newer system copy must win over Debian 12's).
    libgfortran5_* | libquadmath0_* | libgomp1_*) echo "$PREFIX-runtime" ;;
    *) echo "$PREFIX" ;;
  esac
}
P="$PREFIX/usr"
L="$P/lib/$ARCH"
# The files of the carried packages that the hints below name (relative to the prefix).
CARRY_HINT_FILES=(
  "usr/include/$ARCH/openblas-openmp/cblas.h"
  "usr/lib/$ARCH/openblas-openmp/libopenblas.so"
  "usr/lib/$ARCH/cmake/GTest/GTestConfig.cmake"
  "usr/lib/$ARCH/cmake/benchmark/benchmarkConfig.cmake"
  "usr/include/zlib.h"
)
carry_hints() { # ZLIB_LIBRARY
  CMAKE_HINTS+=(
    "-DDLFS_CBLAS_INCLUDE_DIR=$P/include/$ARCH/openblas-openmp"
    "-DDLFS_OPENBLAS_LIBRARY=$L/openblas-openmp/libopenblas.so"
    "-DGTest_DIR=$L/cmake/GTest"
    "-Dbenchmark_DIR=$L/cmake/benchmark"
    "-DZLIB_INCLUDE_DIR=$P/include"
    "-DZLIB_LIBRARY=$1"
  )
}
system_libz=$(ld_cache | awk '$1 == "libz.so.1" && /x86-64/ {print $NF; exit}')
zlib_library="$L/libz.a"
[ -n "$system_libz" ] && zlib_library="$L/libz.so"

if [ "$DRY_RUN" = 1 ]; then
  debs_here=0
  ls "$REPO"/.device-carry/debs/*.deb > /dev/null 2>&1 && debs_here=1
  prep_packages=$(sed -n '/^packages=(/,/)/p' "$REPO/bench/prepare_gpu_carry.sh" | tr -d '()' | sed 's/packages=//' | tr -s ' \n' '\n' | grep .)
  note "    rm -rf $PREFIX $PREFIX-runtime; then for each carried package:"
  for pkg in $prep_packages; do
    note "    dpkg -x .device-carry/debs/${pkg}_*.deb $(deb_dest "${pkg}_")"
  done
  note "    ln -s <this machine's libz.so.1> $L/libz.so   (or ZLIB_LIBRARY=$L/libz.a where it has none)"
  for pkg in libopenblas-openmp-dev libopenblas0-openmp libgtest-dev libbenchmark-dev zlib1g-dev; do
    if grep -qxF "$pkg" <<< "$prep_packages"; then
      check_ok "prepare_gpu_carry.sh carries $pkg"
    else
      check_fail "prepare_gpu_carry.sh does not carry $pkg, which the CMake hints need"
    fi
  done
  for f in "${CARRY_HINT_FILES[@]}"; do
    if [ "$debs_here" = 1 ]; then
      found=""
      for deb in "$REPO"/.device-carry/debs/*.deb; do
        listing=$(dpkg -c "$deb" 2> /dev/null) # captured first: grep -q would break the pipe
        grep -qE "\./$f( |$)" <<< "$listing" && found=$(basename "$deb")
      done
      if [ -n "$found" ]; then check_ok "$f is in the carried $found"; else check_fail "$f is in no carried package"; fi
    else
      # Absent here (CI): prepare_gpu_carry.sh must check each of them when it makes the carry.
      if grep -E '^check_file ' "$REPO/bench/prepare_gpu_carry.sh" | grep -F "$(basename "$(dirname "$f")")/$(basename "$f")" > /dev/null; then
        check_ok "$f: bench/prepare_gpu_carry.sh checks its package has it"
      else
        check_fail "$f: bench/prepare_gpu_carry.sh does not check that a carried package has it"
      fi
    fi
  done
  [ "$debs_here" = 1 ] || check_info ".device-carry/debs absent here: run bench/prepare_gpu_carry.sh before the GPU call (the hints below assume the carry)"
  carry_hints "$zlib_library"
  add_lib_path "$L/openblas-openmp"
  add_lib_path "$L"
  if grep -qF 'CUDNN_ROOT' "$REPO/cmake/DlfsCuda.cmake"; then
    check_ok "cmake/DlfsCuda.cmake reads CUDNN_ROOT (pip's cuDNN)"
  else
    check_fail "cmake/DlfsCuda.cmake does not read CUDNN_ROOT, which the run sets for pip's cuDNN"
  fi
elif ls "$REPO"/.device-carry/debs/*.deb > /dev/null 2>&1; then
  rm -rf "$PREFIX" "$PREFIX-runtime"
  mkdir -p "$PREFIX" "$PREFIX-runtime"
  unpack_ok=1
  for deb in "$REPO"/.device-carry/debs/*.deb; do
    unpack_deb "$deb" "$(deb_dest "$deb")" >> "$OUT/prefix.log" 2>&1 || unpack_ok=0
  done
  # zlib1g-dev's libz.so is an absolute link to Debian's libz.so.1.2.13: point it at this
  # machine's libz.so.1, or drop it so that the static libz.a is used.
  rm -f "$L/libz.so"
  [ -n "$system_libz" ] && ln -s "$system_libz" "$L/libz.so"
  carry_hints "$zlib_library"
  add_lib_path "$L/openblas-openmp"
  add_lib_path "$L"
  missing_rt=""
  for lib in libgfortran.so.5 libquadmath.so.0 libgomp.so.1; do
    have_system_lib "$lib" || missing_rt="$missing_rt $lib"
  done
  [ -n "$missing_rt" ] && add_lib_path "$PREFIX-runtime/usr/lib/$ARCH"
  note "prefix: $(find "$REPO"/.device-carry/debs -name '*.deb' | wc -l) carried packages unpacked into $PREFIX$([ "$unpack_ok" = 1 ] || echo ' (SOME FAILED: prefix.log)')${missing_rt:+; carried runtime libraries used for:$missing_rt}"
else
  note "prefix: no .device-carry/debs (bench/prepare_gpu_carry.sh); using the system's packages"
fi

# ---- CUDA: nvcc, cuBLAS, cuDNN ------------------------------------------------------------------
NVCC=$(command -v nvcc || true)
[ -z "$NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc
DLFS_CUDA_MODE=AUTO
CUDA_HOME_GUESS=""
if [ -n "$NVCC" ]; then
  # ON: with nvcc present, a CUDA configuration that fails must fail loudly, not fall back.
  DLFS_CUDA_MODE=ON
  CMAKE_HINTS+=("-DCMAKE_CUDA_COMPILER=$NVCC")
  CUDA_HOME_GUESS="$(cd "$(dirname "$NVCC")/.." && pwd)"
  for d in "$CUDA_HOME_GUESS/lib64" "$CUDA_HOME_GUESS/targets/x86_64-linux/lib"; do
    [ -d "$d" ] && add_lib_path "$d"
  done
else
  note "cuda: no nvcc found; the build will be CPU-only"
fi

# pip's NVIDIA wheels (nvidia-cudnn-cu13, nvidia-cublas) live under site-packages/nvidia.
NVIDIA_DIRS=$(timeout 30 python3 -c 'import nvidia, sys; print("\n".join(nvidia.__path__))' 2> /dev/null || true)
find_in_nvidia() { # name -> first match under the nvidia package dirs
  local d
  for d in $NVIDIA_DIRS; do
    find "$d" -name "$1" -print -quit 2> /dev/null
  done | head -1
}
toolkit_has() { [ -n "$NVCC" ] && [ -n "$(find "$CUDA_HOME_GUESS/" -name "$1" -print -quit 2> /dev/null)" ]; }

if toolkit_has cudnn.h; then
  note "cudnn: from the CUDA toolkit ($CUDA_HOME_GUESS)"
else
  cudnn_header=$(find_in_nvidia cudnn.h)
  if [ -n "$cudnn_header" ]; then
    CUDNN_ROOT="$(dirname "$(dirname "$cudnn_header")")"
    export CUDNN_ROOT
    add_lib_path "$CUDNN_ROOT/lib"
    note "cudnn: CUDNN_ROOT=$CUDNN_ROOT (pip)"
  else
    note "cudnn: not found (toolkit or pip nvidia-cudnn)$([ "$DRY_RUN" = 1 ] && echo ' here; the GPU machine has pip'"'"'s nvidia-cudnn-cu13' || echo '; building without it')"
  fi
fi

# NCCL (data-parallel training on GPUs): the toolkit's, else pip's nvidia-nccl wheel.
if [ -n "$NVCC" ] && ! toolkit_has nccl.h; then
  nccl_header=$(find_in_nvidia nccl.h)
  if [ -n "$nccl_header" ]; then
    NCCL_ROOT="$(dirname "$(dirname "$nccl_header")")"
    export NCCL_ROOT
    add_lib_path "$NCCL_ROOT/lib"
    note "nccl: NCCL_ROOT=$NCCL_ROOT (pip)"
  else
    note "nccl: not in the toolkit nor in pip's nvidia packages; the NCCL step will say so"
  fi
fi

if [ -n "$NVCC" ] && ! toolkit_has 'libcublas.so'; then
  # The toolkit lacks cuBLAS: use pip's nvidia-cublas through unversioned links that CMake's
  # FindCUDAToolkit can find, and its headers through the compilers' include path.
  cublas_lib=$(find_in_nvidia 'libcublas.so.*')
  cublas_header=$(find_in_nvidia cublas_v2.h)
  if [ -n "$cublas_lib" ] && [ -n "$cublas_header" ]; then
    shim="$PREFIX-cublas"
    if [ "$DRY_RUN" = 1 ]; then
      note "    ln -sf $(dirname "$cublas_lib")/libcublas*.so.* -> $shim/libcublas*.so"
    else
      mkdir -p "$shim"
      for lib in "$(dirname "$cublas_lib")"/libcublas*.so.*; do
        ln -sf "$lib" "$shim/$(basename "$lib" | sed 's/\.so\..*/.so/')"
      done
    fi
    inc="$(dirname "$cublas_header")"
    CMAKE_HINTS+=("-DCMAKE_LIBRARY_PATH=$shim" "-DCMAKE_CXX_FLAGS=-I$inc" "-DCMAKE_CUDA_FLAGS=-I$inc")
    add_lib_path "$(dirname "$cublas_lib")"
    note "cublas: not in the toolkit; using pip's $(dirname "$cublas_lib")"
  else
    note "cublas: not in the toolkit nor in pip's nvidia packages; the CUDA build will fail"
  fi
fi

export LD_LIBRARY_PATH="${LIB_PATH}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ "$DRY_RUN" = 0 ]; then
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" > "$OUT/environment.txt"
  printf '%s\n' "${CMAKE_HINTS[@]}" >> "$OUT/environment.txt"
else
  note "    LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
fi

# ---- 3. configure and build ---------------------------------------------------------------------
[ "$DRY_RUN" = 1 ] && section "3. configure and build"
run_step configure "$CAP_CONFIGURE" "$OUT/configure.log" \
  cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 "-DDLFS_CUDA=$DLFS_CUDA_MODE" "${CMAKE_HINTS[@]}"
configured=$?
built=1
if [ "$DRY_RUN" = 1 ]; then
  run_step build "$CAP_BUILD" "$OUT/build.log" cmake --build "$BUILD" -j "$JOBS"
  built=0
  gpu_present=1
else
  grep -E '^-- dlfs:' "$OUT/configure.log" | sed 's/^-- /  /' | tee -a "$SUMMARY"
  if [ "$configured" = 0 ]; then
    run_step build "$CAP_BUILD" "$OUT/build.log" cmake --build "$BUILD" -j "$JOBS"
    built=$?
    [ "$built" = 0 ] || { grep -E 'error|FAILED' "$OUT/build.log" | head -20 | sed 's/^/  /' | tee -a "$SUMMARY"; }
  else
    tail -20 "$OUT/configure.log" | sed 's/^/  /' >> "$SUMMARY"
  fi
  [ "$built" = 0 ] || FAILED=1
  grep -E 'OpenBLAS|CUDNN|GTest|benchmark|ZLIB' "$BUILD/CMakeCache.txt" 2> /dev/null \
    | grep -v '^//' > "$OUT/cmake-cache-deps.txt"
fi

# ---- 4. tests -----------------------------------------------------------------------------------
[ "$DRY_RUN" = 1 ] && section "4. tests"
if [ "$built" = 0 ]; then
  # The benchmarks come next: ctest leaves them BENCH_RESERVE_S of the budget.
  RESERVE_S=$BENCH_RESERVE_S run_step ctest "$CAP_CTEST" "$OUT/ctest.log" \
    ctest --test-dir "$BUILD" -j "$CTEST_JOBS" --timeout 60 --output-on-failure
  ctest_rc=$?
  if [ "$DRY_RUN" = 0 ]; then
    [ "$ctest_rc" = 0 ] || FAILED=1
    line=$(grep -E 'tests passed|tests failed' "$OUT/ctest.log" | tail -1)
    skipped_n=$(grep -cE '\(Skipped\)|\*\*\*Skipped' "$OUT/ctest.log")
    gpu_ran=$(grep -E 'Test +#[0-9]+: [A-Za-z0-9_]*Gpu[A-Za-z0-9_]*\.' "$OUT/ctest.log" | grep -cE 'Passed|Failed')
    sec_tests "ctest: ${line:-no summary line (rc=$ctest_rc)}; skipped $skipped_n; Gpu tests that ran: $gpu_ran"
    failed_list=$(grep -A200 'The following tests FAILED' "$OUT/ctest.log" | grep -E '^[[:space:]]+[0-9]+ - ' | head -40)
    if [ -n "$failed_list" ]; then
      TEST_FAILURES=$((TEST_FAILURES + $(wc -l <<< "$failed_list")))
      # shellcheck disable=SC2001 # per line, with a prefix
      sed 's/^[[:space:]]*/  ctest FAILED: /' <<< "$failed_list" >> "$SEC_TESTS"
    elif [ "$ctest_rc" != 0 ]; then
      TEST_FAILURES=$((TEST_FAILURES + 1))
      sec_tests "  ctest did not finish (rc=$ctest_rc): see ctest.log"
    fi
    cp "$BUILD/Testing/Temporary/LastTest.log" "$OUT/ctest-LastTest.log" 2> /dev/null
  fi
else
  skipped ctest "not built"
  sec_tests "ctest: not run (the build failed)"
fi

# ---- 5. benchmarks ------------------------------------------------------------------------------
[ "$DRY_RUN" = 1 ] && section "5. benchmarks"
BENCH_GPU="$BUILD/bench/gpu/dlfs_bench_gpu"
bench_failed() { # NAME RC: a benchmark that did not finish is a failure of the run, said so here
  [ "$2" = 0 ] && return
  FAILED=1
  BENCH_FAILURES=$((BENCH_FAILURES + 1))
  case "$2" in
    124 | 137) sec_bench "$1: TIMEOUT (figures below may be partial)" ;;
    125) sec_bench "$1: SKIPPED (out of time budget)" ;;
    *) sec_bench "$1: FAILED rc=$2" ;;
  esac
}
# Only this run's build: build-gpu/ survives on a warm machine, and a failed build must not
# report an older build's figures.
if [ "$built" != 0 ]; then
  skipped dlfs_bench_gpu "not built"
  sec_bench "gpu-kernels: not run (the build failed)"
elif [ "$DRY_RUN" = 1 ] || [ -x "$BENCH_GPU" ]; then
  run_step dlfs_bench_gpu "$CAP_BENCH_KERNELS" "$OUT/gpu-kernels.log" \
    "$BENCH_GPU" --json-out "$OUT/gpu-kernels.json"
  bench_failed gpu-kernels $?
  if [ "$DRY_RUN" = 0 ]; then
    grep -E 'no CUDA device|failed' "$OUT/gpu-kernels.log" | head -5 | sed 's/^/  /' | tee -a "$SUMMARY"
    # The issue's targets, as measured: softmax, ReLU, cross-entropy >= 70% of copy; conv >= 0.5x cuDNN.
    if [ -s "$OUT/gpu-kernels.json" ]; then
      python3 - "$OUT/gpu-kernels.json" << 'PY' >> "$SEC_BENCH" 2>&1
import json, sys
doc = json.load(open(sys.argv[1]))
if doc.get("skipped"):
    print("gpu-kernels: skipped:", doc["skipped"])
    sys.exit(0)
print("gpu-kernels (gpu-kernels.json): copy ceiling %.0f GB/s, SGEMM %s GFLOP/s" % (
    doc["ceilings"].get("copy_GBps") or 0, doc["ceilings"].get("sgemm_GFLOPs")))
for r in doc["results"]:
    pct, ratio = r.get("percent_of_ceiling"), r.get("ratio_to_vendor")
    if r["group"] in ("relu", "softmax", "cross_entropy", "softmax_with_loss", "convolution"):
        print("  %-60s %9.0f %-7s %6s%% of ceiling  x%s vs vendor" % (
            r["name"][:60], r["value"], r["metric"], "-" if pct is None else "%.0f" % pct,
            "-" if ratio is None else "%.2f" % ratio))
PY
    else
      sec_bench "gpu-kernels: no JSON (gpu-kernels.log)"
    fi
  fi
else
  skipped dlfs_bench_gpu "not built: ${BENCH_GPU#"$REPO"/}"
  sec_bench "gpu-kernels: not built"
fi

if [ "$built" != 0 ]; then
  skipped "dlfs bench" "not built"
  skipped compare_pytorch "not built"
  sec_bench "training, compare_pytorch: not run (the build failed)"
elif [ "$DRY_RUN" = 0 ] && [ ! -x "$BUILD/dlfs" ]; then
  skipped "dlfs bench" "build-gpu/dlfs not built"
  skipped compare_pytorch "build-gpu/dlfs not built"
  sec_bench "training, compare_pytorch: build-gpu/dlfs not built"
elif [ "$gpu_present" = 0 ]; then
  skipped "dlfs bench" "no CUDA device"
  skipped compare_pytorch "no CUDA device"
  sec_bench "training, compare_pytorch: no CUDA device"
else
  run_step "dlfs bench" "$CAP_BENCH_TRAINING" "$OUT/training.log" \
    "$BUILD/dlfs" bench --models "$BENCH_MODELS" --device cuda --json-out "$OUT/training.json"
  bench_failed "dlfs bench" $?
  if [ "$DRY_RUN" = 0 ]; then
    sec_bench "dlfs bench (training.json), synthetic input:"
    sed -n '/^model /,$p' "$OUT/training.log" | head -20 | sed 's/^/  /' >> "$SEC_BENCH"
  fi
  # The NCCL backend of data-parallel training, as one rank: the NCCL communicator, the
  # gradient buckets on the communication stream, the replica check. Only where the build
  # found NCCL (configure.log says so).
  if [ "$DRY_RUN" = 1 ] || grep -q '^-- dlfs: NCCL' "$OUT/configure.log" 2> /dev/null; then
    run_step "nccl world of one" "$CAP_NCCL" "$OUT/nccl.log" \
      "$BUILD/dlfs" train --device cuda --distributed nccl --data synthetic --limit-train 2000 \
      --epochs 2 --quiet --plot off --out "$OUT/nccl-run"
    bench_failed "nccl world of one" $?
    if [ "$DRY_RUN" = 0 ]; then
      sec_bench "nccl world of one (nccl.log):"
      grep -E 'ranks|epoch|test accuracy|dlfs train' "$OUT/nccl.log" | head -6 | sed 's/^/  /' >> "$SEC_BENCH"
    fi
  else
    skipped "nccl world of one" "the build found no NCCL"
    sec_bench "nccl world of one: not run (the build found no NCCL)"
  fi
  # compare_pytorch.py skips (exit 0, saying so) where torch cannot be imported or sees no GPU.
  run_step compare_pytorch "$CAP_COMPARE" "$OUT/compare_pytorch.log" \
    python3 "$REPO/bench/compare_pytorch.py" --device cuda --models "$BENCH_MODELS" --epochs 1 \
    --dlfs "$BUILD/dlfs" --data "$DATA_DIR" --json-out "$OUT/compare_pytorch.json"
  bench_failed compare_pytorch $?
  if [ "$DRY_RUN" = 0 ]; then
    sec_bench "compare_pytorch (compare_pytorch.json), $(cat "$DATA_DIR/SOURCE" 2> /dev/null || echo "data in $DATA_DIR"):"
    grep -E 'dlfs/PyTorch|skipped|Error|error' "$OUT/compare_pytorch.log" | head -10 | sed 's/^/  /' >> "$SEC_BENCH"
  fi
  # Last of the benchmarks: the time of each graph node (the device waited for around each), for
  # the first look at where a GPU step goes. The summary keeps the shares per layer type.
  run_step "dlfs bench --profile" "$CAP_PROFILE" "$OUT/profile.log" \
    "$BUILD/dlfs" bench --models "$PROFILE_MODEL" --batch-sizes 64 --min-time 1 --device cuda \
    --profile --json-out "$OUT/profile.json"
  bench_failed "dlfs bench --profile" $?
  if [ "$DRY_RUN" = 0 ]; then
    sec_bench "dlfs bench --profile (profile.json, profile.log), $PROFILE_MODEL batch 64:"
    grep -E '^model |^[a-z0-9-]+ +[0-9]+ +[0-9]+ |profiled steps|optimizer step|outside the nodes|by layer:' \
      "$OUT/profile.log" | head -8 | sed 's/^/  /' >> "$SEC_BENCH"
  fi
fi

# ---- 6. compute-sanitizer: memcheck on the GPU tests, racecheck on shared-memory kernels -------
[ "$DRY_RUN" = 1 ] && section "6. sanitizers"
SANITIZER=$(command -v compute-sanitizer || true)
[ -z "$SANITIZER" ] && [ -n "$NVCC" ] && [ -x "$(dirname "$NVCC")/compute-sanitizer" ] \
  && SANITIZER="$(dirname "$NVCC")/compute-sanitizer"
[ -z "$SANITIZER" ] && [ "$DRY_RUN" = 1 ] && SANITIZER=compute-sanitizer
SANITIZER_REFUSED=0

# sanitizer_result NAME LOG RC: the tool's findings to one section, failing tests to the other.
sanitizer_result() {
  local name=$1 log=$2 rc=$3 summary_line failed passed
  summary_line=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tail -1 | sed -E 's/^=+ *//')
  failed=$(grep -E '^\[  FAILED  \] [A-Za-z0-9_/]+\.[A-Za-z0-9_/]+' "$log" | sed -E 's/^\[  FAILED  \] //; s/ .*//' | sort -u)
  passed=$(grep -E '^\[  PASSED  \]' "$log" | tail -1)
  case "$rc" in
    0) sec_san "$name: clean (${summary_line:-no SUMMARY line}) ${log#"$OUT"/}" ;;
    "$SAN_RC")
      SAN_FINDINGS=$((SAN_FINDINGS + 1))
      sec_san "$name: FINDINGS: ${summary_line:-see log} ${log#"$OUT"/}"
      ;;
    124 | 137) sec_san "$name: TIMEOUT; so far: ${summary_line:-no SUMMARY line} ${log#"$OUT"/}" ;;
    125) sec_san "$name: SKIPPED (out of time budget)" ;;
    *)
      [ -n "$failed" ] || sec_san "$name: the sanitizer or the program failed (rc=$rc, ${summary_line:-no SUMMARY line}) ${log#"$OUT"/}"
      [ -n "$failed" ] && sec_san "$name: ${summary_line:-no SUMMARY line} (tests failed: see test failures)"
      ;;
  esac
  if [ -n "$failed" ]; then
    TEST_FAILURES=$((TEST_FAILURES + $(wc -l <<< "$failed")))
    # shellcheck disable=SC2001 # per line, with a prefix
    sed "s/^/  $name FAILED: /" <<< "$failed" >> "$SEC_TESTS"
  elif [ "$rc" != 125 ]; then
    sec_tests "$name: no test failed (${passed:-no gtest PASSED line})"
  fi
}

if [ -z "$SANITIZER" ]; then
  skipped sanitizers "compute-sanitizer not found"
  sec_san "not run: compute-sanitizer not found"
elif [ "$gpu_present" = 0 ]; then
  skipped sanitizers "no CUDA device"
  sec_san "not run: no CUDA device"
elif [ "$built" != 0 ]; then
  skipped sanitizers "not built"
  sec_san "not run: the build failed"
else
  for entry in "${MEMCHECK_PLAN[@]}"; do
    IFS='|' read -r suite cap filter <<< "$entry"
    bin="$BUILD/tests/dlfs_${suite}_tests"
    if [ "$DRY_RUN" = 0 ] && [ ! -x "$bin" ]; then
      skipped "memcheck $suite" "no ${bin#"$REPO"/}"
      continue
    fi
    run_step "memcheck $suite" "$cap" "$OUT/memcheck-$suite.log" env DLFS_POOL_CACHING=0 \
      "$SANITIZER" --tool memcheck --error-exitcode "$SAN_RC" --leak-check no \
      "$bin" "--gtest_filter=$filter"
    rc=$?
    if [ "$DRY_RUN" = 0 ]; then
      [ "$rc" = 0 ] || FAILED=1
      sanitizer_result "memcheck $suite" "$OUT/memcheck-$suite.log" "$rc"
      if grep -q 'Device not supported' "$OUT/memcheck-$suite.log"; then
        # As on a gVisor machine (.library's KINDS.md): no use trying the others.
        sec_san "compute-sanitizer refuses this device (Device not supported): no further sanitizer runs"
        SANITIZER_REFUSED=1
        break
      fi
    fi
  done
  # racecheck: the kernels that use shared memory (__shared__, block_sum/block_max of launch.cuh,
  # CUB and Thrust's reductions), found by grep. kernels/cuda/X.cu is tested by the suite named
  # after it (global_avg_pool -> GlobalAvgPoolGpu) and by the Gpu suites of
  # tests/kernels/test_X.cpp; only suites that exist in tests/kernels are kept.
  kernel_suites=$(list_tests kernels | sed 's/[./].*//' | sort -u)
  racy_suites=""
  # shellcheck disable=SC2013 # file names without spaces
  for cu in $(grep -lE '__shared__|block_(sum|max)|cub::|thrust::' "$REPO"/kernels/cuda/*.cu 2> /dev/null); do
    name=$(basename "$cu" .cu)
    racy_suites="$racy_suites $(awk -F_ '{s = ""; for (i = 1; i <= NF; i++)
      s = s toupper(substr($i, 1, 1)) substr($i, 2); print s "Gpu"}' <<< "$name")"
    test_file="$REPO/tests/kernels/test_$name.cpp"
    [ -f "$test_file" ] && racy_suites="$racy_suites $(grep -oE 'TEST(_F|_P)?\([A-Za-z0-9]+Gpu,' \
      "$test_file" | sed -E 's/.*\(//; s/,//')"
  done
  racy_filter=$(tr ' ' '\n' <<< "$racy_suites" | grep . | sort -u | grep -xF "$kernel_suites" \
    | sed 's/$/.*/' | paste -sd: -)
  if [ "$SANITIZER_REFUSED" = 1 ]; then
    skipped "racecheck kernels" "compute-sanitizer refuses this device"
  elif [ -n "$racy_filter" ] && { [ "$DRY_RUN" = 1 ] || [ -x "$BUILD/tests/dlfs_kernels_tests" ]; }; then
    [ "$DRY_RUN" = 0 ] && echo "gtest filter: $racy_filter" > "$OUT/racecheck-kernels.filter.txt"
    run_step "racecheck kernels" "$CAP_RACECHECK" "$OUT/racecheck-kernels.log" \
      "$SANITIZER" --tool racecheck --racecheck-report all --error-exitcode "$SAN_RC" \
      "$BUILD/tests/dlfs_kernels_tests" "--gtest_filter=$racy_filter"
    rc=$?
    if [ "$DRY_RUN" = 0 ]; then
      [ "$rc" = 0 ] || FAILED=1
      sanitizer_result "racecheck kernels" "$OUT/racecheck-kernels.log" "$rc"
    fi
  else
    skipped "racecheck kernels" "no shared-memory kernel with a Gpu test suite"
  fi
fi

# ---- the summary --------------------------------------------------------------------------------
if [ "$DRY_RUN" = 1 ]; then
  rm -f "$SEC_TESTS" "$SEC_SAN" "$SEC_BENCH"
  section "dry run result"
  if [ "$PROBLEMS" = 0 ]; then
    note "DRY RUN PASS: $CHECKS checks, 0 problems (nothing was built or run)"
    exit 0
  fi
  problems=$(grep -F 'PROBLEM:' "$SUMMARY" | sed 's/^ *PROBLEM: /  /')
  note "DRY RUN FAIL: $CHECKS checks, $PROBLEMS problems:"
  note "$problems"
  exit 1
fi

tail -200 "$OUT/build.log" > "$OUT/build-tail.log" 2> /dev/null && rm -f "$OUT/build.log"
[ "$TEST_FAILURES" = 0 ] || FAILED=1
[ "$SAN_FINDINGS" = 0 ] || FAILED=1
section "test failures ($TEST_FAILURES)"
[ -s "$SEC_TESTS" ] && tee -a "$SUMMARY" < "$SEC_TESTS"
section "sanitizer findings (runs with findings: $SAN_FINDINGS)"
[ -s "$SEC_SAN" ] && tee -a "$SUMMARY" < "$SEC_SAN"
section "benchmark figures (benchmarks that failed: $BENCH_FAILURES)"
[ -s "$SEC_BENCH" ] && tee -a "$SUMMARY" < "$SEC_BENCH"
rm -f "$SEC_TESTS" "$SEC_SAN" "$SEC_BENCH"
note ""
note "total $(($(date +%s) - START_S))s of ${BUDGET_S}s; test failures $TEST_FAILURES, sanitizer runs with findings $SAN_FINDINGS, benchmarks failed $BENCH_FAILURES; result: $([ "$FAILED" = 0 ] && echo PASS || echo FAIL)"

# The device tool brings back at most 8 files from $OUT: the summary, machine.txt, the three
# results JSON files and the profile's as they are, every log packed into logs.tar.gz.
keep=" summary.txt machine.txt gpu-kernels.json training.json compare_pytorch.json profile.json logs.tar.gz "
logs=()
for f in "$OUT"/*; do
  [ -f "$f" ] || continue
  [[ "$keep" == *" $(basename "$f") "* ]] || logs+=("$(basename "$f")")
done
if [ "${#logs[@]}" -gt 0 ] && tar -czf "$OUT/logs.tar.gz" -C "$OUT" "${logs[@]}"; then
  (cd "$OUT" && rm -f -- "${logs[@]}")
fi
exit "$FAILED"
