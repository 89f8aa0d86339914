#!/usr/bin/env bash
# Proves bench/gpu_check.sh ready for the GPU machine without one (docs/gpu_check.md); CI runs it:
#   bash scripts/gpu_check_dry_run.sh
# 1. the dry run passes (exit 0) on this tree, and on a copy without .device-carry (as in CI);
# 2. the dry run can fail: it exits non-zero, naming the problem, for
#    a. a gtest filter naming a test that does not exist (GPU_CHECK_EXTRA_FILTER),
#    b. an option passed to bench/compare_pytorch.py that its argparse lacks (a copy of the tree
#       whose compare_pytorch.py calls --data --dataset),
#    c. an excluded test that no longer exists (a copy of the tree without it);
# 3. a mock run of the real path (not a dry run): nvidia-smi, cmake, ctest, compute-sanitizer and
#    the build's programs are stubs that fail one test in ctest, one under memcheck and give one
#    memcheck finding; the run must exit 1 with the steps in the promised order and a summary that
#    keeps test failures, sanitizer findings and benchmark figures apart.
# The mock run must also leave at most 8 files in OUTDIR (what the device tool brings back).
# Prints "N passed, N failed" at the end; exit 0 only when every check held.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
TMP=$(mktemp -d /tmp/gpu_check_dry_run.XXXXXX)
# GPU_CHECK_DRY_RUN_KEEP=1 keeps the outputs (the dry runs' and the mock run's) for a look.
if [ "${GPU_CHECK_DRY_RUN_KEEP:-0}" = 1 ]; then
  echo "gpu_check_dry_run: outputs kept in $TMP"
else
  trap 'rm -rf "$TMP"' EXIT
