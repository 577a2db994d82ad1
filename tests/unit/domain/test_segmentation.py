"""Segmentation as functions of the ledger, today and the policy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processor.domain.facts import Fact
from processor.domain.policy import Policy
from processor.domain.segmentation import (
    BehaviorFigures,
    aging_bucket,
    assess,
    behavior_class,
)
from processor.domain.state import CustomerState, apply
from tests.support.builders import CUSTOMER, day, inv, pay


def ledger(*facts: Fact):  # type: ignore[no-untyped-def]
    state = CustomerState(customer_id=CUSTOMER)
    for fact in facts:
        state = apply(state, fact)
    return state.ledger


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-120"),
        (120, "91-120"),
        (121, "120+"),
        (400, "120+"),
    ],
)
def test_aging_bucket_boundaries(days: int, bucket: str) -> None:
    assert aging_bucket(days) == bucket


@pytest.mark.parametrize(
    ("paid", "late", "average", "expected"),
    [
        (0, 0, "0", "new"),
        (2, 2, "40", "new"),
        (10, 0, "0", "on_time"),
        (10, 1, "5", "on_time"),
        (10, 2, "5", "occasionally_late"),
        (10, 4, "12", "occasionally_late"),
        (10, 5, "4.9", "occasionally_late"),  # half late, by a few days: not habitual
        (10, 10, "1", "occasionally_late"),  # a day late every time
        (10, 5, "5", "habitually_late"),
        (10, 10, "40", "habitually_late"),
        (10, 2, "30", "habitually_late"),
    ],
)
def test_behavior_class(paid: int, late: int, average: str, expected: str, policy: Policy) -> None:
    figures = BehaviorFigures(
        paid_invoices=paid, late_invoices=late, average_days_late=Decimal(average), max_days_late=0
    )
    assert behavior_class(figures, policy.behavior) == expected


def test_behavior_counts_days_late_per_paid_invoice_inside_the_window(policy: Policy) -> None:
    facts: list[Fact] = []
    for n, paid_after_due in enumerate([-3, 0, 10, 20]):
        facts.append(inv(f"I{n}", issued=30 * n, due=30 * n + 30))
        facts.append(pay(f"P{n}", "100.00", on=30 * n + 30 + paid_after_due, invoice_id=f"I{n}"))
    assessment = assess(ledger(*facts), day(200), policy)
    assert assessment.figures.paid_invoices == 4
    assert assessment.figures.late_invoices == 2
    assert assessment.figures.average_days_late == Decimal("15.0")
    assert assessment.figures.max_days_late == 20
    assert assessment.segment.behavior == "habitually_late"  # 2 of 4 late = 50 %
    # a year later the history has left the window
    assert assess(ledger(*facts), day(200 + 400), policy).segment.behavior == "new"


@pytest.mark.parametrize(
    ("amounts", "currency", "tier"),
    [
        (["1000.00"], "USD", "small"),
        (["20000.00", "5000.00"], "USD", "mid"),
        (["250000.00"], "USD", "key"),
        (["900000.00"], "SEK", "mid"),  # no thresholds of its own: USD's at the policy's rate
        (["200000.00"], "SEK", "small"),
        (["10000.000"], "KWD", "mid"),
        (["30000.00"], "GBP", "mid"),
    ],
)
def test_value_tier_by_amount_invoiced_per_currency(
    amounts: list[str], currency: str, tier: str, policy: Policy
) -> None:
    facts = [
        inv(f"I{n}", amount, issued=n, due=n + 30, currency=currency)
        for n, amount in enumerate(amounts)
    ]
    assert assess(ledger(*facts), day(60), policy).segment.value_tier == tier


@pytest.mark.parametrize(
    ("days_late", "risk", "priority"),
    # risk: days-late points + 10 (new); priority: aging points + risk x 0.3 (a minor stake)
    [(0, "low", 0), (5, "low", 10), (40, "low", 16), (75, "low", 23), (130, "medium", 36)],
)
def test_risk_and_priority_grow_with_the_oldest_unpaid_invoice(
    days_late: int, risk: str, priority: int, policy: Policy
) -> None:
    assessment = assess(ledger(inv("A", due=30)), day(30 + days_late), policy)
    assert assessment.segment.risk_bucket == risk
    assert assessment.segment.priority == priority


def test_nothing_past_due_means_priority_zero_and_current(policy: Policy) -> None:
    assessment = assess(ledger(inv("A", due=30)), day(29), policy)
    assert assessment.segment.aging_bucket == "current"
    assert assessment.segment.priority == 0
