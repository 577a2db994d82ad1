"""The facts the domain folds: a receivable's whole life, as the contract (1.1) states it.

These mirror the contract's input events without depending on the wire format, so the domain
can be driven by the stream, by a simulation or by a test alike. Money facts (invoices, payments,
credit notes, voids, write-offs, due-date changes, reversals, due notices) go to the ledger;
collection facts (disputes, promises, plans, holds, contact outcomes) say what may be chased;
the customer's profile says who the customer is (zone, country, limits, score, channels).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import get_args


@dataclass(frozen=True, slots=True, kw_only=True)
class _Fact:
    event_id: str
    customer_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceIssued(_Fact):
    """An invoice the customer owes."""

    invoice_id: str
    amount: Decimal
    currency: str
    issued_on: date
    due_date: date
    customer_name: str | None = None
    terms: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentReceived(_Fact):
    """Cash from the customer, for one invoice or (without `invoice_id`) for the oldest due."""

    payment_id: str
    amount: Decimal
    currency: str
    received_on: date
    invoice_id: str | None = None
    method: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDatePassed(_Fact):
    """The platform's word that an invoice's due date has passed."""

    invoice_id: str
    due_date: date


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNoteIssued(_Fact):
    """A credit: reduces the named invoice, or (unnamed) is applied like cash on account."""

    credit_note_id: str
    amount: Decimal
    currency: str
    issued_on: date
    invoice_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceVoided(_Fact):
    """The invoice is cancelled: never owed, never paid, says nothing about behaviour."""

    invoice_id: str
    voided_on: date
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceWrittenOff(_Fact):
    """What is still owed (or `amount` of it) will not be collected."""

    invoice_id: str
    written_off_on: date
    amount: Decimal | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDateChanged(_Fact):
    """An agreed new due date (earlier or later)."""

    invoice_id: str
    due_date: date
    changed_on: date
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentReversed(_Fact):
    """A payment bounced or was refunded: what it paid is owed again."""

    payment_id: str
    reversed_on: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeOpened(_Fact):
    """The customer contests an invoice (or `amount` of it): that part is not chased."""

    dispute_id: str
    invoice_id: str
    opened_on: date
    amount: Decimal | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeResolved(_Fact):
    """`upheld`: the customer was right (an adjustment follows); `rejected`: collection resumes."""

    dispute_id: str
    resolved_on: date
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PromiseMade(_Fact):
    """The customer will pay `amount` by `promised_on`: not chased until then (plus grace)."""

    promise_id: str
    amount: Decimal
    currency: str
    promised_on: date
    made_on: date
    invoice_ids: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Instalment:
    """One dated part of a payment plan."""

    due_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanAgreed(_Fact):
    """The plan's invoices are paid by instalments: each is chased only once it is due."""

    plan_id: str
    currency: str
    invoice_ids: tuple[str, ...]
    instalments: tuple[Instalment, ...]
    agreed_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldSet(_Fact):
    """Collection paused for one invoice (or the whole customer), until released or `until`."""

    hold_id: str
    reason: str
    invoice_id: str | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldReleased(_Fact):
    """The hold ends: collection resumes with the rung the invoices have reached."""

    hold_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactOutcome(_Fact):
    """What came of a published action (the notification service's report)."""

    action_event_id: str
    outcome: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditScore:
    """A credit bureau's (or the team's own) score of the customer: 0 worst, 100 best."""

    score: int
    source: str | None = None
    as_of: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileUpdated(_Fact):
    """What the platform knows of the customer; None: absent, the stored value stays."""

    name: str | None = None
    time_zone: str | None = None
    country: str | None = None
    customer_type: str | None = None
    # Currency -> the credit the customer is allowed (replaced as a whole when present).
    credit_limit: tuple[tuple[str, Decimal], ...] | None = None
    credit_score: CreditScore | None = None
    # Allowed customer-facing channels (empty: none); None: absent.
    channels: frozenset[str] | None = None
    do_not_contact: bool | None = None


MoneyFact = (
    InvoiceIssued
    | PaymentReceived
    | DueDatePassed
    | CreditNoteIssued
    | InvoiceVoided
    | InvoiceWrittenOff
    | DueDateChanged
    | PaymentReversed
)
CollectionFact = (
    DisputeOpened
    | DisputeResolved
    | PromiseMade
    | PlanAgreed
    | HoldSet
    | HoldReleased
    | ContactOutcome
)
Fact = MoneyFact | CollectionFact | ProfileUpdated
# The money facts as a tuple of classes, for isinstance (the union above, not a second list).
MONEY_FACTS: tuple[type, ...] = get_args(MoneyFact)
