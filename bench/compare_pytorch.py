#!/usr/bin/env python3
"""Training throughput of dlfs beside PyTorch, in one run, on the same data and settings.

For each model it trains with `dlfs train` (images/s of the training epochs, from its
summary.json) and then the PyTorch twin from bench/pytorch_models.py with the same batch size,
optimizer (momentum SGD in PyTorch's form, lr 0.01, momentum 0.9), shuffling each epoch, the same
number of CPU threads and the same epochs. Only the training loop is timed on both sides: no
data loading, no evaluation. PyTorch runs in its best configuration: the data pre-loaded as one
tensor on the device, set_to_none gradients, no host sync per batch, cuDNN autotuning on a GPU.

usage: bench/compare_pytorch.py [--device cpu|cuda] [--models lenet5,resnet18] [--epochs N]
                                [--batch-size N] [--threads N] [--json-out FILE]
Skips (exit 0) when torch cannot be imported.
"""
import argparse
import datetime
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-torch lives there, not in pyenv


def import_torch_or_reexec():
    """Returns torch, re-running this script under the system Python when only it has torch,
    or None when no interpreter here has it."""
    try:
        import torch
        return torch
    except ImportError:
        pass
    if (os.path.exists(SYSTEM_PYTHON) and os.path.realpath(sys.executable)
            != os.path.realpath(SYSTEM_PYTHON) and not os.environ.get("DLFS_COMPARE_REEXEC")):
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import torch"], capture_output=True)
        if probe.returncode == 0:
            env = dict(os.environ, DLFS_COMPARE_REEXEC="1")
            os.execve(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv, env)
    return None


def read_idx(path):
    import numpy as np
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
    raise SystemExit(f"compare_pytorch: {directory} has no {name}[.gz]")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--models", default="lenet5",
                   help="comma-separated models with PyTorch twins (28x28 inputs): lenet5, "
                        "resnet18, resnet20, mlp, ...")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="CPU threads for both sides (dlfs: OMP_NUM_THREADS; PyTorch: "
                        "set_num_threads)")
    p.add_argument("--omp-wait-policy", choices=["inherit", "passive", "active"],
                   default="inherit",
                   help="OMP_WAIT_POLICY for both sides (both use libgomp); passive stops idle "
                        "threads spinning, which matters a lot on a shared machine")
    p.add_argument("--limit-train", type=int, default=0, help="first N training images (0: all)")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--dlfs", default=os.path.join(ROOT, "build", "dlfs"))
    p.add_argument("--json-out", help="write the results as benchmark JSON")
    return p.parse_args()


