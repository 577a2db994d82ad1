"""Domain facts for unit tests, with dates given as day offsets from a fixed origin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from processor.domain.facts import DueDatePassed, InvoiceIssued, PaymentReceived

ORIGIN = date(2026, 1, 1)
CUSTOMER = "cust-1"


def day(n: int) -> date:
    """The date `n` days after the origin."""
    return ORIGIN + timedelta(days=n)


def at(n: int, hour: int = 12) -> datetime:
    """Noon UTC on day `n`."""
    return datetime.combine(day(n), time(hour), tzinfo=UTC)


def inv(
    invoice_id: str,
    amount: str = "100.00",
    *,
    issued: int = 0,
    due: int = 30,
    currency: str = "USD",
    event_id: str | None = None,
    customer_timezone: str | None = None,
) -> InvoiceIssued:
    """An invoice issued on day `issued`, due on day `due`."""
    return InvoiceIssued(
        event_id=event_id or f"e-{invoice_id}",
        customer_id=CUSTOMER,
        occurred_at=at(issued),
        invoice_id=invoice_id,
        amount=Decimal(amount),
        currency=currency,
        issued_on=day(issued),
        due_date=day(due),
        customer_timezone=customer_timezone,
    )


def pay(
    payment_id: str,
    amount: str,
    *,
    on: int,
    invoice_id: str | None = None,
    currency: str = "USD",
    event_id: str | None = None,
) -> PaymentReceived:
    """A payment received on day `on`."""
    return PaymentReceived(
        event_id=event_id or f"e-{payment_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on),
        payment_id=payment_id,
        amount=Decimal(amount),
        currency=currency,
        received_on=day(on),
        invoice_id=invoice_id,
    )


def due(invoice_id: str, *, on: int = 30, event_id: str | None = None) -> DueDatePassed:
    """The due-date-passed notice of an invoice due on day `on`."""
    return DueDatePassed(
        event_id=event_id or f"e-due-{invoice_id}",
        customer_id=CUSTOMER,
        occurred_at=at(on + 1),
        invoice_id=invoice_id,
        due_date=day(on),
    )
