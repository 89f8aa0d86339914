#!/usr/bin/env python3
"""dlfs beside PyTorch, in one run, on the same data and settings: training and inference
throughput and the memory of a training step.

usage: bench/compare_pytorch.py [--device cpu|cuda] [--models lenet5,resnet20] [--epochs N]
                                [--batch-size N[,N...]] [--threads N[,N...]]
                                [--passes train,inference,memory] [--inference-batch-size N]
                                [--omp-wait-policy inherit|passive|active] [--limit-train N]
                                [--rounds N] [--data DIR] [--dlfs PROGRAM] [--json-out FILE]

It loops over models x threads x batch sizes, and measures each pair (dlfs, then PyTorch) back
to back so that both see the same machine load. With --rounds N (default 1) each training and
inference pair runs N times in a row, and the figure is the median of the N pairs' ratios (the
rates: the median of each side), printed with the lowest and highest ratio: on a shared machine
whose speed drifts by tens of percent from minute to minute, one pair is one sample. The passes
(--passes, default all three):

  train      images/s of training epochs. dlfs: `dlfs train` (its summary.json). PyTorch: the
             twin from bench/pytorch_models.py with the same batch size, optimizer (momentum SGD
             in PyTorch's form, lr 0.01, momentum 0.9), shuffling each epoch, CPU threads and
             epochs. Only the training loop is timed on both sides: no data loading, no
             evaluation.
  inference  images/s of forward passes in eval mode at --inference-batch-size (default 256; 0
             turns the pass off) on synthetic N(0, 1) input. dlfs: `dlfs bench --pass
             inference`. PyTorch: the twin under torch.inference_mode(), 2 warm-up passes, then
             timed passes filling at least 2 s.
  memory     peak memory of a training step as growth of the resident set (RSS), CPU only.
             dlfs: `dlfs bench --pass train`, VmHWM at the end minus VmRSS before the model is
             built. PyTorch: a fresh child process (this script with --worker memory) reads
             VmRSS after importing torch and making a synthetic batch, builds the model, runs a
             few steps of the same optimizer and reports VmHWM minus that. The ratio is
             dlfs / PyTorch: below 1, dlfs needs less.

PyTorch runs in its best configuration: OPENBLAS_NUM_THREADS=1 under its OpenMP ops,
set_num_threads matched to dlfs's OMP_NUM_THREADS, the data pre-loaded as one tensor on the
device, set_to_none gradients, no host sync per step, cuDNN autotuning on a GPU, and per model,
thread count and batch size the faster memory format (contiguous NCHW or channels_last) of a
short probe (3 warm-up + 5 timed steps each), printed with both probe timings. The memory pass
keeps the default contiguous format.

Prints a table of every measurement and, with --json-out, writes the common benchmark JSON
(groups "training vs PyTorch", "inference vs PyTorch", "memory vs PyTorch"). Skips (exit 0)
when torch cannot be imported; exits 1 when some measurement could not be made (each such one is
reported and the others still run).
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
PASSES = ("train", "inference", "memory")
MIN_TIME_S = 2.0        # timed seconds of an inference measurement, on both sides
PROBE_WARMUP, PROBE_STEPS = 3, 5  # the memory-format probe: short, it only has to rank two
MEMORY_STEPS = 5        # PyTorch training steps of the memory pass; the peak comes in the first
INFERENCE_WARMUP = 2
FORMATS = ("contiguous", "channels_last")


class MeasurementError(Exception):
    """One measurement could not be made; the run reports it and goes on with the others."""


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


def positive_int_list(text):
    """argparse type for "64" or "64,128": a list of positive ints."""
    try:
        values = [int(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"'{text}': each value must be at least 1")
    return values


def pass_list(text):
    names = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [n for n in names if n not in PASSES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"'{text}': passes are a comma-separated subset of {','.join(PASSES)}")
    return names


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--models", default="lenet5",
                   help="comma-separated models with PyTorch twins (28x28 inputs): lenet5, "
                        "resnet18, resnet20, mlp, ...")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=positive_int_list, default=[100],
                   help="training batch size, or a comma-separated list of them (e.g. 64,128)")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--threads", type=positive_int_list, default=[os.cpu_count()],
                   help="CPU threads for both sides (dlfs: OMP_NUM_THREADS; PyTorch: "
                        "set_num_threads), or a comma-separated list of counts (e.g. 1,2)")
    p.add_argument("--passes", type=pass_list, default=list(PASSES),
                   help="comma-separated subset of train,inference,memory (default: all)")
    p.add_argument("--inference-batch-size", type=int, default=256,
                   help="batch size of the inference pass (0: no inference pass)")
    p.add_argument("--omp-wait-policy", choices=["inherit", "passive", "active"],
                   default="inherit",
                   help="OMP_WAIT_POLICY for both sides (both use libgomp); passive stops idle "
                        "threads spinning, which matters a lot on a shared machine")
    p.add_argument("--limit-train", type=int, default=0, help="first N training images (0: all)")
    p.add_argument("--rounds", type=int, default=1,
                   help="dlfs/PyTorch pairs per training and inference measurement; the "
                        "figure is the median ratio, with the lowest and highest (default 1)")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--dlfs", default=os.path.join(ROOT, "build", "dlfs"))
    p.add_argument("--json-out", help="write the results as benchmark JSON")
    # Internal: the memory pass runs PyTorch in a fresh child process of this script, so that
    # its RSS baseline holds nothing but torch and the data.
    p.add_argument("--worker", choices=["memory"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.inference_batch_size < 0:
        p.error("--inference-batch-size must be 0 (off) or positive")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def dlfs_env(threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    # dlfs links OpenBLAS built for OpenMP: it must see OMP_NUM_THREADS, not a cap of 1 meant
    # for PyTorch's pthread OpenBLAS.
    env.pop("OPENBLAS_NUM_THREADS", None)
    return env


def run_dlfs(args, model, threads, batch, out_dir):
    """Trains with dlfs; returns (images/s averaged over the epochs, last epoch's train loss,
    summary.json)."""
    cmd = [args.dlfs, "train", "--model", model, "--data", args.data, "--device", args.device,
           "--epochs", str(args.epochs), "--batch-size", str(batch),
           "--optimizer", "momentum", "--pytorch-style", "--lr", str(args.lr),
           "--momentum", "0.9", "--val-split", "0", "--shuffle", "on",
           # Pixels scaled to [0, 1] only, as the PyTorch side feeds them.
           "--normalize", "off",
           "--limit-train", str(args.limit_train), "--quiet", "--out", out_dir]
    print("dlfs:    " + " ".join(cmd), flush=True)
    subprocess.run(cmd, env=dlfs_env(threads), check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out_dir, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out_dir, "metrics.csv")) as f:
        last = f.read().strip().splitlines()[-1].split(",")
    return summary["images_per_second"], float(last[1]), summary


def run_dlfs_bench(args, model, threads, batch, pass_name, device, json_path):
    """One `dlfs bench` measurement; returns its first result (a dict of the results JSON).
    Raises MeasurementError rather than failing the run: an older dlfs lacks --pass."""
    cmd = [args.dlfs, "bench", "--models", model, "--device", device, "--batch-sizes",
           str(batch), "--pass", pass_name, "--optimizer", "momentum",
           "--min-time", f"{MIN_TIME_S:g}", "--json-out", json_path]
    print("dlfs:    " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, env=dlfs_env(threads), capture_output=True, text=True)
    if proc.returncode != 0:
        said = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        hint = (" (this dlfs predates `dlfs bench --pass`; rebuild it)"
                if "--pass" in said else "")
        raise MeasurementError(f"`dlfs bench --pass {pass_name}` failed with exit "
                               f"{proc.returncode}: {said}{hint}")
    with open(json_path) as f:
        results = json.load(f).get("results") or []
    if not results:
        raise MeasurementError(f"`dlfs bench --pass {pass_name}` wrote no results")
    return results[0]


def sync(torch, device):
    if device == "cuda":
        torch.cuda.synchronize()


def memory_format(torch, name):
    return torch.channels_last if name == "channels_last" else torch.contiguous_format


def build_twin(torch, model_name, device, fmt_name):
    sys.path.insert(0, HERE)
    import pytorch_models
    torch.manual_seed(0)
    model = pytorch_models.build(model_name, 28, 10).to(device)
    # Only 4-d parameters (convolution weights) change layout; an MLP is unaffected.
    return model.to(memory_format=memory_format(torch, fmt_name))


def probe_formats(torch, args, model_name, x, y, train):
    """Times a few steps (train: training steps on batch x, y; else: inference passes on x) in
    each memory format; returns (the faster format, {format: images/s})."""
    rates = {}
    for fmt_name in FORMATS:
        model = build_twin(torch, model_name, args.device, fmt_name)
        xf = x.contiguous(memory_format=memory_format(torch, fmt_name))
        if train:
            model.train()
            optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
            loss_fn = torch.nn.CrossEntropyLoss()

            def step():
                loss = loss_fn(model(xf), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            for i in range(PROBE_WARMUP + PROBE_STEPS):
                if i == PROBE_WARMUP:
                    sync(torch, args.device)
                    start = time.perf_counter()
                step()
        else:
            model.eval()
            with torch.inference_mode():
                for i in range(PROBE_WARMUP + PROBE_STEPS):
                    if i == PROBE_WARMUP:
                        sync(torch, args.device)
                        start = time.perf_counter()
                    model(xf)
        sync(torch, args.device)
        rates[fmt_name] = x.shape[0] * PROBE_STEPS / (time.perf_counter() - start)
    best = max(FORMATS, key=lambda name: rates[name])
    return best, rates


def describe_probe(what, best, rates):
    timings = ", ".join(f"{name} {rates[name]:.1f} img/s" for name in FORMATS)
    steps = "steps" if what == "train" else "passes"
    return (f"PyTorch {what} layout: {best}, the faster in a probe of {PROBE_WARMUP} warm-up + "
            f"{PROBE_STEPS} timed {steps} each ({timings})")


def run_pytorch(torch, args, model_name, batch, fmt_name, images, labels):
    """Trains the twin; returns (images/s averaged over the epochs, last epoch's train loss)."""
    device = torch.device(args.device)
    model = build_twin(torch, model_name, device, fmt_name)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    mf = memory_format(torch, fmt_name)
    # Converted once, outside the timed loop, like the rest of the data loading.
    x_all = images.to(device).contiguous(memory_format=mf)
    y_all = labels.to(device)
    n, b = x_all.shape[0], batch
    rates, last_loss = [], 0.0
    for epoch in range(args.epochs):
        generator = torch.Generator().manual_seed(epoch)
        sync(torch, args.device)
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator).to(device)
        loss_sum = torch.zeros((), device=device)
        for first in range(0, n, b):
            index = order[first:first + b]
            # Indexing may hand back a contiguous batch; keep the format the probe chose (a
            # no-op when it already has it).
            x, y = x_all[index].contiguous(memory_format=mf), y_all[index]
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * x.shape[0]
        sync(torch, args.device)
        seconds = time.perf_counter() - start
        rates.append(n / seconds)
        last_loss = loss_sum.item() / n
    return sum(rates) / len(rates), last_loss


