"""Who the generated customers are: profiles, key accounts and forgotten invoices.

Each customer gets a `customer.profile_updated` (contract 1.1): a time zone and country that fit
its currency, a customer type, for most a credit limit and for many a credit score, and for a few
restricted channels or do-not-contact. Some profiles arrive only after the customer's first
invoices, and some customers get a second update (a score that fell, a raised limit) later.
A few customers are key accounts (invoices ten times larger), and a few otherwise reliable ones
forget one small invoice, the one-off an AR team knows well. All of it comes from a random
stream of its own, so the rest of the portfolio is drawn the same with or without it.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from processor.demo.events import PortfolioEvent, stamp
from schemas import topics

# (country, zone) per currency: where customers paying in it are.
_PLACES: dict[str, tuple[tuple[str, str], ...]] = {
    "USD": (
        ("US", "America/New_York"),
        ("US", "America/Chicago"),
        ("US", "America/Los_Angeles"),
        ("CA", "America/Toronto"),
    ),
    "EUR": (("DE", "Europe/Berlin"), ("FR", "Europe/Paris"), ("NL", "Europe/Amsterdam")),
    "GBP": (("GB", "Europe/London"),),
}
_TYPES = (
    ("smb", 0.6),
    ("enterprise", 0.2),
    ("reseller", 0.1),
    ("government", 0.05),
    ("institution", 0.05),
)
# Credit score ranges per payment profile (0 worst, 100 best).
_SCORES = {
    "on_time": (70, 95),
    "occasionally_late": (55, 85),
    "habitually_late": (35, 70),
    "delinquent": (10, 50),
}


def _profile_event(
    customer_id: str, on: date, seconds: int, key: str, **fields: Any
) -> PortfolioEvent:
    return PortfolioEvent(
        topics.CUSTOMER_PROFILES,
        customer_id,
        {
            "schema_version": 1,
            "customer_id": customer_id,
            "event_id": f"evt-{customer_id}-profile-{key}",
            "event_type": "customer.profile_updated",
            "occurred_at": stamp(on, seconds),
            **fields,
        },
        on,
    )


def _invoices(history: list[PortfolioEvent]) -> list[PortfolioEvent]:
    return [e for e in history if e.value["event_type"] == "invoice.issued"]


def with_profile(
    history: list[PortfolioEvent], kind: str, *, today: date, rng: random.Random
) -> list[PortfolioEvent]:
    """The customer's history with its profile updates (see the module docstring)."""
    invoices = _invoices(history)
    if not invoices:
        return history
    first = invoices[0]
    customer_id = first.key
    currency = str(first.value["currency"])
    country, zone = rng.choice(_PLACES.get(currency, (("US", "America/New_York"),)))
    fields: dict[str, Any] = {
        "name": first.value.get("customer_name"),
        "time_zone": zone,
        "country": country,
        "customer_type": rng.choices([t for t, _ in _TYPES], [w for _, w in _TYPES])[0],
    }
    average = sum((Decimal(e.value["amount"]) for e in invoices), Decimal(0)) / len(invoices)
    if rng.random() < 0.7:
        fields["credit_limit"] = {currency: str((average * rng.choice((3, 4, 6))).quantize(1))}
    low, high = _SCORES.get(kind, (40, 80))
    if rng.random() < 0.6:
        fields["credit_score"] = {"score": rng.randint(low, high), "source": "bureau"}
    roll = rng.random()
    if roll < 0.01:
        fields["do_not_contact"] = True
    elif roll < 0.08:
        fields["channels"] = ["email", "letter"]
    elif roll < 0.12:
        fields["channels"] = ["email", "phone"]
    issued_on = date.fromisoformat(first.value["issued_on"])
    # Most profiles are known before the first invoice; some arrive a month after it.
    on = issued_on - timedelta(days=1) if rng.random() < 0.8 else issued_on + timedelta(days=30)
    out = [_profile_event(customer_id, min(on, today), 5, "1", **fields)]
    if rng.random() < 0.15:
        later = today - timedelta(days=rng.randint(20, 120))
        if later > on:
            update: dict[str, Any] = {
                "credit_score": {"score": max(0, low - 10), "source": "bureau"}
            }
            if kind == "on_time":
                update = {"credit_limit": {currency: str((average * 9).quantize(1))}}
            out.append(_profile_event(customer_id, later, 6, "2", **update))
    return [*history, *out]


def key_account(history: list[PortfolioEvent]) -> list[PortfolioEvent]:
    """The same history with every amount ten times larger (a key account)."""
    out = []
    for event in history:
        if "amount" in event.value:
            value = dict(event.value, amount=str(Decimal(event.value["amount"]) * 10))
            event = replace(event, value=value)
        out.append(event)
    return out


def forgot_one(
    history: list[PortfolioEvent], *, today: date, rng: random.Random
) -> list[PortfolioEvent]:
    """One older invoice, small, is never paid (the platform's due notice still comes)."""
    candidates = [
        e
        for e in _invoices(history)
        if date.fromisoformat(e.value["due_date"]) <= today - timedelta(days=130)
    ]
    if not candidates:
        return history
    chosen = rng.choice(candidates)
    invoice_id = chosen.value["invoice_id"]
    small = Decimal(rng.randint(15_000, 240_000)).scaleb(-2)
    out = []
    for event in history:
        if event.value.get("invoice_id") != invoice_id:
            out.append(event)
        elif event.value["event_type"] == "invoice.issued":
            out.append(replace(event, value=dict(event.value, amount=str(small))))
        # the payment (and a due notice: one is added below) are dropped
    due = date.fromisoformat(chosen.value["due_date"])
    notice_on = due + timedelta(days=1)
    out.append(
        PortfolioEvent(
            topics.DUE_DATE_PASSED,
            chosen.key,
            {
                "schema_version": 1,
                "customer_id": chosen.key,
                "event_id": f"evt-{invoice_id}-due",
                "event_type": "invoice.due_date_passed",
                "occurred_at": stamp(notice_on, 30),
                "invoice_id": invoice_id,
                "due_date": due.isoformat(),
            },
            notice_on,
        )
    )
    return out
