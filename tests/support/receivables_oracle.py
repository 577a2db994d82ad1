"""An independent reckoning of the aging report and the collection figures, straight from events.

It shares no code with arpulse: a history whose every payment and credit names its invoice and
never pays more than it owes (so no allocation rule is needed), with due dates on weekdays (so
no calendar is needed), is replayed day by day with plain loops, and the figures are computed
by their textbook definitions. The tests compare what the worker, the HTTP report and
`simulate` say with this.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from schemas import topics

Event = tuple[str, dict[str, Any]]
BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "120+")
CENTS = Decimal("0.01")


@dataclass
class _Invoice:
    amount: Decimal
    issued_on: date
    due: date
    taken: list[tuple[date, Decimal]] = field(default_factory=list)  # paid, credited, written off

    def owed(self, day: date) -> Decimal:
        if self.issued_on > day:
            return Decimal(0)
        return self.amount - sum((a for on, a in self.taken if on <= day), Decimal(0))


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), tzinfo=UTC).isoformat()


def history(prefix: str, *, customers: int, end: date, seed: int = 7) -> list[Event]:
    """Invoices over the 200 days before `end`, paid in full, in part, late or not at all."""
    rng = random.Random(seed)
    events: list[Event] = []
    for n in range(customers):
        customer = f"{prefix}-c{n:03d}"
        for k in range(rng.randint(2, 6)):
            issued = end - timedelta(days=rng.randint(5, 200))
            due = _weekday(issued + timedelta(days=30))
            amount = Decimal(rng.randint(10_000, 900_000)) / 100
            invoice_id = f"{customer}-I{k}"
            events.append((topics.INVOICE_ISSUED, {
                "event_id": f"{invoice_id}-issued", "event_type": "invoice.issued",
                "schema_version": 1, "occurred_at": _at(issued, 9), "customer_id": customer,
                "invoice_id": invoice_id, "amount": str(amount), "currency": "USD",
                "issued_on": issued.isoformat(), "due_date": due.isoformat(),
            }))  # fmt: skip
            left = amount
            kind = rng.random()
            if kind < 0.15:  # a credit note for part of it
                part = (amount * Decimal(rng.randint(5, 30)) / 100).quantize(CENTS)
                on = issued + timedelta(days=rng.randint(1, 20))
                if on < end:
                    events.append((topics.INVOICE_ADJUSTMENTS, {
                        "event_id": f"{invoice_id}-cn", "event_type": "credit_note.issued",
                        "schema_version": 1, "occurred_at": _at(on, 10), "customer_id": customer,
                        "credit_note_id": f"{invoice_id}-CN", "amount": str(part),
                        "currency": "USD", "issued_on": on.isoformat(), "invoice_id": invoice_id,
                    }))  # fmt: skip
                    left -= part
            if kind < 0.75:  # paid, on time or late, in one or two payments
                on = due + timedelta(days=rng.randint(-20, 70))
                parts = [left] if rng.random() < 0.7 else [(left / 2).quantize(CENTS)]
                for p, amount_paid in enumerate(parts):
                    day = on + timedelta(days=10 * p)
                    if day >= end or day < issued:
                        continue
                    events.append((topics.PAYMENT_RECEIVED, {
                        "event_id": f"{invoice_id}-pay{p}", "event_type": "payment.received",
                        "schema_version": 1, "occurred_at": _at(day, 11), "customer_id": customer,
                        "payment_id": f"{invoice_id}-P{p}", "amount": str(amount_paid),
                        "currency": "USD", "received_on": day.isoformat(),
                        "invoice_id": invoice_id,
                    }))  # fmt: skip
    events.sort(key=lambda item: (item[1]["occurred_at"], item[1]["event_id"]))
    return events


@dataclass
class Reckoning:
    """The figures on one day, worked the long way."""

    aging: dict[str, Decimal]
    receivables: Decimal
    current: Decimal
    credit_sales: Decimal
    beginning: Decimal
    dso_simple: Decimal | None
    dso_countback: Decimal
    cei: Decimal | None
    over_90_share: Decimal | None


def reckon(events: list[Event], day: date, *, window_days: int = 90) -> Reckoning:
    """The portfolio's figures on `day`, in USD, from the events alone."""
    invoices: dict[str, _Invoice] = {}
    for _, e in events:
        if e["event_type"] == "invoice.issued":
            invoices[e["invoice_id"]] = _Invoice(
                Decimal(e["amount"]),
                date.fromisoformat(e["issued_on"]),
                date.fromisoformat(e["due_date"]),
            )
    for _, e in events:
        if e["event_type"] == "payment.received":
            on = date.fromisoformat(e["received_on"])
        elif e["event_type"] == "credit_note.issued":
            on = date.fromisoformat(e["issued_on"])
        else:
            continue
        invoices[e["invoice_id"]].taken.append((on, Decimal(e["amount"])))
    aging = dict.fromkeys(BUCKETS, Decimal(0))
    for inv in invoices.values():
        owed = inv.owed(day)
        late = (day - inv.due).days
        if owed:
            edges = [(0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")]
            aging[next((name for upper, name in edges if late <= upper), "120+")] += owed
    receivables = sum(aging.values(), Decimal(0))
    current = aging["current"]
    start = day - timedelta(days=window_days)
    sales = sum((i.amount for i in invoices.values() if start < i.issued_on <= day), Decimal(0))
    beginning = sum((i.owed(start) for i in invoices.values()), Decimal(0))
    over_90 = aging["91-120"] + aging["120+"]
    # countback, day by day in 30-day periods back from `day`
    left, days = receivables, Decimal(0)
    for period in range(12):
        through = day - timedelta(days=30 * period)
        period_sales = sum(
            (
                i.amount
                for i in invoices.values()
                if through - timedelta(30) < i.issued_on <= through
            ),
            Decimal(0),
        )
        if period_sales and left <= period_sales:
            days += left / period_sales * 30
            left = Decimal(0)
            break
        left -= period_sales
        days += 30
    tenth = Decimal("0.1")
    collectible = beginning + sales - current
    return Reckoning(
        aging=aging,
        receivables=receivables,
        current=current,
        credit_sales=sales,
        beginning=beginning,
        dso_simple=(receivables / sales * window_days).quantize(tenth, ROUND_HALF_UP)
        if sales
        else None,
        dso_countback=days.quantize(tenth, ROUND_HALF_UP),
        cei=((beginning + sales - receivables) / collectible * 100).quantize(tenth, ROUND_HALF_UP)
        if collectible > 0
        else None,
        over_90_share=(over_90 / receivables).quantize(Decimal("0.001"), ROUND_HALF_UP)
        if receivables
        else None,
    )