fi
passed=0
failed=0
pass() {
  echo "PASS: $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}

# A copy of the working tree (tracked and untracked sources; no builds, no carry, no .git).
copy_tree() {
  mkdir -p "$1"
  tar -C "$REPO" --exclude='./build*' --exclude=./.git --exclude=./.device-carry \
    --exclude=./runs --exclude=./out -cf - . | tar -C "$1" -xf -
}

# ---- 1. the dry run passes ----------------------------------------------------------------------
if bash bench/gpu_check.sh --dry-run "$TMP/dry" > "$TMP/dry.log" 2>&1; then
  pass "dry run on this tree exits 0 ($(grep -E '^DRY RUN' "$TMP/dry.log"))"
else
  fail "dry run on this tree exits non-zero:"
  grep -E 'PROBLEM|^DRY RUN' "$TMP/dry.log" | sed 's/^/    /'
fi
if grep -q '^dlfs gpu_check DRY RUN' "$TMP/dry/summary.txt" 2> /dev/null &&
  grep -q '^DRY RUN PASS' "$TMP/dry/summary.txt"; then
  pass "summary.txt says it was a dry run, and that it passed"
else
  fail "summary.txt does not say DRY RUN ... PASS"
fi
# Every step is printed with its command.
for step in configure build ctest dlfs_bench_gpu 'dlfs bench' compare_pytorch 'dlfs bench --profile' \
  'memcheck kernels' 'memcheck runtime' 'racecheck kernels'; do
  if grep -qE "^$step +cap" "$TMP/dry.log"; then
    pass "dry run prints the step '$step'"
  else
    fail "dry run does not print the step '$step'"
  fi
done

copy_tree "$TMP/clean"
if bash "$TMP/clean/bench/gpu_check.sh" --dry-run "$TMP/dry-clean" > "$TMP/dry-clean.log" 2>&1; then
  pass "dry run on a copy without .device-carry (as in CI) exits 0"
else
  fail "dry run on a copy without .device-carry exits non-zero:"
  grep -E 'PROBLEM|^DRY RUN' "$TMP/dry-clean.log" | sed 's/^/    /'
fi

# ---- 2. the dry run fails where it must ---------------------------------------------------------
expect_failure() { # WHAT LOG RC NEEDLE
  if [ "$3" = 0 ]; then
    fail "$1: the dry run exited 0"
  elif grep -F 'PROBLEM' "$2" | grep -F -- "$4" > /dev/null; then
    pass "$1: the dry run exits $3, naming $4"
  else
    fail "$1: the dry run exited $3 without naming $4"
    grep -E 'PROBLEM' "$2" | sed 's/^/    /'
  fi
}

GPU_CHECK_EXTRA_FILTER='NoSuchSuiteGpu.NoSuchTest' \
  bash bench/gpu_check.sh --dry-run "$TMP/bad-filter" > "$TMP/bad-filter.log" 2>&1
expect_failure "a filter naming no test" "$TMP/bad-filter.log" $? "'NoSuchSuiteGpu.NoSuchTest'"

copy_tree "$TMP/bad-option"
sed -i 's/p.add_argument("--data",/p.add_argument("--dataset",/' "$TMP/bad-option/bench/compare_pytorch.py"
if grep -qF '"--dataset"' "$TMP/bad-option/bench/compare_pytorch.py"; then
  bash "$TMP/bad-option/bench/gpu_check.sh" --dry-run "$TMP/bad-option-out" > "$TMP/bad-option.log" 2>&1
  expect_failure "compare_pytorch.py without --data" "$TMP/bad-option.log" $? "compare_pytorch.py has no option --data"
else
  fail "could not break the --data option in a copy of compare_pytorch.py (its add_argument changed?)"
fi

copy_tree "$TMP/bad-exclusion"
sed -i 's/TEST(CudaRuntime, OutOfMemoryIsAnExceptionWithStats)/TEST(CudaRuntime, RenamedOutOfMemoryTest)/' \
  "$TMP/bad-exclusion/tests/runtime/test_cuda_runtime.cpp"
if grep -qF 'RenamedOutOfMemoryTest' "$TMP/bad-exclusion/tests/runtime/test_cuda_runtime.cpp"; then
  bash "$TMP/bad-exclusion/bench/gpu_check.sh" --dry-run "$TMP/bad-exclusion-out" > "$TMP/bad-exclusion.log" 2>&1
  expect_failure "an exclusion naming a removed test" "$TMP/bad-exclusion.log" $? \
    "'CudaRuntime.OutOfMemoryIsAnExceptionWithStats'"
else
  fail "could not rename CudaRuntime.OutOfMemoryIsAnExceptionWithStats in a copy (test moved?)"
fi

# ---- 3. a mock run of the real path -------------------------------------------------------------
STUBS="$TMP/stubs"
mkdir -p "$STUBS"
cat > "$STUBS/nvidia-smi" << 'EOF'
#!/usr/bin/env bash
case "$*" in
  *--query-gpu*) echo "NVIDIA H200 (mock), 580.00" ;;
  *) echo "mock nvidia-smi: NVIDIA H200" ;;
esac
EOF
cat > "$STUBS/cmake" << 'EOF'
#!/usr/bin/env bash
# configure: makes the build folder; --build: "builds" the stubs of the programs the run uses.
if [ "$1" = --build ]; then
  b=$2
  mkdir -p "$b/tests" "$b/bench/gpu"
  for s in runtime kernels layers data optim models apps; do
    cp "$MOCK_STUBS/gtest_binary" "$b/tests/dlfs_${s}_tests"
  done
  cp "$MOCK_STUBS/dlfs" "$b/dlfs"
  cp "$MOCK_STUBS/dlfs_bench_gpu" "$b/bench/gpu/dlfs_bench_gpu"
  echo "[2/2] Linking CXX executable dlfs (mock)"
  exit 0
