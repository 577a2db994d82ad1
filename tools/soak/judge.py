"""The soak's samples and the judgements made on them (pure: no I/O, no clock).

Kept apart from the run itself so the rules can be tested on synthetic samples in milliseconds,
and so the exact rules printed in the report are the ones the code applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Memory levels off when the RSS slope of the last third of the load is at most this share of the
# first third's slope, or below the floor (allocator steps; 30 MB an hour, which a long-running
# worker could live with). The first third holds start-up and the population's first states, so
# a steady per-event growth shows up there too: a share of 25 % excused a worker that keeps every
# customer's whole history (measured: 0.83 MB/min after 3.8 at 80 events/s), 10 % does not. The
# cap keeps a steep start-up from excusing a fast leak: above it, memory never levels off.
MEMORY_SLOPE_RATIO = 0.10
MEMORY_NOISE_MB_PER_MIN = 0.5
MEMORY_CAP_MB_PER_MIN = 2.0
# The backlog (produced minus processed) keeps growing when, over the second half of the load, it
# rises by more than this share of the target rate per second and ends above this many seconds'
# worth of input.
LAG_GROWTH_SHARE = 0.01
LAG_SECONDS_OF_INPUT = 10.0

MEMORY_RULE = (
    f"RSS levels off if its least-squares slope over the last third of the load is at most "
    f"{MEMORY_SLOPE_RATIO:.0%} of the slope over the first third or at most "
    f"{MEMORY_NOISE_MB_PER_MIN:g} MB/min, and never above {MEMORY_CAP_MB_PER_MIN:g} MB/min"
)


LAG_RULE = (
    f"the backlog (produced - processed) keeps growing if its least-squares slope over the "
    f"second half of the load exceeds "
    f"{LAG_GROWTH_SHARE:.0%} of the target rate (messages/s per second) and the last load sample "
    f"is above {LAG_SECONDS_OF_INPUT:g} s of input (rate x {LAG_SECONDS_OF_INPUT:g})"
)


@dataclass(frozen=True, slots=True)
class Sample:
    """What the soak saw at one instant (counters are totals since the start)."""

    t: float  # real seconds since the simulated clock started (the load's start)
    phase: str  # "load" while producing at the target rate, "drain" after it
    business_time: str  # the simulated clock, ISO 8601
    produced: int  # messages the broker acknowledged, valid and invalid
    invalid_produced: int
    processed: int  # input messages the worker consumed (arpulse_events_consumed_total)
    lag: int  # arpulse_consumer_lag_messages, summed over the input topics
    dead_letters: int  # arpulse_dead_letters_total, summed over reasons
    rss_mb: float  # the worker's VmRSS
    cpu_percent: float  # the worker's CPU time since the previous sample, in % of one core
    wakeups: int = 0  # arpulse_wakeups_total: scheduler work that is not an input event
    processing_seconds: float = 0.0  # arpulse_event_processing_seconds_sum
    load_avg: float = 0.0  # the machine's 1-minute load average: was something else busy?
    broker_rss_mb: float = 0.0  # the broker's VmRSS (Tansu keeps every message in memory)
    broker_cpu_percent: float = 0.0  # a slow broker slows every publish the worker waits for

    @property
    def backlog(self) -> int:
        """Produced but not yet processed: what the worker still owes, wherever it waits.

        The worker's lag metric counts only what it has not fetched yet (highwater minus read
        offset); messages fetched but waiting in its stream or time-order buffers are missing
        from it. The backlog counts them too, so "keeps up" is judged on it.
        """
        return max(0, self.produced - self.processed)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One judgement: did it pass, and the sentence that says why."""

    name: str
    ok: bool
    message: str


def allowed_memory_slope(first_third: float) -> float:
    """The largest last-third RSS slope (MB/min) that still counts as levelling off."""
    relative = max(MEMORY_NOISE_MB_PER_MIN, MEMORY_SLOPE_RATIO * first_third)
    return min(MEMORY_CAP_MB_PER_MIN, relative)


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x; 0 with fewer than two distinct x values."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def load_samples(samples: Sequence[Sample]) -> list[Sample]:
    """The samples taken while producing at the target rate."""
    return [s for s in samples if s.phase == "load"]


def window(samples: Sequence[Sample], start: float, end: float) -> list[Sample]:
    """Load samples whose time lies in [start, end] as fractions of the load's duration."""
    load = load_samples(samples)
    if not load:
        return []
    span = load[-1].t
    return [s for s in load if start * span <= s.t <= end * span]


def rss_slopes(samples: Sequence[Sample]) -> tuple[float, float]:
    """RSS slopes in MB per minute over the first and the last third of the load."""
    first = [(s.t / 60, s.rss_mb) for s in window(samples, 0, 1 / 3)]
    last = [(s.t / 60, s.rss_mb) for s in window(samples, 2 / 3, 1)]
    return slope(first), slope(last)


def judge_memory(samples: Sequence[Sample]) -> Verdict:
    """Does the worker's resident memory level off? (see MEMORY_RULE)."""
    if len(window(samples, 2 / 3, 1)) < 3 or len(window(samples, 0, 1 / 3)) < 3:
        return Verdict("memory", False, "too few samples to judge memory (run longer)")
    first, last = rss_slopes(samples)
    allowed = allowed_memory_slope(first)
    figures = f"first third {first:+.2f} MB/min, last third {last:+.2f} MB/min"
    if last <= allowed:
        return Verdict("memory", True, f"memory levels off ({figures}; allowed {allowed:.2f})")
    return Verdict(
        "memory",
        False,
        f"memory does not level off ({figures}, above the allowed {allowed:.2f} MB/min): "
        f"about {last * 60:.0f} MB more per hour at this rate",
    )


