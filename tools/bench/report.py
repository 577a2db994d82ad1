"""The bench's arithmetic and judgements (pure: no I/O, no clock).

Percentiles, the median and spread of a figure over runs, memory per customer, the verdicts
against the targets, the JSON document and the summary table. Kept apart from the run so each
rule can be tested on made-up numbers in milliseconds, and so the targets printed in the report
are the ones the code applies.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# The targets (see docs/performance.md, "The benchmark"). Throughput is judged against the
# Faust runtime arpulse is built on, measured in the same run: the worker against a naive Faust
# ledger and against a Faust agent that only consumes.
LEDGER_RATIO_TARGET = 2.0  # worker events/s over the naive Faust ledger's, at least
CONSUME_RATIO_TARGET = 0.6  # worker events/s over the consume-only Faust agent's, at least
DOMAIN_TARGET = 50_000.0  # pure domain, events per CPU-second at the default size, at least
DOMAIN_FLAT_TARGET = 0.8  # pure domain at 32 invoices per customer over the default, at least
LOGIC_TARGET = 15_000.0  # logic alone, events per CPU-second, at least
LATENCY_RATE = 2000.0  # events/s the latency phase feeds (--latency-rate)
P99_TARGET_MS = 250.0  # end-to-end p99 at LATENCY_RATE, at most
# History lengths (invoices per customer) the logic and the domain are also measured at, with
# as many events each (fewer customers for longer histories): how cost grows with history.
HISTORY_SIZES = (4, 8, 32)
KB_PER_CUSTOMER_TARGET = 2.0  # resident memory per customer of state, at most
RESTART_TARGET_S = 30.0  # a restarted worker with the state customers ready, at most
# On RocksDB (a restart reads only the changelog's tail), at the documented size of 1,000,000
# customers (`--state-customers 1000000`): ready within this, resident memory within that.
ROCKSDB_RESTART_TARGET_S = 20.0
ROCKSDB_RSS_TARGET_MB = 600.0

# Figure name -> (label, unit) for the table, in the order shown.
FIGURES: dict[str, tuple[str, str]] = {
    "raw_events_per_s": ("raw aiokafka pass-through", "events/s"),
    "arpulse_events_per_s": ("arpulse worker", "events/s"),
    "ratio": ("ratio arpulse / raw", ""),
    "faust_consume_events_per_s": ("Faust agent that only consumes", "events/s"),
    "faust_ledger_events_per_s": ("naive Faust ledger", "events/s"),
    "consume_ratio": ("ratio arpulse / consume-only Faust agent", ""),
    "ledger_ratio": ("ratio arpulse / naive Faust ledger", ""),
    "direct_events_per_s": ("pipeline on a plain aiokafka loop", "events/s"),
    "direct_ratio": ("ratio plain loop / raw", ""),
    "logic_events_per_cpu_s": ("logic alone (pipeline in memory)", "events/CPU-s"),
    "domain_events_per_cpu_s": ("pure domain alone", "events/CPU-s"),
    **{
        f"{part}_events_per_cpu_s_{n}": (f"{label} at {n} invoices per customer", "events/CPU-s")
        for part, label in (("logic", "logic alone"), ("domain", "pure domain"))
        for n in HISTORY_SIZES
    },
    "domain_flatness": ("pure domain at 32 invoices / at the default", ""),
    "logic_ceiling_ratio": ("ceiling: logic alone / raw", ""),
    "domain_ceiling_ratio": ("ceiling: pure domain / raw", ""),
    "latency_input_rate": ("latency phase input rate", "events/s"),
    "latency_p50_ms": ("end-to-end p50", "ms"),
    "latency_p99_ms": ("end-to-end p99", "ms"),
    "latency_max_ms": ("end-to-end max", "ms"),
    "rss_idle_mb": ("RSS idle worker", "MB"),
    "rss_loaded_mb": ("RSS worker with state", "MB"),
    "kb_per_customer": ("memory per customer", "KB"),
    "mb_per_100k": ("memory per 100k customers", "MB"),
    "restart_seconds": ("restart to ready", "s"),
    "rocksdb_first_start_seconds": ("RocksDB first start to ready (whole changelog)", "s"),
    "rocksdb_restart_seconds": ("RocksDB restart to ready (changelog tail)", "s"),
    "rocksdb_rss_mb": ("RSS RocksDB worker with state", "MB"),
}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks (numpy's)."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class Spread:
    """One figure over the runs: the median and the range."""

    median: float
    min: float
    max: float
    runs: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of `values` (one per run that measured the figure)."""
        if not values:
            raise ValueError("no values")
        return cls(statistics.median(values), min(values), max(values), tuple(values))


