"""Where a worker's time goes on a backlog: py-spy over `arpulse worker`, summed by part.

    python -m tools.profile [--customers 500] [--invoices 8] [--seconds 20] [--out DIR]

Why: `make bench` says how fast the worker is, not why. This starts its own broker and Redis,
produces the bench's event mix as a backlog (tools/bench/load.py), starts one worker on it, and
records it with py-spy (`pip install py-spy`; it samples the process from outside, so the worker
runs unmodified) while it drains. It prints the events per CPU-second of the worker (CPU time,
not wall time: steadier on a busy machine than events/s) and the share of samples per part of the
worker, each sample going to the innermost frame that belongs to a known part (`PARTS`): the
domain, the state codec, Faust's consumer, the producer, Redis, and so on. `idle` is the event
loop waiting in select(). docs/performance.md has the figures this gave before and after each
change. The raw samples stay in OUT/profile.txt (py-spy's collapsed stacks) for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from processor.demo.devstack import DevStack
from tools.bench import arpulse, kafka, load

# (part, pattern of a py-spy frame "function (file:line)"), innermost match wins, first pattern
# first: `idle` before everything, the domain before the pipeline that calls it.
PARTS: tuple[tuple[str, str], ...] = (
    ("idle", r"EpollSelector\.select"),
    ("domain", r"processor/domain/"),
    ("validation", r"schemas/validation|schemas/events"),
    ("state codec", r"processor/core/state_codec|processor/core/state_cache"),
    ("snapshot view", r"processor/core/snapshot"),
    ("output serialization", r"processor/core/translate"),
    ("metrics", r"prometheus_client"),
    ("redis projection", r"redis/|processor/serving/"),
    ("faust table", r"faust/tables|mode/utils/collections"),
    ("producer", r"aiokafka/producer|faust/transport/producer|FaustOutbox|_deliver"),
    (
        "consumer and network",
        r"aiokafka/consumer|faust/transport/consumer|faust/transport/conductor"
        r"|drivers/aiokafka|aiokafka/conn|aiokafka/client",
    ),
    ("faust stream and agent", r"faust/streams|faust/agents|faust/channels|faust/topics"),
    ("http", r"aiohttp|faust/web|processor/runtime/web_server"),
    ("time-order buffer", r"processor/core/ordering"),
    ("pipeline", r"processor/core/|processor/runtime/"),
)


def categorize(lines: Iterable[str]) -> Counter[str]:
    """Samples per part, from py-spy's raw output ("frame;frame;...;frame COUNT" per line)."""
    compiled = [(name, re.compile(pattern)) for name, pattern in PARTS]
    totals: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        part = "other"
        for frame in reversed(stack.split(";")):
            hit = next((name for name, pattern in compiled if pattern.search(frame)), None)
            if hit is not None:
                part = hit
                break
        totals[part] += int(count)
    return totals


def shares(totals: Counter[str]) -> list[tuple[str, float]]:
    """Each part's share of all samples, in %, largest first."""
    whole = sum(totals.values()) or 1
    return [(part, 100 * n / whole) for part, n in totals.most_common()]


def mean_batch(metrics_text: str) -> float:
    """Mean messages per batch, from the worker's `arpulse_batch_events` histogram."""
    total = count = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("arpulse_batch_events_sum "):
            total = float(line.split()[1])
        elif line.startswith("arpulse_batch_events_count "):
            count = float(line.split()[1])
    return total / count if count else 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace) -> int:
    """Backlog, worker, py-spy; print the figures."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("profile: py-spy not found; install it: pip install py-spy", file=sys.stderr)
        return 2
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    stack = DevStack(workdir=out / "servers").start()
    workers = arpulse.Workers(kafka=stack.kafka_bootstrap, redis_url=stack.redis_url, root=out)
    try:
        mix = load.portfolio_mix(args.customers, 7)
        events = load.take(mix, load.backlog_size(args.customers, args.invoices))
        app = arpulse.App("profile", 4)
        asyncio.run(app.create_topics(stack.kafka_bootstrap))
        records = kafka.backlog_records(events, app.topic)
        asyncio.run(kafka.produce_all(stack.kafka_bootstrap, records))
        clock_at = events[-1].at.replace(microsecond=0)
        worker = workers.start("worker", app.env(start=clock_at, frozen=True))
        assert worker.process is not None
        worker.wait_ready()
        before = _cpu_seconds(worker.process.pid)
        record = [spy, "record", "-r", "200", "-f", "raw", "-o", str(out / "profile.txt")]
        record += ["-d", str(args.seconds), "-p", str(worker.process.pid)]
        spying = subprocess.Popen(record, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        drained = arpulse.drain(worker, app.inputs, len(events))
        cpu = _cpu_seconds(worker.process.pid) - before
        batch = mean_batch(worker._get("/metrics")[1])
        spying.wait()
    finally:
        workers.stop_all()
        stack.stop()
    print(f"{len(events)} events, {drained.events_per_s:,.0f} events/s wall")
    print(f"worker CPU {cpu:.1f} s: {len(events) / cpu:,.0f} events per CPU-second")
    print(f"mean batch: {batch:.1f} messages")
    for part, share in shares(categorize((out / "profile.txt").read_text().splitlines())):
        print(f"{share:5.1f} %  {part}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.profile", description=__doc__)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--invoices", type=int, default=8, help="invoices per customer")
    parser.add_argument("--seconds", type=int, default=20, help="how long py-spy records")
    parser.add_argument("--out", default="build/profile")
    started = time.monotonic()
    code = run(parser.parse_args(argv))
    print(f"({time.monotonic() - started:.0f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
