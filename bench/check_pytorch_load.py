#!/usr/bin/env python3
"""Loads a dlfs checkpoint into its PyTorch twin with safetensors and load_state_dict(strict=True),
evaluates it on the Fashion-MNIST test set, and prints the accuracy beside the one dlfs reports.

usage: python3 bench/check_pytorch_load.py runs/lenet5/model.safetensors [DATA_DIR]
Needs torch and numpy (Debian: python3-torch, which the README's setup installs); it reads the
safetensors file itself, so the pip-only `safetensors` module is not needed. When the python3 on
PATH lacks torch, the script re-runs itself under /usr/bin/python3. Every model with a twin in
bench/pytorch_models.py works: the MLPs, the book's convnets, lenet5, alexnet (28 and 224), the
28x28 VGGs, resnet20/32/56 (28 and 32) and resnet18/34/50 (28 and 224).
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_models  # noqa: E402


# safetensors dtypes as little-endian numpy types (dlfs writes the first five).
SAFETENSORS_DTYPES = {"F32": "<f4", "F64": "<f8", "U8": "u1", "I32": "<i4", "I64": "<i8",
                      "F16": "<f2", "I8": "i1", "I16": "<i2", "BOOL": "?"}


def read_safetensors(path):
    """(metadata, {name: tensor}) of a safetensors file: an 8-byte little-endian header length,
    a JSON header (dtype, shape and data_offsets per tensor, string metadata under
    "__metadata__"), then the raw little-endian data. Read here rather than with the
    `safetensors` module, which Debian does not package."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SystemExit(f"{path} is not a safetensors file: it has {len(data)} bytes")
    header_size = int.from_bytes(data[:8], "little")
    if header_size > len(data) - 8:
        raise SystemExit(f"{path} is not a safetensors file: its header length {header_size} "
                         f"is larger than the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + header_size])
    except ValueError as e:
        raise SystemExit(f"{path} is not a safetensors file: its header is not JSON ({e})")
    metadata = header.pop("__metadata__", None) or {}
    start = 8 + header_size
    tensors = {}
    for name, entry in header.items():
        if entry.get("dtype") not in SAFETENSORS_DTYPES:
            raise SystemExit(f"{path}: tensor {name} has unsupported dtype {entry.get('dtype')}")
        dtype = np.dtype(SAFETENSORS_DTYPES[entry["dtype"]])
        begin, end = entry["data_offsets"]
        shape = [int(d) for d in entry["shape"]]
        if not 0 <= begin <= end <= len(data) - start or \
                end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise SystemExit(f"{path}: tensor {name} has data_offsets that disagree with its "
                             f"shape or the file")
        array = np.frombuffer(data[start + begin:start + end], dtype=dtype).reshape(shape)
        # A native-order, writable copy: torch.from_numpy wants both.
        tensors[name] = torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True))
    return metadata, tensors


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
    meta, state = read_safetensors(checkpoint)
    model = pytorch_models.build(meta["dlfs_model"], int(meta["dlfs_variant"]),
                                 int(meta["dlfs_classes"]))
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
