#!/usr/bin/env bash
# How dlfs's OpenMP threads wait, quiet and beside a busy process: training images/s of
# `dlfs bench` under each wait setting, on a quiet machine and with one CPU-bound process
# (`yes > /dev/null`) running beside it. Prints one row per setting and state, and the ratio of
# busy to quiet speed.
#   bash bench/wait_policy.sh [BUILD_DIR (default build)] [MODELS (default lenet5,resnet20)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
models=${2:-lenet5,resnet20}
run() {  # run SETTING STATE: prints "model images/s" lines
  local setting=$1 state=$2 busy=""
  if [ "$state" = busy ]; then
    yes > /dev/null &
    busy=$!
  fi
  # DLFS_KEEP_WAIT_POLICY: measure each setting as given, without dlfs choosing for itself.
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT DLFS_KEEP_WAIT_POLICY=1 $setting \
    "$build/dlfs" bench --device cpu --models "$models" --batch-sizes 64 --min-time 3 |
    awk 'NR > 2 && NF >= 6 {print $1, $6}'
  if [ -n "$busy" ]; then kill "$busy"; wait "$busy" 2>/dev/null || true; fi
}
printf '%-34s %-10s %-6s %10s\n' setting model state images/s
for setting in ${DLFS_WAIT_SETTINGS:-"OMP_WAIT_POLICY=" "OMP_WAIT_POLICY=passive" "GOMP_SPINCOUNT=10000" \
               "GOMP_SPINCOUNT=1000"}; do
  label=${setting}
  [ "$setting" = "OMP_WAIT_POLICY=" ] && { label="(libgomp default)"; setting=""; }
  declare -A quiet=()
  while read -r model rate; do
    quiet[$model]=$rate
    printf '%-34s %-10s %-6s %10s\n' "$label" "$model" quiet "$rate"
  done < <(run "$setting" quiet)
  while read -r model rate; do
    printf '%-34s %-10s %-6s %10s  busy/quiet %.2f\n' "$label" "$model" busy "$rate" \
      "$(echo "$rate / ${quiet[$model]}" | bc -l)"
  done < <(run "$setting" busy)
  unset quiet
done
