#!/usr/bin/env python3
"""Draws the PNG of a `dlfs experiment NAME` run from its NAME.json.

usage: python3 scripts/plot_experiment.py NAME.json [NAME.png]

The JSON's "experiment" field picks the drawing. Needs matplotlib (Debian: python3-matplotlib);
uses the Agg backend, so no display is needed.
"""
import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DPI = 100
COLORS = {"SGD": "tab:blue", "Momentum": "tab:orange", "AdaGrad": "tab:green",
          "Adam": "tab:red"}


def smooth(values, window=11):
    """The book's smooth_curve: a Kaiser-window moving average (beta 2), edges reflected."""
    v = np.array([np.nan if x is None else x for x in values], dtype=float)
    if len(v) < window:
        return v
    s = np.r_[v[window - 1:0:-1], v, v[-1:-window:-1]]
    w = np.kaiser(window, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def optimizer_paths(d, fig):
    x = np.arange(-10, 10, 0.01)
    y = np.arange(-5, 5, 0.01)
    X, Y = np.meshgrid(x, y)
    Z = X ** 2 / 20.0 + Y ** 2
    Z[Z > 7] = 0
    for i, o in enumerate(d["optimizers"]):
        ax = fig.add_subplot(2, 2, i + 1)
        ax.contour(X, Y, Z, levels=12, cmap="Greys", linewidths=0.6)
        ax.plot(o["x"], o["y"], "o-", color="tab:red", markersize=3, linewidth=1,
                label=f"{o['name']} (lr {o['lr']:g})")
        ax.plot(0, 0, "+", color="black", markersize=10)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-5, 5)
        fx, fy = o["final"]
        ax.set_title(f"{o['name']}: final ({fx:.3f}, {fy:.3f})")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Minimizing f(x, y) = x²/20 + y² from {tuple(d['start'])}, "
                 f"{d['steps']} steps")


def loss_curves(ax, runs, label_key, title, colors=None):
    for r in runs:
        label = r[label_key]
        extra = f" (lr {r['lr']:g})" if "lr" in r else ""
        ax.plot(np.arange(len(r["loss"])), smooth(r["loss"]), label=label + extra,
                color=(colors or {}).get(label), linewidth=1.2)
    ax.set_xlabel("iterations")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_title(title)
    ax.set_ylim(0, 2.5)
    ax.grid(alpha=0.3)
    ax.legend()


def optimizer_compare(d, fig):
    ax = fig.add_subplot(1, 1, 1)
    for o in d["optimizers"]:
        o["label"] = f"{o['name']}, test acc {o['test_accuracy']:.3f}"
    loss_curves(ax, d["optimizers"], "label",
                f"{d['network']}, batch {d['batch_size']}: the four optimizers",
                {o["label"]: COLORS.get(o["name"]) for o in d["optimizers"]})


def weight_init(d, fig):
    h = d["histograms"]
    runs = h["runs"]
    activations = list(dict.fromkeys(r["activation"] for r in runs))
    inits = list(dict.fromkeys(r["init"] for r in runs))
    layers = len(runs[0]["layers"])
    rows = len(activations) * len(inits)
    grid = fig.add_gridspec(rows + 4, layers, hspace=1.0, wspace=0.25, top=0.96, bottom=0.03,
                            left=0.05, right=0.98)
    for row, r in enumerate(runs):
        low, high = r["range"]
        edges = np.linspace(low, high, h["bins"] + 1)
        for col, layer in enumerate(r["layers"]):
            ax = fig.add_subplot(grid[row, col])
            ax.bar(edges[:-1], layer["counts"], width=edges[1] - edges[0], align="edge",
                   color="tab:blue")
            ax.set_xlim(low, high)
            ax.set_xticks([low, (low + high) / 2, high])
            counts = layer["counts"]
            if r["activation"] == "relu" and max(counts[1:]) > 0:
                # Half of ReLU's outputs are 0: clip that bar so the rest stays visible.
                ax.set_ylim(0, 1.3 * max(counts[1:]))
                ax.text(0.98, 0.9, f"{counts[0]} in [0, {edges[1]:.2g})", ha="right",
                        va="top", transform=ax.transAxes, fontsize=6)
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            ax.set_title(f"{r['activation']}, {r['init']}: layer {col + 1} "
                         f"(std {layer['std']:.2g})", fontsize=7)
            if row == rows - 1:
                ax.set_xlabel("activation value", fontsize=7)
            if col == 0:
                ax.set_ylabel("count", fontsize=7)
    t = d["training"]
    ax = fig.add_subplot(grid[rows + 1:, 1:-1])
    loss_curves(ax, t["runs"], "init",
                f"Training loss by weight init: {t['network']}, {t['optimizer']}, "
                f"batch {t['batch_size']}")
    fig.suptitle(f"Activation histograms: {h['samples']} Gaussian inputs through "
                 f"{layers} layers of {h['units']} units, no bias (values outside the range are "
                 f"not shown)", y=0.99)


