"""The worker's per-event step over a mixture of valid events and garbage, without a broker.

The step is parse_input -> translate.to_fact -> on_event, an invalid payload (Rejected) or a
fact the ledger refuses (DomainError) going to the dead letters. It runs here twice:
- as `processor.simulation.simulate` runs it, offline, over JSON lines;
- as `EventProcessor.process` runs it in the worker, with an in-memory table and outbox.
Either way, nothing but those documented outcomes happens, and a dead-lettered input changes no
customer's state: the mixture ends exactly where the valid events alone end.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.core.in_memory import MemoryOutbox, MemoryStore
from processor.core.ports import Inbound, partition_for
from processor.core.state_codec import decode_state
from processor.domain.facts import Fact, InvoiceIssued
from processor.domain.terms import TermsError, parse_terms
from processor.simulation.simulate import INPUT_TYPES, simulate
from schemas import events
from schemas.validation import Rejected, parse_input
from tests.support.pipeline import MAX_BYTES, POLICY, SETTINGS, processor_for, topic_of
from tests.support.replay import deliver, ledger_view
from tests.support.strategies import (
    Contradiction,
    contradictions,
    histories,
    hostile_payloads,
    wire_bytes,
)

WORKER = settings(max_examples=30, deadline=None)


def rejected_field(payload: bytes, *, topic: str | None = None) -> str | None:
    """The field a payload is dead-lettered for at the edge, or None if it is a valid event:
    as `simulate` reads a line (any input type, stripped), or as the worker reads a message
    on an input topic (only that topic's type)."""
    if topic is None:
        result = parse_input(payload.strip(), expected_types=INPUT_TYPES, max_bytes=MAX_BYTES)
    else:
        expected = SETTINGS.input_topics[topic]
        result = parse_input(payload, expected_types=expected, max_bytes=MAX_BYTES)
    return result.error.field if isinstance(result, Rejected) else None


# Garbage: anything that is not a valid event (and is not a blank line, which simulate skips).
garbage = st.one_of(
    hostile_payloads,
    st.binary(min_size=MAX_BYTES + 1, max_size=MAX_BYTES + 64),  # over the size limit
).filter(lambda payload: payload.strip() != b"" and rejected_field(payload) is not None)


@dataclass(frozen=True, slots=True)
class Mixture:
    """Valid facts in the platform's order, with garbage and contradictions in between."""

    facts: list[Fact]
    items: list[Fact | Contradiction | bytes]


@st.composite
def mixtures(draw: st.DrawFn) -> Mixture:
    facts: list[Fact] = draw(histories(max_customers=2))
    items: list[Fact | Contradiction | bytes] = list(facts)
    for payload in draw(st.lists(garbage, max_size=6)):
        items.insert(draw(st.integers(0, len(items))), payload)
    for contradiction in draw(st.lists(contradictions(facts), max_size=3)):
        # After the fact it contradicts: only then can the ledger know it is a contradiction.
        first = items.index(contradiction.target) + 1
        items.insert(draw(st.integers(first, len(items))), contradiction)
    return Mixture(facts, items)


def line(item: Fact | Contradiction | bytes) -> bytes:
    if isinstance(item, bytes):
        return item
    return wire_bytes(item.fact if isinstance(item, Contradiction) else item)


def expected_dead_letters(items: Sequence[Fact | Contradiction | bytes]) -> Counter[str]:
    """Each garbage line under the field its rejection names, each contradiction under its own,
    and each invoice whose terms cannot be read under `terms`."""
    expected: Counter[str] = Counter()
    for item in items:
        if isinstance(item, bytes):
            expected[str(rejected_field(item))] += 1
        elif isinstance(item, Contradiction):
            expected[item.field] += 1
        elif isinstance(item, InvoiceIssued) and item.terms is not None:
            try:
                parse_terms(item.terms)
            except TermsError:
                expected["terms"] += 1  # the invoice is kept; its terms are dead-lettered
    return expected


@WORKER
@given(mixtures())
def test_simulate_over_garbage_and_contradictions_decides_as_over_the_valid_events(
    mixture: Mixture,
) -> None:
    clean = simulate([wire_bytes(f) for f in mixture.facts], POLICY, max_bytes=MAX_BYTES)
    mixed = simulate([line(i) for i in mixture.items], POLICY, max_bytes=MAX_BYTES)
    assert mixed.dead_letters == expected_dead_letters(mixture.items)
    assert mixed.events == len(mixture.items)
    # Dead-lettered input changed no state and decided nothing.
    assert mixed.states == clean.states
    assert mixed.actions == clean.actions
    assert mixed.flags == clean.flags
    assert mixed.segment_changes == clean.segment_changes


# --- the worker's EventProcessor with an in-memory table, outbox and projection ---------------


OUTCOMES = {"applied", "duplicate", "rekeyed", "dead_lettered"}


@dataclass
class Delivery:
    """Messages as a broker hands them to the worker, with what each must lead to."""

    messages: list[tuple[Inbound, str | None]] = field(default_factory=list)  # (message, field)
    offsets: itertools.count[int] = field(default_factory=itertools.count)

    def add(
        self, topic: str, partition: int, key: bytes | None, value: bytes, bad: str | None
    ) -> None:
        inbound = Inbound(topic, partition, next(self.offsets), key, value)
        self.messages.append((inbound, bad))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Fact], Delivery]:
    """A mixture as messages: valid events on their topic (some keyed wrongly, so re-keyed),
    copies of valid events on the wrong topic, garbage on any input topic with any key."""
    mixture: Mixture = draw(mixtures())
    delivery = Delivery()
    topics = sorted(SETTINGS.input_topics)
    for item in mixture.items:
        if isinstance(item, bytes):
            key = draw(st.none() | st.binary(max_size=12))
            topic = draw(st.sampled_from(topics))
            bad = rejected_field(item, topic=topic)
            assert bad is not None
            delivery.add(topic, draw(st.integers(0, 3)), key, item, bad)
            continue
        fact = item.fact if isinstance(item, Contradiction) else item
        bad = item.field if isinstance(item, Contradiction) else None
        value, key = wire_bytes(fact), fact.customer_id.encode()
        home = partition_for(key, SETTINGS.partitions)
        topic = topic_of(fact)
        if draw(st.booleans()) and bad is None:  # a copy on a topic it does not belong on
            wrong = draw(st.sampled_from([t for t in topics if t != topic]))
            delivery.add(wrong, home, key, value, "event_type")
        if draw(st.integers(0, 4)) == 0:  # keyed by something else: re-keyed first
            delivery.add(topic, draw(st.integers(0, 3)), b"not-" + key, value, bad)
        else:
            delivery.add(topic, home, key, value, bad)
    return mixture.facts, delivery


