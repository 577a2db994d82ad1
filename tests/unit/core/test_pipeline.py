"""The pipeline in memory: each message's outcome, outputs published before the state is stored,
dead letters that name the field and the message's first landing, and wake-ups in the same runner.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from processor.core.in_memory import FixedClock, MemoryOutbox, MemoryProjection, MemoryStore
from processor.core.metrics import build_metrics
from processor.core.pipeline import EventProcessor
from processor.core.ports import Inbound, partition_for
from processor.core.state_codec import decode_state
from processor.core.wakes import wake_message
from processor.domain.facts import Fact
from tests.support.builders import CUSTOMER, at, due, inv, pay
from tests.support.pipeline import POLICY, SETTINGS, topic_of
from tests.support.strategies import wire_bytes

KEY = CUSTOMER.encode()
HOME = partition_for(KEY, SETTINGS.partitions)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
AT_NOW = FixedClock(NOW)


class Pipeline:
    """An EventProcessor over in-memory ports, with its metrics registry at hand."""

    def __init__(self, outbox: Any = None, clock: FixedClock = AT_NOW) -> None:
        self.store, self.outbox = MemoryStore(), outbox or MemoryOutbox()
        self.projection, self.registry = MemoryProjection(), CollectorRegistry()
        self.scheduled: list[tuple[int, bytes, datetime | None]] = []
        self.processor = EventProcessor(
            settings=SETTINGS,
            policy=POLICY,
            clock=clock,
            metrics=build_metrics(self.registry),
            store=self.store,
            outbox=self.outbox,
            projection=self.projection,
            on_scheduled=lambda p, k, w: self.scheduled.append((p, k, w)),
        )
        self.offset = 0

    def message(self, fact: Fact, *, partition: int = HOME, key: bytes | None = KEY) -> Inbound:
        self.offset += 1
        return Inbound(topic_of(fact), partition, self.offset, key, wire_bytes(fact))

    def run(self, *messages: Inbound) -> list[str] | None:
        return asyncio.run(self.processor.process_batch(messages))

    def sent(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(v) for t, _, v, _ in self.outbox.sent if t == topic]

    def count(self, name: str, labels: dict[str, str]) -> float | None:
        return self.registry.get_sample_value(name, labels)


def test_each_message_gets_its_outcome() -> None:
    pipeline = Pipeline()
    invoice = inv("A", due=30)
    outcomes = pipeline.run(
        pipeline.message(invoice),
        pipeline.message(invoice),  # the same event again
        pipeline.message(pay("P", "100.00", on=10, invoice_id="A"), partition=(HOME + 1) % 4),
        Inbound(SETTINGS.topic_invoice_issued, HOME, 99, KEY, b"{not json"),
    )
    assert outcomes == ["applied", "duplicate", "rekeyed", "dead_lettered"]
    labels = {"topic": SETTINGS.topic_invoice_issued, "outcome": "applied"}
    assert pipeline.count("arpulse_events_consumed_total", labels) == 1


def test_a_batch_decides_in_order_and_stores_each_customer_once() -> None:
    pipeline = Pipeline()
    pipeline.run(
        pipeline.message(inv("A", due=30)),
        pipeline.message(due("A", on=30)),
        pipeline.message(pay("P", "100.00", on=40, invoice_id="A")),
    )
    flags = pipeline.sent(SETTINGS.topic_late_payment_flags)
    assert [f["invoice_id"] for f in flags] == ["A"]
    state = decode_state(pipeline.store.values[KEY])
    assert state.ledger.balances["A"].is_paid
    assert [key for _, key, _ in pipeline.scheduled] == [KEY]  # one store, one schedule
    assert pipeline.projection.snapshots[CUSTOMER]["outstanding"] == {}


def test_a_re_keyed_message_is_sent_to_its_home_partition_with_its_first_landing() -> None:
    pipeline = Pipeline()
    message = pipeline.message(inv("A"), partition=(HOME + 1) % 4, key=b"someone-else")
    assert pipeline.run(message) == ["rekeyed"]
    ((topic, key, value, partition),) = pipeline.outbox.sent
    assert (topic, key, value, partition) == (SETTINGS.rekey_topic, KEY, message.value, HOME)
    assert pipeline.store.values == {}


def test_a_dead_letter_names_the_field_and_where_the_message_first_landed() -> None:
    pipeline = Pipeline()
    bad = json.dumps({**json.loads(wire_bytes(inv("A"))), "amount": "-5.00"}).encode()
    origin = f"{SETTINGS.topic_invoice_issued}/3/41"
    message = Inbound(SETTINGS.rekey_topic, HOME, 7, KEY, bad, origin=origin)
    assert pipeline.run(message) == ["dead_lettered"]
    (letter,) = pipeline.sent(SETTINGS.topic_dead_letter)
    assert letter["error"].startswith("amount: ")
    assert (letter["source_topic"], letter["partition"], letter["offset"]) == (
        SETTINGS.topic_invoice_issued,
        3,
        41,
    )
    assert letter["payload"] == bad.decode()
    assert pipeline.store.values == {}  # a bad input changes no state


def test_a_contradiction_found_by_the_domain_is_dead_lettered_and_changes_nothing() -> None:
    pipeline = Pipeline()
    pipeline.run(pipeline.message(inv("A", due=30)))
    before = pipeline.store.values[KEY]
    pipeline.run(pipeline.message(due("A", on=35, event_id="e-other-due")))  # another due date
    (letter,) = pipeline.sent(SETTINGS.topic_dead_letter)
    assert letter["error"].startswith("due_date: ")
    assert pipeline.store.values[KEY] == before


class FailingOutbox(MemoryOutbox):
    """Accepts messages, then the broker refuses them."""

    async def send(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> Awaitable[object]:
        failed: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        failed.set_exception(ConnectionError("broker refused"))
        return failed


def test_nothing_is_stored_when_the_outputs_are_not_acknowledged() -> None:
    pipeline = Pipeline(outbox=FailingOutbox())
    with pytest.raises(ConnectionError):
        pipeline.run(pipeline.message(inv("A", issued=0, due=3)), pipeline.message(due("A", on=3)))
    assert pipeline.store.values == {}
    assert pipeline.projection.snapshots == {}


def test_a_batch_whose_partition_was_revoked_stores_nothing() -> None:
    pipeline = Pipeline()
    message = pipeline.message(inv("A"))
    outcomes = asyncio.run(pipeline.processor.process_batch([message], may_store=lambda: False))
    assert outcomes is None
    assert pipeline.store.values == {}


def wake(customer: str, at_: datetime, offset: int = 0) -> Inbound:
    value = wake_message(customer, at_)
    return Inbound(SETTINGS.wake_topic, HOME, offset, customer.encode(), value)


def test_wake_ups_run_through_the_same_batch_runner() -> None:
    pipeline = Pipeline()
    pipeline.run(pipeline.message(inv("A", issued=0, due=30)))
    outcomes = pipeline.run(
        wake(CUSTOMER, at(40)),
        wake("nobody", at(40), 1),
        Inbound(SETTINGS.wake_topic, HOME, 2, KEY, b"not a wake-up"),
    )
    assert outcomes == ["applied", "stale", "unreadable"]
    (flag,) = pipeline.sent(SETTINGS.topic_late_payment_flags)
    assert (flag["invoice_id"], flag["detected_by"]) == ("A", "clock")
    assert pipeline.count("arpulse_wakeups_total", {"outcome": "applied"}) == 1
    assert pipeline.count("arpulse_wakeups_total", {"outcome": "stale"}) == 1


def test_a_wake_up_with_nothing_due_puts_the_customer_back_in_the_index() -> None:
    pipeline = Pipeline()
    pipeline.run(pipeline.message(inv("A", issued=0, due=30)))
    pipeline.scheduled.clear()
    assert pipeline.run(wake(CUSTOMER, at(1))) == ["stale"]
    ((partition, key, next_at),) = pipeline.scheduled
    assert (partition, key) == (HOME, KEY) and next_at is not None and next_at > at(1)


def test_a_wake_up_decides_no_later_than_the_clock() -> None:
    pipeline = Pipeline(clock=FixedClock(at(20)))
    pipeline.run(pipeline.message(inv("A", issued=0, due=30)))
    pipeline.run(wake(CUSTOMER, at(60)))  # sent for day 60, but the clock reads day 20
    assert pipeline.sent(SETTINGS.topic_late_payment_flags) == []