def run_pytorch_inference(torch, args, model_name, x, fmt_name):
    """Forward passes of the twin in eval mode on x; returns (images/s, timed passes, seconds)."""
    model = build_twin(torch, model_name, args.device, fmt_name)
    model.eval()
    x = x.contiguous(memory_format=memory_format(torch, fmt_name))
    with torch.inference_mode():
        sync(torch, args.device)
        start = time.perf_counter()
        for _ in range(INFERENCE_WARMUP):
            model(x)
        sync(torch, args.device)
        per_pass = (time.perf_counter() - start) / INFERENCE_WARMUP
        # Sync only between chunks of about a quarter second, not per pass: a GPU must be kept
        # busy, and the clock is only read when the device has caught up.
        chunk = max(1, int(0.25 / max(per_pass, 1e-6)))
        passes, start = 0, time.perf_counter()
        while True:
            for _ in range(chunk):
                model(x)
            passes += chunk
            sync(torch, args.device)
            seconds = time.perf_counter() - start
            if seconds >= MIN_TIME_S:
                break
    return x.shape[0] * passes / seconds, passes, seconds


def proc_status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # the kernel reports kB
    raise MeasurementError(f"/proc/self/status has no {field}")


def memory_worker(torch, args):
    """The PyTorch side of the memory pass, in its own process: prints one JSON line."""
    model_name, batch, threads = args.models.split(",")[0], args.batch_size[0], args.threads[0]
    torch.set_num_threads(threads)
    # The synthetic batch of `dlfs bench`: N(0, 1) images and uniform labels.
    torch.manual_seed(1)
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    before = proc_status_bytes("VmRSS")
    # Reset VmHWM to the current RSS, so that the import of torch (which may have peaked above
    # what it kept) cannot count as the training step's peak. Linux >= 4.0; else the peak is
    # the lifetime peak, as on the dlfs side.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    model = build_twin(torch, model_name, "cpu", "contiguous")
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(MEMORY_STEPS):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    loss.item()
    peak = proc_status_bytes("VmHWM")
    print(json.dumps({"rss_before_model_bytes": before, "peak_rss_bytes": peak,
                      "growth_bytes": peak - before, "steps": MEMORY_STEPS,
                      "hwm_reset": hwm_reset}))
    return 0