def _original_bytes(letter: events.DeadLetter) -> bytes:
    if letter.payload_encoding == "base64":
        return base64.b64decode(letter.payload)
    return letter.payload.encode("utf-8")


async def run_worker(delivery: Delivery) -> MemoryStore:
    store, outbox = MemoryStore(), MemoryOutbox()
    worker = processor_for(store, outbox)
    queue = list(delivery.messages)
    while queue:
        message, bad = queue.pop(0)
        before, sent = dict(store.values), len(outbox.sent)
        outcome = await worker.process(message)
        assert outcome in OUTCOMES
        new = outbox.sent[sent:]
        if outcome == "dead_lettered":
            assert bad is not None, f"valid {message} dead-lettered: {new}"
            assert store.values == before, "a dead-lettered input changed the stored state"
            [(topic, _key, value, _partition)] = new
            letter = events.DeadLetter.model_validate_json(value)
            assert topic == SETTINGS.topic_dead_letter
            assert letter.error.startswith(f"{bad}: "), (bad, letter.error)
            assert _original_bytes(letter) == message.value
            landing = message.origin or f"{message.topic}/{message.partition}/{message.offset}"
            assert f"{letter.source_topic}/{letter.partition}/{letter.offset}" == landing
        elif outcome == "rekeyed":
            assert store.values == before
            [(topic, key, value, partition)] = new
            assert topic == SETTINGS.rekey_topic and value == message.value
            origin = f"{message.topic}/{message.partition}/{message.offset}"
            assert partition is not None
            # The re-key topic hands it back on the customer's partition, under the right key.
            queue.insert(0, (Inbound(topic, partition, message.offset, key, value, origin), bad))
        else:
            assert bad is None, f"{outcome}: {message} should have been dead-lettered ({bad})"
    return store


