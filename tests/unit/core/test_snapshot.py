"""The customer snapshot: what any service reads about a customer, money as strings, as of a day."""

from __future__ import annotations

from processor.core.snapshot import customer_snapshot
from processor.domain.decide import on_event
from processor.domain.segmentation import assess
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER, at, day, due, inv, pay
from tests.support.pipeline import POLICY


def test_a_snapshot_shows_open_invoices_what_is_owed_and_the_segment() -> None:
    state = CustomerState(customer_id=CUSTOMER)
    for fact, now in (
        (inv("A", "100.00", due=30), at(0)),
        (inv("B", "50.00", issued=1, due=31, currency="EUR"), at(1)),
        (due("A", on=30), at(31)),
        (pay("P", "40.00", on=35, invoice_id="A"), at(35)),
    ):
        state = on_event(state, fact, now=now, policy=POLICY).state
    today = day(40)
    snapshot = customer_snapshot(state, assess(state.ledger, today, POLICY), today=today, at=at(40))

    assert snapshot["customer_id"] == CUSTOMER
    assert snapshot["outstanding"] == {"EUR": "50.00", "USD": "60.00"}
    by_id = {row["invoice_id"]: row for row in snapshot["open_invoices"]}
    assert by_id["A"]["outstanding"] == "60.00" and by_id["A"]["days_past_due"] == 10
    assert by_id["A"]["flagged"] == "due_date_event"
    assert by_id["B"]["days_past_due"] == 9
    assert by_id["B"]["flagged"] == "clock"  # no notice came: the clock found it late
    assert snapshot["segment"] is not None
    assert set(snapshot["segment"]) == {
        "aging_bucket",
        "behavior",
        "value_tier",
        "risk_bucket",
        "delinquency_type",
        "priority",
    }
    assert (snapshot["as_of"], snapshot["updated_at"]) == (today.isoformat(), at(40).isoformat())
    assert snapshot["invoices_total"] == 2


def test_an_invoice_not_yet_due_is_zero_days_past_due() -> None:
    state = on_event(
        CustomerState(customer_id=CUSTOMER), inv("A", due=30), now=at(0), policy=POLICY
    ).state
    assessment = assess(state.ledger, day(5), POLICY)
    snapshot = customer_snapshot(state, assessment, today=day(5), at=at(5))
    assert snapshot["open_invoices"][0]["days_past_due"] == 0
