"""Timeline entries: an input event says what it names and amounts to; a decision's late flags,
actions and segment moves say what happened and why."""

from __future__ import annotations

import json

from processor.core.timeline import decision_entries, fact_entry
from processor.domain.decide import on_event
from processor.domain.state import CustomerState
from schemas.validation import parse_input
from tests.support.builders import CUSTOMER, at, day, due, inv
from tests.support.factories import payment
from tests.support.pipeline import POLICY


def test_a_payment_names_its_invoice_and_amount() -> None:
    raw = payment(CUSTOMER, "P-1", amount="40.50", received_on=day(3), invoice_id="A")
    parsed = parse_input(json.dumps(raw).encode(), expected_types=None, max_bytes=65536)
    entry = fact_entry(parsed)  # type: ignore[arg-type]
    assert entry["kind"] == "fact" and entry["event_id"] == raw["event_id"]
    assert entry["summary"] == f"payment.received: A, P-1, 40.50 USD, received on {day(3)}"
    assert entry["reason"] is None


def test_a_new_customer_s_segment_and_a_late_invoice_s_flag_and_action_come_with_reasons() -> None:
    issued = inv("A", "900.00", due=33)  # due on a Tuesday
    first = on_event(CustomerState(customer_id=CUSTOMER), issued, now=at(0), policy=POLICY)
    moved = [e for e in decision_entries(first.decisions[-1]) if e["kind"] == "segment"]
    assert moved and moved[0]["summary"].startswith("segment: ") and moved[0]["reason"]
    state = first.state
    progress = on_event(state, due("A", on=33), now=at(34), policy=POLICY)
    entries = decision_entries(progress.decisions[-1])  # earlier ones: wake-ups due before it
    kinds = {e["kind"] for e in entries}
    assert {"flag", "action"} <= kinds
    flag = next(e for e in entries if e["kind"] == "flag")
    assert flag["summary"].startswith("A late: 1 days past due, 900.00 USD outstanding")
    action = next(e for e in entries if e["kind"] == "action")
    assert action["reason"] and "A" in action["summary"]
    assert all(e["at"] == at(34).isoformat() for e in entries)
