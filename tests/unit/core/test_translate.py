"""Translation at the edge: contract events become domain facts field for field, and domain
outputs become contract events that validate against the contract's own models."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from processor.core import translate
from processor.domain.decide import on_event
from processor.domain.facts import DueDatePassed, InvoiceIssued, PaymentReceived
from processor.domain.state import CustomerState
from schemas import events
from schemas.validation import Rejected, parse_input
from tests.support.builders import CUSTOMER, at, due, inv, pay
from tests.support.pipeline import POLICY
from tests.support.strategies import wire_bytes


def parsed(fact: InvoiceIssued | PaymentReceived | DueDatePassed) -> events.InputEvent:
    event = parse_input(wire_bytes(fact))
    assert not hasattr(event, "error"), event
    return event  # type: ignore[return-value]


def test_each_input_event_becomes_the_fact_it_states() -> None:
    for fact in (
        inv("A", "120.50", issued=2, due=32, currency="EUR"),
        pay("P", "20.50", on=5, invoice_id="A", currency="EUR"),
        pay("Q", "1.00", on=6),
        due("A", on=32),
    ):
        assert translate.to_fact(parsed(fact)) == fact


def test_outputs_become_contract_events_that_validate() -> None:
    state, decisions = CustomerState(customer_id=CUSTOMER), []
    # Due on day 29, a Friday (a Saturday due date would be payable on Monday)
    for fact, now in ((inv("A", due=29), at(0)), (due("A", on=29), at(30, hour=9))):
        progress = on_event(state, fact, now=now, policy=POLICY)
        state, decisions = progress.state, [*decisions, *progress.decisions]
    decision = decisions[-1]
    (flag,) = decision.flags
    wire = translate.to_bytes(translate.flag_event(flag, customer_id=CUSTOMER, at=at(31)))
    flagged = events.LatePaymentFlagged.model_validate_json(wire)
    assert (flagged.invoice_id, flagged.amount_outstanding) == ("A", Decimal("100.00"))
    assert json.loads(wire)["amount_outstanding"] == "100.00"  # money as a decimal string
    for action in decision.actions:
        wire = translate.to_bytes(translate.action_event(action, customer_id=CUSTOMER, at=at(31)))
        requested = events.CollectionActionRequested.model_validate_json(wire)
        assert requested.event_id == action.event_id
        assert requested.invoice_ids == list(action.invoice_ids)
    assert decision.actions
    change = decisions[0].segment_change  # the customer's first segment
    assert change is not None and change.previous is None
    wire = translate.to_bytes(translate.segment_event(change, customer_id=CUSTOMER, at=at(31)))
    moved = events.SegmentChanged.model_validate_json(wire)
    assert moved.current.aging_bucket == change.current.aging_bucket


# One valid event of every input type (contract 1.1 included), as the platform sends it.
_EVERY_INPUT = {
    "invoice.issued": {
        "invoice_id": "I",
        "amount": "10.00",
        "currency": "USD",
        "issued_on": "2026-01-01",
        "due_date": "2026-01-31",
    },
    "payment.received": {
        "payment_id": "P",
        "amount": "10.00",
        "currency": "USD",
        "received_on": "2026-01-02",
        "invoice_id": "I",
    },
    "invoice.due_date_passed": {"invoice_id": "I", "due_date": "2026-01-31"},
    "credit_note.issued": {
        "credit_note_id": "C",
        "amount": "2.50",
        "currency": "USD",
        "issued_on": "2026-01-03",
        "invoice_id": "I",
        "reason": "price",
    },
    "invoice.voided": {"invoice_id": "I", "voided_on": "2026-01-04"},
    "invoice.written_off": {
        "invoice_id": "I",
        "written_off_on": "2026-03-01",
        "amount": "1.00",
        "reason": "small_balance",
    },
    "invoice.due_date_changed": {
        "invoice_id": "I",
        "due_date": "2026-02-28",
        "changed_on": "2026-01-20",
    },
    "payment.reversed": {"payment_id": "P", "reversed_on": "2026-01-09", "reason": "nsf"},
    "dispute.opened": {
        "dispute_id": "D",
        "invoice_id": "I",
        "opened_on": "2026-01-05",
        "amount": "4.00",
    },
    "dispute.resolved": {"dispute_id": "D", "resolved_on": "2026-01-25", "outcome": "upheld"},
    "promise_to_pay.made": {
        "promise_id": "PR",
        "amount": "10.00",
        "currency": "USD",
        "promised_on": "2026-02-10",
        "made_on": "2026-02-01",
        "invoice_ids": ["I"],
        "source": "portal",
    },
    "payment_plan.agreed": {
        "plan_id": "PL",
        "currency": "USD",
        "invoice_ids": ["I"],
        "instalments": [
            {"due_date": "2026-03-01", "amount": "5.00"},
            {"due_date": "2026-04-01", "amount": "5.00"},
        ],
        "agreed_on": "2026-02-15",
    },
    "collection.hold_set": {
        "hold_id": "H",
        "invoice_id": "I",
        "until": "2026-03-01",
        "reason": "legal",
    },
    "collection.hold_released": {"hold_id": "H"},
    "contact.outcome": {
        "action_event_id": "action-1",
        "outcome": "bounced",
        "at": "2026-02-02T10:00:00+00:00",
    },
    "customer.profile_updated": {
        "name": "Acme Ltd",
        "time_zone": "America/Los_Angeles",
        "country": "US",
        "customer_type": "enterprise",
        "credit_limit": {"USD": "50000.00", "JPY": "900000"},
        "credit_score": {"score": 71, "source": "bureau", "as_of": "2026-01-31"},
        "channels": ["email", "letter"],
        "do_not_contact": False,
    },
}


@pytest.mark.parametrize("event_type", sorted(_EVERY_INPUT))
def test_every_input_type_translates_to_its_fact_and_back(event_type: str) -> None:
    """to_fact, then fact_event (what a retraction's dead letter carries), gives the event."""
    document = {
        "event_id": f"e-{event_type}",
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": "2026-01-01T09:00:00+00:00",
        "customer_id": "cust-1",
        **_EVERY_INPUT[event_type],
    }
    parsed = parse_input(json.dumps(document).encode())
    assert not isinstance(parsed, Rejected), parsed.error
    fact = translate.to_fact(parsed)
    assert translate.EVENT_TYPE_OF[type(fact)] == event_type
    assert translate.fact_event(fact) == parsed
    assert json.loads(translate.fact_payload(fact)) == json.loads(
        parsed.model_dump_json(exclude_none=True)
    )


def test_every_contract_input_type_is_covered() -> None:
    assert set(_EVERY_INPUT) == set(events.INPUT_MODELS)


def test_unreadable_terms_are_named_and_the_invoice_is_kept() -> None:
    assert translate.terms_problem(translate.fact_event(inv("I", terms="2/10 net 30"))) is None
    assert translate.terms_problem(translate.fact_event(inv("I"))) is None
    problem = translate.terms_problem(translate.fact_event(inv("I", terms="net thirty")))
    assert problem is not None
    assert "'net thirty' is not a form arpulse reads" in problem
    assert "the invoice is kept with its due_date and no discount window" in problem
