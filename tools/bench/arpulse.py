"""The bench's worker phases: a backlog, a fixed load, and a restart with many customers.

Each worker is a real `arpulse worker` process (tools/soak/worker.py), configured only through
ARPULSE_* variables and watched only through /healthz, /metrics and /proc, with its own app id,
topic names (`App.topic`) and log under OUT/workers/NAME/.

The clock: a backlog holds events from the past, and the worker decides an event at its business
time (`occurred_at`) as long as its clock has passed it. During the backlog the clock stands still
just after the backlog's last event (a simulated clock whose start is its end), so every event is
decided at its own instant and the scheduler only has the time between a customer's last event
and that instant to wake. For the fixed load the clock runs on from there at the pace of the
feed; for the restart it stands still at the end of the seeded states' history, where nothing is
due (each stored state's next wake-up is later).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from processor.core.clock import SimulatedClock
from processor.core.ports import partition_for
from processor.core.settings import load_settings
from processor.runtime.topics import ensure_topics
from processor.serving.keys import Keys
from schemas import topics
from tools.bench import kafka
from tools.soak.mix import EventMix
from tools.soak.worker import RunAborted, Scrape, SoakWorker

POLL_S = 0.2  # how often /metrics is read while a backlog drains
STALL_S = 120.0  # no progress for this long: the worker is stuck
FIRST_EVENT_TIMEOUT_S = 180.0  # from start-up to the first consumed event
DRAIN_TIMEOUT_S = 90.0
SETTLE_S = 5.0  # after ready, before resident memory is read
FEED_LEAD_S = 20.0  # the fixed load's clock starts this long after the worker is launched
READY_TIMEOUT_S = 300.0  # a restart with many customers may take a while (the target is 30 s)
_TOPIC_VARIABLES = {
    "ARPULSE_TOPIC_INVOICE_ISSUED": topics.INVOICE_ISSUED,
    "ARPULSE_TOPIC_PAYMENT_RECEIVED": topics.PAYMENT_RECEIVED,
    "ARPULSE_TOPIC_DUE_DATE_PASSED": topics.DUE_DATE_PASSED,
    "ARPULSE_TOPIC_INVOICE_ADJUSTMENTS": topics.INVOICE_ADJUSTMENTS,
    "ARPULSE_TOPIC_COLLECTION_UPDATES": topics.COLLECTION_UPDATES,
    "ARPULSE_TOPIC_CUSTOMER_PROFILES": topics.CUSTOMER_PROFILES,
    "ARPULSE_TOPIC_LATE_PAYMENT_FLAGS": topics.LATE_PAYMENT_FLAGS,
    "ARPULSE_TOPIC_CUSTOMER_SEGMENTS": topics.CUSTOMER_SEGMENTS,
    "ARPULSE_TOPIC_COLLECTION_ACTIONS": topics.COLLECTION_ACTIONS,
    "ARPULSE_TOPIC_DEAD_LETTER": topics.DEAD_LETTER,
}


@dataclass(frozen=True, slots=True)
class App:
    """One arpulse deployment on the bench's broker: its app id and topic names."""

    app_id: str
    partitions: int

    def topic(self, default: str) -> str:
        """The app's name for a contract topic (the default name, prefixed by the app id)."""
        return f"{self.app_id}.{default}"

    @property
    def inputs(self) -> frozenset[str]:
        """The input topics."""
        return frozenset(self.topic(t) for t in topics.INPUT_TOPICS)

    @property
    def changelog(self) -> str:
        """The customer table's changelog (the worker's `<app_id>-customers-changelog`)."""
        return f"{self.app_id}-customers-changelog"

    def env(
        self,
        *,
        start: datetime,
        days_per_second: float = 1.0,
        anchor: datetime | None = None,
        frozen: bool = False,
    ) -> dict[str, str]:
        """The worker's ARPULSE_* settings: this app, on a simulated clock from `start`."""
        env = {
            "ARPULSE_APP_ID": self.app_id,
            "ARPULSE_REDIS_PREFIX": self.app_id,
            "ARPULSE_PARTITIONS": str(self.partitions),
            "ARPULSE_SESSION_TIMEOUT_SECONDS": "6",
            "ARPULSE_HEARTBEAT_INTERVAL_SECONDS": "1",
            "ARPULSE_CLOCK": "simulated",
            "ARPULSE_SIMULATED_START": start.isoformat(),
            "ARPULSE_SIMULATED_DAYS_PER_SECOND": f"{days_per_second:.9g}",
            **{name: self.topic(default) for name, default in _TOPIC_VARIABLES.items()},
        }
        if anchor is not None:
            env["ARPULSE_SIMULATED_ANCHOR"] = anchor.isoformat()
        if frozen:
            env["ARPULSE_SIMULATED_END"] = start.isoformat()
        return env

    async def create_topics(self, bootstrap: str) -> None:
        """Every topic the worker uses, with the right partition count, as the worker would."""
        settings = load_settings(
            kafka_broker=bootstrap,
            app_id=self.app_id,
            partitions=self.partitions,
            **{
                name.removeprefix("ARPULSE_").lower(): self.topic(default)
                for name, default in _TOPIC_VARIABLES.items()
            },
        )
        await ensure_topics(settings)