def run_pytorch_memory(args, model, threads, batch):
    """Runs memory_worker in a fresh interpreter (the one running now, which has torch)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "memory", "--device", "cpu",
           "--models", model, "--threads", str(threads), "--batch-size", str(batch),
           "--lr", str(args.lr)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        said = (proc.stderr.strip() or "no output").splitlines()[-1]
        raise MeasurementError(f"the PyTorch memory worker failed with exit {proc.returncode}: "
                               f"{said}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def summarise_rounds(pairs):
    """pairs: (dlfs rate, PyTorch rate) per round. Returns the figures of the measurement: the
    median of each side's rates, the median of the per-round ratios (each ratio compares two runs
    made back to back, so it is the paired figure) and the lowest and highest ratio."""
    ratios = [d / t for d, t in pairs]
    return {"dlfs": median([d for d, _ in pairs]), "torch": median([t for _, t in pairs]),
            "ratio": median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "rounds": [{"dlfs": round(d, 2), "pytorch": round(t, 2), "ratio": round(d / t, 4)}
                       for d, t in pairs]}


def rounds_extra(figures):
    """The per-round figures for a result's "extra" (nothing more when there was one round)."""
    if len(figures["rounds"]) < 2:
        return {}
    return {"rounds": figures["rounds"], "ratio_min": round(figures["ratio_min"], 4),
            "ratio_max": round(figures["ratio_max"], 4)}


