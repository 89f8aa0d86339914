#!/usr/bin/env bash
# `dlfs train --device cuda` on the emulated device against `--device cpu` (docs/emulation.md):
# LeNet-5, the first 2,000 Fashion-MNIST training images, one epoch, no shuffling, the CLI's
# defaults otherwise. Passes when the test accuracies are within 0.002, the epoch's training
# losses within 1e-3 relative, and the device pool made no raw allocation after warm-up. Then
# `dlfs experiment device-agreement` prints its per-layer CPU/GPU differences.
#   bash scripts/emulated_train_check.sh [BUILD_DIR (default build-emulated)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-emulated}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(train --limit-train 2000 --epochs 1 --shuffle off)
for device in cpu cuda; do
  echo "== dlfs train --device $device ${common[*]:1}"
  "$build/dlfs" "${common[@]}" --device "$device" --out "$out/$device" | tail -n 3
done
python3 - "$out" <<'PY'
import csv, json, sys
out = sys.argv[1]
def summary(device):
    with open(f"{out}/{device}/summary.json") as f:
        return json.load(f)
def train_loss(device):
    with open(f"{out}/{device}/metrics.csv") as f:
        return float(list(csv.DictReader(f))[-1]["train_loss"])
cpu, gpu = summary("cpu"), summary("cuda")
acc_cpu, acc_gpu = cpu["test_accuracy"], gpu["test_accuracy"]
loss_cpu, loss_gpu = train_loss("cpu"), train_loss("cuda")
raw = gpu["raw_allocations_after_warmup"]["device"]
print(f"test accuracy: cpu {acc_cpu:.4f}, emulated cuda {acc_gpu:.4f} "
      f"(difference {abs(acc_cpu - acc_gpu):.4f}, allowed 0.002)")
print(f"epoch training loss: cpu {loss_cpu:.6f}, emulated cuda {loss_gpu:.6f} "
      f"(relative difference {abs(loss_cpu - loss_gpu) / loss_cpu:.2e}, allowed 1e-3)")
print(f"device raw allocations after warm-up: {raw}")
ok = abs(acc_cpu - acc_gpu) <= 0.002 + 1e-12 and abs(loss_cpu - loss_gpu) <= 1e-3 * loss_cpu and raw == 0
sys.exit(0 if ok else 1)
PY
echo "== dlfs experiment device-agreement (emulated device)"
"$build/dlfs" experiment device-agreement --out "$out/agreement" | grep -v 'plot_experiment.py'
