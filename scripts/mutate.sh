#!/usr/bin/env bash
# Mutation check: does the test suite catch realistic bugs?
#
# Applies each mutation of a list (scripts/mutations.txt) one at a time to a scratch copy of the
# repository at a commit (never the working tree), rebuilds it incrementally (one CPU-only build,
# -DDLFS_CUDA=OFF, reused between mutants and between runs of this script), runs the suite with
# ctest, and reports each mutant as killed (with the first failing test) or survived, and the
# kill rate. docs/testing.md records a run.
#
#   scripts/mutate.sh [--list FILE] [--rev REV] [--scratch DIR] [--jobs N] [--timeout S]
#                     [--exclude REGEX] [--only I,J,...] [--all-failures] [--report FILE]
#
#   --list FILE      mutations, one a line: FILE ==> ORIGINAL ==> MUTATED ==> NAME
#                    (default scripts/mutations.txt); ORIGINAL must occur exactly once in FILE
#   --rev REV        the commit to mutate (default HEAD; uncommitted changes are not used)
#   --scratch DIR    scratch copy and build (default /tmp/dlfs-mutate); kept for the next run,
#                    so that only what changed since is rebuilt
#   --jobs N         ninja and ctest parallelism (default 2)
#   --timeout S      per-test timeout in seconds (default 120); a timeout counts as a kill
#   --exclude REGEX  ctest -E: tests not run (default: none); the unmutated suite must pass
#                    without them
#   --only LIST      run only these mutants (1-based line numbers among the mutations)
#   --all-failures   run the whole suite for every mutant and list every test that fails
#                    (slower: shows which tests catch a mutant, not only the first)
#   --report FILE    also write the Markdown report there (default DIR/report.md)
#
# Environment: DLFS_MUTATE_CMAKE_ARGS adds configure arguments (e.g. linker flags).
#
# Each mutant's ctest stops at its first failure (--stop-on-failure; not with --all-failures), so
# a killed mutant costs a rebuild and part of the suite; a survivor costs the whole suite. Exit status: 0 when every
# mutant was applied and killed, 1 when some survived or could not be applied, 2 on setup errors.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
list="$repo/scripts/mutations.txt"
rev=HEAD
scratch=/tmp/dlfs-mutate
jobs=2
timeout=120
exclude=""
only=""
all_failures=0
report=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --list) list=$(realpath "$2"); shift 2 ;;
    --rev) rev=$2; shift 2 ;;
    --scratch) scratch=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --exclude) exclude=$2; shift 2 ;;
    --only) only=",$2,"; shift 2 ;;
    --all-failures) all_failures=1; shift ;;
    --report) report=$2; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mutate.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

case "$scratch" in
  "$repo"|"$repo"/*) echo "mutate.sh: the scratch directory must be outside the repository" >&2
                     exit 2 ;;
esac
[[ -f "$list" ]] || { echo "mutate.sh: no mutation list $list" >&2; exit 2; }
commit=$(git -C "$repo" rev-parse --verify "$rev^{commit}")
report=${report:-$scratch/report.md}
src="$scratch/src" build="$scratch/build" export_dir="$scratch/export" logs="$scratch/logs"
mkdir -p "$src" "$build" "$logs"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- The scratch copy: the commit's files, rewritten only where they differ (so the build stays
# incremental), and files the commit does not have removed.
log "exporting $commit to $src"
rm -rf "$export_dir"
mkdir -p "$export_dir"
git -C "$repo" archive "$commit" | tar -x -C "$export_dir"
(cd "$export_dir" && find . -type f) | while IFS= read -r f; do
  if ! cmp -s "$export_dir/$f" "$src/$f"; then
    mkdir -p "$(dirname "$src/$f")"
    cp "$export_dir/$f" "$src/$f"
  fi
done
(cd "$src" && find . -type f) | while IFS= read -r f; do
  [[ -e "$export_dir/$f" ]] || rm -f "$src/$f"
done

if [[ ! -f "$build/build.ninja" ]]; then
  log "configuring $build"
  # shellcheck disable=SC2086
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDLFS_CUDA=OFF \
    -DDLFS_BUILD_BENCH=OFF ${DLFS_MUTATE_CMAKE_ARGS:-} >"$logs/configure.log" 2>&1 ||
    { echo "mutate.sh: configure failed, see $logs/configure.log" >&2; exit 2; }
fi

build_tree() { ninja -C "$build" -j "$jobs" >"$1" 2>&1 </dev/null; }

# Runs the suite; prints the first failing test's name, or with "all" every failing test's
# name (empty when all passed).
run_suite() {
  local out=$1 args=(--test-dir "$build" -j "$jobs" --timeout "$timeout" --no-tests=error)
  [[ -n "$exclude" ]] && args+=(-E "$exclude")
  if [[ "${2:-}" == stop ]]; then
    args+=(--stop-on-failure)
    # Without the cost data of earlier runs ctest starts the tests in suite order (runtime,
    # kernels, layers, ..., apps) instead of the slowest first, so most kills come early.
    rm -f "$build/Testing/Temporary/CTestCostData.txt"
  fi
  if ctest "${args[@]}" >"$out" 2>&1 </dev/null; then
    echo ""
  else
    local failed
    failed=$(grep -E ' Test +#[0-9]+: .*(\*\*\*(Failed|Timeout|Exception)|Subprocess aborted)' \
      "$out" | sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' || true)
    if [[ "${2:-}" == all ]]; then
      failed=$(paste -sd, <<<"$failed" | sed 's/,/, /g')
    else
      failed=$(head -1 <<<"$failed")
    fi
    echo "${failed:-ctest failed (see log)}"
  fi
}

log "building the unmutated tree"
start=$SECONDS
build_tree "$logs/build-baseline.log" ||
  { echo "mutate.sh: the unmutated tree does not build, see $logs/build-baseline.log" >&2; exit 2; }
log "running the unmutated suite"
baseline_failure=$(run_suite "$logs/ctest-baseline.log")
if [[ -n "$baseline_failure" ]]; then
  echo "mutate.sh: the unmutated suite fails ($baseline_failure), see $logs/ctest-baseline.log" >&2
  exit 2
fi
baseline_tests=$(sed -nE 's/.*tests failed out of ([0-9]+).*/\1 tests passed/p' \
  "$logs/ctest-baseline.log" | tail -1 || true)
