"""The drain loop's rounds: released events first, then wake-ups (only if the partition is still
caught up); and backlog rounds spaced out only while the broker holds a backlog.

A wake-up decided ahead of inputs that arrived before it acts on a state that misses them: after a
crash, an invoice was flagged late by the clock before its own due-date notice. The worker here is
a stand-in with what `drain_partition` and `linger` touch; the pipeline records its calls.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from processor.core.metrics import build_metrics
from processor.core.settings import Settings
from processor.runtime.drain import _mark_processed, drain_partition, linger
from processor.runtime.inbox import Inbox

PARTITION = 2
SETTINGS = Settings()
NOTICES = "invoice.due_date_passed"


class Event:
    """A consumed event (Faust's current-event context holds it by weak reference)."""

    def __init__(self, topic: str, offset: int, key: bytes) -> None:
        self.message = SimpleNamespace(
            topic=topic,
            partition=PARTITION,
            offset=offset,
            key=key,
            value=b"{}",
            headers=None,
            timestamp=None,
        )


@dataclass
class Recorder:
    """The pipeline: records what it was asked to decide, in order (wake-ups by their topic)."""

    calls: list[tuple[str, list[int]]] = field(default_factory=list)

    async def process_batch(self, inbound: list[Any], may_store: Any) -> list[str]:
        kind = "wake-ups" if inbound[0].topic == SETTINGS.wake_topic else "events"
        self.calls.append((kind, [m.offset for m in inbound]))
        return ["applied"] * len(inbound)


@dataclass
class Buffer:
    """The time-order buffer: hands over what was queued, once."""

    queued: list[Any]

    def release(self, partition: int) -> list[Any]:
        released, self.queued = self.queued, []
        return [
            SimpleNamespace(
                payload=e,
                topic=e.message.topic,
                partition=e.message.partition,
                offset=e.message.offset,
            )
            for e in released
        ]

    def lowest(self, partition: int, topic: str) -> int | None:
        waiting = [e.message.offset for e in self.queued if e.message.topic == topic]
        return min(waiting, default=None)

    def drop(self, partition: int) -> None:
        self.queued = []

    def waiting(self) -> list[int]:
        return [PARTITION] if self.queued else []


class StandInWorker:
    """What `drain_partition` uses; `highwater` is the input offset the broker has reached."""

    def __init__(self, buffered: list[Event], wakeups: list[Event], highwater: int) -> None:
        self.settings = SETTINGS
        self.registry = CollectorRegistry()
        self.metrics = build_metrics(self.registry)
        self.processor = Recorder()
        self.inbox = Inbox(ordering=Buffer(buffered))  # type: ignore[arg-type]
        for wake in wakeups:
            self.inbox.queue_wakeup(PARTITION, wake)
        self.offsets = SimpleNamespace(processed={}, delivered={})
        self.highwater = highwater
        self.requeued: list[bytes] = []

    def owns(self, partition: int) -> bool:
        return True

    def may_wake(self, partition: int) -> bool:
        done = self.offsets.processed.get((NOTICES, partition), -1) + 1
        return bool(done >= self.highwater)

    def requeue(self, partition: int, key: bytes) -> None:
        self.requeued.append(key)


def deferred(worker: StandInWorker) -> float | None:
    return worker.registry.get_sample_value("arpulse_wakeups_total", {"outcome": "deferred"})


def drain(worker: StandInWorker) -> bool:
    return asyncio.run(drain_partition(worker, PARTITION))  # type: ignore[arg-type]


def test_a_wake_up_is_decided_after_the_events_released_in_the_same_round() -> None:
    notices = [Event(NOTICES, n, b"cust-1") for n in range(3)]
    wake = Event(SETTINGS.wake_topic, 40, b"cust-1")
    worker = StandInWorker(notices, [wake], highwater=3)

    assert drain(worker) is True

    assert worker.processor.calls == [("events", [0, 1, 2]), ("wake-ups", [40])]
    assert worker.requeued == []
    assert worker.inbox.wakeups == {}


def test_a_wake_up_waits_when_the_broker_has_inputs_beyond_this_round() -> None:
    notices = [Event(NOTICES, n, b"cust-1") for n in range(3)]
    wakes = [Event(SETTINGS.wake_topic, 40, b"cust-1"), Event(SETTINGS.wake_topic, 41, b"cust-2")]
    worker = StandInWorker(notices, wakes, highwater=5)  # offsets 3 and 4 are still on the way

    assert drain(worker) is True

    assert worker.processor.calls == [("events", [0, 1, 2])]
    assert worker.requeued == [b"cust-1", b"cust-2"]  # back in the index, decided once caught up
    assert deferred(worker) == 2
    assert worker.inbox.wakeups == {}


def test_processed_events_are_recorded_and_acknowledged_in_order() -> None:
    notices = [Event(NOTICES, n, b"cust-1") for n in range(3)]
    worker = StandInWorker(notices, [], highwater=3)
    acknowledged: list[int] = []

    async def ack(event: Event) -> bool:
        acknowledged.append(event.message.offset)
        return True

    worker.inbox.acknowledge = ack
    assert drain(worker) is True
    assert acknowledged == [0, 1, 2]
    assert worker.offsets.processed == {(NOTICES, PARTITION): 2}


def test_nothing_is_processed_for_a_partition_this_worker_does_not_own() -> None:
    worker = StandInWorker([Event(NOTICES, 0, b"c")], [Event(SETTINGS.wake_topic, 9, b"c")], 1)
    worker.owns = lambda partition: False  # type: ignore[method-assign]
    assert drain(worker) is False
    assert worker.processor.calls == []
    assert worker.inbox.wakeups == {}  # derived from stored state: the owner re-sends them


def lingering(undelivered: int, **settings: int) -> SimpleNamespace:
    return SimpleNamespace(
        settings=Settings(**settings),  # type: ignore[arg-type]
        offsets=SimpleNamespace(undelivered=lambda: undelivered),
    )


@pytest.mark.parametrize(
    ("undelivered", "started", "now", "expected"),
    [
        (1000, 10.0, 10.03, 0.07),  # a backlog: the round waits out the rest of the 100 ms
        (1000, 10.0, 10.25, 0.0),  # the last round began long enough ago
        (400, 10.0, 10.03, 0.0),  # less than a full batch undelivered: at once
    ],
)
def test_a_round_waits_for_its_batch_only_while_the_broker_holds_a_backlog(
    undelivered: int, started: float, now: float, expected: float
) -> None:
    worker = lingering(undelivered, batch_linger_ms=100, batch_max_events=500)
    assert linger(worker, started, now) == pytest.approx(expected)  # type: ignore[arg-type]


def test_no_linger_when_it_is_turned_off() -> None:
    worker = lingering(100_000, batch_linger_ms=0)
    assert linger(worker, 10.0, 10.0) == 0.0  # type: ignore[arg-type]


def test_the_processed_position_never_passes_an_offset_still_waiting() -> None:
    """Two customers' messages on one topic partition may be released out of offset order (the
    time-order buffer keeps order per customer): offset 6 processed while 5 waits in a later
    chunk leaves the position at 4, and it moves to 6 once 5 is processed too."""
    worker = StandInWorker(buffered=[], wakeups=[], highwater=7)
    six = SimpleNamespace(topic=NOTICES, partition=PARTITION, offset=6)
    five = SimpleNamespace(topic=NOTICES, partition=PARTITION, offset=5)
    worker.offsets.processed[(NOTICES, PARTITION)] = 4
    _mark_processed(worker, [six], [five])  # type: ignore[arg-type, list-item]
    assert worker.offsets.processed[(NOTICES, PARTITION)] == 4
    _mark_processed(worker, [five], [])  # type: ignore[arg-type, list-item]
    assert worker.offsets.processed[(NOTICES, PARTITION)] == 5
    _mark_processed(worker, [six], [])  # type: ignore[arg-type, list-item]
    assert worker.offsets.processed[(NOTICES, PARTITION)] == 6


def test_an_offset_processed_before_a_lower_one_counts_once_the_lower_one_is_processed() -> None:
    """Offset 6 (one customer) is processed while 5 (another) still waits in the time-order
    buffer: the position stays at 4. When 5 is processed in a later round, nothing of the topic
    partition waits any more, so the position is the last delivered, 6: left at 5, the partition
    would look behind for ever and its wake-ups would wait for a backlog that is not there."""
    worker = StandInWorker(buffered=[Event(NOTICES, 5, b"b")], wakeups=[], highwater=7)
    worker.offsets.processed[(NOTICES, PARTITION)] = 4
    worker.offsets.delivered[(NOTICES, PARTITION)] = 6
    six = SimpleNamespace(topic=NOTICES, partition=PARTITION, offset=6)
    five = SimpleNamespace(topic=NOTICES, partition=PARTITION, offset=5)
    _mark_processed(worker, [six], [])  # type: ignore[arg-type, list-item]
    assert worker.offsets.processed[(NOTICES, PARTITION)] == 4
    worker.inbox.ordering.release(PARTITION)
    _mark_processed(worker, [five], [])  # type: ignore[arg-type, list-item]
    assert worker.offsets.processed[(NOTICES, PARTITION)] == 6
    assert worker.may_wake(PARTITION)
