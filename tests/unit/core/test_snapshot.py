"""The customer snapshot: what any service reads about a customer, money as strings, as of a day."""

from __future__ import annotations

from decimal import Decimal

from processor.core.snapshot import customer_snapshot
from processor.domain.calendar import customer_calendar
from processor.domain.decide import on_event
from processor.domain.policy import LateFeePolicy
from processor.domain.receivables import share
from processor.domain.segmentation import assess
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER, at, day, dispute, due, inv, pay
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


def test_a_snapshot_shows_terms_the_discount_open_fees_accrued_and_discounts_taken() -> None:
    policy = POLICY.model_copy(update={"late_fees": LateFeePolicy(fixed={"USD": Decimal("40.00")})})
    state = CustomerState(customer_id=CUSTOMER)
    for fact, now in (
        (inv("A", "1000.00", terms="2/10 net 30"), at(0)),
        (pay("P", "980.00", on=4, invoice_id="A"), at(4)),
        (inv("B", "500.00", issued=30, due=60, terms="2/10 net 30"), at(30)),
        (inv("C", "200.00", issued=1, due=31), at(1)),
    ):
        state = on_event(state, fact, now=now, policy=policy).state
    today = day(35)
    snapshot = customer_snapshot(
        state, assess(state.ledger, today, policy), today=today, at=at(35), policy=policy
    )
    by_id = {row["invoice_id"]: row for row in snapshot["open_invoices"]}
    assert by_id["B"]["terms"] == "2/10 net 30"
    assert by_id["B"]["discount"] == {
        "pay_by": day(40).isoformat(),
        "pay": "490.00",
        "saves": "10.00",
    }
    assert "late_fees" not in by_id["B"]  # not due yet
    assert by_id["C"]["late_fees"] == {
        "fixed": "40.00",
        "interest": "0.00",
        "total": "40.00",
        "days_late": 3,  # due on Sunday 2026-02-01, payable by Monday
        "capped": False,
    }
    assert snapshot["late_fees"] == {"USD": "40.00"}
    assert snapshot["discounts_taken"] == [
        {
            "invoice_id": "A",
            "discount": "20.00",
            "currency": "USD",
            "settled_on": day(4).isoformat(),
        }
    ]


def test_a_snapshot_shows_the_customer_s_aging_row_per_currency() -> None:
    """A: 100 due on day 30, 40 paid on day 35, disputed in part; B: 50 EUR due on day 80. On
    day 75, A is 45 days past due (31-60) and B is current; the disputed part is a memo."""
    state = CustomerState(customer_id=CUSTOMER)
    decision = None
    for fact, now in (
        (inv("A", "100.00", due=30), at(0)),
        (inv("B", "50.00", issued=50, due=80, currency="EUR"), at(50)),
        (pay("P", "40.00", on=35, invoice_id="A"), at(35)),
        (dispute("D", invoice_id="A", on=60, amount="25.00"), at(60)),
    ):
        progress = on_event(state, fact, now=now, policy=POLICY)
        state, decision = progress.state, progress.decisions[-1]
    assert decision is not None
    today = day(75)
    calendar = customer_calendar(state.profile, POLICY)
    snapshot = customer_snapshot(
        state,
        assess(state.ledger, today, POLICY),
        today=today,
        at=at(75),
        receivables=share(state, decision.owed, calendar),
    )
    usd, eur = snapshot["aging"]["USD"], snapshot["aging"]["EUR"]
    assert (usd["31-60"], usd["total"], usd["current"], usd["disputed"]) == (
        "60.00",
        "60.00",
        "0.00",
        "25.00",
    )
    assert (eur["current"], eur["total"], eur["1-30"]) == ("50.00", "50.00", "0.00")
