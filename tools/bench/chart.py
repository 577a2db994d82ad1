"""The bench's chart: throughput per run, the latency distribution, memory and restart time.

Drawn from the bench.json document alone (so a saved report can be redrawn). matplotlib comes
from the `perf` extra and is imported only here; the Agg backend renders without a screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from tools.bench.report import (
    CONSUME_RATIO_TARGET,
    KB_PER_CUSTOMER_TARGET,
    LEDGER_RATIO_TARGET,
    P99_TARGET_MS,
    RESTART_TARGET_S,
    percentile,
)

_OK, _MISS = "tab:green", "tab:red"


# figure -> (label, colour) of the throughput panel's bars, left to right
_THROUGHPUT = {
    "raw_events_per_s": ("raw aiokafka", "tab:grey"),
    "faust_consume_events_per_s": ("Faust agent, consume only", "tab:olive"),
    "faust_ledger_events_per_s": ("naive Faust ledger", "tab:orange"),
    "arpulse_events_per_s": ("arpulse worker", "tab:blue"),
    "direct_events_per_s": ("arpulse pipeline on a plain aiokafka loop", "tab:purple"),
    "logic_events_per_cpu_s": ("arpulse logic alone (per CPU-s)", "tab:cyan"),
}


def _throughput(axes: Axes, runs: list[dict[str, Any]]) -> None:
    labels = [f"run {run['index']}" for run in runs]
    xs = range(len(runs))
    width = 0.8 / len(_THROUGHPUT)
    raw = [run["figures"].get("raw_events_per_s", 0.0) for run in runs]
    highest = 1.0
    for n, (figure, (label, colour)) in enumerate(_THROUGHPUT.items()):
        values = [run["figures"].get(figure, 0.0) for run in runs]
        highest = max([highest, *values])
        offset = (n - (len(_THROUGHPUT) - 1) / 2) * width
        bars = axes.bar([x + offset for x in xs], values, width, label=label, color=colour)
        if figure == "raw_events_per_s":
            continue
        for bar, a, r in zip(bars, values, raw, strict=True):
            axes.annotate(
                f"{a / r:.2f}x" if r else "n/a",
                (bar.get_x() + bar.get_width() / 2, max(a, 1.0)),
                ha="center",
                va="bottom",
                fontsize="x-small",
                rotation=90,
            )
    axes.set_yscale("log")
    axes.set_ylim(top=highest * 40)  # room for the legend above the bars
    axes.set_xticks(list(xs), labels)
    axes.set_ylabel("events / s (log)")
    axes.set_title(
        f"throughput, x raw (targets: {LEDGER_RATIO_TARGET:g}x the naive ledger,"
        f" {CONSUME_RATIO_TARGET:g}x consume-only)"
    )
    axes.legend(fontsize="x-small", ncols=2)


def _latency(axes: Axes, runs: list[dict[str, Any]]) -> None:
    drawn = False
    for run in runs:
        values = sorted(run["details"].get("latency", {}).get("actions_ms", []))
        if not values:
            continue
        share = [100 * (i + 1) / len(values) for i in range(len(values))]
        p99 = percentile(values, 99)
        axes.plot(values, share, label=f"run {run['index']}: p99 {p99:.0f} ms", drawstyle="steps")
        drawn = True
    axes.axvline(P99_TARGET_MS, color="grey", linestyle="--", label=f"{P99_TARGET_MS:g} ms")
    axes.axhline(99, color="grey", linestyle=":", linewidth=1)
    if drawn:
        axes.set_xscale("log")
        axes.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axes.xaxis.set_major_formatter(ScalarFormatter())
        axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("input produced -> action published (ms, log)")
    axes.set_ylabel("% of actions")
    rates = sorted({round(r["details"].get("latency", {}).get("target_rate", 0)) for r in runs})
    at = ", ".join(f"{rate:,}" for rate in rates if rate)
    axes.set_title(f"end-to-end latency at {at} events/s" if at else "end-to-end latency")
    axes.legend(fontsize="small", loc="lower right")


def _bars(axes: Axes, runs: list[dict[str, Any]], figure: str, target: float, unit: str) -> None:
    values = [run["figures"].get(figure) for run in runs]
    shown = [v if v is not None else 0.0 for v in values]
    colours = [_OK if v is not None and v <= target else _MISS for v in values]
    axes.bar([f"run {run['index']}" for run in runs], shown, color=colours)
    axes.axhline(target, color="grey", linestyle="--", label=f"target {target:g} {unit}")
    axes.legend(fontsize="small")


def draw(path: Path, document: dict[str, Any]) -> Path:
    """Write the four-panel PNG to `path`."""
    runs = document["runs"]
    settings = document["settings"]
    figure, ((top_left, top_right), (bottom_left, bottom_right)) = plt.subplots(
        2, 2, figsize=(13, 9), dpi=100
    )
    try:
        figure.suptitle(
            f"arpulse bench: backlog {settings['backlog']} events of {settings['customers']} "
            f"customers, {settings['partitions']} partitions; "
            f"{document['state'].get('customers', 0)} customers of state",
            fontsize="medium",
        )
        _throughput(top_left, runs)
        _latency(top_right, runs)
        _bars(bottom_left, runs, "kb_per_customer", KB_PER_CUSTOMER_TARGET, "KB")
        bottom_left.set_ylabel("KB per customer (RSS with state - idle)")
        bottom_left.set_title("resident memory per customer of state")
        _bars(bottom_right, runs, "restart_seconds", RESTART_TARGET_S, "s")
        bottom_right.set_ylabel("seconds from launch to /healthz ready")
        bottom_right.set_title("restart with the state customers")
        for axes in figure.axes:
            axes.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path