@dataclass
class Workers:
    """Starts workers under OUT/workers/NAME and stops every one of them, whatever happens."""

    kafka: str
    redis_url: str
    root: Path
    running: list[SoakWorker] = field(default_factory=list)
    # ARPULSE_* settings every worker gets on top of its own (the bench's --worker-setting)
    overrides: dict[str, str] = field(default_factory=dict)

    def start(self, name: str, env: dict[str, str]) -> SoakWorker:
        """Launch one worker."""
        workdir = self.root / name
        workdir.mkdir(parents=True, exist_ok=True)
        worker = SoakWorker(
            kafka=self.kafka, redis_url=self.redis_url, workdir=workdir, env=self.env_for(env)
        )
        self.running.append(worker)
        return worker.start()

    def env_for(self, env: dict[str, str]) -> dict[str, str]:
        """A worker's own settings with the bench's overrides on top."""
        return {**env, **self.overrides}

    def stop(self, worker: SoakWorker) -> int | None:
        """SIGTERM (SIGKILL after a while); its exit code."""
        if worker in self.running:
            self.running.remove(worker)
        return worker.stop()

    def stop_all(self) -> None:
        """Stop every worker still running."""
        while self.running:
            self.stop(self.running[-1])


@dataclass(frozen=True, slots=True)
class Drained:
    """A worker going through a backlog: from its first consumed event to the last."""

    events: int  # consumed between the two instants (the first poll's count is excluded)
    seconds: float
    startup_seconds: float  # from launch to the first consumed event (not measured)
    wakeups: int
    dead_letters: int

    @property
    def events_per_s(self) -> float:
        """Throughput."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def _scrape(worker: SoakWorker, inputs: frozenset[str]) -> Scrape | None:
    worker.check_alive()
    try:
        return worker.scrape(inputs)
    except OSError:  # not listening yet, or busy
        return None


def drain(worker: SoakWorker, inputs: frozenset[str], count: int) -> Drained:
    """Poll /metrics until the worker has consumed `count` input events."""
    launched = time.perf_counter()
    first: tuple[float, int] | None = None
    progress = (launched, 0)
    while True:
        scrape = _scrape(worker, inputs)
        now = time.perf_counter()
        if scrape is not None and scrape.processed > progress[1]:
            progress = (now, scrape.processed)
            if first is None:
                first = progress
        if scrape is not None and first is not None and scrape.processed >= count:
            seconds = now - first[0]
            events = scrape.processed - first[1]
            if events <= 0:  # everything arrived between two polls: count from launch
                seconds, events = now - launched, scrape.processed
            return Drained(
                events=events,
                seconds=seconds,
                startup_seconds=first[0] - launched,
                wakeups=scrape.wakeups,
                dead_letters=scrape.dead_letters,
            )
        if first is None and now - launched > FIRST_EVENT_TIMEOUT_S:
            raise RunAborted(f"the worker consumed nothing in {FIRST_EVENT_TIMEOUT_S:.0f}s")
        if first is not None and now - progress[0] > STALL_S:
            raise RunAborted(
                f"the worker stalled at {progress[1]} of {count} events for {STALL_S:.0f}s"
            )
        time.sleep(POLL_S)


def settle_wakeups(worker: SoakWorker, inputs: frozenset[str], quiet_s: float = 3.0) -> None:
    """Wait (at most DRAIN_TIMEOUT_S) until wake-ups stop for `quiet_s`: the backlog's tail."""
    until = time.monotonic() + DRAIN_TIMEOUT_S
    last, since = -1, time.monotonic()
    while time.monotonic() < until:
        scrape = _scrape(worker, inputs)
        if scrape is not None and scrape.wakeups != last:
            last, since = scrape.wakeups, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.5)


@dataclass(frozen=True, slots=True)
class Latency:
    """The fixed load: what was sent, and each action's produce-to-publish time."""

    input_rate: float
    sent: int
    latencies_ms: list[float]
    actions: int  # every action the worker published during the load (clock-caused too)
    flags_ms: list[float]
    # wake-up messages the worker handled meanwhile: the clock runs `rate / per_day` business
    # days a second, so a day's wake-ups (ladder steps, aging boundaries) come every few seconds
    wakeups: int = 0