def round_label(index, rounds):
    return f"   (round {index + 1} of {rounds})" if rounds > 1 else ""


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mib(n):
    return n / 1048576.0


def print_table(rows):
    """rows: dicts with model, threads, batch, pass, dlfs, torch, ratio (None: not measured)."""
    rate_rows = [r for r in rows if r["pass"] != "memory"]
    memory_rows = [r for r in rows if r["pass"] == "memory"]

    def cell(value, fmt):
        width = fmt.split(".")[0]
        return format("-", ">" + width) if value is None else format(value, fmt)
    print()
    if rate_rows:
        print(f"{'model':12s} {'threads':>7s} {'batch':>6s} {'pass':10s} {'dlfs img/s':>12s} "
              f"{'PyTorch img/s':>14s} {'dlfs/PyTorch':>12s} {'rounds: low-high':>17s}")
        for r in rate_rows:
            spread = (f"{r['ratio_min']:.3f}-{r['ratio_max']:.3f} ({r['rounds']})"
                      if r.get("rounds", 1) > 1 else "")
            print(f"{r['model']:12s} {r['threads']:7d} {r['batch']:6d} {r['pass']:10s} "
                  f"{cell(r['dlfs'], '12.1f')} {cell(r['torch'], '14.1f')} "
                  f"{cell(r['ratio'], '12.3f')} {spread:>17s}")
    if memory_rows:
        if rate_rows:
            print()
        print("peak RSS growth of a training step (dlfs/PyTorch below 1: dlfs needs less)")
        print(f"{'model':12s} {'threads':>7s} {'batch':>6s} {'pass':10s} {'dlfs MiB':>12s} "
              f"{'PyTorch MiB':>14s} {'dlfs/PyTorch':>12s}")
        for r in memory_rows:
            print(f"{r['model']:12s} {r['threads']:7d} {r['batch']:6d} {r['pass']:10s} "
                  f"{cell(None if r['dlfs'] is None else mib(r['dlfs']), '12.2f')} "
                  f"{cell(None if r['torch'] is None else mib(r['torch']), '14.2f')} "
                  f"{cell(r['ratio'], '12.3f')}")