@WORKER
@given(deliveries())
def test_worker_step_survives_hostile_messages_and_ends_where_the_valid_events_do(
    case: tuple[list[Fact], Delivery],
) -> None:
    facts, delivery = case
    store = asyncio.run(run_worker(delivery))
    expected = deliver(facts, POLICY).states
    assert {k.decode() for k in store.values} == set(expected)
    for customer, state in expected.items():
        stored = decode_state(store.values[customer.encode()])
        assert ledger_view(stored) == ledger_view(state), customer


def test_worker_dead_letters_a_payload_whose_customer_id_is_not_unicode() -> None:
    """Minimal reproduction: valid JSON text, but customer_id is a lone UTF-16 surrogate."""
    payload = b'{"event_type": "invoice.issued", "customer_id": "\\ud800"}'
    delivery = Delivery()
    delivery.add(SETTINGS.topic_invoice_issued, 0, None, payload, "payload")
    asyncio.run(run_worker(delivery))


async def _run_in_batches(delivery: Delivery, cuts: list[int]) -> tuple[MemoryStore, MemoryOutbox]:
    store, outbox = MemoryStore(), MemoryOutbox()
    worker = processor_for(store, outbox)
    messages = [message for message, _ in delivery.messages]
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(messages)), len(messages)]
    for start, end in itertools.pairwise(bounds):
        if end > start:
            outcomes = await worker.process_batch(messages[start:end])
            assert outcomes is not None and len(outcomes) == end - start
    return store, outbox


@WORKER
@given(deliveries(), st.lists(st.integers(0, 60), max_size=8))
def test_batches_decide_publish_and_store_exactly_what_one_at_a_time_does(
    case: tuple[list[Fact], Delivery], cuts: list[int]
) -> None:
    """However the consumed messages are cut into batches: same outputs, same order, same state."""
    _facts, delivery = case
    single_store, single = asyncio.run(_run_in_batches(delivery, list(range(1, 1000))))
    batched_store, batched = asyncio.run(_run_in_batches(delivery, cuts))
    assert batched.sent == single.sent
    assert batched_store.values == single_store.values


def test_a_batch_revoked_before_storing_stores_nothing() -> None:
    """Outputs may go out (they are re-sent by the new owner under the same ids); state may not."""
    fact_line = (
        b'{"schema_version": 1, "event_id": "e-1", "event_type": "invoice.issued",'
        b' "occurred_at": "2026-03-02T09:00:00Z", "customer_id": "c-1", "invoice_id": "i-1",'
        b' "amount": "100.00", "currency": "EUR", "issued_on": "2026-03-02",'
        b' "due_date": "2026-04-01"}'
    )
    key = b"c-1"
    message = Inbound(
        SETTINGS.topic_invoice_issued, partition_for(key, SETTINGS.partitions), 0, key, fact_line
    )
    store, outbox = MemoryStore(), MemoryOutbox()
    worker = processor_for(store, outbox)
    assert asyncio.run(worker.process_batch([message], may_store=lambda: False)) is None
    assert store.values == {}
    assert asyncio.run(worker.process_batch([message])) == ["applied"]
    assert decode_state(store.values[key]).customer_id == "c-1"
