#!/usr/bin/env python3
"""A small MNIST-format directory for the GPU machine (docs/gpu_check.md), standard library only.

  idx_slice.py slice SRC DST [--train N] [--test N] [--label TEXT]
                                                      first N images/labels of SRC's four files
  idx_slice.py synthetic DST [--train N] [--test N] [--seed S]
                                                      a learnable synthetic set (class patterns
                                                      plus noise) where no real data is at hand
  idx_slice.py check DIR [--min-train N] [--min-test N]
                                                      the four files are readable IDX files whose
                                                      counts, 28x28 sizes and labels 0..9 agree

DST gets the four names data/mnist_format.hpp and bench/compare_pytorch.py look for, each
gzip-compressed (both readers accept name.gz): train-images-idx3-ubyte.gz,
train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz. The gzip
headers carry no time stamp, so equal inputs give equal bytes. A SOURCE file beside them says
where the images came from.
"""
import argparse
import gzip
import os
import random
import struct
import sys

FILES = {  # split -> (images file, labels file), the names of data/mnist_format.hpp
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ROWS = COLS = 28
CLASSES = 10


class IdxError(Exception):
    """A problem with an input or output file; main() prints it in one line."""


def find(directory, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    raise IdxError(f"{directory} has no {name}[.gz]")


def open_idx(path):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def read_header(f, path, ndim):
    magic = f.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] != 0x08 or magic[3] != ndim:
        raise IdxError(f"{path} is not an unsigned-byte idx{ndim} file")
    raw = f.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise IdxError(f"{path} is cut short in its header")
    dims = struct.unpack(">" + "I" * ndim, raw)
    return list(dims)


def read_first(path, ndim, count):
    """(dims with dims[0] cut to count, the first count items' bytes)."""
    with open_idx(path) as f:
        dims = read_header(f, path, ndim)
        if count > dims[0]:
            raise IdxError(f"{path} holds {dims[0]} items, fewer than {count}")
        item = 1
        for d in dims[1:]:
            item *= d
        data = f.read(count * item)
        if len(data) != count * item:
            raise IdxError(f"{path} is cut short")
    return [count] + dims[1:], data


def write_idx(path, dims, data):
    header = bytes([0, 0, 0x08, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as raw:
        # mtime=0 and no file name: the same slice gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as f:
            f.write(header)
            f.write(data)


def clear(dst):
    os.makedirs(dst, exist_ok=True)
    for images, labels in FILES.values():
        for name in (images, labels):
            for candidate in (name, name + ".gz"):
                path = os.path.join(dst, candidate)
                if os.path.exists(path):
                    os.remove(path)


def do_slice(args):
    clear(args.dst)
    for split, count in (("train", args.train), ("test", args.test)):
        images, labels = FILES[split]
        dims, data = read_first(find(args.src, images), 3, count)
        write_idx(os.path.join(args.dst, images + ".gz"), dims, data)
        dims, data = read_first(find(args.src, labels), 1, count)
        write_idx(os.path.join(args.dst, labels + ".gz"), dims, data)
    with open(os.path.join(args.dst, "SOURCE"), "w") as f:
        f.write(f"first {args.train} training and {args.test} test images of "
                f"{args.label or os.path.abspath(args.src)}\n")
    print(f"idx_slice: {args.dst}: first {args.train} + {args.test} images of {args.src}")


def class_templates():
    """One 28x28 pattern a class: a bright bar at a class-dependent place and angle."""
    templates = []
    for c in range(CLASSES):
        t = bytearray(ROWS * COLS)
        for r in range(ROWS):
            for q in range(COLS):
                if c < 5:
                    on = abs(r - (4 + 5 * c)) <= 2  # horizontal bars
                else:
                    on = abs(q - (4 + 5 * (c - 5))) <= 2  # vertical bars
                t[r * COLS + q] = 200 if on else 0
        templates.append(bytes(t))
    return templates


def synthetic_split(rng, count, templates):
    labels = bytes(rng.randrange(CLASSES) for _ in range(count))
    out = bytearray()
    for label in labels:
        noise = rng.randbytes(ROWS * COLS)
        # Pattern plus up to 63 of noise: far from separable by one pixel, easy for a net.
        out += bytes(min(255, t + (n >> 2)) for t, n in zip(templates[label], noise))
    return bytes(out), labels


def do_synthetic(args):
    clear(args.dst)
    rng = random.Random(args.seed)
    templates = class_templates()
    for split, count in (("train", args.train), ("test", args.test)):
        images, labels = FILES[split]
        data, label_bytes = synthetic_split(rng, count, templates)
        write_idx(os.path.join(args.dst, images + ".gz"), [count, ROWS, COLS], data)
        write_idx(os.path.join(args.dst, labels + ".gz"), [count], label_bytes)
    with open(os.path.join(args.dst, "SOURCE"), "w") as f:
        f.write(f"synthetic: {args.train} training and {args.test} test images, seed "
                f"{args.seed} (bench/idx_slice.py synthetic; not Fashion-MNIST)\n")
    print(f"idx_slice: {args.dst}: synthetic {args.train} + {args.test} images")


def do_check(args):
    problems = []
    counts = {}
    for split, (images, labels) in FILES.items():
        try:
            ipath, lpath = find(args.dir, images), find(args.dir, labels)
            with open_idx(ipath) as f:
                dims = read_header(f, ipath, 3)
                if dims[1:] != [ROWS, COLS]:
                    problems.append(f"{ipath}: {dims[1]}x{dims[2]} images, not 28x28")
                body = f.read()
                if len(body) != dims[0] * dims[1] * dims[2]:
                    problems.append(f"{ipath}: {len(body)} data bytes where the header says "
                                    f"{dims[0] * dims[1] * dims[2]}")
            with open_idx(lpath) as f:
                ldims = read_header(f, lpath, 1)
                body = f.read()
                if len(body) != ldims[0]:
                    problems.append(f"{lpath}: {len(body)} labels where the header says {ldims[0]}")
                if body and max(body) >= CLASSES:
                    problems.append(f"{lpath}: label {max(body)} is not in 0..9")
            if ldims[0] != dims[0]:
                problems.append(f"{split}: {dims[0]} images but {ldims[0]} labels")
            counts[split] = dims[0]
        except (IdxError, OSError, EOFError, struct.error) as e:
            problems.append(str(e))
    if not problems:
        if counts["train"] < args.min_train:
            problems.append(f"{counts['train']} training images, fewer than {args.min_train}")
        if counts["test"] < args.min_test:
            problems.append(f"{counts['test']} test images, fewer than {args.min_test}")
    if problems:
        for p in problems:
            print(f"idx_slice: {args.dir}: {p}", file=sys.stderr)
        return 1
    print(f"idx_slice: {args.dir}: ok, {counts['train']} training and {counts['test']} test "
          f"images, 28x28, labels 0..9")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("slice", help="the first images of an MNIST-format directory")
    s.add_argument("src")
    s.add_argument("dst")
    s.add_argument("--train", type=int, default=6000)
    s.add_argument("--test", type=int, default=1000)
    s.add_argument("--label", help="what SRC is, for the SOURCE file (default: its path)")
    g = sub.add_parser("synthetic", help="a synthetic MNIST-format directory")
    g.add_argument("dst")
    g.add_argument("--train", type=int, default=6000)
    g.add_argument("--test", type=int, default=1000)
    g.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("check", help="check an MNIST-format directory")
    c.add_argument("dir")
    c.add_argument("--min-train", type=int, default=1)
    c.add_argument("--min-test", type=int, default=1)
    args = p.parse_args()
    if args.mode == "check":
        return do_check(args)
    if args.mode in ("slice", "synthetic") and (args.train < 1 or args.test < 1):
        raise SystemExit("idx_slice: --train and --test must be positive")
    try:
        if args.mode == "slice":
            do_slice(args)
        else:
            do_synthetic(args)
    except (IdxError, OSError, EOFError, struct.error) as e:
        print(f"idx_slice: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
