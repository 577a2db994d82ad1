"""A customer's receivables ledger as a pure fold: ``record(ledger, fact) -> ledger``.

The ledger keeps the money facts (invoices, payments, credit notes, write-offs, voids, due-date
changes, reversals, due notices) and derives every balance from them in one canonical pass
ordered by business date, never by arrival order. That is what makes it order-tolerant: a
payment before its invoice, a reversal before its payment or a credit note before its invoice
ends in exactly the state the in-order stream gives.

Outstanding = amount - payments - credits - write-offs; a reversed payment pays nothing from its
reversal date on; a voided invoice owes nothing and what was applied to it goes back to the pool.
Allocation rules (docs/contract.md):
- a payment or credit note naming an invoice pays that invoice (from the later of its own date
  and the invoice's issue date); any excess goes to the customer's open invoices of that
  currency, oldest due date first, and the rest is cash on account;
- a payment or credit note without an invoice, cash on account, and what a void or a reversal
  frees go the same way: open invoices of the currency, oldest due date first;
- a payment or credit note naming an invoice not seen yet, or one in another currency, is
  unapplied cash: kept, shown, not spent, until its invoice arrives (or for ever if the currency
  differs: someone must reconcile it);
- a write-off takes what is still owed (or its `amount`, at most that) on its date;
- a reversal undoes exactly what its payment paid, on whichever invoices it went to;
- a due-date change moves the invoice's due date (the latest change wins); a due notice that
  matches neither the issued nor the current due date contradicts the invoice.

Two versions of one invoice: the one earlier in business time (`occurred_at`, then `event_id`)
stands, the other is refused (`DomainError`) or, when it came first, retracted (`Retraction`:
the shell dead-letters it). A companion that contradicts an invoice it arrived before (a due
notice with another date, a due-date change before the issue date, an amount finer than the
invoice's currency) is retracted when the invoice arrives: the invoice always stands.

Retention (`processor.domain.retention`) may archive the past. The derivation then starts at
`archived_through` from what the archived facts left: the cash on account (`opening_credit`) and
what was applied to invoices still owing (`opening_paid`). Archived invoices leave their id and
currency (`archived_invoices`), so that a later payment naming one is still applied as the whole
history would apply it. A new fact dated on or before `archived_through` is refused, since it
could re-deliver an archived one, unless it can be applied exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from processor.domain.errors import DomainError
from processor.domain.facts import (
    CreditNoteIssued,
    DueDateChanged,
    DueDatePassed,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    MoneyFact,
    PaymentReceived,
    PaymentReversed,
)
from processor.domain.memo import IdentityMemo
from processor.domain.money import fits
from processor.domain.terms import Terms, terms_of

ZERO = Decimal("0")
# The source key of what archived history left (cash, for the rules: never a reversal's target).
OPENING = "p*opening"

ClosedBy = Literal["paid", "credited", "written_off", "voided"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice:
    """An issued invoice, with its current due date (`issued_due`: as issued, when moved)."""

    invoice_id: str
    event_id: str
    amount: Decimal
    currency: str
    issued_on: date
    due_date: date
    occurred_at: datetime | None = None
    issued_due: date | None = None
    # The terms when they grant an early-payment discount (None: no discount window).
    terms: Terms | None = None

    @property
    def original_due(self) -> date:
        """The due date the invoice was issued with."""
        return self.due_date if self.issued_due is None else self.issued_due


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """A received payment (a fact)."""

    payment_id: str
    event_id: str
    amount: Decimal
    currency: str
    received_on: date
    invoice_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNote:
    """An issued credit note (a fact): applied like a payment, counted as credit, not cash."""

    credit_note_id: str
    event_id: str
    amount: Decimal
    currency: str
    issued_on: date
    invoice_id: str | None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOff:
    """A write-off of an invoice (a fact); `amount` None: everything still owed."""

    event_id: str
    invoice_id: str
    written_off_on: date
    amount: Decimal | None
    reason: str | None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Void:
    """An invoice's void (a fact)."""

    event_id: str
    voided_on: date
    reason: str | None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DueChange:
    """The due-date change in force for an invoice (the latest by `changed_on`, then id)."""

    event_id: str
    due_date: date
    changed_on: date
    reason: str | None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reversal:
    """A payment's reversal (a fact)."""

    event_id: str
    reversed_on: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DueNotice:
    """The platform's due-date-passed notice for an invoice (`occurred_at`: kept to retract it)."""

    event_id: str
    due_date: date
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """What is applied to and owed on one invoice (derived)."""

    paid: Decimal
    outstanding: Decimal
    last_paid_on: date | None = None
    settled_on: date | None = None
    credited: Decimal = ZERO
    written_off: Decimal = ZERO
    closed_by: ClosedBy | None = None
    # The early-payment discount the customer took (its terms' window; closed_by "paid").
    discounted: Decimal = ZERO

    @property
    def is_paid(self) -> bool:
        """True once nothing is owed (paid, credited, written off or voided)."""
        return self.outstanding == ZERO

    @property
    def voided(self) -> bool:
        """True when the invoice was voided: it is in no figure."""
        return self.closed_by == "voided"


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchivedInvoice:
    """What the ledger remembers of an archived (settled) invoice, for payments still naming it."""

    currency: str
    settled_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """What archived payments and credits applied to an invoice still owing when archived."""

    paid: Decimal
    last_paid_on: date | None
    credited: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class Unapplied:
    """Cash (or credit) that could not be applied: why, and how much."""

    source: str  # "payment" or "credit_note"
    source_id: str
    amount: Decimal
    currency: str
    received_on: date
    invoice_id: str | None
    reason: Literal["unknown_invoice", "currency"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retraction:
    """A fact recorded earlier that the invoice it named contradicts: dead-letter it, undone."""

    fact: MoneyFact
    field: str
    problem: str


@dataclass(frozen=True, slots=True, kw_only=True, weakref_slot=True)
class Ledger:
    """Facts plus the balances derived from them."""

    invoices: Mapping[str, Invoice] = field(default_factory=dict)
    payments: Mapping[str, Payment] = field(default_factory=dict)
    due_notices: Mapping[str, DueNotice] = field(default_factory=dict)
    balances: Mapping[str, Balance] = field(default_factory=dict)
    credit: Mapping[str, Decimal] = field(default_factory=dict)
    # Payments and credit notes off the timeline ("p:<id>" / "c:<id>"): see `unapplied()`.
    held: tuple[str, ...] = ()
    credit_notes: Mapping[str, CreditNote] = field(default_factory=dict)
    write_offs: Mapping[str, WriteOff] = field(default_factory=dict)  # by event id
    voids: Mapping[str, Void] = field(default_factory=dict)  # by invoice id
    due_changes: Mapping[str, DueChange] = field(default_factory=dict)  # by invoice id
    reversals: Mapping[str, Reversal] = field(default_factory=dict)  # by payment id
    # Retention: facts dated on or before this day were archived (None: nothing archived) ...
    archived_through: date | None = None
    # ... leaving this cash on account per currency, where the derivation of the rest starts,
    opening_credit: Mapping[str, Decimal] = field(default_factory=dict)
    # ... and this applied to (kept) invoices that still owed something then.
    opening_paid: Mapping[str, Opening] = field(default_factory=dict)
    # Archived invoices a later payment may still name.
    archived_invoices: Mapping[str, ArchivedInvoice] = field(default_factory=dict)

    def open_invoices(self) -> list[Invoice]:
        """Unpaid invoices, oldest due date first."""
        return sorted(
            (inv for inv in self.invoices.values() if not self.balances[inv.invoice_id].is_paid),
            key=_due_order,
        )

    def outstanding_by_currency(self) -> dict[str, Decimal]:
        """Total owed per currency (currencies are never added together)."""
        totals: dict[str, Decimal] = {}
        for inv in self.invoices.values():
            owed = self.balances[inv.invoice_id].outstanding
            if owed > ZERO:
                totals[inv.currency] = totals.get(inv.currency, ZERO) + owed
        return totals

    def unapplied(self) -> list[Unapplied]:
        """The cash and credit that could not be applied (unknown invoice, other currency)."""
        found = []
        for key in self.held:
            source = self.held_source(key)
            if isinstance(source, Payment):
                if source.payment_id in self.reversals:
                    continue  # reversed: it was never cash
                kind, source_id, on = "payment", source.payment_id, source.received_on
            else:
                kind, source_id, on = "credit_note", source.credit_note_id, source.issued_on
            named = source.invoice_id
            found.append(
                Unapplied(
                    source=kind,
                    source_id=source_id,
                    amount=source.amount,
                    currency=source.currency,
                    received_on=on,
                    invoice_id=named,
                    reason="unknown_invoice" if named not in self.invoices else "currency",
                )
            )
        return found

    def held_source(self, key: str) -> Payment | CreditNote:
        """The payment ("p:<id>") or credit note ("c:<id>") a key of `held` names."""
        if key[0] == "p":
            return self.payments[key[2:]]
        return self.credit_notes[key[2:]]

    @property
    def plain(self) -> bool:
        """True with only invoices, payments and due notices (the quick paths apply)."""
        return not (
            self.credit_notes or self.write_offs or self.voids or self.due_changes or self.reversals
        )


def _due_order(invoice: Invoice) -> tuple[date, date, str]:
    return (invoice.due_date, invoice.issued_on, invoice.invoice_id)


def fact_date(ledger: Ledger, fact: MoneyFact) -> date:
    """The business date a money fact takes on the ledger's timeline (what retention archives by).

    An invoice: its issue date. A due notice: its due date. A payment or credit note: its own
    date, or its invoice's issue date if that is later (it cannot pay an invoice before it
    exists); likewise a write-off, void or due-date change. A reversal: its date, or its
    payment's if later.
    """
    if isinstance(fact, InvoiceIssued):
        return fact.issued_on
    if isinstance(fact, DueDatePassed):
        return fact.due_date
    if isinstance(fact, PaymentReversed):
        payment = ledger.payments.get(fact.payment_id)
        if payment is None:
            return fact.reversed_on
        return max(fact.reversed_on, payment_date(payment, ledger) or payment.received_on)
    if isinstance(fact, PaymentReceived):
        on = fact.received_on
    elif isinstance(fact, CreditNoteIssued):
        on = fact.issued_on
    elif isinstance(fact, InvoiceVoided):
        on = fact.voided_on
    elif isinstance(fact, InvoiceWrittenOff):
        on = fact.written_off_on
    else:
        on = fact.changed_on
    target = None if fact.invoice_id is None else ledger.invoices.get(fact.invoice_id)
    return on if target is None else max(on, target.issued_on)


def record(ledger: Ledger, fact: MoneyFact) -> tuple[Ledger, tuple[Retraction, ...]]:
    """Add one fact and re-derive balances; returns the ledger and any facts it retracts.

    Raises DomainError when the fact itself contradicts what is held (nothing changes then).
    A fact that repeats one already held (same business id, same content) changes nothing.
    A fact dated on or before `archived_through` is refused (see `_refuse_archived`).
    """
    _refuse_archived(ledger, fact)
    if isinstance(fact, InvoiceIssued):
        return _record_invoice(ledger, fact)
    if isinstance(fact, PaymentReceived):
        return _record_payment(ledger, fact), ()
    if isinstance(fact, DueDatePassed):
        return _record_due_notice(ledger, fact), ()
    if isinstance(fact, CreditNoteIssued):
        return _record_credit_note(ledger, fact), ()
    if isinstance(fact, PaymentReversed):
        return _record_reversal(ledger, fact), ()
    return _record_invoice_change(ledger, fact), ()


# The business-date field of each money fact, as a refusal names it.
_DATE_FIELD: dict[type, str] = {
    InvoiceIssued: "issued_on",
    PaymentReceived: "received_on",
    DueDatePassed: "due_date",
    CreditNoteIssued: "issued_on",
    InvoiceVoided: "voided_on",
    InvoiceWrittenOff: "written_off_on",
    DueDateChanged: "changed_on",
    PaymentReversed: "reversed_on",
}


def _refuse_archived(ledger: Ledger, fact: MoneyFact) -> None:
    """Refuse a fact dated in the archived past: it may re-deliver a fact no longer held.

    Its effect would fall before the opening balances (or it would re-apply an archived payment),
    so it can be neither applied exactly nor recognised as a repeat. What the ledger still holds
    is let through (a repeat of a kept invoice or payment, a fact about a kept invoice), and so
    is a payment for a kept invoice that it does not overpay: that is applied exactly. A void of
    an archived invoice is refused whatever its date: what it would undo is gone.
    """
    if isinstance(fact, InvoiceVoided) and fact.invoice_id in ledger.archived_invoices:
        raise DomainError(
            "invoice_id",
            f"invoice {fact.invoice_id!r} was settled and archived (policy history.retain_days);"
            " a void that late must be handled by hand",
        )
    through = ledger.archived_through
    if through is None or fact_date(ledger, fact) > through or _still_held(ledger, fact, through):
        return
    name = _DATE_FIELD[type(fact)]
    raise DomainError(
        name,
        f"{getattr(fact, name)} is on or before {through}, the end of this customer's archived "
        "history (policy history.retain_days); a fact that old can no longer be told apart from "
        "a re-delivery of an archived one",
    )


def _still_held(ledger: Ledger, fact: MoneyFact, through: date) -> bool:
    """True when an early-dated fact is about what the ledger still holds (applied exactly)."""
    if isinstance(fact, PaymentReceived):
        return fact.payment_id in ledger.payments or _absorbed(ledger, fact, through)
    if isinstance(fact, CreditNoteIssued):
        return fact.credit_note_id in ledger.credit_notes
    if isinstance(fact, PaymentReversed):
        return fact.payment_id in ledger.payments
    return fact.invoice_id in ledger.invoices


def _absorbed(ledger: Ledger, fact: PaymentReceived, through: date) -> bool:
    """True when an early-dated payment names a kept invoice and pays no more than it owed.

    Then, in the whole history, the payment would only have added to that invoice's paid amount
    (never overflowing to other invoices or to the cash on account), which is what applying it
    on top of the opening balances does. A re-delivered archived payment never passes: the
    payments the opening balances hold were all for other invoices, or unnamed.
    """
    invoice = None if fact.invoice_id is None else ledger.invoices.get(fact.invoice_id)
    if invoice is None or invoice.currency != fact.currency or not ledger.plain:
        return False
    opening = ledger.opening_paid.get(invoice.invoice_id)
    owed = invoice.amount - (ZERO if opening is None else opening.paid + opening.credited)
    for payment in ledger.payments.values():
        if payment.invoice_id == invoice.invoice_id and payment.received_on <= through:
            owed -= payment.amount
    return fact.amount <= owed


def _version_key(invoice: Invoice) -> tuple[datetime | None, str]:
    return (invoice.occurred_at, invoice.event_id)


def _earlier(fact: InvoiceIssued, known: Invoice) -> bool:
    """True when `fact` is the earlier version in business time (occurred_at, then event_id)."""
    if known.occurred_at is None:
        return False  # a version recorded before versions were kept stands
    return (fact.occurred_at, fact.event_id) < (known.occurred_at, known.event_id)


def _supersedes(known: Invoice, fact: InvoiceIssued) -> Retraction | None:
    """Another version of a held invoice: which one stands.

    None if it is the same; the retraction of the held one if the new one is earlier in business
    time; DomainError if the held one stands.
    """
    if (known.amount, known.currency, known.issued_on, known.original_due) == (
        fact.amount,
        fact.currency,
        fact.issued_on,
        fact.due_date,
    ) and _discount_key(known.terms) == _discount_key(terms_of(fact.terms)):
        return None
    if not _earlier(fact, known):
        raise DomainError(
            "invoice_id",
            f"invoice {fact.invoice_id!r} was already issued with different terms "
            f"({_describe(known)}; event {known.event_id}); the version earlier in business "
            "time stands, and an issued invoice changes only by a credit note or a due-date "
            "change",
        )
    return Retraction(
        fact=_invoice_fact(known, fact.customer_id),
        field="invoice_id",
        problem=(
            f"invoice {fact.invoice_id!r} was issued earlier in business time with "
            f"different terms ({_describe(fact)}; event {fact.event_id}), which stands"
        ),
    )


def _discount_key(terms: Terms | None) -> tuple[object, ...] | None:
    """What terms mean for the ledger (two spellings of `2/10 net 30` are the same terms)."""
    if terms is None:
        return None
    return (terms.percent, terms.within_days, terms.end_of_month)


def _describe(invoice: Invoice | InvoiceIssued) -> str:
    due = invoice.original_due if isinstance(invoice, Invoice) else invoice.due_date
    return f"{invoice.amount} {invoice.currency}, issued {invoice.issued_on}, due {due}"


def _record_invoice(ledger: Ledger, fact: InvoiceIssued) -> tuple[Ledger, tuple[Retraction, ...]]:
    known = ledger.invoices.get(fact.invoice_id)
    retracted: list[Retraction] = []
    if known is not None:
        superseded = _supersedes(known, fact)
        if superseded is None:
            return ledger, ()
        retracted.append(superseded)
    archived = ledger.archived_invoices.get(fact.invoice_id)
    if archived is not None:
        raise DomainError(
            "invoice_id",
            f"invoice {fact.invoice_id!r} was already issued, and settled on {archived.settled_on}"
            " (archived)",
        )
    issued = Invoice(
        invoice_id=fact.invoice_id,
        event_id=fact.event_id,
        amount=fact.amount,
        currency=fact.currency,
        issued_on=fact.issued_on,
        due_date=fact.due_date,
        occurred_at=fact.occurred_at,
        terms=terms_of(fact.terms),
    )
    invoice, companions = _companions(ledger, issued, fact.customer_id, fact.event_id)
    retracted += companions.retracted
    due_notices, write_offs, due_changes = (
        companions.due_notices,
        companions.write_offs,
        companions.due_changes,
    )
    invoices = {**ledger.invoices, fact.invoice_id: invoice}
    updated = _with(
        ledger,
        invoices=invoices,
        due_notices=due_notices,
        write_offs=write_offs,
        due_changes=due_changes,
    )
    if (
        known is None
        and ledger.plain
        and not updated.due_changes
        and not updated.write_offs
        and invoice.terms is None  # cash on account applies source by source to a discount
        and _strictly_last(ledger, invoice.issued_on)
        and not any(ledger.held_source(k).invoice_id == invoice.invoice_id for k in ledger.held)
    ):
        return _settle_last_invoice(updated, invoice), tuple(retracted)
    return settle(updated), tuple(retracted)


@dataclass(slots=True)
class _Companions:
    """An arriving invoice's companions, with those that contradict it taken out."""

    due_notices: dict[str, DueNotice]
    write_offs: dict[str, WriteOff]
    due_changes: dict[str, DueChange]
    retracted: list[Retraction]


def _companions(
    ledger: Ledger, issued: Invoice, customer_id: str, event_id: str
) -> tuple[Invoice, _Companions]:
    """Check the facts that named an invoice before it arrived: the invoice always stands.

    A due-date change before its issue date, a due notice matching neither due date, a write-off
    finer than its currency: each is retracted (semantics 7). Returns the invoice with the due
    date in force, and what is left.
    """
    invoice_id = issued.invoice_id
    found = _Companions(
        dict(ledger.due_notices), dict(ledger.write_offs), dict(ledger.due_changes), []
    )
    change = found.due_changes.get(invoice_id)
    if change is not None and change.due_date < issued.issued_on:
        del found.due_changes[invoice_id]
        found.retracted.append(
            Retraction(
                fact=_change_fact(change, invoice_id, customer_id),
                field="due_date",
                problem=f"{change.due_date} is before invoice {invoice_id!r}'s issue date "
                f"{issued.issued_on}",
            )
        )
        change = None
    invoice = _with_due(issued, change)
    notice = found.due_notices.get(invoice_id)
    if notice is not None and notice.due_date not in (invoice.due_date, issued.due_date):
        del found.due_notices[invoice_id]
        found.retracted.append(
            Retraction(
                fact=DueDatePassed(
                    event_id=notice.event_id,
                    customer_id=customer_id,
                    occurred_at=notice.occurred_at or datetime.min,
                    invoice_id=invoice_id,
                    due_date=notice.due_date,
                ),
                field="due_date",
                problem=f"{notice.due_date} does not match invoice {invoice_id!r}'s due "
                f"date {invoice.due_date} (the invoice, event {event_id}, stands)",
            )
        )
    elif notice is not None and notice.occurred_at is not None:
        found.due_notices[invoice_id] = DueNotice(
            event_id=notice.event_id, due_date=notice.due_date
        )
    for key, off in list(found.write_offs.items()):
        if (
            off.invoice_id == invoice_id
            and off.amount is not None
            and not fits(off.amount, issued.currency)
        ):
            del found.write_offs[key]
            found.retracted.append(
                Retraction(
                    fact=_write_off_fact(off, customer_id),
                    field="amount",
                    problem=f"{off.amount} has more decimals than invoice {invoice_id!r}'s "
                    f"currency {issued.currency} allows",
                )
            )
    return invoice, found


def _with_due(invoice: Invoice, change: DueChange | None) -> Invoice:
    """The invoice with the due-date change in force applied (as issued without one)."""
    if change is None or change.due_date == invoice.original_due:
        return _issued(invoice)
    return Invoice(
        invoice_id=invoice.invoice_id,
        event_id=invoice.event_id,
        amount=invoice.amount,
        currency=invoice.currency,
        issued_on=invoice.issued_on,
        due_date=change.due_date,
        occurred_at=invoice.occurred_at,
        issued_due=invoice.original_due,
        terms=invoice.terms,
    )


def _issued(invoice: Invoice) -> Invoice:
    if invoice.issued_due is None:
        return invoice
    return Invoice(
        invoice_id=invoice.invoice_id,
        event_id=invoice.event_id,
        amount=invoice.amount,
        currency=invoice.currency,
        issued_on=invoice.issued_on,
        due_date=invoice.issued_due,
        occurred_at=invoice.occurred_at,
        terms=invoice.terms,
    )


def _invoice_fact(invoice: Invoice, customer_id: str) -> InvoiceIssued:
    return InvoiceIssued(
        event_id=invoice.event_id,
        customer_id=customer_id,
        occurred_at=invoice.occurred_at or datetime.min,
        invoice_id=invoice.invoice_id,
        amount=invoice.amount,
        currency=invoice.currency,
        issued_on=invoice.issued_on,
        due_date=invoice.original_due,
        terms=None if invoice.terms is None else invoice.terms.text,
    )


def _change_fact(change: DueChange, invoice_id: str, customer_id: str) -> DueDateChanged:
    return DueDateChanged(
        event_id=change.event_id,
        customer_id=customer_id,
        occurred_at=change.occurred_at or datetime.min,
        invoice_id=invoice_id,
        due_date=change.due_date,
        changed_on=change.changed_on,
        reason=change.reason,
    )


def _write_off_fact(off: WriteOff, customer_id: str) -> InvoiceWrittenOff:
    return InvoiceWrittenOff(
        event_id=off.event_id,
        customer_id=customer_id,
        occurred_at=off.occurred_at or datetime.min,
        invoice_id=off.invoice_id,
        written_off_on=off.written_off_on,
        amount=off.amount,
        reason=off.reason,
    )


def _record_payment(ledger: Ledger, fact: PaymentReceived) -> Ledger:
    payment = Payment(
        payment_id=fact.payment_id,
        event_id=fact.event_id,
        amount=fact.amount,
        currency=fact.currency,
        received_on=fact.received_on,
        invoice_id=fact.invoice_id,
    )
    known = ledger.payments.get(fact.payment_id)
    if known is not None:
        if (known.amount, known.currency, known.received_on, known.invoice_id) != (
            payment.amount,
            payment.currency,
            payment.received_on,
            payment.invoice_id,
        ):
            raise DomainError(
                "payment_id",
                f"payment {fact.payment_id!r} was already received with different details "
                f"({known.amount} {known.currency} on {known.received_on})",
            )
        return ledger
    payments = {**ledger.payments, fact.payment_id: payment}
    updated = _with(ledger, payments=payments)
    when = payment_date(payment, updated)
    if when is None:  # unapplied until its invoice arrives (or for good: another currency)
        return _with(updated, held=tuple(sorted((*ledger.held, f"p:{fact.payment_id}"))))
    if (
        ledger.plain
        and payment.payment_id not in ledger.reversals
        and _comes_last(ledger, (when, 2, payment.payment_id))
        and (ledger.archived_through is None or when > ledger.archived_through)
    ):
        return _settle_last_payment(updated, payment, when)
    return settle(updated)


def _record_credit_note(ledger: Ledger, fact: CreditNoteIssued) -> Ledger:
    note = CreditNote(
        credit_note_id=fact.credit_note_id,
        event_id=fact.event_id,
        amount=fact.amount,
        currency=fact.currency,
        issued_on=fact.issued_on,
        invoice_id=fact.invoice_id,
        reason=fact.reason,
    )
    known = ledger.credit_notes.get(fact.credit_note_id)
    if known is not None:
        if (known.amount, known.currency, known.issued_on, known.invoice_id) != (
            note.amount,
            note.currency,
            note.issued_on,
            note.invoice_id,
        ):
            raise DomainError(
                "credit_note_id",
                f"credit note {fact.credit_note_id!r} was already issued with different details "
                f"({known.amount} {known.currency} on {known.issued_on})",
            )
        return ledger
    return settle(_with(ledger, credit_notes={**ledger.credit_notes, fact.credit_note_id: note}))


def _record_reversal(ledger: Ledger, fact: PaymentReversed) -> Ledger:
    if fact.payment_id in ledger.reversals:
        return ledger  # reversed already: a second report of it changes nothing
    reversal = Reversal(event_id=fact.event_id, reversed_on=fact.reversed_on, reason=fact.reason)
    return settle(_with(ledger, reversals={**ledger.reversals, fact.payment_id: reversal}))


def _record_invoice_change(
    ledger: Ledger, fact: InvoiceVoided | InvoiceWrittenOff | DueDateChanged
) -> Ledger:
    invoice = ledger.invoices.get(fact.invoice_id)
    if fact.invoice_id in ledger.archived_invoices:
        return ledger  # settled and archived: nothing is owed for a write-off or a new date
    if isinstance(fact, InvoiceVoided):
        if fact.invoice_id in ledger.voids:
            return ledger
        void = Void(
            event_id=fact.event_id,
            voided_on=fact.voided_on,
            reason=fact.reason,
            occurred_at=fact.occurred_at,
        )
        return settle(_with(ledger, voids={**ledger.voids, fact.invoice_id: void}))
    if isinstance(fact, InvoiceWrittenOff):
        if (
            invoice is not None
            and fact.amount is not None
            and not fits(fact.amount, invoice.currency)
        ):
            raise DomainError(
                "amount",
                f"{fact.amount} has more decimals than invoice {fact.invoice_id!r}'s currency "
                f"{invoice.currency} allows",
            )
        off = WriteOff(
            event_id=fact.event_id,
            invoice_id=fact.invoice_id,
            written_off_on=fact.written_off_on,
            amount=fact.amount,
            reason=fact.reason,
            occurred_at=fact.occurred_at,
        )
        return settle(_with(ledger, write_offs={**ledger.write_offs, fact.event_id: off}))
    if invoice is not None and fact.due_date < invoice.issued_on:
        raise DomainError(
            "due_date",
            f"{fact.due_date} is before invoice {fact.invoice_id!r}'s issue date "
            f"{invoice.issued_on}",
        )
    change = DueChange(
        event_id=fact.event_id,
        due_date=fact.due_date,
        changed_on=fact.changed_on,
        reason=fact.reason,
        occurred_at=fact.occurred_at,
    )
    current = ledger.due_changes.get(fact.invoice_id)
    if current is not None and (current.changed_on, current.event_id) > (
        change.changed_on,
        change.event_id,
    ):
        return ledger  # a later change is in force already
    due_changes = {**ledger.due_changes, fact.invoice_id: change}
    invoices = ledger.invoices
    if invoice is not None:
        invoices = {**invoices, fact.invoice_id: _with_due(invoice, change)}
    return settle(_with(ledger, invoices=invoices, due_changes=due_changes))


def _record_due_notice(ledger: Ledger, fact: DueDatePassed) -> Ledger:
    invoice = ledger.invoices.get(fact.invoice_id)
    if invoice is not None and fact.due_date not in (invoice.due_date, invoice.original_due):
        raise DomainError(
            "due_date",
            f"{fact.due_date} does not match invoice {fact.invoice_id!r}'s due date "
            f"{invoice.due_date}",
        )
    if fact.invoice_id in ledger.due_notices:
        return ledger
    notice = DueNotice(
        event_id=fact.event_id,
        due_date=fact.due_date,
        occurred_at=fact.occurred_at if invoice is None else None,
    )
    return _with(ledger, due_notices={**ledger.due_notices, fact.invoice_id: notice})


@dataclass(slots=True)
class _Applied:
    """What one source (payment, credit note, opening) applied to an invoice, and when last."""

    amount: Decimal
    on: date | None


@dataclass(slots=True)
class _Cash:
    """Cash on account from one source, waiting for an invoice of its currency."""

    key: str
    amount: Decimal


_Pool = dict[str, list[_Cash]]


@dataclass(slots=True)
class _Open:
    """Mutable working balance of one invoice during a settlement pass."""

    invoice: Invoice
    paid: Decimal = ZERO
    last_paid_on: date | None = None
    settled_on: date | None = None
    credited: Decimal = ZERO
    written_off: Decimal = ZERO
    closed_by: ClosedBy | None = None
    # What each source applied here: key ("p:<id>", "c:<id>", OPENING).
    sources: dict[str, _Applied] = field(default_factory=dict)
    opening_last_paid: date | None = None
    discounted: Decimal = ZERO
    # Archived history paid on it and it still owed at the cut: no discount up to that day.
    no_discount_through: date | None = None
    # (date, amount) of what cash, discounts and write-offs took off the invoice, when kept
    # (`owed_history`: the late fees' interest runs on it).
    log: list[tuple[date, Decimal]] | None = None
    # (date, amount) of the credit applied to it, when kept (`owed_changes`; reversals subtract).
    credit_log: list[tuple[date, Decimal]] | None = None

    @property
    def owed(self) -> Decimal:
        if self.closed_by == "voided":
            return ZERO
        return self.invoice.amount - self.paid - self.credited - self.written_off - self.discounted

    def pay(self, amount: Decimal, on: date, key: str) -> Decimal:
        """Apply up to `amount` from source `key`; return what is left over.

        Within its terms' discount window an invoice asks only its discounted price: cash that
        reaches it settles the invoice, the discount is taken, and the rest goes on.
        """
        if self.closed_by == "voided":
            return amount
        cash = key[0] == "p"
        owed = self.owed
        discount = self._discount_on(on) if cash and self.invoice.terms is not None else ZERO
        take = min(amount, owed if amount < owed - discount else owed - discount)
        if take <= ZERO and not discount:
            return amount
        if take > ZERO:
            self._apply(take, on, key, cash)
        if self.invoice.terms is not None and self.owed > ZERO:
            # Credit after cash in the window may bring the rest down to the discount too.
            self._take_discount(discount if cash else self._discount_on(self.last_paid_on), on)
        if self.owed == ZERO:
            # The latest payment on it: `on` in a pass in date order, also when it starts from
            # opening balances and a payment dated before them completes the invoice.
            if cash:
                self.settled_on = on if self.last_paid_on is None else self.last_paid_on
                self.closed_by = "paid"
            else:
                self.settled_on = on if self.last_paid_on is None else max(on, self.last_paid_on)
                self.closed_by = "credited"
        return amount - take

    def _apply(self, take: Decimal, on: date, key: str, cash: bool) -> None:
        if cash:
            self.paid += take
            self.last_paid_on = on if self.last_paid_on is None else max(self.last_paid_on, on)
            if self.log is not None:
                self.log.append((on, take))
        else:
            self.credited += take
            if self.credit_log is not None:
                self.credit_log.append((on, take))
        entry = self.sources.get(key)
        if entry is None:
            self.sources[key] = _Applied(take, on)
        else:
            entry.amount += take
            entry.on = on

    def _discount_on(self, cash_on: date | None) -> Decimal:
        """The discount cash applied on `cash_on` earns (0 outside the terms' window).

        The terms' percentage of what the invoice asks (its amount less its credit so far),
        rounded half up to the currency's minor unit, and never more than is owed.
        """
        terms = self.invoice.terms
        if terms is None or cash_on is None:
            return ZERO
        if self.no_discount_through is not None and cash_on <= self.no_discount_through:
            return ZERO
        until = terms.discount_until(self.invoice.issued_on)
        if until is None or cash_on > until:
            return ZERO
        allowed = terms.discount(self.invoice.amount - self.credited, self.invoice.currency)
        return min(allowed, self.owed)

    def _take_discount(self, allowed: Decimal, on: date) -> None:
        """What is left, when no more than the discount, is the discount taken."""
        owed = self.owed
        if ZERO < owed <= allowed:
            self.discounted = owed
            if self.log is not None:
                self.log.append((on, owed))

    def undo(self, key: str, on: date) -> None:
        """Take back everything source `key` applied (its payment was reversed on `on`).

        A discount taken goes with it: the payments left no longer earned it in the window.
        """
        entry = self.sources.pop(key, None)
        if entry is None:
            return
        amount = entry.amount
        if key[0] == "p":
            if self.log is not None:
                self.log.append((on, -amount - self.discounted))
            self.discounted = ZERO
            self.paid -= amount
            dates = [e.on for k, e in self.sources.items() if k[0] == "p" and e.on is not None]
            if self.opening_last_paid is not None:
                dates.append(self.opening_last_paid)
            self.last_paid_on = max(dates, default=None)
        else:
            self.credited -= amount
            if self.credit_log is not None:
                self.credit_log.append((on, -amount))
        if self.owed > ZERO and self.closed_by in ("paid", "credited", "written_off"):
            self.settled_on = None
            self.closed_by = None

    def write_off(self, amount: Decimal | None, on: date) -> None:
        """Write off `amount` (None: all that is owed), at most what is owed."""
        owed = self.owed
        if owed <= ZERO:
            return
        take = owed if amount is None else min(amount, owed)
        self.written_off += take
        if self.log is not None:
            self.log.append((on, take))
        if self.owed == ZERO:
            self.settled_on = on
            self.closed_by = "written_off"


def settle(ledger: Ledger) -> Ledger:
    """Derive every balance from the facts in one pass ordered by business date.

    Same-day ties put invoices first, then credit notes, payments, write-offs, reversals and
    voids; ids break the remaining ties so the result never depends on arrival order. The pass
    starts from what archived history left (`opening_credit`, `opening_paid`).
    """
    working, pool, held = _derive(ledger, ledger)
    return _with(ledger, balances=_balances(working), credit=_totals(pool), held=held)


def _with(
    ledger: Ledger,
    *,
    invoices: Mapping[str, Invoice] | None = None,
    payments: Mapping[str, Payment] | None = None,
    due_notices: Mapping[str, DueNotice] | None = None,
    balances: Mapping[str, Balance] | None = None,
    credit: Mapping[str, Decimal] | None = None,
    held: tuple[str, ...] | None = None,
    credit_notes: Mapping[str, CreditNote] | None = None,
    write_offs: Mapping[str, WriteOff] | None = None,
    voids: Mapping[str, Void] | None = None,
    due_changes: Mapping[str, DueChange] | None = None,
    reversals: Mapping[str, Reversal] | None = None,
) -> Ledger:
    """The ledger with some facts or derived values replaced (a cheaper `dataclasses.replace`)."""
    return Ledger(
        invoices=ledger.invoices if invoices is None else invoices,
        payments=ledger.payments if payments is None else payments,
        due_notices=ledger.due_notices if due_notices is None else due_notices,
        balances=ledger.balances if balances is None else balances,
        credit=ledger.credit if credit is None else credit,
        held=ledger.held if held is None else held,
        credit_notes=ledger.credit_notes if credit_notes is None else credit_notes,
        write_offs=ledger.write_offs if write_offs is None else write_offs,
        voids=ledger.voids if voids is None else voids,
        due_changes=ledger.due_changes if due_changes is None else due_changes,
        reversals=ledger.reversals if reversals is None else reversals,
        archived_through=ledger.archived_through,
        opening_credit=ledger.opening_credit,
        opening_paid=ledger.opening_paid,
        archived_invoices=ledger.archived_invoices,
    )


def _strictly_last(ledger: Ledger, day: date) -> bool:
    """True when `day` is after every entry the ledger's pass went through."""
    for inv in ledger.invoices.values():
        if inv.issued_on >= day:
            return False
    for pay in ledger.payments.values():
        when = payment_date(pay, ledger)
        if when is not None and when >= day:
            return False
    return True


def _comes_last(ledger: Ledger, key: tuple[date, int, str]) -> bool:
    """True when a new timeline entry sorts after every entry the ledger's pass went through.

    The canonical pass then ends exactly as the previous one did, plus that entry: it can be
    applied on top of the stored balances instead of deriving them all again.
    """
    for inv in ledger.invoices.values():
        if (inv.issued_on, 0, inv.invoice_id) >= key:
            return False
    for pay in ledger.payments.values():
        when = payment_date(pay, ledger)
        if when is not None and (when, 2, pay.payment_id) >= key:
            return False
    return True


def _resumed(invoice: Invoice, balance: Balance) -> _Open:
    """The working balance a pass had for an invoice when it produced `balance`."""
    return _Open(
        invoice,
        paid=balance.paid,
        last_paid_on=balance.last_paid_on,
        settled_on=balance.settled_on,
        credited=balance.credited,
        written_off=balance.written_off,
        closed_by=balance.closed_by,
        discounted=balance.discounted,
    )


def _settle_last_invoice(ledger: Ledger, invoice: Invoice) -> Ledger:
    """`settle` for a new invoice issued after every other entry (and no held payment names).

    The pass reaches it with the stored balances and credit, and applies the cash on account.
    """
    credit = dict(ledger.credit)
    working = _opened(invoice, ledger.opening_paid)
    available = credit.pop(invoice.currency, ZERO)
    if available > ZERO:
        rest = working.pay(available, invoice.issued_on, OPENING)
        if rest > ZERO:
            credit[invoice.currency] = rest
    balances = dict(ledger.balances)
    balances[invoice.invoice_id] = _balance(working)
    return _with(ledger, balances=balances, credit=_positive(credit))


def _settle_last_payment(ledger: Ledger, payment: Payment, when: date) -> Ledger:
    """`settle` for a new dated payment that comes last on the timeline.

    The pass reaches it with the stored balances and credit: it pays its invoice, then the
    open invoices of its currency oldest due first, and the rest is cash on account.
    """
    invoices = ledger.invoices
    balances = ledger.balances
    credit = dict(ledger.credit)
    working = {
        inv_id: _resumed(inv, balances[inv_id])
        for inv_id, inv in invoices.items()
        if inv.currency == payment.currency
    }
    key = f"p:{payment.payment_id}"
    rest = payment.amount
    # None: for no invoice, or for an archived (settled) one, which takes nothing more.
    named = None if payment.invoice_id is None else working.get(payment.invoice_id)
    if named is not None:
        rest = named.pay(rest, when, key)
    if rest > ZERO:
        pool: _Pool = {}
        if payment.currency in credit:
            pool[payment.currency] = [_Cash(OPENING, credit[payment.currency])]
        _pool(working, pool, payment.currency, rest, when, key)
        credit = {**credit, **_totals(pool)}
    updated = dict(balances)
    for inv_id, w in working.items():
        if w.paid != balances[inv_id].paid:
            updated[inv_id] = _balance(w)
    return _with(ledger, balances=updated, credit=_positive(credit))


def carried_forward(ledger: Ledger, facts: Ledger) -> tuple[dict[str, Decimal], dict[str, Balance]]:
    """Derive `facts` (those retention archives) from `ledger`'s opening balances.

    Returns the cash on account per currency and every invoice's balance once they are applied.
    """
    working, pool, _held = _derive(facts, ledger)
    return _totals(pool), _balances(working)


def _balance(w: _Open) -> Balance:
    return Balance(
        paid=w.paid,
        outstanding=w.owed,
        last_paid_on=w.last_paid_on,
        settled_on=w.settled_on,
        credited=w.credited,
        written_off=w.written_off,
        closed_by=w.closed_by,
        discounted=w.discounted,
    )


def _balances(working: Mapping[str, _Open]) -> dict[str, Balance]:
    return {inv_id: _balance(w) for inv_id, w in working.items()}


def _positive(credit: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {cur: amt for cur, amt in sorted(credit.items()) if amt > ZERO}


def _totals(pool: _Pool) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for currency, entries in pool.items():
        total = sum((e.amount for e in entries), ZERO)
        if total > ZERO:
            totals[currency] = total
    return dict(sorted(totals.items()))


def _derive(
    facts: Ledger, opening: Ledger, *, log: bool = False
) -> tuple[dict[str, _Open], _Pool, tuple[str, ...]]:
    """The canonical pass over `facts` from `opening`'s balances.

    Returns the working balances, the cash on account per currency (by source) and the keys of
    the unapplied sources. `log`: each working balance keeps what took money off it, when.
    """
    invoices = facts.invoices
    through = opening.archived_through
    working = {
        inv_id: _opened(inv, opening.opening_paid, log, through) for inv_id, inv in invoices.items()
    }
    pool: _Pool = {
        currency: [_Cash(OPENING, amount)] for currency, amount in opening.opening_credit.items()
    }
    timeline, held = _timeline(facts, opening.archived_invoices)
    for when, rank, item_id in timeline:
        _STEPS[rank](facts, working, pool, when, item_id)
    return working, pool, held


def _on_invoice(
    facts: Ledger, working: dict[str, _Open], pool: _Pool, when: date, item_id: str
) -> None:
    """An invoice is issued: the cash on account goes to what is open now, oldest due first."""
    currency = facts.invoices[item_id].currency
    for cash in pool.pop(currency, ()):
        _pool(working, pool, currency, cash.amount, when, cash.key)


def _on_source(
    working: dict[str, _Open],
    pool: _Pool,
    when: date,
    key: str,
    amount: Decimal,
    currency: str,
    named: str | None,
) -> None:
    """A payment or credit note: its invoice first, then the oldest due, then on account."""
    target = None if named is None else working.get(named)
    if target is not None:  # not an archived (settled) one: that takes nothing more
        amount = target.pay(amount, when, key)
    if amount > ZERO:
        _pool(working, pool, currency, amount, when, key)


def _on_credit(
    facts: Ledger, working: dict[str, _Open], pool: _Pool, when: date, item_id: str
) -> None:
    note = facts.credit_notes[item_id]
    _on_source(working, pool, when, f"c:{item_id}", note.amount, note.currency, note.invoice_id)


def _on_payment(
    facts: Ledger, working: dict[str, _Open], pool: _Pool, when: date, item_id: str
) -> None:
    payment = facts.payments[item_id]
    key = f"p:{item_id}"
    _on_source(working, pool, when, key, payment.amount, payment.currency, payment.invoice_id)


def _on_write_off(
    facts: Ledger, working: dict[str, _Open], pool: _Pool, when: date, item_id: str
) -> None:
    off = facts.write_offs[item_id]
    working[off.invoice_id].write_off(off.amount, when)


def _on_reversal(
    facts: Ledger, working: dict[str, _Open], pool: _Pool, when: date, item_id: str
) -> None:
    """A reversal: what the payment applied anywhere is owed again, and its cash is gone."""
    key = f"p:{item_id}"
    for w in working.values():
        w.undo(key, when)
    for entries in pool.values():
        entries[:] = [e for e in entries if e.key != key]


def _on_void(
    facts: Ledger, working: dict[str, _Open], pool: _Pool, when: date, item_id: str
) -> None:
    """A void: the invoice leaves every figure; what was applied to it is freed."""
    w = working[item_id]
    freed = list(w.sources.items())
    w.sources.clear()
    w.paid = w.credited = w.written_off = w.discounted = ZERO
    w.closed_by = "voided"
    w.settled_on = when
    for key, applied in freed:
        _pool(working, pool, w.invoice.currency, applied.amount, when, key)


# Timeline rank -> what its entry does (same-day order: invoices first, voids last).
_STEPS = (_on_invoice, _on_credit, _on_payment, _on_write_off, _on_reversal, _on_void)


def _opened(
    invoice: Invoice,
    opening_paid: Mapping[str, Opening],
    log: bool = False,
    archived_through: date | None = None,
) -> _Open:
    """An invoice's working balance at the start of the pass (what archived history paid).

    An invoice archived history paid on was still owing at the cut, so no discount was taken
    on it by then: its own payments replayed on top (dated on or before the cut) earn none.
    """
    carried = opening_paid.get(invoice.invoice_id)
    if carried is None:
        return _Open(invoice, log=[] if log else None, credit_log=[] if log else None)
    w = _Open(
        invoice,
        paid=carried.paid,
        last_paid_on=carried.last_paid_on,
        credited=carried.credited,
        opening_last_paid=carried.last_paid_on,
        log=[(carried.last_paid_on or invoice.issued_on, carried.paid)] if log else None,
        credit_log=[(carried.last_paid_on or invoice.issued_on, carried.credited)] if log else None,
        no_discount_through=archived_through,
    )
    applied = carried.paid + carried.credited
    if applied > ZERO:
        w.sources[OPENING] = _Applied(applied, carried.last_paid_on)
    return w


def _pool(
    working: Mapping[str, _Open],
    pool: _Pool,
    currency: str,
    amount: Decimal,
    on: date,
    key: str,
) -> None:
    """Pay open invoices of `currency` issued by `on`, oldest due first; keep the rest as credit."""
    for item in sorted(
        (
            w
            for w in working.values()
            if w.invoice.currency == currency and w.owed > ZERO and w.invoice.issued_on <= on
        ),
        key=lambda w: _due_order(w.invoice),
    ):
        amount = item.pay(amount, on, key)
        if amount == ZERO:
            return
    pool.setdefault(currency, []).append(_Cash(key, amount))


def payment_date(payment: Payment | CreditNote, ledger: Ledger) -> date | None:
    """A payment's (or credit note's) place on the timeline, or None while it is unapplied.

    Unapplied: it names an invoice not seen yet, or one in another currency.
    """
    on = payment.received_on if isinstance(payment, Payment) else payment.issued_on
    named = payment.invoice_id
    if named is None:
        return on
    archived = ledger.archived_invoices.get(named)
    if archived is not None:
        return on if archived.currency == payment.currency else None
    target = ledger.invoices.get(named)
    if target is None or target.currency != payment.currency:
        return None
    return max(on, target.issued_on)


def _timeline(
    facts: Ledger, archived: Mapping[str, ArchivedInvoice]
) -> tuple[list[tuple[date, int, str]], tuple[str, ...]]:
    """The (business date, rank, id) entries in order, and the unapplied source keys."""
    view = Ledger(invoices=facts.invoices, archived_invoices=archived)
    invoices = facts.invoices
    entries = [(inv.issued_on, 0, inv.invoice_id) for inv in invoices.values()]
    held = []
    dated: dict[str, date] = {}
    sources: list[tuple[int, str, Payment | CreditNote]] = [
        (1, note_id, note) for note_id, note in facts.credit_notes.items()
    ]
    sources += [(2, payment_id, payment) for payment_id, payment in facts.payments.items()]
    for rank, source_id, source in sources:
        when = payment_date(source, view)
        if when is None:
            held.append(f"{'c' if rank == 1 else 'p'}:{source_id}")
            continue
        if rank == 2:
            dated[source_id] = when
        entries.append((when, rank, source_id))
    for event_id, off in facts.write_offs.items():
        if (inv := invoices.get(off.invoice_id)) is not None:
            entries.append((max(off.written_off_on, inv.issued_on), 3, event_id))
    for payment_id, reversal in facts.reversals.items():
        if (paid_on := dated.get(payment_id)) is not None:
            entries.append((max(reversal.reversed_on, paid_on), 4, payment_id))
    for invoice_id, void in facts.voids.items():
        if (inv := invoices.get(invoice_id)) is not None:
            entries.append((max(void.voided_on, inv.issued_on), 5, invoice_id))
    return sorted(entries), tuple(sorted(held))


Dated = dict[str, tuple[tuple[date, Decimal], ...]]


def _dated(ledger: Ledger) -> tuple[Dated, Dated]:
    """One logged pass over the ledger: what `owed_history` and `owed_changes` read."""
    history: Dated = {}
    changes: Dated = {}
    for inv_id, w in _derive(ledger, ledger, log=True)[0].items():
        history[inv_id] = tuple(sorted(w.log or ()))
        if w.closed_by == "voided":
            continue
        taken = [(on, -amount) for on, amount in (*(w.log or ()), *(w.credit_log or ()))]
        changes[inv_id] = ((w.invoice.issued_on, w.invoice.amount), *sorted(taken))
    return history, changes


# Once per ledger object: a wake-up that leaves the ledger as it was reuses it.
_dated_once: IdentityMemo[Ledger, tuple[Dated, Dated]] = IdentityMemo(_dated)


def owed_history(ledger: Ledger) -> Dated:
    """Per invoice, what cash, discounts and write-offs took off it, by date (reversals add).

    Credit corrects the invoice rather than paying it, so it is not here: what the invoice
    asked is its amount less its credit (`Balance.credited`). The late fees' interest runs on
    what is left of that day by day. This re-derives the ledger (once per ledger).
    """
    return _dated_once(ledger)[0]


def owed_changes(ledger: Ledger) -> Dated:
    """Per invoice still held and not voided, every change to what it owes, by business date.

    Its amount on its issue date, then what cash, credit, discounts and write-offs took off
    (negative) and reversals put back (positive): summed up to a day, what it owed that day.
    A voided invoice is in no figure, so it has none. Carried-forward history (retention) is
    one change on the date it was carried from. The aging report and the collection figures
    are sums of these (`processor.domain.receivables`). This re-derives the ledger (once per
    ledger, shared with `owed_history`).
    """
    return _dated_once(ledger)[1]


def pending_reversals(ledger: Ledger) -> list[str]:
    """Reversals whose payment is not held (not seen yet, or archived): payment ids."""
    return sorted(p for p in ledger.reversals if p not in ledger.payments)


def source_dates(ledger: Ledger) -> Iterable[tuple[str, date]]:
    """Each held money fact's event id with its business date (retention and the state codec)."""
    invoices = ledger.invoices
    for inv in invoices.values():
        yield inv.event_id, inv.issued_on
    sources: list[Payment | CreditNote] = [*ledger.payments.values()]
    sources += ledger.credit_notes.values()
    for source in sources:
        when = payment_date(source, ledger)
        own = source.received_on if isinstance(source, Payment) else source.issued_on
        yield source.event_id, own if when is None else when
    for notice in ledger.due_notices.values():
        yield notice.event_id, notice.due_date
    companions = [(o.event_id, o.invoice_id, o.written_off_on) for o in ledger.write_offs.values()]
    companions += [(v.event_id, k, v.voided_on) for k, v in ledger.voids.items()]
    companions += [(c.event_id, k, c.changed_on) for k, c in ledger.due_changes.items()]
    for event_id, invoice_id, on in companions:
        target = invoices.get(invoice_id)
        yield event_id, on if target is None else max(on, target.issued_on)
    for payment_id, reversal in ledger.reversals.items():
        p = ledger.payments.get(payment_id)
        when = None if p is None else payment_date(p, ledger)
        yield (
            reversal.event_id,
            reversal.reversed_on if when is None else max(reversal.reversed_on, when),
        )
