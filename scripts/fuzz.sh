#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in build-fuzz/ and runs each one over a copy
# of its seed corpus for SECONDS (default 60):
#   bash scripts/fuzz.sh [SECONDS]
# A crash, a leak, a sanitizer report, an input taking over 10 s or an allocation over 256 MiB
# is a finding: the input is saved under build-fuzz/findings/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

SECONDS_EACH="${1:-60}"
BUILD=build-fuzz
JOBS="${JOBS:-$(nproc)}"
CXX_COMPILER="${FUZZ_CXX:-clang++}"
start=$(date +%s)

echo "fuzz: configuring $BUILD with $CXX_COMPILER (DLFS_FUZZ=ON, CPU only)"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_COMPILER=$CXX_COMPILER" \
  -DDLFS_CUDA=OFF -DDLFS_FUZZ=ON -DDLFS_BUILD_TESTS=OFF -DDLFS_BUILD_BENCH=OFF -DDLFS_PYTHON=OFF \
  > "$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; echo "fuzz: configure FAILED"; exit 1; }

TARGETS=(idx_reader safetensors)  # fuzz/<name>_fuzzer.cpp, built as dlfs_<name>_fuzzer
executables=()
for name in "${TARGETS[@]}"; do executables+=("dlfs_${name}_fuzzer"); done
echo "fuzz: building ${executables[*]}"
cmake --build "$BUILD" -j "$JOBS" --target "${executables[@]}"

mkdir -p "$BUILD/findings"
# The targets write every input to a scratch file (the readers take paths): on a RAM disk they
# run about 30 times faster than on this machine's /tmp.
scratch_root=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch_root=/dev/shm
failed=0
for name in "${TARGETS[@]}"; do
  case "$name" in idx_reader) seeds=idx ;; *) seeds=$name ;; esac
  work=$(mktemp -d "$scratch_root/dlfs-fuzz.XXXXXX")
  cp -r "$REPO/fuzz/corpus/$seeds" "$work/corpus"
  mkdir -p "$work/artifacts"
  echo "fuzz: dlfs_${name}_fuzzer for ${SECONDS_EACH} s over $(ls "$work/corpus" | wc -l) seeds"
  rc=0
  # TMPDIR: where the targets write their scratch file.
  TMPDIR="$work" ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$BUILD/fuzz/dlfs_${name}_fuzzer" "$work/corpus" "-dict=$REPO/fuzz/$seeds.dict" \
    -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=256 -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
    > "$BUILD/$name.log" 2>&1 || rc=$?
  grep -E '^stat::number_of_executed_runs|^Done [0-9]+ runs' "$BUILD/$name.log" | tail -1 || true
  if [ "$rc" != 0 ] || ls "$work/artifacts"/* > /dev/null 2>&1; then
    echo "fuzz: dlfs_${name}_fuzzer FOUND A PROBLEM (exit $rc); log: $BUILD/$name.log"
    grep -E 'ERROR|SUMMARY|runtime error|terminate|==[0-9]+==' "$BUILD/$name.log" | head -20 || true
    cp "$work/artifacts"/* "$BUILD/findings/" 2> /dev/null || true
    ls "$BUILD/findings"
    failed=1
  else
    echo "fuzz: dlfs_${name}_fuzzer clean; corpus grew from $(ls "$REPO/fuzz/corpus/$seeds" | wc -l) to $(ls "$work/corpus" | wc -l) inputs"
  fi
  rm -rf "$work"
done
echo "fuzz: $([ "$failed" = 0 ] && echo clean || echo FAILED) after $(($(date +%s) - start)) s"
exit "$failed"
