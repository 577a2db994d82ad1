"""Promises to pay and plan instalments: kept, broken or still pending on a given day.

A commitment is kept once the customer's payments towards it (in its currency, received from the
day it was made, naming one of its invoices or none, not reversed) reach what it promised; it is
broken when its date plus the policy's grace has passed without that. A plan's n-th instalment
is kept when the payments reach the plan's instalments 1..n. While pending, a commitment covers
what it promises: that part of its invoices is not chased (`processor.domain.owed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from processor.domain.collection import Collection, Plan, Promise
from processor.domain.ledger import ZERO, Ledger


@dataclass(frozen=True, slots=True, kw_only=True)
class Commitment:
    """One promise or instalment, as it stands on a day."""

    commitment_id: str
    kind: str  # "promise" or "instalment"
    amount: Decimal
    currency: str
    due: date
    deadline: date  # due + grace: broken after this day
    status: str | None  # "kept", "broken", or None while pending
    invoice_ids: tuple[str, ...]
    since: date  # the day it was made or agreed
    # What it still covers while pending (promised or scheduled, not yet paid).
    covers: Decimal


def _paid_towards(
    ledger: Ledger, currency: str, invoice_ids: tuple[str, ...], since: date, until: date
) -> Decimal:
    """Payments towards a commitment received in [since, until]."""
    total = ZERO
    named = set(invoice_ids)
    for payment in ledger.payments.values():
        if (
            payment.currency == currency
            and since <= payment.received_on <= until
            and (payment.invoice_id is None or not named or payment.invoice_id in named)
            and payment.payment_id not in ledger.reversals
        ):
            total += payment.amount
    return total


def _settled(ledger: Ledger, invoice_ids: Iterable[str], by: date) -> bool:
    """True when every named invoice was settled by `by` (paid, credited or voided by then)."""
    ids = list(invoice_ids)
    return bool(ids) and all(
        (b := ledger.balances.get(i)) is not None
        and b.is_paid
        and b.settled_on is not None
        and b.settled_on <= by
        for i in ids
    )


def _promise(ledger: Ledger, promise: Promise, today: date, grace: int) -> Commitment:
    deadline = promise.promised_on + timedelta(days=grace)
    paid = _paid_towards(
        ledger, promise.currency, promise.invoice_ids, promise.made_on, min(today, deadline)
    )
    status: str | None = None
    if paid >= promise.amount or _settled(ledger, promise.invoice_ids, min(today, deadline)):
        status = "kept"
    elif today > deadline:
        status = "broken"
    return Commitment(
        commitment_id=promise.promise_id,
        kind="promise",
        amount=promise.amount,
        currency=promise.currency,
        due=promise.promised_on,
        deadline=deadline,
        status=status,
        invoice_ids=promise.invoice_ids,
        since=promise.made_on,
        covers=ZERO if status is not None else max(ZERO, promise.amount - paid),
    )


def _instalments(ledger: Ledger, plan: Plan, today: date, grace: int) -> list[Commitment]:
    found = []
    cumulative = ZERO
    for n, part in enumerate(plan.instalments, start=1):
        cumulative += part.amount
        deadline = part.due_date + timedelta(days=grace)
        settled = _settled(ledger, plan.invoice_ids, min(today, deadline))
        paid = _paid_towards(
            ledger, plan.currency, plan.invoice_ids, plan.agreed_on, min(today, deadline)
        )
        status: str | None = None
        if paid >= cumulative or settled:
            status = "kept"
        elif today > deadline:
            status = "broken"
        found.append(
            Commitment(
                commitment_id=f"{plan.plan_id}#{n}",
                kind="instalment",
                amount=part.amount,
                currency=plan.currency,
                due=part.due_date,
                deadline=deadline,
                status=status,
                invoice_ids=plan.invoice_ids,
                since=plan.agreed_on,
                covers=part.amount if status is None else ZERO,
            )
        )
    return found


def commitments(
    ledger: Ledger, collection: Collection, today: date, grace: int
) -> list[Commitment]:
    """Every promise and instalment as it stands on `today`, by id."""
    found = [_promise(ledger, p, today, grace) for p in collection.promises.values()]
    for plan in collection.plans.values():
        found += _instalments(ledger, plan, today, grace)
    return sorted(found, key=lambda c: c.commitment_id)


def broken_in_window(found: Iterable[Commitment], today: date, window_days: int) -> int:
    """Broken commitments whose date is within the behaviour window (they count against it)."""
    since = today - timedelta(days=window_days)
    return sum(1 for c in found if c.status == "broken" and since < c.due <= today)