baseline_seconds=$((SECONDS - start))
log "baseline: $baseline_tests in ${baseline_seconds}s (build included)"

# --- The mutants.
rows=() killed=0 survived=0 skipped=0 total=0 index=0
while IFS= read -r line <&3; do
  [[ -z "${line// /}" || "$line" == \#* ]] && continue
  index=$((index + 1))
  [[ -n "$only" && "$only" != *",$index,"* ]] && continue
  total=$((total + 1))
  file=${line%% ==> *}
  rest=${line#* ==> }
  name=${rest##* ==> }
  t0=$SECONDS
  # Apply: exactly one occurrence of ORIGINAL, replaced by MUTATED.
  if ! python3 - "$src/$file" "$line" <<'PY'
import sys
path, line = sys.argv[1], sys.argv[2]
_, original, mutated, _ = line.split(" ==> ")
try:
    text = open(path).read()
except OSError:
    sys.exit(1)
if text.count(original) != 1:
    sys.exit(1)
open(path, "w").write(text.replace(original, mutated))
PY
  then
    log "mutant $index ($name): NOT APPLIED (original text not found exactly once in $file)"
    rows+=("| $index | $name | \`$file\` | not applied | original text not found once | 0 |")
    skipped=$((skipped + 1))
    continue
  fi
  log "mutant $index ($name): building"
  if ! build_tree "$logs/build-$index.log"; then
    result="killed" by="the build (compile error)"
    killed=$((killed + 1))
  else
    log "mutant $index: testing"
    mode=stop
    ((all_failures)) && mode=all
    first=$(run_suite "$logs/ctest-$index.log" "$mode")
    if [[ -n "$first" ]]; then
      result="killed" by="$first"
      killed=$((killed + 1))
    else
      result="**survived**" by="-"
      survived=$((survived + 1))
    fi
  fi
  # Restore the file; the next build recompiles it together with the next mutant.
  cp "$export_dir/$file" "$src/$file"
  seconds=$((SECONDS - t0))
  log "mutant $index ($name): $result by $by (${seconds}s)"
  rows+=("| $index | $name | \`$file\` | $result | $by | $seconds |")
done 3<"$list"

applied=$((killed + survived))
rate="n/a"
((applied > 0)) && rate="$killed/$applied ($((100 * killed / applied))%)"
{
  echo "Mutation run: commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) cores"
  echo "Unmutated suite: $baseline_tests${exclude:+ (excluded: \`$exclude\`)}, per-test timeout ${timeout}s"
  echo ""
  if ((all_failures)); then
    echo "| # | mutant | file | result | failing tests | seconds |"
  else
    echo "| # | mutant | file | result | first failing test | seconds |"
  fi
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo ""
  echo "Kill rate: $rate; $survived survived; $skipped not applied; $((SECONDS - start)) s in all."
} | tee "$report"

((survived == 0 && skipped == 0))
