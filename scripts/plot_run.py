#!/usr/bin/env python3
"""Learning curves of `dlfs train` runs (their metrics.csv and summary.json).

usage:
  python3 scripts/plot_run.py curves RUN_DIR [--title TEXT]
      RUN_DIR/curves.png: loss, accuracy and learning rate per epoch (written atomically) and
      RUN_DIR/curves.json (what the picture shows: title, legend, size).
  python3 scripts/plot_run.py compare RUN_DIR [RUN_DIR ...] --out FILE [--metric NAME]
      one panel of METRIC (default val_accuracy; any metrics.csv column) for every run, the
      legend naming the settings that differ between the runs; FILE.json beside it.
  python3 scripts/plot_run.py list RUN_DIR [RUN_DIR ...]
      the runs' headline figures as a table.

`dlfs train` calls `curves` after every epoch and at the end; `dlfs plot` calls the others.
Needs matplotlib (Debian: python3-matplotlib) except for `list`; uses the Agg backend.
"""
import argparse
import csv
import json
import math
import os
import sys

WIDTH_IN, HEIGHT_IN, DPI = 12.0, 4.0, 100
# Settings that tell runs apart, in the order a legend names them.
SETTINGS = ["model", "optimizer", "learning_rate", "batch_size", "epochs", "seed", "device",
            "train_images"]
METRIC_LABELS = {
    "train_loss": "training loss (cross-entropy)", "val_loss": "validation loss (cross-entropy)",
    "train_accuracy": "training accuracy", "val_accuracy": "validation accuracy",
    "learning_rate": "learning rate", "images_per_second": "images/s", "seconds": "seconds",
}


class RunError(Exception):
    pass


