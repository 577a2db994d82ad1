"""Where the worker stands against the broker: delivered, processed, and the backlog beyond."""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

from prometheus_client import CollectorRegistry

from processor.core.metrics import build_metrics
from processor.runtime.offsets import Offsets
from schemas import topics

INPUTS = (topics.INVOICE_ISSUED, topics.PAYMENT_RECEIVED, topics.DUE_DATE_PASSED)
REKEY = "arpulse-rekey"


class TP(NamedTuple):
    topic: str
    partition: int


class Consumer:
    """Faust's consumer as the offsets read it: the assignment, highwaters, committed offsets."""

    def __init__(
        self, highwaters: dict[tuple[str, int], int | None], committed: dict[TP, int] | None = None
    ) -> None:
        self._highwaters = highwaters
        self._committed_offset = committed or {}

    def assignment(self) -> set[TP]:
        return {TP(t, p) for t, p in self._highwaters}

    def highwater(self, tp: TP) -> int | None:
        return self._highwaters.get((tp.topic, tp.partition))


def offsets(consumer: Consumer) -> Offsets:
    app = SimpleNamespace(consumer=consumer)
    return Offsets(app=app, inputs=INPUTS, rekey_topic=REKEY)  # type: ignore[arg-type]


def test_undelivered_counts_input_messages_beyond_the_last_delivered_ones() -> None:
    tracked = offsets(
        Consumer(
            {
                (topics.INVOICE_ISSUED, 0): 100,
                (topics.PAYMENT_RECEIVED, 0): 50,
                (topics.DUE_DATE_PASSED, 1): None,  # no fetch answered yet: not counted
                ("arpulse.wakeups", 0): 900,  # not an input topic
            }
        )
    )
    tracked.delivered.update({(topics.INVOICE_ISSUED, 0): 39, (topics.PAYMENT_RECEIVED, 0): 49})
    assert tracked.undelivered() == 60  # offsets 40..99 of the invoices; payments caught up


def test_before_anything_is_delivered_the_committed_offset_counts() -> None:
    tp = TP(topics.INVOICE_ISSUED, 0)
    tracked = offsets(Consumer({(tp.topic, 0): 100}, committed={tp: 70}))
    assert tracked.beyond(tp.topic, 0, tracked.delivered) == 30
    assert tracked.delivered_all(tp.topic, 0) is False
    tracked.delivered[(tp.topic, 0)] = 99
    assert tracked.delivered_all(tp.topic, 0) is True
    assert tracked.delivered_all(topics.PAYMENT_RECEIVED, 0) is None  # highwater not known


def test_a_partition_is_caught_up_only_when_every_source_topic_was_processed() -> None:
    highwaters = {(t, 3): 10 for t in (*INPUTS, REKEY)}
    tracked = offsets(Consumer(highwaters))
    for topic in INPUTS:
        tracked.processed[(topic, 3)] = 9
    assert tracked.caught_up(3) is False  # the re-key topic still has ten
    tracked.processed[(REKEY, 3)] = 9
    assert tracked.caught_up(3) is True


def test_lag_is_counted_from_what_was_processed_not_what_was_fetched() -> None:
    tracked = offsets(Consumer({(topics.INVOICE_ISSUED, 0): 100, (topics.INVOICE_ISSUED, 1): 5}))
    tracked.delivered[(topics.INVOICE_ISSUED, 0)] = 99  # fetched, still in the buffers
    tracked.processed[(topics.INVOICE_ISSUED, 0)] = 59
    registry = CollectorRegistry()
    tracked.refresh_lag(build_metrics(registry))
    sample = registry.get_sample_value(
        "arpulse_consumer_lag_messages", {"topic": topics.INVOICE_ISSUED}
    )
    assert sample == 40  # partition 1: nothing processed nor committed yet, so not counted
