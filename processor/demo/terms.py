"""Payment terms in the generated portfolio: some customers are offered an early-payment discount.

About one customer in five buys on `2/10 net 30` (2 % off when paid within ten days of the issue
date). Reliable payers take the discount on most invoices (they pay 98 % within the window),
occasional slippers on some, and the rest pay as they always do. From a random stream of its
own, so the rest of the portfolio is drawn the same with or without it.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from processor.demo.events import PortfolioEvent, stamp

DISCOUNT_TERMS = "2/10 net 30"
_SHARE = Decimal("0.02")
_TAKES = {"on_time": 0.7, "occasionally_late": 0.35, "habitually_late": 0.05}


def with_terms(
    history: list[PortfolioEvent], profile: str, *, today: date, rng: random.Random
) -> list[PortfolioEvent]:
    """The customer's history on discount terms (for some customers; see the module)."""
    if rng.random() >= 0.2:
        return history
    takes = _TAKES.get(profile, 0.0)
    issued: dict[str, PortfolioEvent] = {}
    out = []
    for event in history:
        kind = event.value["event_type"]
        if kind == "invoice.issued":
            issued[event.value["invoice_id"]] = event
            event = replace(event, value={**event.value, "terms": DISCOUNT_TERMS})
        elif (
            kind == "payment.received"
            and event.value.get("invoice_id") in issued
            and rng.random() < takes
        ):
            event = _discounted(event, issued[event.value["invoice_id"]], today, rng)
        out.append(event)
    # Without the full payment there is no due notice: a discounted invoice is paid early.
    paid_early = {
        e.value["invoice_id"]
        for e in out
        if e.value["event_type"] == "payment.received" and e.value.get("terms_taken")
    }
    return [
        _plain(e)
        for e in out
        if not (
            e.value["event_type"] == "invoice.due_date_passed"
            and e.value["invoice_id"] in paid_early
        )
    ]


def _discounted(
    payment: PortfolioEvent, invoice: PortfolioEvent, today: date, rng: random.Random
) -> PortfolioEvent:
    issued_on = date.fromisoformat(invoice.value["issued_on"])
    paid_on = min(issued_on + timedelta(days=rng.randint(3, 10)), today)
    amount = Decimal(invoice.value["amount"])
    discount = (amount * _SHARE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return replace(
        payment,
        value={
            **payment.value,
            "amount": str(amount - discount),
            "received_on": paid_on.isoformat(),
            # The seconds the payment had on its own day (distinct per invoice), on the new day.
            "occurred_at": stamp(paid_on, 60 + int(invoice.value["invoice_id"][-3:]) - 1),
            "terms_taken": True,
        },
        on=paid_on,
    )


def _plain(event: PortfolioEvent) -> PortfolioEvent:
    """The event without the generator's own marker."""
    if "terms_taken" not in event.value:
        return event
    value = {k: v for k, v in event.value.items() if k != "terms_taken"}
    return replace(event, value=value)
