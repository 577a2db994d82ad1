"""`arpulse demo` (what `make run` starts): a whole collections cycle on a simulated clock.

It starts a broker and Redis (or uses ARPULSE_KAFKA_BROKER / ARPULSE_REDIS_URL), one worker on a
simulated clock, and plays a synthetic portfolio as the payment platform would emit it: each
event when the simulated clock reaches it. Half a year passes in about two minutes; the terminal
follows featured customers step by step (a pre-due reminder through to an agency referral) and
ends every simulated month with two lines on the portfolio (outstanding by aging bucket, DSO,
CEI), read from the worker's reports; the collector's page is at /ui. Everything started here
is stopped on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processor.core.clock import SimulatedClock
from processor.core.kafka_security import kafka_client_options
from processor.core.settings import load_settings, redacted_url
from processor.demo.devstack import DevStack, StackError, free_port
from processor.demo.portfolio import PortfolioEvent, bad_events, portfolio
from processor.demo.render import render, render_fact
from processor.domain.policy import AGING_BUCKETS
from processor.errors import ArpulseError
from schemas import topics


class DemoError(ArpulseError):
    """The demo's worker did not start or stopped."""


PARTITIONS = 4
RUN_DIR = Path("var/demo")
WINDOW_DAYS = 180
STARTUP_SECONDS = 12.0  # the worker joins its group before the simulated clock starts


