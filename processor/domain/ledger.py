"""A customer's receivables ledger as a pure fold: ``apply(state, fact) -> state``.

The ledger keeps the facts (invoices, payments, due notices) and derives every balance from
them in one canonical pass ordered by business date, never by arrival order. That is what makes
it order-tolerant: a payment that arrives before its invoice, or a due notice after the payment,
ends in exactly the state the in-order stream gives.

Allocation rules (documented in the README):
- a payment naming an invoice pays that invoice (from the later of its received date and the
  invoice's issue date); any excess is cash on account;
- a payment without an invoice, and cash on account, pay the customer's open invoices of the
  same currency, oldest due date first;
- cash on account is kept per currency and is applied to the next invoice of that currency;
- a payment naming an invoice not seen yet is held until that invoice arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from processor.domain.errors import DomainError
from processor.domain.facts import DueDatePassed, Fact, InvoiceIssued, PaymentReceived

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice:
    """An issued invoice (a fact)."""

    invoice_id: str
    event_id: str
    amount: Decimal
    currency: str
    issued_on: date
    due_date: date


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
class DueNotice:
    """The platform's due-date-passed notice for an invoice (a fact)."""

    event_id: str
    due_date: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """What is paid and owed on one invoice (derived)."""

    paid: Decimal
    outstanding: Decimal
    last_paid_on: date | None = None
    settled_on: date | None = None

    @property
    def is_paid(self) -> bool:
        """True once nothing is owed."""
        return self.outstanding == ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class Ledger:
    """Facts plus the balances derived from them."""

    invoices: Mapping[str, Invoice] = field(default_factory=dict)
    payments: Mapping[str, Payment] = field(default_factory=dict)
    due_notices: Mapping[str, DueNotice] = field(default_factory=dict)
    balances: Mapping[str, Balance] = field(default_factory=dict)
    credit: Mapping[str, Decimal] = field(default_factory=dict)
    held: tuple[str, ...] = ()

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


def _due_order(invoice: Invoice) -> tuple[date, date, str]:
    return (invoice.due_date, invoice.issued_on, invoice.invoice_id)


def record(ledger: Ledger, fact: Fact) -> Ledger:
    """Add one fact to the ledger and re-derive balances; raises DomainError on a contradiction.

    A fact that repeats one already held (same business id, same content) changes nothing.
    """
    if isinstance(fact, InvoiceIssued):
        return _record_invoice(ledger, fact)
    if isinstance(fact, PaymentReceived):
        return _record_payment(ledger, fact)
    return _record_due_notice(ledger, fact)


def _record_invoice(ledger: Ledger, fact: InvoiceIssued) -> Ledger:
    invoice = Invoice(
        invoice_id=fact.invoice_id,
        event_id=fact.event_id,
        amount=fact.amount,
        currency=fact.currency,
        issued_on=fact.issued_on,
        due_date=fact.due_date,
    )
    known = ledger.invoices.get(fact.invoice_id)
    if known is not None:
        if replace(known, event_id=fact.event_id) != invoice:
            raise DomainError(
                "invoice_id",
                f"invoice {fact.invoice_id!r} was already issued with different terms "
                f"({known.amount} {known.currency}, issued {known.issued_on}, "
                f"due {known.due_date})",
            )
        return ledger
    for payment in ledger.payments.values():
        if payment.invoice_id == fact.invoice_id and payment.currency != fact.currency:
            raise DomainError(
                "currency",
                f"invoice {fact.invoice_id!r} is in {fact.currency} but payment "
                f"{payment.payment_id!r} already received for it is in {payment.currency}",
            )
    notice = ledger.due_notices.get(fact.invoice_id)
    if notice is not None and notice.due_date != fact.due_date:
        raise DomainError(
            "due_date",
            f"invoice {fact.invoice_id!r} is due {fact.due_date} but its due-date-passed notice "
            f"said {notice.due_date}",
        )
    return settle(ledger, invoices={**ledger.invoices, fact.invoice_id: invoice})


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
        if replace(known, event_id=fact.event_id) != payment:
            raise DomainError(
                "payment_id",
                f"payment {fact.payment_id!r} was already received with different details "
                f"({known.amount} {known.currency} on {known.received_on})",
            )
        return ledger
    if fact.invoice_id is not None:
        invoice = ledger.invoices.get(fact.invoice_id)
        if invoice is not None and invoice.currency != fact.currency:
            raise DomainError(
                "currency",
                f"payment is in {fact.currency} but invoice {fact.invoice_id!r} "
                f"is in {invoice.currency}",
            )
    return settle(ledger, payments={**ledger.payments, fact.payment_id: payment})