def latency_figures(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of one run's end-to-end latencies."""
    return {
        "latency_p50_ms": percentile(latencies_ms, 50),
        "latency_p99_ms": percentile(latencies_ms, 99),
        "latency_max_ms": max(latencies_ms),
    }


def memory_figures(*, rss_loaded_mb: float, rss_idle_mb: float, customers: int) -> dict[str, float]:
    """Resident memory the customers' state costs: loaded minus idle, per customer and per 100k.

    MB and KB are binary (the kernel's VmRSS is in KiB): 1 MB = 1024 KB.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    state_mb = rss_loaded_mb - rss_idle_mb
    return {
        "kb_per_customer": state_mb * 1024 / customers,
        "mb_per_100k": state_mb * 100_000 / customers,
    }


def ratio(arpulse: float, raw: float) -> float:
    """The ratio of arpulse events/s to raw events/s (0 when the raw pass measured nothing)."""
    return arpulse / raw if raw > 0 else 0.0


# ratio figure -> (numerator, denominator): arpulse against raw, and the logic's ceilings
RATIOS: dict[str, tuple[str, str]] = {
    "ratio": ("arpulse_events_per_s", "raw_events_per_s"),
    "consume_ratio": ("arpulse_events_per_s", "faust_consume_events_per_s"),
    "ledger_ratio": ("arpulse_events_per_s", "faust_ledger_events_per_s"),
    "domain_flatness": (f"domain_events_per_cpu_s_{HISTORY_SIZES[-1]}", "domain_events_per_cpu_s"),
    "direct_ratio": ("direct_events_per_s", "raw_events_per_s"),
    "logic_ceiling_ratio": ("logic_events_per_cpu_s", "raw_events_per_s"),
    "domain_ceiling_ratio": ("domain_events_per_cpu_s", "raw_events_per_s"),
}


def ratios(figures: Mapping[str, float]) -> dict[str, float]:
    """The ratios a run's figures allow (a ceiling is the ratio if the transport cost nothing)."""
    return {
        name: ratio(figures[top], figures[bottom])
        for name, (top, bottom) in RATIOS.items()
        if top in figures and bottom in figures
    }


def summarise(runs: Sequence[Mapping[str, float]]) -> dict[str, Spread]:
    """Each figure's spread over the runs that have it."""
    found: dict[str, Spread] = {}
    for name in FIGURES:
        values = [run[name] for run in runs if name in run]
        if values:
            found[name] = Spread.of(values)
    return found


@dataclass(frozen=True, slots=True)
class Verdict:
    """One target: met or not (None: not measured), and the sentence that says so."""

    name: str
    ok: bool | None
    message: str


# name -> (figure, target, at least (True) or at most (False), how the target reads)
TARGETS: dict[str, tuple[str, float, bool, str]] = {
    "against the naive ledger": (
        "ledger_ratio",
        LEDGER_RATIO_TARGET,
        True,
        f"arpulse / naive Faust ledger >= {LEDGER_RATIO_TARGET:g}",
    ),
    "against the runtime": (
        "consume_ratio",
        CONSUME_RATIO_TARGET,
        True,
        f"arpulse / consume-only Faust agent >= {CONSUME_RATIO_TARGET:g}",
    ),
    "pure domain": (
        "domain_events_per_cpu_s",
        DOMAIN_TARGET,
        True,
        f"pure domain >= {DOMAIN_TARGET:,.0f} events per CPU-second",
    ),
    "flat in history": (
        "domain_flatness",
        DOMAIN_FLAT_TARGET,
        True,
        f"pure domain at {HISTORY_SIZES[-1]} invoices per customer >= "
        f"{DOMAIN_FLAT_TARGET:.0%} of the default size's",
    ),
    "logic": (
        "logic_events_per_cpu_s",
        LOGIC_TARGET,
        True,
        f"logic alone >= {LOGIC_TARGET:,.0f} events per CPU-second",
    ),
    "latency": (
        "latency_p99_ms",
        P99_TARGET_MS,
        False,
        f"p99 end-to-end <= {P99_TARGET_MS:g} ms at the latency phase's rate",
    ),
    "memory": (
        "kb_per_customer",
        KB_PER_CUSTOMER_TARGET,
        False,
        f"state memory <= {KB_PER_CUSTOMER_TARGET:g} KB per customer",
    ),
    "restart": (
        "restart_seconds",
        RESTART_TARGET_S,
        False,
        f"restart to ready <= {RESTART_TARGET_S:g} s",
    ),
    "rocksdb restart": (
        "rocksdb_restart_seconds",
        ROCKSDB_RESTART_TARGET_S,
        False,
        f"RocksDB restart to ready <= {ROCKSDB_RESTART_TARGET_S:g} s",
    ),
    "rocksdb memory": (
        "rocksdb_rss_mb",
        ROCKSDB_RSS_TARGET_MB,
        False,
        f"RocksDB worker resident memory <= {ROCKSDB_RSS_TARGET_MB:g} MB",
    ),
}


def verdicts(summary: Mapping[str, Spread]) -> list[Verdict]:
    """Each target judged on the median over the runs."""
    found = []
    for name, (figure, target, at_least, rule) in TARGETS.items():
        spread = summary.get(figure)
        if spread is None:
            found.append(Verdict(name, None, f"{rule}: not measured"))
            continue
        ok = spread.median >= target if at_least else spread.median <= target
        found.append(
            Verdict(
                name,
                ok,
                f"{rule}: median {_fmt(spread.median)} "
                f"(runs {_fmt(spread.min)} to {_fmt(spread.max)})",
            )
        )
    return found


@dataclass
class RunFigures:
    """What one run measured, and what went wrong in it (figures missing then)."""

    index: int
    figures: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def document(
    *,
    settings: Mapping[str, Any],
    runs: Sequence[RunFigures],
    state: Mapping[str, Any],
    elapsed_s: float,
) -> dict[str, Any]:
    """The bench.json document."""
    summary = summarise([run.figures for run in runs])
    return {
        "settings": dict(settings),
        "targets": {
            name: {"figure": figure, "target": target, "at_least": at_least, "rule": rule}
            for name, (figure, target, at_least, rule) in TARGETS.items()
        },
        "summary": {name: asdict(spread) for name, spread in summary.items()},
        "verdicts": [asdict(v) for v in verdicts(summary)],
        "state": dict(state),
        "runs": [asdict(run) for run in runs],
        "errors": [f"run {run.index}: {e}" for run in runs for e in run.errors],
        "elapsed_seconds": round(elapsed_s, 1),
    }


def _fmt(value: float) -> str:
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def render_table(summary: Mapping[str, Spread]) -> str:
    """The summary as aligned text: one row per figure, median and range."""
    rows = [("figure", "median", "min", "max", "unit")]
    for name, (label, unit) in FIGURES.items():
        spread = summary.get(name)
        if spread is not None:
            rows.append((label, _fmt(spread.median), _fmt(spread.min), _fmt(spread.max), unit))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join(
            cell.ljust(widths[i]) if i in (0, 4) else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    )


def render_verdicts(found: Sequence[Verdict]) -> str:
    """One line per target: ok, MISS or n/a."""
    mark = {True: "ok  ", False: "MISS", None: "n/a "}
    return "\n".join(f"  {mark[v.ok]} {v.name}: {v.message}" for v in found)