def run_demo(*, customers: int, days_per_second: float) -> int:
    """Run the demo until Ctrl-C; returns the exit code."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    try:
        stack = DevStack(workdir=RUN_DIR / "servers").start()
    except StackError as exc:
        print(f"arpulse demo: {exc}", file=sys.stderr)
        return 1
    worker: subprocess.Popen[bytes] | None = None
    first_day = datetime.now(UTC).date() - timedelta(days=WINDOW_DAYS)  # the cycle ends today
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    anchor = datetime.now(UTC) + timedelta(seconds=STARTUP_SECONDS)
    clock = SimulatedClock(start=start, days_per_second=days_per_second, anchor=anchor)
    try:
        port = int(os.environ.get("ARPULSE_WEB_PORT") or free_port())
        shown = (("kafka", stack.kafka_bootstrap), ("redis", redacted_url(stack.redis_url)))
        for name, address in shown:
            origin = "started here" if name in stack.started else "given"
            print(f"{name:<7} {address}  ({origin})")
        worker = _start_worker(stack, port, start, anchor, days_per_second)
        _wait_ready(worker, port)
        base = f"http://127.0.0.1:{port}"
        print(
            f"\ncollector's page  {base}/ui\n"
            f"aging report      {base}/reports/aging  (CSV: ?format=csv)\n"
            f"DSO, CEI, ADD     {base}/reports/kpis\n"
            f"metrics           {base}/metrics\nworklist          {base}/worklist?limit=10\n"
            f"customer          {base}/customers/cust-00001\n"
            f"worker log        {RUN_DIR / 'worker.log'}\n"
        )
        print(
            f"Simulated clock: {start.date()} onwards, {days_per_second:g} days a second "
            f"({WINDOW_DAYS} days in about {WINDOW_DAYS / days_per_second:.0f} s). "
            "Ctrl-C stops everything.\n"
        )
        asyncio.run(
            _play(stack.kafka_bootstrap, clock, start=start, customers=customers, base=base)
        )
    except KeyboardInterrupt:
        print("\nstopping...")
    except ArpulseError as exc:  # a server or the worker failed: the message says which
        print(f"arpulse demo: {exc}", file=sys.stderr)
        return 1
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        stack.stop()
    return 0


def _start_worker(
    stack: DevStack, port: int, start: datetime, anchor: datetime, days_per_second: float
) -> subprocess.Popen[bytes]:
    app_id = os.environ.get("ARPULSE_APP_ID") or f"arpulse-demo-{int(time.time())}"
    env = {
        **os.environ,
        "ARPULSE_KAFKA_BROKER": stack.kafka_bootstrap,
        "ARPULSE_REDIS_URL": stack.redis_url,
        "ARPULSE_APP_ID": app_id,
        "ARPULSE_REDIS_PREFIX": os.environ.get("ARPULSE_REDIS_PREFIX", app_id),
        "ARPULSE_PARTITIONS": str(PARTITIONS),
        "ARPULSE_WEB_PORT": str(port),
        "ARPULSE_DATA_DIR": str(RUN_DIR / "worker-data"),
        "ARPULSE_SESSION_TIMEOUT_SECONDS": "6",
        "ARPULSE_HEARTBEAT_INTERVAL_SECONDS": "1",
        "ARPULSE_CLOCK": "simulated",
        "ARPULSE_SIMULATED_START": start.isoformat(),
        "ARPULSE_SIMULATED_DAYS_PER_SECOND": str(days_per_second),
        "ARPULSE_SIMULATED_ANCHOR": anchor.isoformat(),
        "ARPULSE_SCHEDULER_INTERVAL_MS": "50",
    }
    log = (RUN_DIR / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "processor.cli", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return process


def _wait_ready(worker: subprocess.Popen[bytes], port: int, timeout: float = 90.0) -> None:
    print("starting the worker ", end="", flush=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            tail = (RUN_DIR / "worker.log").read_text(errors="replace").splitlines()[-20:]
            raise DemoError("the worker exited:\n" + "\n".join(tail))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    print(" ready")
                    return
        except OSError:
            pass
        print(".", end="", flush=True)
        time.sleep(0.5)
    raise DemoError(f"the worker was not ready after {timeout:.0f}s; see {RUN_DIR / 'worker.log'}")


def _featured(events: list[PortfolioEvent]) -> set[str]:
    """Customers worth following line by line.

    A disputed invoice paused, a promise to pay, a bounced payment reopening its invoice, and a
    habitually late and a delinquent payer.
    """
    chosen: dict[str, str] = {}
    for event in events:
        kind = event.value["event_type"]
        if kind in ("dispute.opened", "promise_to_pay.made", "payment.reversed"):
            chosen.setdefault(kind, event.key)
    taken = set(chosen.values())
    for event in events:
        if event.profile in ("delinquent", "habitually_late") and event.key not in taken:
            chosen.setdefault(event.profile, event.key)
    return set(chosen.values())


async def _play(
    bootstrap: str, clock: SimulatedClock, *, start: datetime, customers: int, base: str
) -> None:
    window_end = start + timedelta(days=WINDOW_DAYS)
    events = list(portfolio(customers=customers, today=window_end.date(), invoices=6))
    featured = _featured(events)
    print("Following " + " and ".join(sorted(featured)) + " line by line.\n")
    # Connected as the worker is (ARPULSE_KAFKA_SECURITY_PROTOCOL and the rest, when given).
    security = kafka_client_options(load_settings(kafka_broker=bootstrap))
    producer = AIOKafkaProducer(**security, linger_ms=5)
    consumer = AIOKafkaConsumer(**security, fetch_max_wait_ms=50)
    await producer.start()
    await consumer.start()
    counts: Counter[str] = Counter()
    try:
        partitions = [TopicPartition(t, p) for t in topics.OUTPUT_TOPICS for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        watcher = asyncio.create_task(_watch(consumer, counts, featured, clock, base))
        try:
            for topic, key, raw in bad_events():
                await producer.send(topic, key=None if key is None else key.encode(), value=raw)
            await _feed(producer, events, clock, counts, featured)
            remaining = clock.real_seconds_until(window_end)
            if remaining > 0:
                await asyncio.sleep(remaining)
            _summary(counts, base, clock)
            print("\nThe worker keeps running (HTTP above); Ctrl-C stops everything.")
            await asyncio.Event().wait()
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    finally:
        await producer.stop()
        await consumer.stop()


async def _feed(
    producer: AIOKafkaProducer,
    events: list[PortfolioEvent],
    clock: SimulatedClock,
    counts: Counter[str],
    featured: set[str],
) -> None:
    """Send each event when the simulated clock reaches it, as the platform would.

    The followed customers' disputes, promises, reversals and the like are shown as they happen.
    """
    color = sys.stdout.isatty()
    for event in events:
        moment = datetime.fromisoformat(event.value["occurred_at"])
        wait = clock.real_seconds_until(moment)
        if wait > 0:
            await asyncio.sleep(wait)
        line = render_fact(event.value, color=color) if event.key in featured else None
        if line:
            print(f"{event.value['occurred_at'][:10]}  {line}", flush=True)
        await producer.send(
            event.topic, key=event.key.encode(), value=json.dumps(event.value).encode()
        )
        counts["events fed"] += 1
    await producer.flush()


def _summary(counts: Counter[str], base: str, clock: SimulatedClock) -> None:
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"--- up to {clock.now().date()}: {shown}   (worklist: {base}/worklist?limit=10)")


def _tally(event: dict[str, Any]) -> str:
    """The summary count an output event adds to."""
    kind = event.get("event_type", "?")
    if kind == "collection.action_requested":
        return str(event["action"])
    if kind == "commitment.status_changed":
        return f"{event['kind']} {event['status']}"
    return {
        "collection.action_withdrawn": "withdrawn",
        "late_payment.flagged": "late flags",
        "dead_letter": "dead letters",
    }.get(kind, "segment changes")


async def _watch(
    consumer: AIOKafkaConsumer,
    counts: Counter[str],
    featured: set[str],
    clock: SimulatedClock,
    base: str,
) -> None:
    color = sys.stdout.isatty()
    month = clock.now().date().replace(day=1)
    while True:
        batch = await consumer.getmany(timeout_ms=200)
        for records in batch.values():
            for record in records:
                event: dict[str, Any] = json.loads(record.value)
                kind = event.get("event_type", "?")
                counts[_tally(event)] += 1
                if event.get("customer_id") in featured or kind == "dead_letter":
                    line = render(event, color=color, all_segments=True)
                    if line:
                        stamp = str(event.get("occurred_at", ""))[:10]
                        print(f"{stamp}  {line}", flush=True)
        now_month = clock.now().date().replace(day=1)
        if now_month != month:  # the month just ended, in two lines
            for line in await asyncio.to_thread(month_summary, base, now_month - timedelta(days=1)):
                print(line, flush=True)
        month = now_month


def month_summary(base: str, day: date) -> list[str]:
    """Two lines on the portfolio at the end of `day`: outstanding by bucket, DSO and CEI.

    For its largest currency (the others are in the reports); read from the worker's HTTP
    reports, as any service would.
    """
    try:
        aging = _get_json(f"{base}/reports/aging?as_of={day}")
        kpis = _get_json(f"{base}/reports/kpis?as_of={day}")
    except (OSError, ValueError) as exc:
        return [f"=== {day:%Y-%m}: the reports could not be read ({exc})"]
    rows: dict[str, dict[str, str]] = aging.get("portfolio") or {}
    if not rows:
        return [f"=== {day:%Y-%m}: nothing owed yet"]
    currency = max(rows, key=lambda c: Decimal(rows[c]["total"]))
    row, figures = rows[currency], kpis["portfolio"][currency]
    buckets = "  ".join(f"{b} {_short(row[b])}" for b in AGING_BUCKETS)
    others = sorted(set(rows) - {currency})
    more = f"   (also {', '.join(others)}: {base}/reports/aging)" if others else ""
    return [
        f"=== {day:%Y-%m} outstanding {currency} {_short(row['total'])}: {buckets}{more}",
        f"    DSO {figures['dso_countback'] or '-'} days (countback), "
        f"{figures['dso_simple'] or '-'} (simple); CEI {figures['cei_percent'] or '-'} %; "
        f"ADD {figures['add'] or '-'} days; over 90 days "
        f"{_percent(figures['over_90_share'])} of receivables",
    ]


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(json.loads(response.read()))


def _short(amount: str) -> str:
    """An amount in thousands, for a summary line (12,345.67 -> 12.3k)."""
    value = Decimal(amount)
    return f"{value / 1000:,.1f}k" if abs(value) >= 1000 else f"{value:,.0f}"


def _percent(share: str | None) -> str:
    return "-" if share is None else f"{Decimal(share) * 100:.1f} %"
