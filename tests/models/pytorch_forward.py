#!/usr/bin/env python3
"""Compares dlfs's forward passes with the PyTorch twins (bench/pytorch_models.py).

usage: python3 tests/models/pytorch_forward.py DIR [DIR ...]

Each DIR, written by tests/models/test_pytorch_forward.cpp, holds model.safetensors (a dlfs
checkpoint) and dlfs.safetensors: the input batch, dlfs's logits in inference and in train mode,
each Dropout layer's multiplier (mask / (1 - p)) from that train-mode pass and the BatchNorm
running statistics after it. The twin loads the checkpoint with load_state_dict(strict=True) and
runs the same batch in eval mode, then in train mode with the Dropout modules replaced by those
multipliers (after checking each is 0 or 1 / (1 - p) with the twin's p). dlfs's float32 logits
must agree with the twin's within 1e-5 of the largest logit in magnitude; failing that, with the
twin run in float64 within 4 times the twin's own float32 error where that is larger (train-mode
BatchNorm over the 4x4 maps of a batch of 4 in ResNet-50's last stage amplifies rounding: PyTorch
in float32 is itself about 1e-5 off there). Running statistics: 1e-5 of the largest value, else
the same float64 fallback (the twin's float64 step gives the exact statistics; dlfs's Winograd
convolutions round differently from PyTorch's direct ones, and that BatchNorm's variance carries
it).
Prints "OK <dir name> ..." per directory, or what differs; exits 1 if anything differs, 77 if
torch or numpy cannot be imported.
Needs torch and numpy only: safetensors files are read with the small reader below.
"""
import copy
import json
import math
import os
import struct
import sys

NO_TORCH = 77  # exit status when torch or numpy cannot be imported
try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # the C++ test then tries another Python, or skips
    print(f"no PyTorch for {sys.executable}: {e}")
    sys.exit(NO_TORCH)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import pytorch_models  # noqa: E402

TOLERANCE = 1e-5
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def read_safetensors(path):
    """(tensors by name as torch tensors, metadata): 8-byte little-endian header length, JSON
    header with dtype, shape and data_offsets per tensor, then the raw little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[info["dtype"]])
        tensors[name] = torch.from_numpy(array.reshape(info["shape"]).copy())
    return tensors, metadata


class Multiply(nn.Module):
    """Stands in for nn.Dropout in train mode: multiplies by dlfs's mask / (1 - p)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def replace_module(model, path, module):
    parent = model
    parts = path.split(".")
    for part in parts[:-1]:
        parent = getattr(parent, part)
    old = getattr(parent, parts[-1])
    setattr(parent, parts[-1], module)
    return old


def relative_error(ours, theirs):
    scale = theirs.abs().max().item()
    return (ours - theirs).abs().max().item() / max(scale, 1e-30)