fi
while [ $# -gt 0 ]; do
  [ "$1" = -B ] && mkdir -p "$2"
  shift
done
echo "-- dlfs: CUDA path ON (mock)"
EOF
cat > "$STUBS/ctest" << 'EOF'
#!/usr/bin/env bash
echo "1/3 Test #1: SoftmaxGpu.MatchesTheCpu ................   Passed    0.10 sec"
echo "2/3 Test #2: ReluGpu.MatchesTheCpu ...................***Failed    0.10 sec"
echo "3/3 Test #3: IdxReader.ReadsRaw ......................   Passed    0.01 sec"
echo
echo "67% tests passed, 1 tests failed out of 3"
echo
echo "The following tests FAILED:"
echo "	  2 - ReluGpu.MatchesTheCpu (Failed)"
exit 8
EOF
cat > "$STUBS/gtest_binary" << 'EOF'
#!/usr/bin/env bash
echo "[==========] Running 2 tests from 1 test suite. ($*)"
if [ "$(basename "$0")" = dlfs_layers_tests ]; then
  echo "[  FAILED  ] ConvolutionLayerGpu.MockFailure (1 ms)"
  echo "[  PASSED  ] 1 test."
  echo "[  FAILED  ] 1 test, listed below:"
  echo "[  FAILED  ] ConvolutionLayerGpu.MockFailure"
  exit 1
fi
echo "[  PASSED  ] 2 tests."
EOF
cat > "$STUBS/compute-sanitizer" << 'EOF'
#!/usr/bin/env bash
# Options, then the program: memcheck of dlfs_kernels_tests has one finding.
tool="" code=1
while [[ "${1:-}" == --* ]]; do
  [ "$1" = --tool ] && tool=$2
  [ "$1" = --error-exitcode ] && code=$2
  shift 2
done
prog=$1
"$@"
rc=$?
if [ "$tool" = memcheck ] && [ "$(basename "$prog")" = dlfs_kernels_tests ]; then
  echo "========= Invalid __global__ read of size 4 bytes (mock)"
  echo "========= ERROR SUMMARY: 1 error"
  exit "$code"
fi
if [ "$tool" = racecheck ]; then
  echo "========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)"
else
  echo "========= ERROR SUMMARY: 0 errors"
fi
exit "$rc"
EOF
cat > "$STUBS/dlfs" << 'EOF'
#!/usr/bin/env bash
out=""
prev=""
for a in "$@"; do
  [ "$prev" = --json-out ] && out=$a
  prev=$a
done
echo "dlfs bench: training throughput on cuda:0 (mock)"
echo "model          input  batch  steps   ms/step    images/s   peak MiB"
echo "lenet5            28     64    100      0.50    128000.0       10.0"
if [[ " $* " == *" --profile "* ]]; then
  echo "  resnet18 batch 64, 100 profiled steps of 9.00 ms (ms per step):"
  echo "    optimizer step                                               0.300               3.3%"
  echo "    by layer: Convolution 70.0% (mock), BatchNorm 20.0%, ReLU 7.0%"
fi
[ -n "$out" ] && echo '{"results": []}' > "$out"
exit 0
EOF
cat > "$STUBS/dlfs_bench_gpu" << 'EOF'
#!/usr/bin/env bash
cat > "$2" << 'JSON'
{"ceilings": {"copy_GBps": 4000.0, "sgemm_GFLOPs": 50000.0},
 "results": [{"group": "relu", "name": "relu forward 256 MiB (mock)", "value": 3000.0,
              "metric": "GB/s", "percent_of_ceiling": 75.0, "ratio_to_vendor": 1.1}]}
JSON
echo "dlfs_bench_gpu (mock): wrote $2"
EOF
chmod +x "$STUBS"/*

copy_tree "$TMP/mock"
MOCK_STUBS="$STUBS" PATH="$STUBS:$PATH" GPU_CHECK_PREFIX="$TMP/mock-prefix" \
  bash "$TMP/mock/bench/gpu_check.sh" "$TMP/mock-out" > "$TMP/mock.log" 2>&1
rc=$?
S="$TMP/mock-out/summary.txt"
section_of() { awk -v h="== $1" 'index($0, h) == 1 {on = 1; next} /^== / {on = 0} on' "$S"; }
if [ "$rc" = 1 ]; then pass "mock run with failures exits 1"; else fail "mock run exits $rc, not 1"; fi
line_of() { grep -nE "^$1 " "$S" | head -1 | cut -d: -f1; }
order_ok=1
last=0
for step in configure build ctest dlfs_bench_gpu 'dlfs bench' compare_pytorch \
  'dlfs bench --profile' 'memcheck kernels' 'memcheck layers' 'memcheck runtime' 'memcheck optim' \
  'memcheck models' 'racecheck kernels'; do
  n=$(line_of "$step")
  if [ -z "$n" ] || [ "$n" -le "$last" ]; then
    order_ok=0
    echo "    step '$step' at line ${n:-none}, after line $last"
  else
    last=$n
  fi
done
if [ "$order_ok" = 1 ]; then
  pass "mock run: build, ctest, the three benchmarks, the profile, then the sanitizers, in that order"
else
  fail "mock run: steps missing or out of order"
fi
tests_sec=$(section_of "test failures")
san_sec=$(section_of "sanitizer findings")
bench_sec=$(section_of "benchmark figures")
if grep -qF 'ctest FAILED: 2 - ReluGpu.MatchesTheCpu' <<< "$tests_sec" &&
  grep -qF 'memcheck layers FAILED: ConvolutionLayerGpu.MockFailure' <<< "$tests_sec" &&
  ! grep -qF 'memcheck kernels FAILED' <<< "$tests_sec"; then
  pass "mock run: test failures hold the ctest and the under-memcheck failures, not the finding"
else
  fail "mock run: the test failures section is wrong:"
  echo "${tests_sec//$'\n'/$'\n'    }"
fi
if grep -qF 'memcheck kernels: FINDINGS: ERROR SUMMARY: 1 error' <<< "$san_sec" &&
  grep -qF 'racecheck kernels: clean' <<< "$san_sec" &&
  ! grep -qF 'ConvolutionLayerGpu' <<< "$san_sec"; then
  pass "mock run: sanitizer findings hold the memcheck finding (exit code $(grep -oE 'SAN_RC=[0-9]+' "$REPO/bench/gpu_check.sh")), apart from test failures"
else
  fail "mock run: the sanitizer findings section is wrong:"
  echo "${san_sec//$'\n'/$'\n'    }"
fi
if grep -qF 'copy ceiling 4000 GB/s' <<< "$bench_sec" &&
  grep -qF 'relu forward 256 MiB (mock)' <<< "$bench_sec" &&
  grep -qE 'lenet5 +28 +64' <<< "$bench_sec" &&
  grep -qF 'compare_pytorch' <<< "$bench_sec" &&
  grep -qF 'by layer: Convolution 70.0% (mock)' <<< "$bench_sec"; then
  pass "mock run: benchmark figures hold the kernel, training and comparison results and the profile"
else
  fail "mock run: the benchmark figures section is wrong:"
  echo "${bench_sec//$'\n'/$'\n'    }"
fi
if grep -qE '^data: no usable carried slice.*SYNTHETIC' "$S" && [ -d "$TMP/mock-prefix-data" ]; then
  pass "mock run without a carried slice generates a synthetic one for compare_pytorch.py"
else
  fail "mock run: no synthetic data fallback"
fi
n_files=$(find "$TMP/mock-out" -type f | wc -l)
if [ "$n_files" -le 8 ] && [ -f "$S" ] &&
  tar -tzf "$TMP/mock-out/logs.tar.gz" 2> /dev/null | grep -x 'memcheck-kernels.log' > /dev/null; then
  pass "mock run leaves $n_files files in OUTDIR (the device tool brings back 8), logs in logs.tar.gz"
else
  fail "mock run leaves $n_files files in OUTDIR, or logs.tar.gz lacks memcheck-kernels.log"
fi
if [ "$failed" != 0 ]; then
  echo "---- mock summary.txt"
  cat "$S" 2> /dev/null
fi

echo "gpu_check_dry_run: $passed passed, $failed failed"
[ "$failed" = 0 ]
