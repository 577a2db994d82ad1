"""A synthetic, reproducible portfolio of customers and their event history.

Profiles follow what AR teams see: reliable payers, occasional slips, chronic late payers and
customers who stop paying. Dates are relative to `today`, so the history always looks current.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from schemas import topics

PROFILES = (
    ("on_time", 0.45),
    ("occasionally_late", 0.25),
    ("habitually_late", 0.18),
    ("delinquent", 0.12),
)
_CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP")
_NAMES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Massive Dynamic",
    "Aperture",
)
_SUFFIXES = ("Ltd", "GmbH", "Inc", "BV", "SA", "plc", "LLC")


@dataclass(frozen=True, slots=True)
class PortfolioEvent:
    """One input event: its topic, key and JSON body, and the business date it happens on."""

    topic: str
    key: str
    value: dict[str, Any]
    on: date
    profile: str = ""


def _stamp(day: date, seconds: int) -> str:
    moment = datetime.combine(day, time(8, 0), tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.isoformat()


def _late_days(profile: str, rng: random.Random) -> int | None:
    """Days after the due date the invoice gets paid (negative: early); None: never."""
    roll = rng.random()
    if profile == "on_time":
        return -rng.randint(0, 10) if roll < 0.97 else rng.randint(1, 4)
    if profile == "occasionally_late":
        return rng.randint(3, 25) if roll < 0.3 else -rng.randint(0, 5)
    if profile == "habitually_late":
        return rng.randint(15, 60) if roll < 0.75 else rng.randint(0, 5)
    return None if roll < 0.6 else rng.randint(30, 90)


def customer_history(
    customer_id: str, profile: str, *, today: date, rng: random.Random, invoices: int = 8
) -> list[PortfolioEvent]:
    """Invoices issued every ~30 days up to today, their payments and due-date notices."""
    currency = rng.choice(_CURRENCIES)
    name = f"{rng.choice(_NAMES)} {rng.choice(_SUFFIXES)} #{customer_id[-4:]}"
    history: list[PortfolioEvent] = []
    start = today - timedelta(days=30 * invoices + rng.randint(0, 20))
    for n in range(invoices):
        issued = start + timedelta(days=30 * n + rng.randint(0, 5))
        if issued > today:
            break
        due = issued + timedelta(days=30)
        invoice_id = f"INV-{customer_id[-4:]}-{n + 1:03d}"
        amount = Decimal(rng.randint(20_000, 4_000_000)).scaleb(-2)
        common = {"schema_version": 1, "customer_id": customer_id}
        history.append(
            PortfolioEvent(
                topics.INVOICE_ISSUED,
                customer_id,
                {
                    **common,
                    "event_id": f"evt-{invoice_id}-issued",
                    "event_type": "invoice.issued",
                    "occurred_at": _stamp(issued, n),
                    "invoice_id": invoice_id,
                    "amount": str(amount),
                    "currency": currency,
                    "issued_on": issued.isoformat(),
                    "due_date": due.isoformat(),
                    "customer_name": name,
                    "terms": "net-30",
                },
                issued,
            )
        )
        delay = _late_days(profile, rng)
        paid_on = None if delay is None else due + timedelta(days=delay)
        if paid_on is not None and paid_on <= today:
            history.append(
                PortfolioEvent(
                    topics.PAYMENT_RECEIVED,
                    customer_id,
                    {
                        **common,
                        "event_id": f"evt-{invoice_id}-paid",
                        "event_type": "payment.received",
                        "occurred_at": _stamp(paid_on, 60 + n),
                        "payment_id": f"PAY-{invoice_id[4:]}",
                        "amount": str(amount),
                        "currency": currency,
                        "received_on": paid_on.isoformat(),
                        "invoice_id": invoice_id,
                        "method": rng.choice(("ach", "wire", "card")),
                    },
                    paid_on,
                )
            )
        notice_on = due + timedelta(days=1)
        if notice_on <= today and (paid_on is None or paid_on > due):
            history.append(
                PortfolioEvent(
                    topics.DUE_DATE_PASSED,
                    customer_id,
                    {
                        **common,
                        "event_id": f"evt-{invoice_id}-due",
                        "event_type": "invoice.due_date_passed",
                        "occurred_at": _stamp(notice_on, 30 + n),
                        "invoice_id": invoice_id,
                        "due_date": due.isoformat(),
                    },
                    notice_on,
                )
            )
    return history


def portfolio(
    *, customers: int, today: date, seed: int = 7, invoices: int = 8
) -> Iterator[PortfolioEvent]:
    """Every customer's history, merged in business-date order (as the platform would emit it)."""
    rng = random.Random(seed)
    events: list[PortfolioEvent] = []
    names = [p for p, _ in PROFILES]
    weights = [w for _, w in PROFILES]
    for index in range(customers):
        profile = rng.choices(names, weights)[0]
        customer_id = f"cust-{index + 1:05d}"
        history = customer_history(customer_id, profile, today=today, rng=rng, invoices=invoices)
        events += [replace(event, profile=profile) for event in history]
    events.sort(key=lambda e: (e.on, e.value["occurred_at"], e.key))
    yield from events


def bad_events() -> list[tuple[str, str | None, bytes]]:
    """A few invalid inputs (topic, key, raw bytes) so the demo shows the dead letters."""
    return [
        (topics.INVOICE_ISSUED, "cust-bad", b"this is not json"),
        (
            topics.PAYMENT_RECEIVED,
            "cust-00001",
            b'{"event_id":"evt-bad-float","event_type":"payment.received","schema_version":1,'
            b'"occurred_at":"2026-01-01T00:00:00+00:00","customer_id":"cust-00001",'
            b'"payment_id":"PAY-X","amount":12.5,"currency":"USD","received_on":"2026-01-01"}',
        ),
        (topics.DUE_DATE_PASSED, None, b'{"event_type":"invoice.lost"}'),
    ]
