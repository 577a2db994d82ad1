"""The facts the domain folds: invoices issued, payments received, due dates passed.

These mirror the contract's input events without depending on the wire format, so the domain
can be driven by the stream, by a simulation or by a test alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceIssued:
    """An invoice the customer owes."""

    event_id: str
    customer_id: str
    occurred_at: datetime
    invoice_id: str
    amount: Decimal
    currency: str
    issued_on: date
    due_date: date
    customer_name: str | None = None
    terms: str | None = None
    customer_timezone: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentReceived:
    """Cash from the customer, for one invoice or (without `invoice_id`) for the oldest due."""

    event_id: str
    customer_id: str
    occurred_at: datetime
    payment_id: str
    amount: Decimal
    currency: str
    received_on: date
    invoice_id: str | None = None
    method: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDatePassed:
    """The platform's word that an invoice's due date has passed."""

    event_id: str
    customer_id: str
    occurred_at: datetime
    invoice_id: str
    due_date: date


Fact = InvoiceIssued | PaymentReceived | DueDatePassed