def run_dlfs(args, model, out_dir):
    """Trains with dlfs; returns (images/s averaged over the epochs, last epoch's train loss)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    # dlfs links OpenBLAS built for OpenMP: it must see OMP_NUM_THREADS, not a cap of 1 meant
    # for PyTorch's pthread OpenBLAS.
    env.pop("OPENBLAS_NUM_THREADS", None)
    cmd = [args.dlfs, "train", "--model", model, "--data", args.data, "--device", args.device,
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
           "--optimizer", "momentum", "--pytorch-style", "--lr", str(args.lr),
           "--momentum", "0.9", "--val-split", "0", "--shuffle", "on",
           # Pixels scaled to [0, 1] only, as the PyTorch side feeds them.
           "--normalize", "off",
           "--limit-train", str(args.limit_train), "--quiet", "--out", out_dir]
    print("dlfs:    " + " ".join(cmd), flush=True)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out_dir, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out_dir, "metrics.csv")) as f:
        last = f.read().strip().splitlines()[-1].split(",")
    return summary["images_per_second"], float(last[1]), summary


def run_pytorch(torch, args, model_name, images, labels):
    """Trains the twin; returns (images/s averaged over the epochs, last epoch's train loss)."""
    sys.path.insert(0, HERE)
    import pytorch_models
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = pytorch_models.build(model_name, 28, 10).to(device)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_all, y_all = images.to(device), labels.to(device)
    n, b = x_all.shape[0], args.batch_size
    rates, last_loss = [], 0.0
    for epoch in range(args.epochs):
        generator = torch.Generator().manual_seed(epoch)
        if args.device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator).to(device)
        loss_sum = torch.zeros((), device=device)
        for first in range(0, n, b):
            index = order[first:first + b]
            x, y = x_all[index], y_all[index]
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * x.shape[0]
        if args.device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        rates.append(n / seconds)
        last_loss = loss_sum.item() / n
    return sum(rates) / len(rates), last_loss


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    args = parse_args()
    # Set before torch starts its thread pools: PyTorch's CPU ops parallelise with OpenMP, and a
    # pthread OpenBLAS under them must not spawn threads of its own (oversubscription).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.omp_wait_policy != "inherit":
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    torch = import_torch_or_reexec()
    if torch is None:
        print("compare_pytorch: skipped: torch is not importable here (python3-torch or pip "
              "install torch); nothing compared")
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        print("compare_pytorch: skipped: --device cuda but torch sees no GPU")
        return 0
    if not os.path.exists(args.dlfs):
        raise SystemExit(f"compare_pytorch: {args.dlfs} not found; build dlfs first")
    import numpy as np
    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True

    images = read_idx(find(args.data, "train-images-idx3-ubyte"))
    labels = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    if args.limit_train > 0:
        images, labels = images[:args.limit_train], labels[:args.limit_train]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))

    vendor = f"PyTorch {torch.__version__}"
    if args.device == "cpu":
        vendor += f" ({args.threads} threads)"
    else:
        vendor += f" ({torch.cuda.get_device_name(0)})"
    print(f"compare_pytorch: {args.models} on {args.device}, {len(x)} images, batch "
          f"{args.batch_size}, {args.epochs} epoch(s), momentum SGD lr {args.lr}, "
          f"{args.threads} CPU threads, OMP_WAIT_POLICY "
          f"{os.environ.get('OMP_WAIT_POLICY', 'unset')}; dlfs vs {vendor}", flush=True)
    results = []
    work = tempfile.mkdtemp(prefix="dlfs_compare_")
    try:
        for model in [m for m in args.models.split(",") if m]:
            dlfs_rate, dlfs_loss, summary = run_dlfs(args, model, os.path.join(work, model))
            torch_rate, torch_loss = run_pytorch(torch, args, model, x, y)
            ratio = dlfs_rate / torch_rate
            print(f"{model:10s} dlfs {dlfs_rate:10.1f} img/s (train loss {dlfs_loss:.4f})   "
                  f"PyTorch {torch_rate:10.1f} img/s (train loss {torch_loss:.4f})   "
                  f"dlfs/PyTorch {ratio:.3f}", flush=True)
            results.append({
                "group": "training vs PyTorch",
                "name": f"{model}@28 batch {args.batch_size} {args.device} train epoch",
                "metric": "images/s", "value": round(dlfs_rate, 2), "ceiling": None,
                "percent_of_ceiling": None, "vendor": vendor,
                "vendor_value": round(torch_rate, 2), "ratio_to_vendor": round(ratio, 4),
                "extra": {"model": model, "input": "28", "batch_size": args.batch_size,
                          "device": args.device, "epochs": args.epochs,
                          "train_images": len(x), "threads": args.threads,
                          "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                          "optimizer": f"momentum SGD (PyTorch form) lr {args.lr} m 0.9",
                          "dlfs_train_loss": dlfs_loss, "pytorch_train_loss": torch_loss,
                          "dlfs_peak_host_bytes": summary.get("peak_host_bytes"),
                          "dlfs_peak_device_bytes": summary.get("peak_device_bytes")}})
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json_out:
        gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else None
        doc = {
            "kind": "training",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "gpu": gpu},
            "versions": {"dlfs": "0.1.0", "compiler": None,
                         "cuda": torch.version.cuda if args.device == "cuda" else None,
                         "cudnn": (str(torch.backends.cudnn.version())
                                   if args.device == "cuda" else None),
                         "openblas": None, "torch": torch.__version__,
                         "python": platform.python_version()},
            "ceilings": {"copy_GBps": None, "sgemm_GFLOPs": None},
            "results": results,
        }
        with open(args.json_out, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