def _record_due_notice(ledger: Ledger, fact: DueDatePassed) -> Ledger:
    invoice = ledger.invoices.get(fact.invoice_id)
    if invoice is not None and invoice.due_date != fact.due_date:
        raise DomainError(
            "due_date",
            f"{fact.due_date} does not match invoice {fact.invoice_id!r}'s due date "
            f"{invoice.due_date}",
        )
    if fact.invoice_id in ledger.due_notices:
        return ledger
    notice = DueNotice(event_id=fact.event_id, due_date=fact.due_date)
    return replace(ledger, due_notices={**ledger.due_notices, fact.invoice_id: notice})


@dataclass(slots=True)
class _Open:
    """Mutable working balance of one invoice during a settlement pass."""

    invoice: Invoice
    paid: Decimal = ZERO
    last_paid_on: date | None = None
    settled_on: date | None = None

    @property
    def owed(self) -> Decimal:
        return self.invoice.amount - self.paid

    def pay(self, amount: Decimal, on: date) -> Decimal:
        """Apply up to `amount`; return what is left over."""
        take = min(amount, self.owed)
        if take <= ZERO:
            return amount
        self.paid += take
        self.last_paid_on = on if self.last_paid_on is None else max(self.last_paid_on, on)
        if self.owed == ZERO:
            self.settled_on = on
        return amount - take


def settle(
    ledger: Ledger,
    *,
    invoices: Mapping[str, Invoice] | None = None,
    payments: Mapping[str, Payment] | None = None,
) -> Ledger:
    """Derive every balance from the facts in one pass ordered by business date.

    Same-day ties put invoices before payments, so a payment can settle an invoice issued the
    day it arrives; ids break the remaining ties so the result never depends on arrival order.
    """
    invoices = ledger.invoices if invoices is None else invoices
    payments = ledger.payments if payments is None else payments
    working = {inv_id: _Open(inv) for inv_id, inv in invoices.items()}
    credit: dict[str, Decimal] = {}
    timeline, held = _timeline(invoices, payments)

    for when, _rank, kind, item_id in timeline:
        if kind == "invoice":
            inv = invoices[item_id]
            available = credit.pop(inv.currency, ZERO)
            if available > ZERO:
                rest = working[item_id].pay(available, inv.issued_on)
                if rest > ZERO:
                    credit[inv.currency] = rest
            continue
        payment = payments[item_id]
        rest = payment.amount
        if payment.invoice_id is not None:
            rest = working[payment.invoice_id].pay(rest, when)
        if rest > ZERO:
            _pool(working, credit, payment.currency, rest, when)

    balances = {
        inv_id: Balance(
            paid=w.paid,
            outstanding=w.owed,
            last_paid_on=w.last_paid_on,
            settled_on=w.settled_on,
        )
        for inv_id, w in working.items()
    }
    return replace(
        ledger,
        invoices=invoices,
        payments=payments,
        balances=balances,
        credit={cur: amt for cur, amt in sorted(credit.items()) if amt > ZERO},
        held=held,
    )


def _pool(
    working: Mapping[str, _Open],
    credit: dict[str, Decimal],
    currency: str,
    amount: Decimal,
    on: date,
) -> None:
    """Pay open invoices of `currency` issued by `on`, oldest due first; keep the rest as credit."""
    for item in sorted(
        (w for w in working.values() if w.invoice.currency == currency and w.owed > ZERO),
        key=lambda w: _due_order(w.invoice),
    ):
        if item.invoice.issued_on > on:
            continue
        amount = item.pay(amount, on)
        if amount == ZERO:
            return
    credit[currency] = credit.get(currency, ZERO) + amount


def _timeline(
    invoices: Mapping[str, Invoice], payments: Mapping[str, Payment]
) -> tuple[list[tuple[date, int, str, str]], tuple[str, ...]]:
    """Return the (business date, rank, kind, id) entries in order, and the held payment ids."""
    entries = [(inv.issued_on, 0, "invoice", inv.invoice_id) for inv in invoices.values()]
    held = []
    for pay in payments.values():
        when = pay.received_on
        if pay.invoice_id is not None:
            target = invoices.get(pay.invoice_id)
            if target is None:
                held.append(pay.payment_id)
                continue
            when = max(when, target.issued_on)
        entries.append((when, 1, "payment", pay.payment_id))
    return sorted(entries), tuple(sorted(held))
