"""One drain round of a partition: released events first, then wake-ups, and those only if the
partition is still caught up.

A wake-up is checked against the scheduler's gate when the wake agent receives it, but inputs can
arrive before the drain loop decides it. Deciding it ahead of them acts on a state that misses
them: after a crash, an invoice was flagged late by the clock before its own due-date notice.
The worker here is a stand-in with just what `_drain` touches; the pipeline records the order
of its calls.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from processor.core.metrics import build_metrics
from processor.core.settings import Settings
from processor.runtime.faust_app import _drain

PARTITION = 2


def message(topic: str, offset: int, key: bytes) -> SimpleNamespace:
    return SimpleNamespace(
        topic=topic,
        partition=PARTITION,
        offset=offset,
        key=key,
        value=b"{}",
        headers=None,
        timestamp=None,
    )


class Event:
    """A consumed event (Faust's current-event context holds it by weak reference)."""

    def __init__(self, topic: str, offset: int, key: bytes) -> None:
        self.message = message(topic, offset, key)


def event(topic: str, offset: int, key: bytes) -> Event:
    return Event(topic, offset, key)


@dataclass
class Recorder:
    """The pipeline: records what it was asked to decide, in order."""

    calls: list[tuple[str, list[int]]] = field(default_factory=list)

    async def process_batch(self, inbound: list[Any], may_store: Any) -> list[str]:
        self.calls.append(("events", [m.offset for m in inbound]))
        return ["applied"] * len(inbound)

    async def wake_batch(self, inbound: list[Any], may_store: Any) -> list[str]:
        self.calls.append(("wake-ups", [m.offset for m in inbound]))
        return ["woke"] * len(inbound)


@dataclass
class Buffer:
    """The time-order buffer: hands over what was queued, once."""

    queued: list[Any]

    def release(self, partition: int) -> list[Any]:
        released, self.queued = self.queued, []
        return [SimpleNamespace(payload=e) for e in released]

    def drop(self, partition: int) -> None:
        self.queued = []


class StandInWorker:
    """What `_drain` uses of the worker; `highwater` is the input offset the broker has reached."""

    def __init__(self, buffered: list[Any], wakeups: list[Any], highwater: int) -> None:
        self.settings = Settings()
        self.registry = CollectorRegistry()
        self.metrics = build_metrics(self.registry)
        self.processor = Recorder()
        self.ordering = Buffer(buffered)
        self.wakeups = {PARTITION: wakeups}
        self.processed: dict[tuple[str, int], int] = {}
        self.acknowledge = None
        self.highwater = highwater
        self.requeued: list[bytes] = []
        self._lock = asyncio.Lock()

    def drain_lock(self, partition: int) -> asyncio.Lock:
        return self._lock

    def owns(self, partition: int) -> bool:
        return True

    def may_wake(self, partition: int) -> bool:
        done = self.processed.get(("invoice.due_date_passed", partition), -1) + 1
        return done >= self.highwater

    def requeue(self, partition: int, key: bytes) -> None:
        self.requeued.append(key)


def deferred(worker: StandInWorker) -> float | None:
    return worker.registry.get_sample_value("arpulse_wakeups_total", {"outcome": "deferred"})


async def test_a_wake_up_is_decided_after_the_events_released_in_the_same_round() -> None:
    notices = [event("invoice.due_date_passed", n, b"cust-1") for n in range(3)]
    wake = event("arpulse.wakeups", 40, b"cust-1")
    worker = StandInWorker(notices, [wake], highwater=3)

    assert await _drain(worker, PARTITION) is True  # type: ignore[arg-type]

    assert worker.processor.calls == [("events", [0, 1, 2]), ("wake-ups", [40])]
    assert worker.requeued == []
    assert worker.wakeups == {}


async def test_a_wake_up_waits_when_the_broker_has_inputs_beyond_this_round() -> None:
    notices = [event("invoice.due_date_passed", n, b"cust-1") for n in range(3)]
    wakes = [event("arpulse.wakeups", 40, b"cust-1"), event("arpulse.wakeups", 41, b"cust-2")]
    worker = StandInWorker(notices, wakes, highwater=5)  # offsets 3 and 4 are still on the way

    assert await _drain(worker, PARTITION) is True  # type: ignore[arg-type]

    assert worker.processor.calls == [("events", [0, 1, 2])]
    assert worker.requeued == [b"cust-1", b"cust-2"]  # back in the index, decided once caught up
    assert deferred(worker) == 2
    assert worker.wakeups == {}