def main():
    args = parse_args()
    # Set before torch starts its thread pools: PyTorch's CPU ops parallelise with OpenMP, and a
    # pthread OpenBLAS under them must not spawn threads of its own (oversubscription).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.omp_wait_policy != "inherit":
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    torch = import_torch_or_reexec()
    if args.worker == "memory":
        if torch is None:
            raise SystemExit("compare_pytorch --worker: torch is not importable")
        return memory_worker(torch, args)
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
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True

    passes = set(args.passes)
    if "inference" in passes and args.inference_batch_size == 0:
        print("compare_pytorch: --inference-batch-size 0: no inference pass")
        passes.discard("inference")
    if "memory" in passes and args.device == "cuda":
        # RSS is host memory; a GPU's memory would need the pools' and the caching allocator's
        # own peaks, which this pass does not compare.
        print("compare_pytorch: memory pass skipped on --device cuda (it compares host RSS "
              "growth)")
        passes.discard("memory")

    images = read_idx(find(args.data, "train-images-idx3-ubyte"))
    labels = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    if args.limit_train > 0:
        images, labels = images[:args.limit_train], labels[:args.limit_train]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))

    def vendor_for(threads):
        if args.device == "cpu":
            return f"PyTorch {torch.__version__} ({threads} threads)"
        return f"PyTorch {torch.__version__} ({torch.cuda.get_device_name(0)})"

    models = [m for m in args.models.split(",") if m]
    batches = ",".join(map(str, args.batch_size))
    threads_text = ",".join(map(str, args.threads))
    wait_policy = os.environ.get("OMP_WAIT_POLICY")
    print(f"compare_pytorch: {args.models} on {args.device}, passes "
          f"{','.join(p for p in PASSES if p in passes)}, {len(x)} images, batch {batches}, "
          f"{args.epochs} epoch(s), momentum SGD lr {args.lr}, {threads_text} CPU threads, "
          f"OMP_WAIT_POLICY {wait_policy or 'unset'}, inference batch "
          f"{args.inference_batch_size}, {args.rounds} round(s) per measurement; dlfs vs "
          f"PyTorch {torch.__version__}", flush=True)
    print(f"PyTorch configuration: OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"torch.set_num_threads = the thread count of each measurement (dlfs: "
          f"OMP_NUM_THREADS), oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}, "
          f"training data pre-loaded as one tensor on {args.device}, set_to_none gradients, "
          f"no per-step host sync"
          + (", cudnn.benchmark on" if args.device == "cuda" else "")
          + "; memory format per model, threads and batch: the faster of contiguous NCHW and "
          "channels_last in a short probe (memory pass: contiguous); inference in eval mode "
          "under torch.inference_mode()", flush=True)

    results, rows, failures = [], [], []

    def failed(model, threads, batch, pass_name, error):
        message = f"{model}, {threads} threads, batch {batch}, {pass_name}: not measured: {error}"
        print("compare_pytorch: " + message, flush=True)
        failures.append(message)
        rows.append({"model": model, "threads": threads, "batch": batch, "pass": pass_name,
                     "dlfs": None, "torch": None, "ratio": None})

    work = tempfile.mkdtemp(prefix="dlfs_compare_")
    try:
        for model in models:
            for threads in args.threads:
                torch.set_num_threads(threads)
                vendor = vendor_for(threads)
                suffix = f", {threads} threads" if args.device == "cpu" else ""
                for batch in args.batch_size if "train" in passes else []:
                    pairs, fmt_name = [], None
                    for round_index in range(args.rounds):
                        out_dir = os.path.join(work, f"{model}-t{threads}-b{batch}-r{round_index}")
                        dlfs_rate, dlfs_loss, summary = run_dlfs(args, model, threads, batch,
                                                                 out_dir)
                        if fmt_name is None:  # the format is probed once per measurement
                            probe_n = min(batch, len(x))
                            fmt_name, probe = probe_formats(torch, args, model,
                                                            x[:probe_n].to(args.device),
                                                            y[:probe_n].to(args.device),
                                                            train=True)
                            print("         " + describe_probe("train", fmt_name, probe),
                                  flush=True)
                        torch_rate, torch_loss = run_pytorch(torch, args, model, batch,
                                                             fmt_name, x, y)
                        pairs.append((dlfs_rate, torch_rate))
                        print(f"{model:10s} train     dlfs {dlfs_rate:10.1f} img/s (train loss "
                              f"{dlfs_loss:.4f})   PyTorch {torch_rate:10.1f} img/s (train loss "
                              f"{torch_loss:.4f})   dlfs/PyTorch {dlfs_rate / torch_rate:.3f}"
                              + round_label(round_index, args.rounds), flush=True)
                    figures = summarise_rounds(pairs)
                    ratio = figures["ratio"]
                    rows.append({"model": model, "threads": threads, "batch": batch,
                                 "pass": "train", "dlfs": figures["dlfs"],
                                 "torch": figures["torch"], "ratio": ratio,
                                 "ratio_min": figures["ratio_min"],
                                 "ratio_max": figures["ratio_max"], "rounds": args.rounds})
                    results.append({
                        "group": "training vs PyTorch",
                        "name": f"{model}@28 batch {batch} {args.device} train epoch{suffix}",
                        "metric": "images/s", "value": round(figures["dlfs"], 2),
                        "ceiling": None, "percent_of_ceiling": None, "vendor": vendor,
                        "vendor_value": round(figures["torch"], 2),
                        "ratio_to_vendor": round(ratio, 4),
                        "extra": {"model": model, "input": "28", "batch_size": batch,
                                  "device": args.device, "epochs": args.epochs,
                                  "train_images": len(x), "threads": threads,
                                  "omp_wait_policy": wait_policy,
                                  "optimizer": f"momentum SGD (PyTorch form) lr {args.lr} m 0.9",
                                  "dlfs_train_loss": dlfs_loss, "pytorch_train_loss": torch_loss,
                                  "dlfs_peak_host_bytes": summary.get("peak_host_bytes"),
                                  "dlfs_peak_device_bytes": summary.get("peak_device_bytes"),
                                  "pytorch_memory_format": fmt_name,
                                  "pytorch_probe_images_per_second":
                                      {k: round(v, 2) for k, v in probe.items()},
                                  **rounds_extra(figures)}})

                if "inference" in passes:
                    n = args.inference_batch_size
                    pairs, fmt_name = [], None
                    try:
                        for round_index in range(args.rounds):
                            r = run_dlfs_bench(args, model, threads, n, "inference", args.device,
                                               os.path.join(work, f"{model}-t{threads}-inf.json"))
                            dlfs_rate = float(r["value"])
                            if fmt_name is None:
                                # Synthetic N(0, 1) input, as dlfs bench makes it: made once,
                                # outside the timing.
                                torch.manual_seed(1)
                                xi = torch.randn(n, 1, 28, 28).to(args.device)
                                fmt_name, probe = probe_formats(torch, args, model, xi, None,
                                                                train=False)
                                print("         " + describe_probe("inference", fmt_name, probe),
                                      flush=True)
                            torch_rate, torch_passes, torch_s = run_pytorch_inference(
                                torch, args, model, xi, fmt_name)
                            pairs.append((dlfs_rate, torch_rate))
                            print(f"{model:10s} inference dlfs {dlfs_rate:10.1f} img/s   PyTorch "
                                  f"{torch_rate:10.1f} img/s   dlfs/PyTorch "
                                  f"{dlfs_rate / torch_rate:.3f}"
                                  + round_label(round_index, args.rounds), flush=True)
                    except MeasurementError as e:
                        failed(model, threads, n, "inference", e)
                    else:
                        figures = summarise_rounds(pairs)
                        ratio = figures["ratio"]
                        rows.append({"model": model, "threads": threads, "batch": n,
                                     "pass": "inference", "dlfs": figures["dlfs"],
                                     "torch": figures["torch"], "ratio": ratio,
                                     "ratio_min": figures["ratio_min"],
                                     "ratio_max": figures["ratio_max"], "rounds": args.rounds})
                        extra = r.get("extra") or {}
                        results.append({
                            "group": "inference vs PyTorch",
                            "name": f"{model}@28 batch {n} {args.device} inference{suffix}",
                            "metric": "images/s", "value": round(figures["dlfs"], 2),
                            "ceiling": None, "percent_of_ceiling": None, "vendor": vendor,
                            "vendor_value": round(figures["torch"], 2),
                            "ratio_to_vendor": round(ratio, 4),
                            "extra": {"model": model, "input": "28", "batch_size": n,
                                      "device": args.device, "threads": threads,
                                      "omp_wait_policy": wait_policy,
                                      "input_data": "synthetic N(0, 1)",
                                      "dlfs_timed_steps": extra.get("timed_steps"),
                                      "dlfs_seconds": extra.get("seconds"),
                                      "pytorch_timed_passes": torch_passes,
                                      "pytorch_seconds": round(torch_s, 4),
                                      "pytorch_memory_format": fmt_name,
                                      "pytorch_probe_images_per_second":
                                          {k: round(v, 2) for k, v in probe.items()},
                                      **rounds_extra(figures)}})

                for batch in args.batch_size if "memory" in passes else []:
                    try:
                        r = run_dlfs_bench(args, model, threads, batch, "train", "cpu",
                                           os.path.join(work, f"{model}-t{threads}-b{batch}-"
                                                              "mem.json"))
                        extra = r.get("extra") or {}
                        if "rss_before_model_bytes" not in extra or "peak_rss_bytes" not in extra:
                            raise MeasurementError(
                                "`dlfs bench` JSON has no rss_before_model_bytes / "
                                "peak_rss_bytes (this dlfs predates them; rebuild it)")
                        dlfs_growth = int(extra["peak_rss_bytes"]) - int(
                            extra["rss_before_model_bytes"])
                        t = run_pytorch_memory(args, model, threads, batch)
                    except MeasurementError as e:
                        failed(model, threads, batch, "memory", e)
                        continue
                    torch_growth = t["growth_bytes"]
                    ratio = dlfs_growth / torch_growth if torch_growth > 0 else None
                    print(f"{model:10s} memory    dlfs {mib(dlfs_growth):8.2f} MiB   PyTorch "
                          f"{mib(torch_growth):8.2f} MiB   (peak RSS growth of a training "
                          f"step)   dlfs/PyTorch "
                          f"{'-' if ratio is None else format(ratio, '.3f')} (lower: dlfs "
                          f"needs less)", flush=True)
                    rows.append({"model": model, "threads": threads, "batch": batch,
                                 "pass": "memory", "dlfs": dlfs_growth, "torch": torch_growth,
                                 "ratio": ratio})
                    results.append({
                        "group": "memory vs PyTorch",
                        "name": f"{model}@28 batch {batch} cpu train step peak RSS "
                                f"growth{suffix}",
                        "metric": "bytes", "value": dlfs_growth, "ceiling": None,
                        "percent_of_ceiling": None, "vendor": vendor,
                        "vendor_value": torch_growth,
                        "ratio_to_vendor": None if ratio is None else round(ratio, 4),
                        "extra": {"model": model, "input": "28", "batch_size": batch,
                                  "device": "cpu", "threads": threads,
                                  "omp_wait_policy": wait_policy,
                                  "optimizer": "momentum SGD",
                                  "dlfs_rss_before_model_bytes": extra["rss_before_model_bytes"],
                                  "dlfs_peak_rss_bytes": extra["peak_rss_bytes"],
                                  "dlfs_timed_steps": extra.get("timed_steps"),
                                  "pytorch_rss_before_model_bytes": t["rss_before_model_bytes"],
                                  "pytorch_peak_rss_bytes": t["peak_rss_bytes"],
                                  "pytorch_steps": t["steps"],
                                  "pytorch_peak_reset_at_baseline": t["hwm_reset"],
                                  "pytorch_memory_format": "contiguous"}})
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print_table(rows)
    if failures:
        print(f"\ncompare_pytorch: {len(failures)} measurement(s) not made:")
        for message in failures:
            print("  " + message)

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
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