def judge_lag(samples: Sequence[Sample], rate: float) -> Verdict:
    """Does the worker keep up with the rate? (see LAG_RULE)."""
    half = window(samples, 0.5, 1)
    if len(half) < 3:
        return Verdict("lag", False, "too few samples to judge lag (run longer)")
    growth = slope([(s.t, float(s.backlog)) for s in half])
    end = half[-1].backlog
    figures = (
        f"backlog slope {growth:+.1f} msg/s over the second half, {end} at the end of the load"
    )
    if growth > LAG_GROWTH_SHARE * rate and end > LAG_SECONDS_OF_INPUT * rate:
        return Verdict(
            "lag",
            False,
            f"the backlog keeps growing ({figures}): "
            f"the worker cannot keep up with {rate:g} events/s",
        )
    return Verdict("lag", True, f"the worker keeps up ({figures})")


def judge_drain(samples: Sequence[Sample]) -> Verdict:
    """After the load, the worker must have processed every message produced."""
    last = samples[-1] if samples else None
    if last is None or last.processed < last.produced:
        behind = 0 if last is None else last.produced - last.processed
        return Verdict("drain", False, f"the worker never caught up: {behind} messages unprocessed")
    return Verdict("drain", True, f"all {last.produced} messages processed")


def judge_dead_letters(invalid: int, on_topic: int) -> Verdict:
    """Every invalid message must end on the dead-letter topic, and nothing else."""
    if invalid == on_topic:
        return Verdict("dead letters", True, f"all {invalid} invalid messages dead-lettered")
    return Verdict(
        "dead letters",
        False,
        f"{invalid} invalid messages produced but {on_topic} on the dead-letter topic",
    )


def rate_between(a: Sample, b: Sample, field: str) -> float:
    """Per-second rate of a counter between two samples."""
    elapsed = b.t - a.t
    return (getattr(b, field) - getattr(a, field)) / elapsed if elapsed > 0 else 0.0


def thirds(samples: Sequence[Sample]) -> list[dict[str, float]]:
    """Per third of the load: rates, lag, RSS at its end and mean CPU (the summary table)."""
    rows: list[dict[str, float]] = []
    for n in range(3):
        part = window(samples, n / 3, (n + 1) / 3)
        if len(part) < 2:
            rows.append({})
            continue
        rows.append(
            {
                "produced_per_s": rate_between(part[0], part[-1], "produced"),
                "processed_per_s": rate_between(part[0], part[-1], "processed"),
                "lag_mean": sum(s.lag for s in part) / len(part),
                "lag_max": float(max(s.lag for s in part)),
                "backlog_mean": sum(s.backlog for s in part) / len(part),
                "backlog_max": float(max(s.backlog for s in part)),
                "wakeups_per_s": rate_between(part[0], part[-1], "wakeups"),
                "ms_per_event": _ms_per_event(part[0], part[-1]),
                "rss_mb_end": part[-1].rss_mb,
                "cpu_percent": sum(s.cpu_percent for s in part[1:]) / (len(part) - 1),
                "load_avg": sum(s.load_avg for s in part) / len(part),
                "broker_cpu_percent": sum(s.broker_cpu_percent for s in part[1:]) / (len(part) - 1),
                "broker_rss_mb_end": part[-1].broker_rss_mb,
            }
        )
    return rows


def _ms_per_event(a: Sample, b: Sample) -> float:
    """Mean processing time per input event between two samples, in milliseconds."""
    events = b.processed - a.processed
    return 1000 * (b.processing_seconds - a.processing_seconds) / events if events else 0.0


_TABLE_ROWS = (
    ("produced (events/s)", "produced_per_s", "{:.0f}"),
    ("processed (events/s)", "processed_per_s", "{:.0f}"),
    ("wake-ups (/s)", "wakeups_per_s", "{:.0f}"),
    ("processing (ms/event)", "ms_per_event", "{:.2f}"),
    ("worker lag metric, mean", "lag_mean", "{:.0f}"),
    ("worker lag metric, max", "lag_max", "{:.0f}"),
    ("backlog, mean", "backlog_mean", "{:.0f}"),
    ("backlog, max", "backlog_max", "{:.0f}"),
    ("worker RSS at end (MB)", "rss_mb_end", "{:.0f}"),
    ("worker CPU (% of a core)", "cpu_percent", "{:.0f}"),
    ("broker CPU (% of a core)", "broker_cpu_percent", "{:.0f}"),
    ("broker RSS at end (MB)", "broker_rss_mb_end", "{:.0f}"),
    ("machine load (1-min avg)", "load_avg", "{:.1f}"),
)


def render_table(rows: list[dict[str, float]]) -> str:
    """The summary table: one line per figure, one column per third of the load."""
    lines = [f"{'':<26}{'first third':>13}{'middle third':>14}{'last third':>12}"]
    for label, key, fmt in _TABLE_ROWS:
        cells = [fmt.format(row[key]) if key in row else "-" for row in rows]
        lines.append(f"{label:<26}{cells[0]:>13}{cells[1]:>14}{cells[2]:>12}")
    return "\n".join(lines)