def check(directory):
    label = os.path.basename(os.path.normpath(directory))
    state, meta = read_safetensors(os.path.join(directory, "model.safetensors"))
    dlfs, _ = read_safetensors(os.path.join(directory, "dlfs.safetensors"))
    model = pytorch_models.build(meta["dlfs_model"], int(meta["dlfs_variant"]),
                                 int(meta["dlfs_classes"]))
    model.load_state_dict(state, strict=True)
    problems, notes = [], []
    x = dlfs["input"]
    reference_stepped = []  # the float64 twin ran its one train-mode step

    def compare_logits(mode, ours):
        """dlfs's float32 logits against the twin's: within 1e-5 of the largest logit, else
        against the twin in float64 within 4x the twin's own float32 error (when larger)."""
        with torch.no_grad():
            theirs = model(x)
        error = relative_error(ours, theirs)
        if error <= TOLERANCE:
            notes.append(f"{mode} {error:.1e}")
            return
        with torch.no_grad():  # only here: float64 convolutions are slow
            exact = reference(x.double())
        if reference.training:
            reference_stepped.append(True)
        error = relative_error(ours.double(), exact)
        own = relative_error(theirs.double(), exact)
        bound = max(TOLERANCE, 4 * own)
        notes.append(f"{mode} {error:.1e} from float64 (PyTorch float32 {own:.1e})")
        if not error <= bound:
            problems.append(f"{mode} logits differ: relative error {error:.3e} > {bound:.3e}")

    reference = copy.deepcopy(model).double()
    model.eval()
    reference.eval()
    compare_logits("inference", dlfs["logits.inference"])

    # Train mode: dlfs's dropout multipliers in place of nn.Dropout, checked against p first.
    dropped = []
    for name in sorted(k[len("dropout."):] for k in dlfs if k.startswith("dropout.")):
        factor = dlfs["dropout." + name]
        old = replace_module(model, name, Multiply(factor))
        replace_module(reference, name, Multiply(factor.double()))
        if not isinstance(old, nn.Dropout):
            problems.append(f"{name} is a dlfs Dropout but {type(old).__name__} in the twin")
            continue
        scale = 1.0 / (1.0 - old.p)
        values = torch.unique(factor).tolist()
        if not all(v == 0 or abs(v - scale) <= 1e-6 * scale for v in values):
            problems.append(f"{name}: multipliers {sorted(values)[:4]} are not 0 or 1/(1-p) = "
                            f"{scale:.6f}")
        n = factor.numel()
        fraction = (factor == 0).double().mean().item()
        bound = 5 * math.sqrt(old.p * (1 - old.p) / n)  # 5 binomial standard errors
        if abs(fraction - old.p) > bound:
            problems.append(f"{name}: drops {fraction:.4f} of {n} elements, p = {old.p}")
        dropped.append(f"{name} {fraction:.2f}")
    model.train()
    reference.train()
    compare_logits("train", dlfs["logits.train"])

    # BatchNorm running statistics after the one train-mode step (momentum, unbiased variance).
    worst = 0.0
    after = model.state_dict()
    for key in dlfs:
        if key.startswith("after."):
            name = key[len("after."):]
            error = relative_error(dlfs[key], after[name])
            if not error <= TOLERANCE:
                if not reference_stepped:
                    with torch.no_grad():
                        reference(x.double())
                    reference_stepped.append(True)
                exact = reference.state_dict()[name]
                own = relative_error(after[name].double(), exact)
                error = relative_error(dlfs[key].double(), exact)
                bound = max(TOLERANCE, 4 * own)
                if not error <= bound:
                    problems.append(f"{name} after a train-mode step: relative error "
                                    f"{error:.3e} from float64 > {bound:.3e}")
                notes.append(f"{name} {error:.1e} from float64 (PyTorch float32 {own:.1e})")
            worst = max(worst, error)
    if any(k.startswith("after.") for k in dlfs):
        notes.append(f"running stats {worst:.1e}")

    # Auxiliary classifiers (GoogLeNet), in eval mode after the train-mode step; the twin keeps
    # their outputs of its last eval-mode forward in aux_outputs.
    heads = sorted(k[len("aux_logits."):] for k in dlfs if k.startswith("aux_logits."))
    if heads:
        model.eval()
        with torch.no_grad():
            model(x)
        for head in heads:
            error = relative_error(dlfs["aux_logits." + head], model.aux_outputs[head])
            notes.append(f"{head} {error:.1e}")
            if not error <= TOLERANCE:
                problems.append(f"{head} logits differ: relative error {error:.3e}")
    if dropped:
        notes.append("dropped " + ", ".join(dropped))

    if problems:
        more = f"; and {len(problems) - 6} more" if len(problems) > 6 else ""
        print(f"FAIL {label}: " + "; ".join(problems[:6]) + more)
        return False
    print(f"OK {label} ({len(state)} tensors; max error / max |logit|: " + ", ".join(notes) + ")")
    return True


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    torch.set_num_threads(2)
    results = [check(d) for d in sys.argv[1:]]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
