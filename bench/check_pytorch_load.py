#!/usr/bin/env python3
"""Loads a dlfs checkpoint into its PyTorch twin with safetensors and load_state_dict(strict=True),
evaluates it on the Fashion-MNIST test set, and prints the accuracy beside the one dlfs reports.

usage: python3 bench/check_pytorch_load.py runs/lenet5/model.safetensors [DATA_DIR]
Needs torch and safetensors (Debian: python3-torch; pip: safetensors); when the python3 on PATH
lacks torch, the script re-runs itself under /usr/bin/python3. Every model with a twin in
bench/pytorch_models.py works: the MLPs, the book's convnets, lenet5, alexnet (28 and 224), the
28x28 VGGs, resnet20 (28 and 32) and resnet18/34/50 (28 and 224).
"""
import gzip
import json
import os
import subprocess
import sys

try:
    import torch
except ImportError:  # Debian's python3-torch is installed for the system Python only
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise
import numpy as np
from safetensors.torch import load_file, safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_models  # noqa: E402


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    raise SystemExit(f"{directory} has no {name}[.gz]")


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    checkpoint = sys.argv[1]
    data_dir = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    with safe_open(checkpoint, "pt") as f:
        meta = f.metadata()
    model = pytorch_models.build(meta["dlfs_model"], int(meta["dlfs_variant"]),
                                 int(meta["dlfs_classes"]))
    state = load_file(checkpoint)
    model.load_state_dict(state, strict=True)
    model.eval()

    images = read_idx(find(data_dir, "t10k-images-idx3-ubyte")).astype(np.float32) / 255.0
    labels = read_idx(find(data_dir, "t10k-labels-idx1-ubyte")).astype(np.int64)
    mean, std = float(meta.get("dlfs_normalize_mean", 0)), float(meta.get("dlfs_normalize_std", 1))
    x = (torch.from_numpy(images).unsqueeze(1) - mean) / std
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)).item()
    accuracy = (logits.argmax(1).numpy() == labels).mean()

    dlfs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "dlfs")
    ours = json.loads(subprocess.check_output(
        [dlfs, "eval", "--checkpoint", checkpoint, "--data", data_dir, "--device", "cpu",
         "--json"]))
    print(f"{checkpoint}: {meta['dlfs_model']}@{meta['dlfs_variant']} ({len(state)} tensors) "
          f"loaded into PyTorch {torch.__version__} with load_state_dict(strict=True)")
    print(f"  PyTorch: test accuracy {accuracy:.4f}  loss {loss:.4f}")
    print(f"  dlfs:    test accuracy {ours['test_accuracy']:.4f}  loss {ours['test_loss']:.4f}")
    same = abs(accuracy - ours["test_accuracy"]) < 1e-9 and abs(loss - ours["test_loss"]) < 1e-4
    print("  same outputs" if same else "  DIFFERENT outputs")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
