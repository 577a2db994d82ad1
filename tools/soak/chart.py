"""The soak's chart: throughput, consumer lag and worker RSS over time, one panel each.

matplotlib comes from the `perf` extra and is imported only here, so the pure parts of the soak
(and their unit test) run on the dev extra alone. The Agg backend renders without a screen.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from tools.soak.judge import (
    Sample,
    Verdict,
    load_samples,
    rate_between,
    rss_slopes,
    window,
)


def _minutes(samples: Sequence[Sample]) -> list[float]:
    return [s.t / 60 for s in samples]


def _shade_drain(axes: Axes, samples: Sequence[Sample]) -> None:
    """Grey out the drain after the load, which the verdicts on lag and memory leave out."""
    load = load_samples(samples)
    if load and samples[-1].t > load[-1].t:
        axes.axvspan(load[-1].t / 60, samples[-1].t / 60, color="0.9", zorder=0)


def _throughput(axes: Axes, samples: Sequence[Sample], rate: float) -> None:
    pairs = list(itertools.pairwise(samples))
    middle = [(a.t + b.t) / 120 for a, b in pairs]
    axes.plot(middle, [rate_between(a, b, "produced") for a, b in pairs], label="produced")
    axes.plot(middle, [rate_between(a, b, "processed") for a, b in pairs], label="processed")
    axes.axhline(rate, color="grey", linestyle="--", linewidth=1, label=f"target {rate:g}/s")
    axes.set_ylabel("events / s")
    axes.legend(loc="lower right", fontsize="small")


def _lag(axes: Axes, samples: Sequence[Sample]) -> None:
    minutes = _minutes(samples)
    axes.plot(
        minutes,
        [s.backlog for s in samples],
        color="tab:red",
        label="backlog (produced - processed)",
    )
    axes.plot(
        minutes,
        [s.lag for s in samples],
        color="tab:orange",
        label="worker's lag metric (unfetched only)",
    )
    axes.set_ylabel("messages behind")
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper right", fontsize="small")


def _memory(axes: Axes, samples: Sequence[Sample], verdict: Verdict) -> None:
    axes.plot(_minutes(samples), [s.rss_mb for s in samples], color="tab:purple", label="RSS")
    first, last = rss_slopes(samples)
    for part, fitted, name in ((0.0, first, "first"), (2 / 3, last, "last")):
        points = window(samples, part, part + 1 / 3)
        if len(points) < 2:
            continue
        x0, x1 = points[0].t / 60, points[-1].t / 60
        y_mid = sum(s.rss_mb for s in points) / len(points)
        x_mid = sum(s.t / 60 for s in points) / len(points)
        ys = [y_mid + fitted * (x - x_mid) for x in (x0, x1)]
        axes.plot(
            [x0, x1], ys, linestyle="--", linewidth=2, label=f"{name} third {fitted:+.2f} MB/min"
        )
    axes.set_ylabel("worker RSS (MB)")
    axes.set_xlabel("real minutes since the load started (grey: drain after the load)")
    axes.set_title(
        verdict.message, fontsize="small", color="tab:green" if verdict.ok else "tab:red"
    )
    axes.legend(loc="lower right", fontsize="small")


def draw(
    path: Path, samples: Sequence[Sample], *, rate: float, title: str, memory: Verdict
) -> Path:
    """Write the three-panel PNG to `path`."""
    figure, (top, middle, bottom) = plt.subplots(3, 1, sharex=True, figsize=(11, 9))
    try:
        figure.suptitle(title, fontsize="medium")
        _throughput(top, samples, rate)
        _lag(middle, samples)
        _memory(bottom, samples, memory)
        for axes in (top, middle, bottom):
            _shade_drain(axes, samples)
            axes.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
    return path
