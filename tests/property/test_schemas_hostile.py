"""Hostile input at the edge: `parse_input` returns an event or a Rejected naming a field.

Whatever bytes arrive (random bytes, truncated or oversized events, JSON of the wrong shape,
mistyped or malformed fields), `parse_input` never raises: it returns a valid input event or a
`Rejected` whose ContractError names a field of the contract (or `payload` / `event_type` when
the problem is the message as a whole). Valid events always parse, to the values they carry,
and survive a round trip through their own wire form.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from schemas import events
from schemas.validation import DEFAULT_MAX_PAYLOAD_BYTES, ContractError, Rejected, parse_input
from tests.support.strategies import (
    ALL_FIELDS,
    MODEL_FIELDS,
    encode,
    hostile_payloads,
    mutated_documents,
    single_fault_documents,
    valid_documents,
)

FAST = settings(max_examples=100, deadline=None)
WHOLE_MESSAGE = frozenset({"payload", "event_type"})


def _named_field(error: ContractError) -> str:
    """The top-level field a ContractError is about (`amount`, for `amount.x`)."""
    return error.field.split(".")[0]


def assert_outcome(result: object, payload: bytes) -> None:
    """A valid event, or a Rejected with a ContractError that names a contract field."""
    if isinstance(result, Rejected):
        assert isinstance(result.error, ContractError)
        assert _named_field(result.error) in ALL_FIELDS | WHOLE_MESSAGE, result.error
        assert result.error.problem.strip(), result.error
    else:
        assert isinstance(
            result, events.InvoiceIssued | events.PaymentReceived | events.DueDatePassed
        )
        assert len(payload) <= DEFAULT_MAX_PAYLOAD_BYTES


def assert_matches(event: events.InputEvent, document: dict[str, Any]) -> None:
    """The parsed event carries exactly the values the document states."""
    assert event.event_type == document["event_type"]
    for name in MODEL_FIELDS[document["event_type"]] - {"event_type", "schema_version"}:
        stated = document.get(name)
        value = getattr(event, name)
        if stated is None:
            assert value is None, name
        elif isinstance(value, Decimal):
            assert value == Decimal(stated) and value > 0, name
        elif isinstance(value, datetime):
            moment = datetime.fromisoformat(stated.replace("Z", "+00:00"))
            assert value == moment and value.utcoffset() == moment.utcoffset(), name
        elif isinstance(value, date):
            assert value == date.fromisoformat(stated), name
        else:
            assert value == stated, name


@FAST
@given(valid_documents, st.booleans())
def test_valid_events_always_parse_to_their_values_and_round_trip(
    document: dict[str, Any], ascii_only: bool
) -> None:
    event = parse_input(encode(document, ascii_only=ascii_only))
    assert not isinstance(event, Rejected), event.error
    assert_matches(event, document)
    wire = event.model_dump_json().encode("utf-8")
    again = parse_input(wire)
    assert again == event
    assert again.model_dump_json().encode("utf-8") == wire
    # Money goes out as a decimal string, never a JSON number.
    if "amount" in document:
        assert isinstance(json.loads(wire)["amount"], str)


@FAST
@given(mutated_documents())
def test_mangled_events_parse_or_are_rejected_naming_a_field_of_their_type(
    document: dict[str, Any],
) -> None:
    payload = encode(document)
    result = parse_input(payload)
    assert_outcome(result, payload)
    if not isinstance(result, Rejected):
        return
    event_type = document.get("event_type")
    if isinstance(event_type, str) and event_type in MODEL_FIELDS:
        # The type is known: the error is about one of that type's own fields.
        assert _named_field(result.error) in MODEL_FIELDS[event_type], result.error
    else:
        assert result.error.field == "event_type", result.error


SCHEMA_VERSION_TRUE = {
    "event_id": "e-1",
    "event_type": "payment.received",
    "schema_version": True,
    "occurred_at": "2026-01-05T09:00:00+00:00",
    "customer_id": "c-1",
    "payment_id": "P-1",
    "amount": "10.00",
    "currency": "USD",
    "received_on": "2026-01-05",
}


@FAST
@given(single_fault_documents())
@example((SCHEMA_VERSION_TRUE, "schema_version"))  # JSON true is not the integer 1
def test_one_missing_or_mistyped_required_field_is_the_field_named(
    case: tuple[dict[str, Any], str],
) -> None:
    document, field = case
    result = parse_input(encode(document))
    assert isinstance(result, Rejected), f"{field}={document.get(field, '<missing>')!r} accepted"
    assert result.error.field == field, result.error


@FAST
@given(valid_documents, st.data())
def test_every_truncation_of_a_valid_event_is_rejected_as_a_bad_payload(
    document: dict[str, Any], data: st.DataObject
) -> None:
    payload = encode(document)  # non-ASCII as raw UTF-8: cuts also split characters
    cuts = data.draw(
        st.lists(st.integers(0, len(payload) - 1), min_size=1, max_size=40, unique=True)
    )
    for cut in [*cuts, 0, len(payload) - 1, len(payload) // 2]:
        result = parse_input(payload[:cut])
        assert isinstance(result, Rejected), cut
        assert result.error.field == "payload", (cut, result.error)


@settings(max_examples=20, deadline=None)
@given(valid_documents)
def test_every_prefix_of_a_valid_event_is_rejected(document: dict[str, Any]) -> None:
    payload = encode(document, ascii_only=True)
    for cut in range(len(payload)):
        result = parse_input(payload[:cut])
        assert isinstance(result, Rejected) and result.error.field == "payload", cut


@FAST
@given(valid_documents, st.integers(1, 2000))
def test_payloads_over_the_limit_are_rejected_and_at_the_limit_are_not(
    document: dict[str, Any], excess: int
) -> None:
    payload = encode(document)
    over = parse_input(payload, max_bytes=len(payload) - 1)
    assert isinstance(over, Rejected)
    assert over.error.field == "payload" and "exceeds" in over.error.problem
    assert not isinstance(parse_input(payload, max_bytes=len(payload)), Rejected)
    padded = encode({**document, "padding": "x" * (DEFAULT_MAX_PAYLOAD_BYTES + excess)})
    too_big = parse_input(padded)
    assert isinstance(too_big, Rejected) and too_big.error.field == "payload"


@settings(max_examples=200, deadline=None)
@given(hostile_payloads)
@example(b"")
@example(b"null")
@example(b"\xef\xbb\xbf{}")  # a UTF-8 byte-order mark
@example(b"[" * 20_000)
@example(b'{"event_type": "invoice.issued", "customer_id": "\\ud800"}')
def test_parse_input_never_raises_on_arbitrary_bytes(payload: bytes) -> None:
    assert_outcome(parse_input(payload), payload)


@FAST
@given(hostile_payloads)
@example(b'{"event_type": "invoice.issued", "customer_id": "\\ud800"}')
def test_a_rejection_can_always_be_published_as_a_dead_letter(payload: bytes) -> None:
    """What the worker does with a Rejected (pipeline._dead_letter) must itself be valid.

    `Rejected.customer_id` is what the dead letter is keyed and filed under: it must be a
    contract identifier, or None when none can be read.
    """
    result = parse_input(payload)
    if not isinstance(result, Rejected):
        return
    now = datetime.now(UTC)
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = "<base64>", "base64"
    letter = events.DeadLetter(
        event_id="dead-1",
        occurred_at=now,
        customer_id=result.customer_id or "unknown",
        source_topic="ar.invoice-issued",
        partition=0,
        offset=0,
        key=None,
        payload=text,
        payload_encoding=encoding,  # type: ignore[arg-type]
        error=str(result.error),
        failed_at=now,
    )
    assert letter.model_dump_json().encode("utf-8")