def read_metrics(run_dir):
    path = os.path.join(run_dir, "metrics.csv")
    if not os.path.isfile(path):
        raise RunError(f"{run_dir}: no metrics.csv (not a dlfs train run folder?)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise RunError(f"{path}: no finished epoch yet")

    def number(text):
        # "n/a" (no validation split) and empty cells are gaps in the curve.
        try:
            return float(text)
        except (TypeError, ValueError):
            return math.nan

    return {key: [number(row.get(key)) for row in rows] for key in rows[0]}


def read_summary(run_dir):
    path = os.path.join(run_dir, "summary.json")
    if not os.path.isfile(path):
        return {}  # an unfinished run
    with open(path) as f:
        return json.load(f)


def save_atomically(fig, path):
    """Writes the PNG beside its final name, then renames: a reader sees the old or the new."""
    tmp = f"{path}.tmp-{os.getpid()}.png"
    fig.savefig(tmp, dpi=DPI)
    os.replace(tmp, path)


def write_sidecar(path, content):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(content, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def use_log_scale(values):
    """Log scale when the positive values span more than a decade."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    return len(positive) > 1 and max(positive) / min(positive) > 10


def log_scale(ax):
    """A log y axis whose ticks say their values (1, 2 and 5 in each decade)."""
    from matplotlib.ticker import FuncFormatter, LogLocator
    ax.set_yscale("log")
    label = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0,)))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
    ax.yaxis.set_major_formatter(label)
    ax.yaxis.set_minor_formatter(label)


def figure(panels):
    try:
        import matplotlib
    except ImportError:
        raise RunError(f"{sys.executable} has no matplotlib (Debian: apt-get install "
                       "python3-matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    globals()["MaxNLocator"] = MaxNLocator
    fig, axes = plt.subplots(1, panels, figsize=(WIDTH_IN / 3 * panels if panels < 3 else WIDTH_IN,
                                                 HEIGHT_IN), squeeze=False)
    return plt, fig, axes[0]


def curves(run_dir, title):
    m = read_metrics(run_dir)
    summary = read_summary(run_dir)
    if not title:
        parts = [summary.get("model", os.path.basename(os.path.normpath(run_dir)))]
        if "optimizer" in summary:
            parts.append(f"{summary['optimizer']} lr {summary.get('learning_rate')}")
        if "seed" in summary:
            parts.append(f"seed {summary['seed']}")
        if "test_accuracy" in summary:
            parts.append(f"test accuracy {summary['test_accuracy']:.4f}")
        title = ", ".join(str(p) for p in parts)
    epochs = m["epoch"]
    plt, fig, (loss_ax, acc_ax, lr_ax) = figure(3)
    legend = []
    for key, label, color in (("train_loss", "training", "tab:blue"),
                              ("val_loss", "validation", "tab:orange")):
        if key in m and any(math.isfinite(v) for v in m[key]):
            loss_ax.plot(epochs, m[key], marker="o", color=color, label=label)
            legend.append(f"loss: {label}")
    if use_log_scale(m.get("train_loss", []) + m.get("val_loss", [])):
        log_scale(loss_ax)
    loss_ax.set(xlabel="epoch", ylabel="loss (cross-entropy, nats)", title="loss")
    for key, label, color in (("train_accuracy", "training", "tab:blue"),
                              ("val_accuracy", "validation", "tab:orange")):
        if key in m and any(math.isfinite(v) for v in m[key]):
            acc_ax.plot(epochs, m[key], marker="o", color=color, label=label)
            legend.append(f"accuracy: {label}")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (fraction correct)", title="accuracy")
    lr_ax.plot(epochs, m["learning_rate"], marker="o", color="tab:green")
    if use_log_scale(m["learning_rate"]):
        log_scale(lr_ax)
    lr_ax.set(xlabel="epoch", ylabel="learning rate", title="learning rate (at epoch start)")
    for ax in (loss_ax, acc_ax, lr_ax):
        ax.grid(True, alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_ax.legend(loc="best", fontsize="small")
    acc_ax.legend(loc="best", fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    png = os.path.join(run_dir, "curves.png")
    save_atomically(fig, png)
    plt.close(fig)
    write_sidecar(os.path.join(run_dir, "curves.json"),
                  {"title": title, "legend": legend, "epochs": len(epochs),
                   "size": [int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI)]})
    return png


def run_label(summary, run_dir, differing):
    if not differing:
        return os.path.basename(os.path.normpath(run_dir))
    return ", ".join(f"{key.replace('_', ' ')} {summary.get(key, '?')}" for key in differing)


def compare(run_dirs, out, metric):
    runs = [(d, read_metrics(d), read_summary(d)) for d in run_dirs]
    for d, m, _ in runs:
        if metric not in m:
            raise RunError(f"{d}/metrics.csv has no column '{metric}' "
                           f"(it has: {', '.join(k for k in m if k != 'epoch')})")
    differing = [k for k in SETTINGS if len({json.dumps(s.get(k)) for _, _, s in runs}) > 1]
    plt, fig, (ax,) = figure(1)
    legend = []
    values = []
    for d, m, s in runs:
        label = run_label(s, d, differing)
        ax.plot(m["epoch"], m[metric], marker="o", label=label)
        legend.append(label)
        values += m[metric]
    if metric.endswith("loss") and use_log_scale(values):
        log_scale(ax)
    ax.set(xlabel="epoch", ylabel=METRIC_LABELS.get(metric, metric),
           title=f"{METRIC_LABELS.get(metric, metric)} of {len(runs)} runs")
    ax.grid(True, alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # Outside the axes on the right, so it never covers a curve.
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    fig.set_size_inches(WIDTH_IN * 0.75, HEIGHT_IN * 1.25)
    fig.tight_layout()
    save_atomically(fig, out)
    plt.close(fig)
    write_sidecar(out + ".json", {"metric": metric, "legend": legend, "runs": run_dirs,
                                  "size": [int(WIDTH_IN * 0.75 * DPI),
                                           int(HEIGHT_IN * 1.25 * DPI)]})
    return out


def list_runs(run_dirs):
    header = ["run", "model", "optimizer", "lr", "epochs", "best val acc", "test acc",
              "test loss", "img/s", "train s"]
    rows = []
    for d in run_dirs:
        s = read_summary(d)
        m = read_metrics(d)
        val = [v for v in m.get("val_accuracy", []) if math.isfinite(v)]
        rows.append([d, s.get("model", "?"), s.get("optimizer", "?"),
                     f"{s['learning_rate']:g}" if "learning_rate" in s else "?",
                     f"{len(m['epoch'])}/{s.get('epochs', '?')}",
                     f"{max(val):.4f}" if val else "n/a",
                     f"{s['test_accuracy']:.4f}" if "test_accuracy" in s else "unfinished",
                     f"{s['test_loss']:.4f}" if "test_loss" in s else "",
                     f"{s['images_per_second']:.0f}" if "images_per_second" in s else "",
                     # Every epoch's training time, across resumes (metrics.csv's seconds).
                     f"{sum(m.get('seconds', [])):.1f}"])
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def main():
    parser = argparse.ArgumentParser(description="learning curves of dlfs train runs")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("curves")
    p.add_argument("run_dir")
    p.add_argument("--title", default="")
    p = sub.add_parser("compare")
    p.add_argument("run_dirs", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--metric", default="val_accuracy")
    p = sub.add_parser("list")
    p.add_argument("run_dirs", nargs="+")
    args = parser.parse_args()
    try:
        if args.command == "curves":
            print(f"wrote {curves(args.run_dir, args.title)}")
        elif args.command == "compare":
            print(f"wrote {compare(args.run_dirs, args.out, args.metric)}")
        else:
            list_runs(args.run_dirs)
    except RunError as e:
        print(f"dlfs plot: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
