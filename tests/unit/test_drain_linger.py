"""Backlog batches: drain rounds are spaced out only while the broker holds a backlog.

Without the linger, a worker working through a backlog settled into rounds of about a dozen
messages, each paying for its own wait for the broker, stores and Redis write; with it, rounds
of about a hundred. At live load nothing may wait: the latency target is judged there.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

import pytest

from processor.core.settings import Settings
from processor.runtime.faust_app import Worker, _linger
from schemas import topics


class TP(NamedTuple):
    topic: str
    partition: int


class Consumer:
    """Faust's consumer as `undelivered` reads it: the assignment, highwaters, committed offsets."""

    def __init__(self, highwaters: dict[tuple[str, int], int | None]) -> None:
        self._highwaters = highwaters
        self._committed_offset: dict[TP, int] = {}  # nothing committed yet

    def assignment(self) -> set[TP]:
        return {TP(t, p) for t, p in self._highwaters}

    def highwater(self, tp: TP) -> int | None:
        return self._highwaters[(tp.topic, tp.partition)]


def stand_in(
    highwaters: dict[tuple[str, int], int | None],
    delivered: dict[tuple[str, int], int],
    **settings: int,
) -> SimpleNamespace:
    worker = SimpleNamespace(
        settings=Settings(**settings),  # type: ignore[arg-type]
        app=SimpleNamespace(consumer=Consumer(highwaters)),
        delivered=delivered,
    )
    worker._beyond = lambda *args: Worker._beyond(worker, *args)  # type: ignore[arg-type]
    worker.undelivered = lambda: Worker.undelivered(worker)  # type: ignore[arg-type]
    return worker


def test_undelivered_counts_input_messages_beyond_the_last_delivered_ones() -> None:
    worker = stand_in(
        {
            (topics.INVOICE_ISSUED, 0): 100,
            (topics.PAYMENT_RECEIVED, 0): 50,
            (topics.DUE_DATE_PASSED, 1): None,  # no fetch answered yet: not counted
            ("arpulse.wakeups", 0): 900,  # not an input topic
        },
        {(topics.INVOICE_ISSUED, 0): 39, (topics.PAYMENT_RECEIVED, 0): 49},
    )
    assert worker.undelivered() == 60  # offsets 40..99 of the invoices; payments caught up


@pytest.mark.parametrize(
    ("highwater", "started", "now", "expected"),
    [
        (1000, 10.0, 10.03, 0.07),  # a backlog: the round waits out the rest of the 100 ms
        (1000, 10.0, 10.25, 0.0),  # the last round began long enough ago
        (400, 10.0, 10.03, 0.0),  # less than a full batch undelivered: at once
    ],
)
def test_a_round_waits_for_its_batch_only_while_the_broker_holds_a_backlog(
    highwater: int, started: float, now: float, expected: float
) -> None:
    worker = stand_in(
        {(topics.INVOICE_ISSUED, 0): highwater},
        {(topics.INVOICE_ISSUED, 0): -1},
        batch_linger_ms=100,
        batch_max_events=500,
    )
    assert _linger(worker, started, now) == pytest.approx(expected)  # type: ignore[arg-type]


def test_no_linger_when_it_is_turned_off() -> None:
    worker = stand_in(
        {(topics.INVOICE_ISSUED, 0): 100_000},
        {(topics.INVOICE_ISSUED, 0): 0},
        batch_linger_ms=0,
    )
    assert _linger(worker, 10.0, 10.0) == 0.0  # type: ignore[arg-type]
