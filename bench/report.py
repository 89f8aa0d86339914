#!/usr/bin/env python3
"""Turn a dlfs benchmark results file (the common schema of bench/, see docs/benchmarks.md)
into a markdown table and a bar chart of percent_of_ceiling (and ratio_to_vendor when present).

    python3 bench/report.py RESULTS.json [--markdown FILE] [--png FILE]

The markdown goes to stdout unless --markdown is given; the chart goes to --png (default: the
results file with a .png suffix).
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402


def fmt(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:,.{digits}f}"
    return str(value)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"report.py: cannot read results file {path}: {e}")
    if not isinstance(doc.get("results"), list):
        sys.exit(f"report.py: {path} has no 'results' list (not a dlfs results file)")
    return doc


def markdown(doc, source):
    machine = doc.get("machine") or {}
    versions = doc.get("versions") or {}
    ceilings = doc.get("ceilings") or {}
    results = doc["results"]
    lines = [f"# dlfs benchmark: {doc.get('kind', '?')} ({doc.get('date', '?')})", ""]
    lines.append(f"Source: `{os.path.basename(source)}`")
    lines.append("")
    gpu = machine.get("gpu") or "none"
    cores = machine.get("cores", "?")
    threads = f", {machine['threads']} threads" if "threads" in machine else ""
    lines.append(f"- Machine: {machine.get('cpu', '?')}, {cores} cores{threads}; GPU: {gpu}")
    shown = [f"{k} {v}" for k, v in versions.items() if v is not None]
    if shown:
        lines.append("- Versions: " + "; ".join(shown))
    if ceilings:
        parts = []
        if ceilings.get("copy_GBps") is not None:
            parts.append(f"copy {fmt(ceilings['copy_GBps'])} GB/s (bytes read + written)")
        if ceilings.get("sgemm_GFLOPs") is not None:
            parts.append(f"SGEMM {fmt(ceilings['sgemm_GFLOPs'])} GFLOP/s")
        lines.append("- Ceilings: " + ", ".join(parts))
    lines.append("")
    with_vendor = any(r.get("vendor") for r in results)
    header = ["group", "benchmark", "value", "metric", "ceiling", "% of ceiling"]
    if with_vendor:
        header += ["vendor", "vendor value", "ratio to vendor"]
    lines.append("| " + " | ".join(header) + " |")
    text_columns = {"group", "benchmark", "metric", "vendor"}
    lines.append("|" + "|".join("---" if h in text_columns else "---:" for h in header) + "|")
    for r in results:
        pct = r.get("percent_of_ceiling")
        row = [r.get("group", ""), r.get("name", ""), fmt(r.get("value")), r.get("metric", ""),
               fmt(r.get("ceiling")), "-" if pct is None else f"{pct:.1f}%"]
        if with_vendor:
            row += [r.get("vendor") or "-", fmt(r.get("vendor_value")),
                    fmt(r.get("ratio_to_vendor"), 3)]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines) + "\n"


def bar_panel(ax, names, values, groups, xlabel, reference, reference_label):
    palette = plt.get_cmap("tab20").colors
    group_order = list(dict.fromkeys(groups))
    colors = [palette[group_order.index(g) % len(palette)] for g in groups]
    positions = range(len(names))
    ax.barh(positions, values, color=colors)
    ax.set_yticks(list(positions))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("benchmark")
    if reference is not None:
        ax.axvline(reference, color="black", linestyle="--", linewidth=0.8, label=reference_label)
    for y, v in zip(positions, values):
        ax.text(v, y, f" {v:.1f}" if reference != 1.0 else f" {v:.2f}", va="center", fontsize=6)
    handles = [plt.Rectangle((0, 0), 1, 1, color=palette[i % len(palette)])
               for i in range(len(group_order))]
    ax.legend(handles + ax.get_legend_handles_labels()[0],
              group_order + ax.get_legend_handles_labels()[1], fontsize=6, loc="lower right")
    ax.grid(axis="x", alpha=0.3)


def chart(doc, path):
    results = doc["results"]
    panels = []
    pct = [r for r in results if r.get("percent_of_ceiling") is not None]
    if pct:
        panels.append(("percent of ceiling (copy bandwidth for GB/s, SGEMM for GFLOP/s)",
                       pct, "percent_of_ceiling", 100.0, "ceiling (100%)"))
    ratio = [r for r in results if r.get("ratio_to_vendor") is not None]
    if ratio:
        panels.append(("ratio to vendor (dlfs / vendor)", ratio, "ratio_to_vendor", 1.0,
                       "vendor (1.0)"))
    if not panels:  # e.g. training throughput without ceilings: plot the values themselves
        metric = results[0].get("metric", "value") if results else "value"
        same = [r for r in results if r.get("metric") == metric and r.get("value") is not None]
        panels.append((metric, same, "value", None, None))
    rows = max(len(p[1]) for p in panels)
    height = max(3.0, 1.5 + 0.28 * rows)
    fig, axes = plt.subplots(1, len(panels), figsize=(9 * len(panels), height), squeeze=False)
    for ax, (xlabel, rs, key, reference, reference_label) in zip(axes[0], panels):
        bar_panel(ax, [r["name"] for r in rs], [r[key] for r in rs],
                  [r.get("group", "") for r in rs], xlabel, reference, reference_label)
        ax.set_title(xlabel.split(" (")[0])
    machine = doc.get("machine") or {}
    hardware = machine.get("cpu", "") + (f" / {machine['gpu']}" if machine.get("gpu") else "")
    fig.suptitle(f"dlfs {doc.get('kind', '')} benchmarks, {doc.get('date', '')}\n{hardware}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results JSON file (common schema)")
    parser.add_argument("--markdown", help="write the markdown table here instead of stdout")
    parser.add_argument("--png", help="bar chart path (default: RESULTS with a .png suffix)")
    args = parser.parse_args()
    doc = load(args.results)
    text = markdown(doc, args.results)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    png = args.png or os.path.splitext(args.results)[0] + ".png"
    chart(doc, png)
    print(f"report.py: wrote {png}" + (f" and {args.markdown}" if args.markdown else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main()
