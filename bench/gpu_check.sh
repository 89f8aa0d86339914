#!/usr/bin/env bash
# One prepared run on the GPU machine (docs/gpu_check.md):
#   bash bench/gpu_check.sh OUTDIR
# 1. unpacks .device-carry/debs (bench/prepare_gpu_carry.sh) into a prefix: OpenBLAS,
#    GoogleTest, Google Benchmark, zlib, which the machine lacks; finds cuDNN (pip) and cuBLAS
# 2. configures and builds a CUDA build (sm_90, Ninja, all cores) into build-gpu/
# 3. runs the whole test suite (GPU tests included)      -> OUTDIR/ctest.log
# 4. compute-sanitizer memcheck on the GPU tests          -> OUTDIR/memcheck-*.log
#    and racecheck on the kernels that use shared memory -> OUTDIR/racecheck-kernels.log
# 5. dlfs_bench_gpu                                       -> OUTDIR/gpu-kernels.json
# 6. dlfs bench (training throughput)                     -> OUTDIR/training.json
# 7. bench/compare_pytorch.py where torch imports         -> OUTDIR/compare_pytorch.json
# Every step runs under a timeout cut from one budget (GPU_CHECK_BUDGET_S, default 450 s), a
# failing step does not stop the later ones, and OUTDIR/summary.txt is always written.
# Without a GPU (or without the carry) it does what it can: here it builds, runs the CPU tests
# and reports "no CUDA device" for the rest. Exit status: 0 when every step that ran passed.
set -u -o pipefail

if [ $# -lt 1 ]; then
  echo "usage: bash bench/gpu_check.sh OUTDIR" >&2
  exit 2
fi
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 2

BUDGET_S="${GPU_CHECK_BUDGET_S:-450}"
START_S=$(date +%s)
DEADLINE_S=$((START_S + BUDGET_S))
BUILD="$REPO/build-gpu"
PREFIX="${GPU_CHECK_PREFIX:-/tmp/dlfs-prefix}"
ARCH=x86_64-linux-gnu
JOBS=$(nproc 2>/dev/null || echo 4)
SUMMARY="$OUT/summary.txt"
FAILED=0

: > "$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY"; }

# Seconds a step may take: its own cap, but never past the deadline (10 s kept for the summary).
step_timeout() {
  local cap=$1 left=$((DEADLINE_S - $(date +%s) - 10))
  [ "$left" -lt "$cap" ] && cap=$left
  echo "$cap"
}