def batch_norm(d, fig):
    runs = d["runs"]
    n = len(runs)
    cols = 4 if n >= 4 else n
    rows = math.ceil(n / cols)
    for i, r in enumerate(runs):
        ax = fig.add_subplot(rows, cols, i + 1)
        epochs = np.arange(len(r["batch_norm"]))
        ax.plot(epochs, r["batch_norm"], "-", color="tab:blue", label="with BatchNorm")
        ax.plot(epochs, r["plain"], "--", color="tab:orange", label="without")
        ax.set_ylim(0, 1)
        ax.set_title(f"weight std {r['weight_std']:.2g}", fontsize=9)
        ax.grid(alpha=0.3)
        if i % cols == 0:
            ax.set_ylabel("train accuracy")
        if i >= n - cols:
            ax.set_xlabel("epochs")
        if i == 0:
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Batch Normalization: {d['network']}, {d['optimizer']}, "
                 f"{d['train_images']} training images")


def overfit(d, fig):
    runs = d["runs"]
    for i, r in enumerate(runs):
        ax = fig.add_subplot(1, len(runs), i + 1)
        epochs = np.arange(len(r["train_accuracy"]))
        ax.plot(epochs, r["train_accuracy"], "-", label="train", color="tab:blue")
        ax.plot(epochs, r["test_accuracy"], "-", label="test", color="tab:orange")
        gap = r["train_accuracy"][-1] - r["test_accuracy"][-1]
        ax.set_title(f"{r['label']}\nfinal train {r['train_accuracy'][-1]:.3f}, "
                     f"test {r['test_accuracy'][-1]:.3f} (gap {gap:.3f})", fontsize=10)
        ax.set_xlabel("epochs")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle(f"Overfitting: {d['network']}, {d['optimizer']}, {d['train_images']} training "
                 f"images, {d['test_images']} test images")


