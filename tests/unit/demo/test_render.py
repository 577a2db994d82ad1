"""The demo's terminal lines show what an action carries: a discount on offer, the fees stated."""

from __future__ import annotations

from typing import Any

from processor.demo.render import render

ACTION: dict[str, Any] = {
    "event_type": "collection.action_requested",
    "customer_id": "cust-1",
    "action": "reminder",
    "tone": "friendly",
    "channel": "email",
    "invoice_ids": ["INV-1"],
    "amount_outstanding": "1000.00",
    "currency": "USD",
    "priority": 7,
    "rule_id": "terms.discount_reminder",
}


def test_an_action_line_shows_the_discount_on_offer_and_the_fees() -> None:
    offer = {"invoice_id": "INV-1", "pay_by": "2026-01-11", "pay": "980.00", "saves": "20.00"}
    line = render({**ACTION, "discount_offers": [offer]})
    assert line is not None and line.endswith(
        "[terms.discount_reminder] offer: pay 980.00 by 2026-01-11, save 20.00"
    )
    fees = [{"total": "41.00"}, {"total": "2.50"}]
    line = render({**ACTION, "rule_id": "low.d1.reminder", "late_fees": fees})
    assert line is not None and line.endswith("[low.d1.reminder] fees 43.50 USD")
    plain = render(ACTION)
    assert plain is not None and plain.endswith("[terms.discount_reminder]")


def test_a_late_fee_assessment_has_a_line() -> None:
    line = render(
        {
            "event_type": "late_fee.assessed",
            "customer_id": "cust-1",
            "invoice_id": "INV-1",
            "amount": "44.17",
            "currency": "EUR",
            "as_of": "2026-12-16",
            "days_late": 15,
            "final": True,
        }
    )
    expected = "cust-1       INV-1 late fees 44.17 EUR to 2026-12-16 (15 days late, final)"
    assert line == f"FEE     {expected}"
