"""The wire contract: valid events parse, invalid ones name their field, schema files match."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, get_args

import pytest

from processor.domain.policy import AGING_BUCKETS, BEHAVIORS, RISK_BUCKETS, VALUE_TIERS
from processor.domain.state import SEGMENT_DIMENSIONS
from schemas import events
from schemas.export import SCHEMA_DIR, render, schema_documents
from schemas.validation import Rejected, parse_input
from tests.support import factories as f

INVOICE = f.invoice("c-1", "INV-1", issued_on=date(2026, 11, 1), due_date=date(2026, 12, 1))


def encode(document: object) -> bytes:
    return json.dumps(document).encode()


def test_a_valid_invoice_parses_with_decimal_money_and_dates() -> None:
    event = parse_input(encode({**INVOICE, "unknown_future_field": {"x": 1}}))
    assert isinstance(event, events.InvoiceIssued)
    assert event.amount == Decimal("1000.00")
    assert event.due_date == date(2026, 12, 1)
    assert event.occurred_at.tzinfo is not None


def test_payment_without_invoice_and_due_notice_parse() -> None:
    payment = parse_input(
        encode(f.payment("c-1", "P-1", amount="5.10", received_on=date(2026, 11, 2)))
    )
    notice = parse_input(encode(f.due_passed("c-1", "INV-1", due_date=date(2026, 12, 1))))
    assert isinstance(payment, events.PaymentReceived) and payment.invoice_id is None
    assert isinstance(notice, events.DueDatePassed)


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        (b"not json", "payload", "not JSON"),
        (b"[1]", "payload", "JSON object"),
        (b"\xff\xfe", "payload", "not JSON"),
        (encode({**INVOICE, "pad": "x" * 70_000}), "payload", "exceeds"),
        (encode({**INVOICE, "event_type": "invoice.lost"}), "event_type", "unknown event type"),
        (
            encode({k: v for k, v in INVOICE.items() if k != "event_type"}),
            "event_type",
            "unknown event type",
        ),
        (encode({k: v for k, v in INVOICE.items() if k != "invoice_id"}), "invoice_id", "required"),
        (encode({**INVOICE, "amount": 1000.0}), "amount", "decimal string"),
        (encode({**INVOICE, "amount": "1,000.00"}), "amount", "decimal string"),
        (encode({**INVOICE, "amount": "-1.00"}), "amount", "greater than 0"),
        (encode({**INVOICE, "amount": "0"}), "amount", "greater than 0"),
        (encode({**INVOICE, "currency": "XYZ"}), "currency", "ISO 4217"),
        (encode({**INVOICE, "due_date": "2026-10-01"}), "due_date", "before issued_on"),
        (encode({**INVOICE, "occurred_at": "2026-11-01T10:00:00"}), "occurred_at", "timezone"),
        (encode({**INVOICE, "schema_version": 2}), "schema_version", "1"),
        (encode({**INVOICE, "event_id": 7}), "event_id", "string"),
        (encode({**INVOICE, "customer_id": ""}), "customer_id", "at least 1"),
        (encode({**INVOICE, "issued_on": "yesterday"}), "issued_on", "date"),
    ],
)
def test_invalid_input_is_rejected_naming_the_field(payload: bytes, field: str, words: str) -> None:
    result = parse_input(payload)
    assert isinstance(result, Rejected)
    assert result.error.field == field
    assert words in result.error.problem


def test_rejection_keeps_the_customer_id_when_it_can_be_read() -> None:
    result = parse_input(encode({**INVOICE, "amount": "0"}))
    assert isinstance(result, Rejected) and result.customer_id == "c-1"


def test_an_event_on_the_wrong_topic_is_rejected() -> None:
    result = parse_input(encode(INVOICE), expected_types=frozenset({"payment.received"}))
    assert isinstance(result, Rejected) and result.error.field == "event_type"


def test_outputs_serialize_money_as_strings_and_forbid_extra_fields() -> None:
    flag = events.LatePaymentFlagged(
        event_id="flag-1",
        occurred_at=datetime(2026, 11, 2, tzinfo=UTC),
        customer_id="c-1",
        invoice_id="INV-1",
        due_date=date(2026, 11, 1),
        days_past_due=1,
        amount_outstanding=Decimal("1E+2"),
        currency="USD",
        detected_by="clock",
        caused_by="clock:2026-11-02T00:00:00+00:00",
    )
    wire = json.loads(flag.model_dump_json())
    assert wire["amount_outstanding"] == "100"
    assert wire["schema_version"] == 1 and wire["event_type"] == "late_payment.flagged"
    with pytest.raises(ValueError, match="extra"):
        events.LatePaymentFlagged.model_validate({**wire, "surprise": True})


@pytest.mark.parametrize("name", sorted(schema_documents()))
def test_committed_json_schema_matches_the_model(name: str) -> None:
    committed = SCHEMA_DIR / name
    assert committed.is_file(), f"missing schemas/json/{name}: run `arpulse schemas export`"
    assert committed.read_text(encoding="utf-8") == render(schema_documents()[name]), (
        f"schemas/json/{name} is out of date: run `arpulse schemas export`"
    )


def test_every_contract_event_type_has_a_schema_file() -> None:
    assert {n.removesuffix(".schema.json") for n in schema_documents()} == {
        "invoice.issued",
        "payment.received",
        "invoice.due_date_passed",
        "credit_note.issued",
        "invoice.voided",
        "invoice.written_off",
        "invoice.due_date_changed",
        "payment.reversed",
        "dispute.opened",
        "dispute.resolved",
        "promise_to_pay.made",
        "payment_plan.agreed",
        "collection.hold_set",
        "collection.hold_released",
        "contact.outcome",
        "customer.profile_updated",
        "late_payment.flagged",
        "customer.segment_changed",
        "collection.action_requested",
        "collection.action_withdrawn",
        "commitment.status_changed",
        "late_fee.assessed",
        "dead_letter",
    }


@pytest.mark.parametrize(
    ("literal", "domain"),
    [
        (events.AgingBucket, AGING_BUCKETS),
        (events.Behavior, BEHAVIORS),
        (events.ValueTier, VALUE_TIERS),
        (events.RiskBucket, RISK_BUCKETS),
        (events.Dimension, SEGMENT_DIMENSIONS),
    ],
)
def test_the_contract_names_the_segments_the_domain_decides(literal: Any, domain: Any) -> None:
    """The wire contract spells each segmentation value out; the domain has the same, in order."""
    assert get_args(literal) == tuple(domain)
