#!/usr/bin/env python3
"""Writes PyTorch state_dicts as safetensors files without dlfs metadata, for dlfs to import.

usage: python3 tests/models/pytorch_export.py OUT_DIR MODEL:SIZE [MODEL:SIZE ...]

For each MODEL:SIZE (a catalog name and input size with a twin in bench/pytorch_models.py) it
builds the twin with random weights from a fixed seed, gives every BatchNorm random gamma, beta,
running mean and running variance (not the defaults 1, 0, 0, 1, so that dlfs's inference really
uses the imported statistics) and a num_batches_tracked of 7, and writes into OUT_DIR/MODEL-SIZE/:
  weights.safetensors  the state_dict as safetensors.torch.save_file writes it: no "__metadata__",
                       PyTorch's names, num_batches_tracked as I64;
  pytorch.safetensors  "input", a batch of 4 images in [0, 1], and PyTorch's logits for it in
                       eval mode: "logits" in float32 and "logits64" from a float64 copy of the
                       twin (how far PyTorch's own float32 result is from exact).
Prints "WROTE MODEL-SIZE (N tensors)" per model. Exits 77 when torch or numpy cannot be imported
(tests/models/test_pytorch_import.cpp then tries another Python, or skips). Needs torch and
numpy only: the safetensors format is written below, so the pip-only `safetensors` module (not
packaged by Debian) is not needed.
"""
import copy
import json
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

SEED = 2024
BATCH = 4
# torch dtypes as safetensors names them (the ones a state_dict of these models holds).
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
          torch.uint8: "U8"}


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout: an 8-byte little-endian header length N, N bytes of JSON header
    ({name: {"dtype", "shape", "data_offsets": [begin, end]}}, "__metadata__" only when given),
    padded with spaces to a multiple of 8 as the reference writer does, then the raw
    little-endian data, each tensor's bytes at its offsets from the end of the header."""
    header, chunks, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, tensor in tensors.items():
        array = tensor.detach().cpu().contiguous().numpy()
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


def randomize_batch_norms(model, generator):
    """Random affine parameters and running statistics in every BatchNorm, none at its default."""
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = module.num_features
            with torch.no_grad():
                module.weight.copy_(0.5 + torch.rand(n, generator=generator))
                module.bias.copy_(0.2 * torch.randn(n, generator=generator))
                module.running_mean.copy_(0.3 * torch.randn(n, generator=generator))
                module.running_var.copy_(0.5 + 1.5 * torch.rand(n, generator=generator))
                module.num_batches_tracked.fill_(7)


def export(out_dir, name, size):
    torch.manual_seed(SEED)  # PyTorch's default init: random weights and biases, reproducible
    model = pytorch_models.build(name, size)
    generator = torch.Generator().manual_seed(SEED + 1)
    randomize_batch_norms(model, generator)
    model.eval()
    channels = 3 if size == 224 else 1
    x = torch.rand(BATCH, channels, size, size, generator=generator)
    with torch.no_grad():
        logits = model(x)
        logits64 = copy.deepcopy(model).double()(x.double())
    directory = os.path.join(out_dir, f"{name}-{size}")
    os.makedirs(directory, exist_ok=True)
    state = model.state_dict()
    write_safetensors(os.path.join(directory, "weights.safetensors"), state)
    write_safetensors(os.path.join(directory, "pytorch.safetensors"),
                      {"input": x, "logits": logits, "logits64": logits64})
    print(f"WROTE {name}-{size} ({len(state)} tensors)")


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    torch.set_num_threads(2)
    for spec in sys.argv[2:]:
        name, size = spec.rsplit(":", 1)
        export(sys.argv[1], name, int(size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
