"""Translation at the edge: contract events become domain facts field for field, and domain
outputs become contract events that validate against the contract's own models."""

from __future__ import annotations

import json
from decimal import Decimal

from processor.core import translate
from processor.domain.decide import on_event
from processor.domain.facts import DueDatePassed, InvoiceIssued, PaymentReceived
from processor.domain.state import CustomerState
from schemas import events
from schemas.validation import parse_input
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
    for fact, now in ((inv("A", due=30), at(0)), (due("A", on=30), at(31, hour=9))):
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
