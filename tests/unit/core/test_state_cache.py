"""The cache of decoded states: used only for the exact bytes it stored, bounded, and invisible
in what the pipeline decides."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

from processor.core.in_memory import MemoryOutbox, MemoryStore
from processor.core.ports import Inbound, partition_for
from processor.core.state_cache import DecodedStates
from processor.core.state_codec import decode_state
from processor.domain.facts import DueDatePassed, InvoiceIssued, PaymentReceived
from processor.domain.state import CustomerState
from tests.support.pipeline import SETTINGS, TOPIC_OF, processor_for
from tests.support.strategies import wire_bytes

CUSTOMER = "cust-7"
KEY = CUSTOMER.encode()
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


def state(name: str) -> CustomerState:
    return CustomerState(customer_id=name)


def test_a_state_is_returned_only_for_the_bytes_it_was_stored_as() -> None:
    cache = DecodedStates(4)
    cache.put(b"a", b"record-1", state("a"))

    assert cache.get(b"a", b"record-1") == state("a")
    assert cache.get(b"a", b"record-2") is None  # written since by someone else
    assert cache.get(b"b", b"record-1") is None


def test_the_least_recently_used_customer_is_evicted_first() -> None:
    cache = DecodedStates(2)
    cache.put(b"a", b"1", state("a"))
    cache.put(b"b", b"1", state("b"))
    assert cache.get(b"a", b"1") is not None  # a is now the most recently used
    cache.put(b"c", b"1", state("c"))

    assert len(cache) == 2
    assert cache.get(b"b", b"1") is None
    assert cache.get(b"a", b"1") is not None and cache.get(b"c", b"1") is not None


def test_a_capacity_of_zero_keeps_nothing() -> None:
    cache = DecodedStates(0)
    cache.put(b"a", b"1", state("a"))
    assert len(cache) == 0 and cache.get(b"a", b"1") is None


def message(fact: InvoiceIssued | PaymentReceived | DueDatePassed, offset: int) -> Inbound:
    topic = TOPIC_OF[
        {
            InvoiceIssued: "invoice.issued",
            PaymentReceived: "payment.received",
            DueDatePassed: "invoice.due_date_passed",
        }[type(fact)]
    ]
    return Inbound(topic, partition_for(KEY, SETTINGS.partitions), offset, KEY, wire_bytes(fact))


def test_a_record_another_worker_stored_meanwhile_is_decoded_not_taken_from_the_cache() -> None:
    """This worker cached the customer before the payment; another worker (the partition's owner
    for a while) stored the payment. The due-date notice must see the payment."""
    issued = InvoiceIssued(
        event_id="e-1",
        customer_id=CUSTOMER,
        occurred_at=AT,
        invoice_id="INV-1",
        amount=Decimal("100.00"),
        currency="EUR",
        issued_on=date(2026, 3, 1),
        due_date=date(2026, 3, 31),
    )
    paid = PaymentReceived(
        event_id="e-2",
        customer_id=CUSTOMER,
        occurred_at=datetime(2026, 3, 20, 9, tzinfo=UTC),
        payment_id="PAY-1",
        amount=Decimal("100.00"),
        currency="EUR",
        received_on=date(2026, 3, 20),
        invoice_id="INV-1",
    )
    due = DueDatePassed(
        event_id="e-3",
        customer_id=CUSTOMER,
        occurred_at=datetime(2026, 4, 1, 0, tzinfo=UTC),
        invoice_id="INV-1",
        due_date=date(2026, 3, 31),
    )
    store, outbox = MemoryStore(), MemoryOutbox()
    this, other = processor_for(store, outbox), processor_for(store, MemoryOutbox())

    async def run() -> None:
        assert await this.process(message(issued, 0)) == "applied"  # cached here
        assert await other.process(message(paid, 1)) == "applied"  # stored by the other
        assert await this.process(message(due, 2)) == "applied"

    asyncio.run(run())

    final = decode_state(store.values[KEY])
    assert final.ledger.balances["INV-1"].outstanding == Decimal("0")
    assert "INV-1" not in final.flags  # paid before its due date: never late
    assert not [sent for sent in outbox.sent if sent[0] == SETTINGS.topic_late_payment_flags]
