"""Contract events as JSON-ready dicts, for tests that speak the wire format."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

_counter = itertools.count(1)


def _common(customer_id: str, event_id: str | None, event_type: str) -> dict[str, Any]:
    return {
        "event_id": event_id or f"evt-{next(_counter)}-{customer_id}",
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "customer_id": customer_id,
    }


def invoice(
    customer_id: str,
    invoice_id: str,
    *,
    amount: str = "1000.00",
    currency: str = "USD",
    issued_on: date,
    due_date: date,
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An `invoice.issued` event."""
    return {
        **_common(customer_id, event_id, "invoice.issued"),
        "invoice_id": invoice_id,
        "amount": amount,
        "currency": currency,
        "issued_on": issued_on.isoformat(),
        "due_date": due_date.isoformat(),
        **extra,
    }


def payment(
    customer_id: str,
    payment_id: str,
    *,
    amount: str,
    received_on: date,
    currency: str = "USD",
    invoice_id: str | None = None,
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A `payment.received` event."""
    body = {
        **_common(customer_id, event_id, "payment.received"),
        "payment_id": payment_id,
        "amount": amount,
        "currency": currency,
        "received_on": received_on.isoformat(),
        **extra,
    }
    if invoice_id is not None:
        body["invoice_id"] = invoice_id
    return body


def due_passed(
    customer_id: str, invoice_id: str, *, due_date: date, event_id: str | None = None
) -> dict[str, Any]:
    """An `invoice.due_date_passed` event."""
    return {
        **_common(customer_id, event_id, "invoice.due_date_passed"),
        "invoice_id": invoice_id,
        "due_date": due_date.isoformat(),
    }


def days_ago(days: int, today: date | None = None) -> date:
    """A date relative to today (UTC)."""
    return (today or datetime.now(UTC).date()) - timedelta(days=days)


def last_weekday(days: int = 1) -> date:
    """The latest Monday-to-Friday at least `days` days ago (UTC).

    A due date on a weekend is payable on the next business day (the default policy), so an
    invoice meant to be late now must fall due on a weekday.
    """
    due = days_ago(days)
    while due.weekday() >= 5:
        due -= timedelta(days=1)
    return due


def days_late(due: date) -> int:
    """Days past due today (UTC) of a due date kept as it is."""
    return (datetime.now(UTC).date() - due).days


def late_invoice(
    customer_id: str, invoice_id: str = "INV-1", *, issued_days_ago: int = 31, **extra: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An invoice due yesterday, and the platform's notice for it.

    Its notice, not the clock, makes it late on a worker whose policy keeps a weekend due date
    as it is (`harness.notice_policy`): the default would move a Saturday or Sunday due date to
    Monday, and a Friday one is past the clock's grace on Monday.
    """
    due = days_ago(1)
    return (
        invoice(
            customer_id, invoice_id, issued_on=days_ago(issued_days_ago), due_date=due, **extra
        ),
        due_passed(customer_id, invoice_id, due_date=due),
    )


def event(customer_id: str, event_type: str, **fields: Any) -> dict[str, Any]:
    """Any contract event (1.1's included): the common fields plus `fields`, dates as ISO text."""
    body = _common(customer_id, None, event_type)
    for name, value in fields.items():
        body[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return body