# run_step NAME CAP_S LOG CMD...: runs CMD under timeout with output to LOG, notes the result.
# Returns CMD's status (124 on timeout, 125 when there was no time left to start it).
run_step() {
  local name=$1 cap=$2 log=$3
  shift 3
  local t
  t=$(step_timeout "$cap")
  if [ "$t" -lt 5 ]; then
    note "$(printf '%-22s SKIPPED (out of time budget %ss)' "$name" "$BUDGET_S")"
    return 125
  fi
  local began rc
  began=$(date +%s)
  timeout -k 5 "$t" "$@" > "$log" 2>&1
  rc=$?
  local took=$(($(date +%s) - began))
  if [ "$rc" = 0 ]; then
    note "$(printf '%-22s ok       %4ss  %s' "$name" "$took" "${log#"$OUT"/}")"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    note "$(printf '%-22s TIMEOUT  %4ss  (limit %ss) %s' "$name" "$took" "$t" "${log#"$OUT"/}")"
  else
    note "$(printf '%-22s FAILED   %4ss  rc=%s %s' "$name" "$took" "$rc" "${log#"$OUT"/}")"
  fi
  return "$rc"
}

note "dlfs gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null), $JOBS cores, budget ${BUDGET_S}s"
note "commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"

# ---- the machine --------------------------------------------------------------------------
{
  echo "== nvidia-smi"; timeout 20 nvidia-smi 2>&1 || echo "nvidia-smi unavailable"
  echo "== nvcc"; (command -v nvcc || ls /usr/local/cuda/bin/nvcc) 2>&1
  (nvcc --version || /usr/local/cuda/bin/nvcc --version) 2>&1 | tail -2
  echo "== c++"; c++ --version 2>&1 | head -1
  echo "== cmake"; cmake --version 2>&1 | head -1; echo "ninja $(ninja --version 2>&1)"
  echo "== python"; python3 --version 2>&1
  echo "== os"; grep PRETTY_NAME /etc/os-release 2>&1; ldd --version 2>&1 | head -1
} > "$OUT/machine.txt" 2>&1
gpu_name=$(timeout 20 nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
note "gpu: ${gpu_name:-none found by nvidia-smi}"

# ---- dependencies: the carried prefix --------------------------------------------------------
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
  if command -v dpkg >/dev/null; then
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

if ls "$REPO"/.device-carry/debs/*.deb >/dev/null 2>&1; then
  rm -rf "$PREFIX" "$PREFIX-runtime"
  mkdir -p "$PREFIX" "$PREFIX-runtime"
  unpack_ok=1
  for deb in "$REPO"/.device-carry/debs/*.deb; do
    case "$(basename "$deb")" in
      # Runtime libraries of OpenBLAS, used only where the machine has none of its own (a
      # newer system copy must win over Debian 12's).
      libgfortran5_* | libquadmath0_* | libgomp1_*) dest="$PREFIX-runtime" ;;
      *) dest="$PREFIX" ;;
    esac
    unpack_deb "$deb" "$dest" >> "$OUT/prefix.log" 2>&1 || unpack_ok=0
  done
  P="$PREFIX/usr"
  L="$P/lib/$ARCH"
  # zlib1g-dev's libz.so is an absolute link to Debian's libz.so.1.2.13: point it at this
  # machine's libz.so.1, or drop it so that the static libz.a is used.
  rm -f "$L/libz.so"
  system_libz=$(ld_cache | awk '$1 == "libz.so.1" && /x86-64/ {print $NF; exit}')
  if [ -n "$system_libz" ]; then
    ln -s "$system_libz" "$L/libz.so"
    zlib_library="$L/libz.so"
  else
    zlib_library="$L/libz.a"
  fi
  CMAKE_HINTS+=(
    "-DDLFS_CBLAS_INCLUDE_DIR=$P/include/$ARCH/openblas-openmp"
    "-DDLFS_OPENBLAS_LIBRARY=$L/openblas-openmp/libopenblas.so"
    "-DGTest_DIR=$L/cmake/GTest"
    "-Dbenchmark_DIR=$L/cmake/benchmark"
    "-DZLIB_INCLUDE_DIR=$P/include"
    "-DZLIB_LIBRARY=$zlib_library"
  )
  add_lib_path "$L/openblas-openmp"
  add_lib_path "$L"
  missing_rt=""
  for lib in libgfortran.so.5 libquadmath.so.0 libgomp.so.1; do
    have_system_lib "$lib" || missing_rt="$missing_rt $lib"
  done
  [ -n "$missing_rt" ] && add_lib_path "$PREFIX-runtime/usr/lib/$ARCH"
  note "prefix: $(ls "$REPO"/.device-carry/debs/*.deb | wc -l) carried packages unpacked into $PREFIX$([ "$unpack_ok" = 1 ] || echo ' (SOME FAILED: prefix.log)')${missing_rt:+; carried runtime libraries used for:$missing_rt}"
else
  note "prefix: no .device-carry/debs (bench/prepare_gpu_carry.sh); using the system's packages"
fi

# ---- CUDA: nvcc, cuBLAS, cuDNN -------------------------------------------------------------
NVCC=$(command -v nvcc || true)
[ -z "$NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc
DLFS_CUDA_MODE=AUTO
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
NVIDIA_DIRS=$(timeout 30 python3 -c 'import nvidia, sys; print("\n".join(nvidia.__path__))' 2>/dev/null || true)
find_in_nvidia() {  # name -> first match under the nvidia package dirs
  local d
  for d in $NVIDIA_DIRS; do
    find "$d" -name "$1" -print -quit 2>/dev/null
  done | head -1
}
toolkit_has() { [ -n "$NVCC" ] && [ -n "$(find "$CUDA_HOME_GUESS/" -name "$1" -print -quit 2>/dev/null)" ]; }

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
    note "cudnn: not found (toolkit or pip nvidia-cudnn); building without it"
  fi
fi

if [ -n "$NVCC" ] && ! toolkit_has 'libcublas.so'; then
  # The toolkit lacks cuBLAS: use pip's nvidia-cublas through unversioned links that CMake's
  # FindCUDAToolkit can find, and its headers through the compilers' include path.
  cublas_lib=$(find_in_nvidia 'libcublas.so.*')
  cublas_header=$(find_in_nvidia cublas_v2.h)
  if [ -n "$cublas_lib" ] && [ -n "$cublas_header" ]; then
    shim="$PREFIX-cublas"
    mkdir -p "$shim"
    for lib in "$(dirname "$cublas_lib")"/libcublas*.so.*; do
      ln -sf "$lib" "$shim/$(basename "$lib" | sed 's/\.so\..*/.so/')"
    done
    inc="$(dirname "$cublas_header")"
    CMAKE_HINTS+=("-DCMAKE_LIBRARY_PATH=$shim" "-DCMAKE_CXX_FLAGS=-I$inc" "-DCMAKE_CUDA_FLAGS=-I$inc")
    add_lib_path "$(dirname "$cublas_lib")"
    note "cublas: not in the toolkit; using pip's $(dirname "$cublas_lib")"
  else
    note "cublas: not in the toolkit nor in pip's nvidia packages; the CUDA build will fail"
  fi
fi

export LD_LIBRARY_PATH="${LIB_PATH}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" > "$OUT/environment.txt"
printf '%s\n' "${CMAKE_HINTS[@]}" >> "$OUT/environment.txt"

# ---- configure and build -------------------------------------------------------------------
# attach.cmake adds bench/gpu where bench/CMakeLists.txt does not (yet); harmless where it does.
run_step configure 120 "$OUT/configure.log" \
  cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 "-DDLFS_CUDA=$DLFS_CUDA_MODE" \
  "-DCMAKE_PROJECT_dlfs_INCLUDE=$REPO/bench/gpu/attach.cmake" "${CMAKE_HINTS[@]}"
configured=$?
grep -E '^-- dlfs:' "$OUT/configure.log" | sed 's/^-- /  /' | tee -a "$SUMMARY"
built=1
if [ "$configured" = 0 ]; then
  run_step build 330 "$OUT/build.log" cmake --build "$BUILD" -j "$JOBS"
  built=$?
  [ "$built" = 0 ] || { grep -E 'error|FAILED' "$OUT/build.log" | head -20 | sed 's/^/  /' | tee -a "$SUMMARY"; }
else
  FAILED=1
  tail -20 "$OUT/configure.log" | sed 's/^/  /' >> "$SUMMARY"
fi
[ "$built" = 0 ] || FAILED=1
grep -E 'OpenBLAS|CUDNN|GTest|benchmark|ZLIB' "$BUILD/CMakeCache.txt" 2>/dev/null \
  | grep -v '^//' > "$OUT/cmake-cache-deps.txt"

gpu_present=0
[ -n "$gpu_name" ] && gpu_present=1

# ---- tests ---------------------------------------------------------------------------------
if [ "$built" = 0 ]; then
  run_step ctest 170 "$OUT/ctest.log" \
    ctest --test-dir "$BUILD" -j "$(( JOBS > 8 ? 8 : JOBS ))" --timeout 90 --output-on-failure \
    || FAILED=1
  line=$(grep -E 'tests passed|tests failed' "$OUT/ctest.log" | tail -1)
  skipped=$(grep -cE '\(Skipped\)|\*\*\*Skipped' "$OUT/ctest.log")
  gpu_ran=$(grep -E 'Test +#[0-9]+: [A-Za-z0-9_]*Gpu[A-Za-z0-9_]*\.' "$OUT/ctest.log" | grep -cE 'Passed|Failed' )
  note "  ctest: ${line:-no summary line}; skipped $skipped; Gpu tests that ran: $gpu_ran"
  grep -A200 'The following tests FAILED' "$OUT/ctest.log" | head -40 | sed 's/^/  /' | tee -a "$SUMMARY"
  cp "$BUILD/Testing/Temporary/LastTest.log" "$OUT/ctest-LastTest.log" 2>/dev/null

  # ---- compute-sanitizer: memcheck on the GPU tests, racecheck on shared-memory kernels ----
  SANITIZER=$(command -v compute-sanitizer || true)
  [ -z "$SANITIZER" ] && [ -n "$NVCC" ] && [ -x "$(dirname "$NVCC")/compute-sanitizer" ] \
    && SANITIZER="$(dirname "$NVCC")/compute-sanitizer"
  # sanitizer_summary LOG: the tool's verdict and the tests' in one line of the summary.
  sanitizer_summary() {
    local summary_line tests_line
    summary_line=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$1" | tail -1)
    tests_line=$(grep -E '^\[  PASSED  \]|^\[  FAILED  \]' "$1" | head -2 | tr '\n' ' ')
    note "  ${summary_line:-no SUMMARY line (timed out?)} ${tests_line}"
  }
  if [ -z "$SANITIZER" ]; then
    note "$(printf '%-22s SKIPPED (compute-sanitizer not found)' sanitizers)"
  elif [ "$gpu_present" = 0 ]; then
    note "$(printf '%-22s SKIPPED (no CUDA device)' sanitizers)"
  else
    # DLFS_POOL_CACHING=0: every tensor its own cudaMalloc, so out-of-bounds accesses are seen.
    # kernels and layers hold most GPU tests (60 s each); other suites' GPU tests get 30 s.
    for suite in kernels layers runtime models optim apps; do
      bin="$BUILD/tests/dlfs_${suite}_tests"
      [ -x "$bin" ] || continue
      listed=$(timeout 20 "$bin" --gtest_list_tests --gtest_filter='*Gpu*:CudaRuntime*' 2>/dev/null)
      grep -q '^  ' <<< "$listed" || continue
      cap=30
      case "$suite" in kernels | layers) cap=60 ;; esac
      run_step "memcheck $suite" "$cap" "$OUT/memcheck-$suite.log" env DLFS_POOL_CACHING=0 \
        "$SANITIZER" --tool memcheck --error-exitcode 3 --leak-check no \
        "$bin" '--gtest_filter=*Gpu*:CudaRuntime*' || FAILED=1
      sanitizer_summary "$OUT/memcheck-$suite.log"
    done
    # racecheck: the kernels that use shared memory (__shared__, block_sum/block_max of
    # launch.cuh, CUB and Thrust's reductions), found by grep. kernels/cuda/X.cu is tested by the suite named after it
    # (softmax_with_loss -> SoftmaxWithLossGpu) and by the Gpu suites of tests/kernels/test_X.cpp.
    racy_suites=""
    for cu in $(grep -lE '__shared__|block_(sum|max)|cub::|thrust::' "$REPO"/kernels/cuda/*.cu 2>/dev/null); do
      name=$(basename "$cu" .cu)
      racy_suites="$racy_suites $(awk -F_ '{s = ""; for (i = 1; i <= NF; i++)
        s = s toupper(substr($i, 1, 1)) substr($i, 2); print s "Gpu"}' <<< "$name")"
      test_file="$REPO/tests/kernels/test_$name.cpp"
      [ -f "$test_file" ] && racy_suites="$racy_suites $(grep -oE 'TEST(_F|_P)?\([A-Za-z0-9]+Gpu,' \
        "$test_file" | sed -E 's/.*\(//; s/,//')"
    done
    racy_filter=$(tr ' ' '\n' <<< "$racy_suites" | grep . | sort -u | sed 's/$/.*/' | paste -sd: -)
    if [ -n "$racy_filter" ] && [ -x "$BUILD/tests/dlfs_kernels_tests" ]; then
      echo "gtest filter: $racy_filter" > "$OUT/racecheck-kernels.filter.txt"
      run_step "racecheck kernels" 60 "$OUT/racecheck-kernels.log" \
        "$SANITIZER" --tool racecheck --racecheck-report all --error-exitcode 3 \
        "$BUILD/tests/dlfs_kernels_tests" "--gtest_filter=$racy_filter" || FAILED=1
      sanitizer_summary "$OUT/racecheck-kernels.log"
    fi
  fi
fi

# ---- kernel benchmarks -------------------------------------------------------------------
BENCH_GPU="$BUILD/bench/gpu/dlfs_bench_gpu"
if [ -x "$BENCH_GPU" ]; then
  run_step dlfs_bench_gpu 120 "$OUT/gpu-kernels.log" \
    "$BENCH_GPU" --json-out "$OUT/gpu-kernels.json" || FAILED=1
  grep -E 'no CUDA device|failed' "$OUT/gpu-kernels.log" | head -5 | sed 's/^/  /' | tee -a "$SUMMARY"
  # The issue's targets, as measured: softmax, ReLU, cross-entropy >= 70% of copy; conv >= 0.5x cuDNN.
  if [ -s "$OUT/gpu-kernels.json" ]; then
    python3 - "$OUT/gpu-kernels.json" <<'PY' 2>&1 | tee -a "$SUMMARY"
import json, sys
doc = json.load(open(sys.argv[1]))
if doc.get("skipped"):
    print("  gpu-kernels: skipped:", doc["skipped"])
    sys.exit(0)
print("  copy ceiling %.0f GB/s" % (doc["ceilings"].get("copy_GBps") or 0))
for r in doc["results"]:
    pct, ratio = r.get("percent_of_ceiling"), r.get("ratio_to_vendor")
    if r["group"] in ("relu", "softmax", "cross_entropy", "softmax_with_loss", "convolution"):
        print("  %-60s %9.0f %-7s %6s%% of ceiling  x%s vs vendor" % (
            r["name"][:60], r["value"], r["metric"], "-" if pct is None else "%.0f" % pct,
            "-" if ratio is None else "%.2f" % ratio))
PY
  fi
else
  note "$(printf '%-22s SKIPPED (not built: %s)' dlfs_bench_gpu "${BENCH_GPU#"$REPO"/}")"
fi

# ---- training throughput (dlfs bench, another helper's command) --------------------------
dlfs_help=$([ -x "$BUILD/dlfs" ] && timeout 20 "$BUILD/dlfs" --help 2>&1)
if grep -qE '^ +bench ' <<< "$dlfs_help"; then
  run_step "dlfs bench" 90 "$OUT/training.log" \
    "$BUILD/dlfs" bench --models lenet5,resnet18 --device cuda --json-out "$OUT/training.json" \
    || FAILED=1
  tail -15 "$OUT/training.log" | sed 's/^/  /' >> "$SUMMARY"
else
  note "$(printf '%-22s SKIPPED (build-gpu/dlfs has no bench command yet)' 'dlfs bench')"
fi

# ---- comparison with PyTorch (another helper's script) ------------------------------------
if [ ! -f "$REPO/bench/compare_pytorch.py" ]; then
  note "$(printf '%-22s SKIPPED (bench/compare_pytorch.py absent)' compare_pytorch)"
elif ! timeout 60 python3 -c 'import torch' >/dev/null 2>&1; then
  note "$(printf '%-22s SKIPPED (python3 cannot import torch)' compare_pytorch)"
else
  run_step compare_pytorch 90 "$OUT/compare_pytorch.log" \
    python3 "$REPO/bench/compare_pytorch.py" --device cuda --json-out "$OUT/compare_pytorch.json" \
    || FAILED=1
  tail -15 "$OUT/compare_pytorch.log" | sed 's/^/  /' >> "$SUMMARY"
fi

# ---- logs ------------------------------------------------------------------------------
tail -200 "$OUT/build.log" > "$OUT/build-tail.log" 2>/dev/null && rm -f "$OUT/build.log"
note "total $(($(date +%s) - START_S))s of ${BUDGET_S}s; result: $([ "$FAILED" = 0 ] && echo PASS || echo FAIL)"
exit "$FAILED"
