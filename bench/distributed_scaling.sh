#!/usr/bin/env bash
# Data-parallel scaling on this machine: training images/s of `dlfs train` on Fashion-MNIST for
# one process (with 1 and with 2 OpenMP threads) and for `mpirun -np 2` (2 ranks of 1 thread,
# the same global batch), then 2 ranks at several gradient bucket sizes. One table, and the
# figures as JSON.
#   bash bench/distributed_scaling.sh [BUILD_DIR (build)] [MODELS (lenet5,resnet20)] [JSON_OUT]
# DLFS_SCALING_IMAGES (default 12800) training images per run; DLFS_SCALING_BATCH (default
# 128) the global batch; DLFS_SCALING_BUCKETS (default "0.0625 0.25 1 4") bucket sizes in MiB
# for the bucket sweep ("" skips it). Each figure is the mean images/s of one epoch,
# summary.json's images_per_second, measured after the data is loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
models=${2:-lenet5,resnet20}
json_out=${3:-}
images=${DLFS_SCALING_IMAGES:-12800}
batch=${DLFS_SCALING_BATCH:-128}
buckets=${DLFS_SCALING_BUCKETS-0.0625 0.25 1 4}
data=${DLFS_DATA:-/usr/share/datasets/fashion-mnist}
command -v mpirun > /dev/null || { echo "distributed_scaling: no mpirun (apt-get install openmpi-bin)" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# run LABEL PREFIX... : one epoch, prints images/s
run() {
  local out="$scratch/run"
  rm -rf "$out"
  "$@" "$build/dlfs" train --data "$data" --model "$model" --epochs 1 --limit-train "$images" \
    --val-split 0 --quiet --plot off --out "$out" "${train_extra[@]}" > "$scratch/log" 2>&1 ||
    { cat "$scratch/log" >&2; exit 1; }
  python3 -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["images_per_second"])' \
    "$out/summary.json"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2 -x OMP_NUM_THREADS=1)
rows=()
printf '%-10s %-34s %10s %8s\n' model setup images/s "vs 1x1"
IFS=, read -ra model_list <<< "$models"
for model in "${model_list[@]}"; do
  train_extra=(--batch-size "$batch")
  one_thread=$(run env OMP_NUM_THREADS=1)
  two_threads=$(run env OMP_NUM_THREADS=2)
  train_extra=(--batch-size $((batch / 2)))
  two_ranks=$(run "${mpi[@]}")
  for pair in "1 process, 1 thread:$one_thread" "1 process, 2 threads:$two_threads" \
              "2 ranks x 1 thread (bucket 1 MiB):$two_ranks"; do
    printf '%-10s %-34s %10s %8s\n' "$model" "${pair%%:*}" "${pair##*:}" \
      "$(ratio "${pair##*:}" "$one_thread")"
  done
  rows+=("{\"model\": \"$model\", \"one_process_one_thread\": $one_thread, \"one_process_two_threads\": $two_threads, \"two_ranks_one_thread\": $two_ranks, \"buckets\": {")
  first=1
  for mb in $buckets; do
    train_extra=(--batch-size $((batch / 2)) --bucket-mb "$mb")
    rate=$(run "${mpi[@]}")
    printf '%-10s %-34s %10s %8s\n' "$model" "2 ranks, bucket $mb MiB" "$rate" \
      "$(ratio "$rate" "$one_thread")"
    [ "$first" = 1 ] || rows[-1]+=", "
    rows[-1]+="\"$mb\": $rate"
    first=0
  done
  rows[-1]+="}}"
done
if [ -n "$json_out" ]; then
  {
    echo "{\"benchmark\": \"distributed_scaling\", \"commit\": \"$(git rev-parse --short HEAD)\","
    echo " \"date\": \"$(date -u +%Y-%m-%d)\", \"cpu\": \"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\","
    echo " \"cores\": $(nproc), \"images\": $images, \"global_batch\": $batch, \"results\": ["
    sep=""
    for r in "${rows[@]}"; do echo "  $sep$r"; sep=","; done
    echo "]}"
  } > "$json_out"
  python3 -m json.tool "$json_out" > /dev/null
  echo "wrote $json_out"
fi