def hyperparameter_search(d, fig):
    trials = d["trials"][: d["show"]]
    cols = 5
    rows = max(1, math.ceil(len(trials) / cols))
    # One grid for all panels (tight_layout needs that): a trial takes two columns, the
    # scatter plot of every trial the middle of the last, taller row.
    grid = fig.add_gridspec(rows + 1, 2 * cols, height_ratios=[1] * rows + [1.5])
    for i, t in enumerate(trials):
        ax = fig.add_subplot(grid[i // cols, 2 * (i % cols):2 * (i % cols) + 2])
        epochs = np.arange(len(t["val_accuracy"]))
        ax.plot(epochs, t["val_accuracy"], "-", color="tab:blue", label="validation")
        ax.plot(epochs, t["train_accuracy"], "--", color="tab:orange", label="train")
        ax.set_ylim(0, 1)
        ax.set_title(f"Best-{i + 1}: val {t['final_val_accuracy']:.2f}\n"
                     f"lr {t['lr']:.1e}, wd {t['weight_decay']:.1e}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if i % cols == 0:
            ax.set_ylabel("accuracy", fontsize=8)
        if i == 0:
            ax.legend(fontsize=6, loc="lower right")
        if i >= len(trials) - cols:
            ax.set_xlabel("epochs", fontsize=8)
    ax = fig.add_subplot(grid[rows, 2:8])
    lr = [t["lr"] for t in d["trials"]]
    wd = [t["weight_decay"] for t in d["trials"]]
    acc = [t["final_val_accuracy"] for t in d["trials"]]
    sc = ax.scatter(lr, wd, c=acc, cmap="viridis", vmin=0, vmax=max(acc + [0.01]), s=18)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("weight decay")
    ax.set_title("every trial, coloured by validation accuracy", fontsize=9)
    fig.colorbar(sc, ax=ax, label="validation accuracy")
    fig.suptitle(f"Random hyperparameter search ({len(d['trials'])} trials, {d['epochs']} epochs "
                 f"each, {d['train_images']} train / {d['validation_images']} validation "
                 f"images): the best {len(trials)}")


def filters(d, fig):
    n, k = d["filters"], d["kernel"]
    cols = 10
    rows = math.ceil(n / cols)
    for half, key in enumerate(("before", "after")):
        w = np.array(d[key]).reshape(n, k, k)
        for i in range(n):
            ax = fig.add_subplot(2 * rows, cols, half * rows * cols + i + 1)
            ax.imshow(w[i], cmap="gray_r", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i % cols == 0:
                ax.set_ylabel(key, fontsize=9)
    fig.suptitle(f"{d['network']}: first-layer filters before (top) and after (bottom)\n"
                 f"{d['epochs']} epoch(s) on {d['train_images']} images "
                 f"(test accuracy {d['test_accuracy']:.3f}); dark = large weight")


def misclassified(d, fig):
    images = d["images"]
    cols = 5
    rows = max(1, math.ceil(len(images) / cols))
    for i, im in enumerate(images):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(np.array(im["pixels"]).reshape(d["height"], d["width"]), cmap="gray_r")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"#{im['index']}\ntrue: {im['true']}\npredicted: {im['predicted']}",
                     fontsize=8)
    fig.suptitle(f"The first {len(images)} misclassified test images: {d['model']} "
                 f"(test accuracy {d['test_accuracy']:.4f})")


def gradcheck(d, fig):
    nets = d["networks"]
    for i, net in enumerate(nets):
        ax = fig.add_subplot(1, len(nets), i + 1)
        names = [p["name"] for p in net["parameters"]]
        mean = [p["mean_abs_difference"] for p in net["parameters"]]
        worst = [p["max_abs_difference"] for p in net["parameters"]]
        pos = np.arange(len(names))
        ax.bar(pos - 0.2, mean, 0.4, label="mean |backprop - numerical|", color="tab:blue")
        ax.bar(pos + 0.2, worst, 0.4, label="max |backprop - numerical|", color="tab:orange")
        ax.set_yscale("log")
        ax.set_xticks(pos)
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("absolute difference")
        ax.set_title(f"{net['network']} ({net['input']})", fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    fig.suptitle(f"Gradient check in {d['dtype']}: central differences with h = {d['step']:g}")


def device_agreement(d, fig):
    for i, key in enumerate(("forward", "gradients")):
        ax = fig.add_subplot(1, 2, i + 1)
        names = [x["name"] for x in d[key]]
        diff = [max(x["max_abs_difference"], 1e-12) for x in d[key]]
        ax.barh(np.arange(len(names)), diff, color="tab:blue" if i == 0 else "tab:orange")
        ax.set_yticks(np.arange(len(names)))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("max |cpu - gpu|")
        ax.set_title("forward output per layer" if i == 0 else "gradient per parameter")
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(f"{d['model']}: CPU vs {d['device']} on {d['batch_size']} test images "
                 f"(loss differs by {d['loss_difference']:.2e})")


DRAW = {
    "optimizer-paths": (optimizer_paths, (10, 9)),
    "optimizer-compare": (optimizer_compare, (9, 5.5)),
    "weight-init": (weight_init, (13, 24)),
    "batch-norm": (batch_norm, (12, 11)),
    "overfit": (overfit, (15, 5)),
    "hyperparameter-search": (hyperparameter_search, (14, 16)),
    "filters": (filters, (11, 5.5)),
    "misclassified": (misclassified, (11, 10.5)),
    "gradcheck": (gradcheck, (12, 5.5)),
    "device-agreement": (device_agreement, (12, 6)),
}


def main(argv):
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    src = argv[1]
    out = argv[2] if len(argv) == 3 else src.rsplit(".", 1)[0] + ".png"
    with open(src) as f:
        d = json.load(f)
    name = d.get("experiment")
    if name not in DRAW:
        print(f"plot_experiment.py: {src} is not a dlfs experiment file (experiment: {name!r})",
              file=sys.stderr)
        return 2
    draw, size = DRAW[name]
    fig = plt.figure(figsize=size)
    draw(d, fig)
    if name != "weight-init":  # its grid spacing is set by hand
        fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out, dpi=DPI)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