def fixed_load(
    workers: Workers,
    *,
    name: str,
    app: App,
    mix: EventMix,
    per_day: float,
    rate: float,
    seconds: float,
    start: datetime,
) -> Latency:
    """Restart the app's worker on a clock running from `start`; feed it `rate` events a second.

    The clock runs at `rate / per_day` business days a second, so the mix's events fall due at
    about `rate` a second; the feed sends them evenly at that rate, none before its time.
    """
    anchor = datetime.now(start.tzinfo) + timedelta(seconds=FEED_LEAD_S)
    days_per_second = rate / per_day
    worker = workers.start(
        name, app.env(start=start, days_per_second=days_per_second, anchor=anchor)
    )
    scrape: Scrape | None = None
    try:
        worker.wait_ready()
        time.sleep(max(0.0, anchor.timestamp() - time.time()))
        clock = SimulatedClock(start=start, days_per_second=days_per_second, anchor=anchor)
        events = [mix.next_event() for _ in range(math.ceil(rate * seconds) + 1)]
        sent = asyncio.run(
            kafka.feed(
                workers.kafka,
                events,
                topic_of=app.topic,
                rate=rate,
                seconds=seconds,
                clock=clock,
            )
        )
        _wait_processed(worker, app.inputs, sent.sent)
        scrape = _scrape(worker, app.inputs)
    finally:
        workers.stop(worker)
    actions = asyncio.run(
        kafka.read_topic(workers.kafka, app.topic(topics.COLLECTION_ACTIONS), app.partitions)
    )
    flags = asyncio.run(
        kafka.read_topic(workers.kafka, app.topic(topics.LATE_PAYMENT_FLAGS), app.partitions)
    )
    return Latency(
        input_rate=sent.rate,
        sent=sent.sent,
        latencies_ms=list(_caused(actions, sent.sent_at_ms)),
        actions=sum(ts >= min(sent.sent_at_ms.values(), default=0) for ts, _ in actions),
        flags_ms=list(_caused(flags, sent.sent_at_ms)),
        wakeups=scrape.wakeups if scrape is not None else 0,
    )


def _caused(records: list[tuple[int, bytes]], sent_at_ms: dict[str, int]) -> Iterator[float]:
    """Publish time minus the causing event's produce time, for records caused by a sent event."""
    for timestamp, value in records:
        cause = json.loads(value).get("caused_by")
        if cause in sent_at_ms:
            yield float(timestamp - sent_at_ms[cause])


def _wait_processed(worker: SoakWorker, inputs: frozenset[str], count: int) -> None:
    """Until the worker consumed `count` input events and has no lag (or DRAIN_TIMEOUT_S)."""
    until = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < until:
        scrape = _scrape(worker, inputs)
        if scrape is not None and scrape.processed >= count and scrape.lag == 0:
            return
        time.sleep(POLL_S)
    raise RunAborted(f"the worker did not process the fixed load's {count} events in time")


def seed_changelog(bootstrap: str, app: App, states: Iterator[tuple[str, bytes]]) -> dict[str, Any]:
    """Write customer states straight into the app's changelog, each on its key's partition."""
    asyncio.run(app.create_topics(bootstrap))
    sizes: list[int] = []

    def records() -> Iterator[tuple[str, bytes, bytes, int | None]]:
        for customer_id, value in states:
            key = customer_id.encode()
            sizes.append(len(value))
            yield app.changelog, key, value, partition_for(key, app.partitions)

    seconds = asyncio.run(kafka.produce_all(bootstrap, records()))
    return {
        "customers": len(sizes),
        "mean_state_bytes": sum(sizes) / max(1, len(sizes)),
        "seed_seconds": seconds,
    }


def mark_read_model_whole(redis_url: str, app: App) -> None:
    """Say the seeded app's read model holds every partition.

    Its workers then measure a restart, not a rewrite of every customer into Redis
    (`processor.runtime.read_model_heal`).
    """
    client = redis.Redis.from_url(redis_url)
    try:
        keys = Keys(app.app_id)
        client.hset(keys.projected, mapping=dict.fromkeys(map(str, range(app.partitions)), "1"))
    finally:
        client.close()


def resident_mb(worker: SoakWorker) -> float:
    """The worker's VmRSS after SETTLE_S (start-up and recovery done)."""
    time.sleep(SETTLE_S)
    worker.check_alive()
    assert worker.stats is not None
    return worker.stats.rss_mb()


def ready_timeout(customers: int) -> float:
    """How long a worker recovering `customers` may take to be ready before the bench gives up.

    The memory store replays the whole changelog: minutes for a million customers.
    """
    return READY_TIMEOUT_S + customers / 1000


def start_and_measure(
    workers: Workers,
    name: str,
    env: dict[str, str],
    timeout: float = READY_TIMEOUT_S,
    *,
    settled_s: float = 0.0,
) -> dict[str, Any]:
    """Launch a worker, time it to ready, read its resident memory, stop it.

    `settled_s`: read it again that long after ready too (once it has also indexed every stored
    customer's wake-up, which follows readiness), and keep the larger.
    """
    worker = workers.start(name, env)
    try:
        ready = worker.wait_ready(timeout)
        rss = resident_mb(worker)
        if settled_s > SETTLE_S:
            time.sleep(settled_s - SETTLE_S)
            worker.check_alive()
            assert worker.stats is not None
            rss = max(rss, worker.stats.rss_mb())
        return {"ready_seconds": ready, "rss_mb": rss}
    finally:
        workers.stop(worker)
