"""A customer's receivables ledger as a pure fold: ``apply(state, fact) -> state``.

The ledger keeps the facts (invoices, payments, due notices) and derives every balance from
them in one canonical pass ordered by business date, never by arrival order. That is what makes
it order-tolerant: a payment that arrives before its invoice, or a due notice after the payment,
ends in exactly the state the in-order stream gives.

Allocation rules (documented in docs/contract.md):
- a payment naming an invoice pays that invoice (from the later of its received date and the
  invoice's issue date); any excess is cash on account;
- a payment without an invoice, and cash on account, pay the customer's open invoices of the
  same currency, oldest due date first;
- cash on account is kept per currency and is applied to the next invoice of that currency;
- a payment naming an invoice not seen yet is held until that invoice arrives.

Retention (`processor.domain.retention`) may archive the past. The derivation then starts at
`archived_through` from what the archived facts left: the cash on account (`opening_credit`) and
what was paid on invoices still owing (`opening_paid`). An archived invoice leaves its id and
currency for a while (`archived_invoices`), so that a later payment naming it is still applied
as the whole history would apply it. A new fact dated on or before `archived_through` is refused,
since it could re-deliver an archived one, unless it can be applied exactly: a payment for an
invoice still held that it does not overpay.
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
class ArchivedInvoice:
    """What the ledger remembers of an archived (settled) invoice, for payments still naming it."""

    currency: str
    settled_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """What archived payments paid on an invoice still owing when its history was archived."""

    paid: Decimal
    last_paid_on: date | None


@dataclass(frozen=True, slots=True, kw_only=True, weakref_slot=True)
class Ledger:
    """Facts plus the balances derived from them."""

    invoices: Mapping[str, Invoice] = field(default_factory=dict)
    payments: Mapping[str, Payment] = field(default_factory=dict)
    due_notices: Mapping[str, DueNotice] = field(default_factory=dict)
    balances: Mapping[str, Balance] = field(default_factory=dict)
    credit: Mapping[str, Decimal] = field(default_factory=dict)
    held: tuple[str, ...] = ()
    # Retention: facts dated on or before this day were archived (None: nothing archived) ...
    archived_through: date | None = None
    # ... leaving this cash on account per currency, where the derivation of the rest starts,
    opening_credit: Mapping[str, Decimal] = field(default_factory=dict)
    # ... and this paid on (kept) invoices that still owed something then, by archived payments.
    opening_paid: Mapping[str, Opening] = field(default_factory=dict)
    # Archived invoices a later payment may still name (pruned after another retention period).
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


def _due_order(invoice: Invoice) -> tuple[date, date, str]:
    return (invoice.due_date, invoice.issued_on, invoice.invoice_id)


def fact_date(ledger: Ledger, fact: Fact) -> date:
    """The business date a fact takes on the ledger's timeline (what retention archives by).

    An invoice: its issue date. A due notice: its due date. A payment: its received date, or
    its invoice's issue date if that is later (it cannot pay an invoice before it exists).
    """
    if isinstance(fact, InvoiceIssued):
        return fact.issued_on
    if isinstance(fact, PaymentReceived):
        target = None if fact.invoice_id is None else ledger.invoices.get(fact.invoice_id)
        return fact.received_on if target is None else max(fact.received_on, target.issued_on)
    return fact.due_date


def record(ledger: Ledger, fact: Fact) -> Ledger:
    """Add one fact to the ledger and re-derive balances; raises DomainError on a contradiction.

    A fact that repeats one already held (same business id, same content) changes nothing.
    A fact dated on or before `archived_through` is refused (see `_refuse_archived`).
    """
    _refuse_archived(ledger, fact)
    if isinstance(fact, InvoiceIssued):
        return _record_invoice(ledger, fact)
    if isinstance(fact, PaymentReceived):
        return _record_payment(ledger, fact)
    return _record_due_notice(ledger, fact)


def _refuse_archived(ledger: Ledger, fact: Fact) -> None:
    """Refuse a fact dated in the archived past: it may re-deliver a fact no longer held.

    Its effect would fall before the opening balances (or it would re-apply an archived payment),
    so it can be neither applied exactly nor recognised as a repeat. What the ledger still holds
    is let through (a repeat of a kept invoice or payment, a kept invoice's due notice), and so
    is a payment for a kept invoice that it does not overpay: that is applied exactly.
    """
    through = ledger.archived_through
    if through is None or fact_date(ledger, fact) > through:
        return
    if isinstance(fact, PaymentReceived):
        if fact.payment_id in ledger.payments or _absorbed(ledger, fact, through):
            return
        name, value = "received_on", fact.received_on
    else:
        if fact.invoice_id in ledger.invoices:
            return  # a repeat of a kept invoice, or its due notice: no balance depends on it
        if isinstance(fact, InvoiceIssued):
            name, value = "issued_on", fact.issued_on
        else:
            name, value = "due_date", fact.due_date
    raise DomainError(
        name,
        f"{value} is on or before {through}, the end of this customer's archived history "
        "(policy history.retain_days); a fact that old can no longer be told apart from a "
        "re-delivery of an archived one",
    )


def _absorbed(ledger: Ledger, fact: PaymentReceived, through: date) -> bool:
    """True when an early-dated payment names a kept invoice and pays no more than it owed.

    Then, in the whole history, the payment would only have added to that invoice's paid amount
    (never overflowing to other invoices or to the cash on account), which is what applying it
    on top of the opening balances does. A re-delivered archived payment never passes: the
    payments the opening balances hold were all for other invoices, or unnamed.
    """
    invoice = None if fact.invoice_id is None else ledger.invoices.get(fact.invoice_id)
    if invoice is None or invoice.currency != fact.currency:
        return False
    opening = ledger.opening_paid.get(invoice.invoice_id)
    owed = invoice.amount - (ZERO if opening is None else opening.paid)
    for payment in ledger.payments.values():
        if payment.invoice_id == invoice.invoice_id and payment.received_on <= through:
            owed -= payment.amount
    return fact.amount <= owed


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
    archived = ledger.archived_invoices.get(fact.invoice_id)
    if archived is not None:
        raise DomainError(
            "invoice_id",
            f"invoice {fact.invoice_id!r} was already issued, and settled on {archived.settled_on}"
            " (archived)",
        )
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
    invoices = {**ledger.invoices, fact.invoice_id: invoice}
    if _comes_last(ledger, (invoice.issued_on, 0, invoice.invoice_id)) and not any(
        ledger.payments[held].invoice_id == invoice.invoice_id for held in ledger.held
    ):
        return _settle_last_invoice(ledger, invoices, invoice)
    return settle(ledger, invoices=invoices)


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
        invoice = ledger.invoices.get(fact.invoice_id) or ledger.archived_invoices.get(
            fact.invoice_id
        )
        if invoice is not None and invoice.currency != fact.currency:
            raise DomainError(
                "currency",
                f"payment is in {fact.currency} but invoice {fact.invoice_id!r} "
                f"is in {invoice.currency}",
            )
    payments = {**ledger.payments, fact.payment_id: payment}
    when = payment_date(payment, ledger.invoices, ledger.archived_invoices)
    if when is None:  # held until its invoice arrives: nothing else changes
        return _with(ledger, payments=payments, held=tuple(sorted((*ledger.held, fact.payment_id))))
    if _comes_last(ledger, (when, 1, payment.payment_id)):
        return _settle_last_payment(ledger, payments, payment, when)
    return settle(ledger, payments=payments)


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
    return _with(ledger, due_notices={**ledger.due_notices, fact.invoice_id: notice})


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
            # The latest payment on it: `on` in a pass in date order, also when it starts from
            # opening balances and a payment dated before them completes the invoice.
            self.settled_on = self.last_paid_on
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
    The pass starts from what archived history left (`opening_credit`, `opening_paid`).
    """
    invoices = ledger.invoices if invoices is None else invoices
    payments = ledger.payments if payments is None else payments
    working, credit, held = _derive(invoices, payments, ledger)
    return _with(
        ledger,
        invoices=invoices,
        payments=payments,
        balances=_balances(working),
        credit=_positive(credit),
        held=held,
    )


def _with(
    ledger: Ledger,
    *,
    invoices: Mapping[str, Invoice] | None = None,
    payments: Mapping[str, Payment] | None = None,
    due_notices: Mapping[str, DueNotice] | None = None,
    balances: Mapping[str, Balance] | None = None,
    credit: Mapping[str, Decimal] | None = None,
    held: tuple[str, ...] | None = None,
) -> Ledger:
    """The ledger with some facts or derived values replaced (a cheaper `dataclasses.replace`)."""
    return Ledger(
        invoices=ledger.invoices if invoices is None else invoices,
        payments=ledger.payments if payments is None else payments,
        due_notices=ledger.due_notices if due_notices is None else due_notices,
        balances=ledger.balances if balances is None else balances,
        credit=ledger.credit if credit is None else credit,
        held=ledger.held if held is None else held,
        archived_through=ledger.archived_through,
        opening_credit=ledger.opening_credit,
        opening_paid=ledger.opening_paid,
        archived_invoices=ledger.archived_invoices,
    )


def _comes_last(ledger: Ledger, key: tuple[date, int, str]) -> bool:
    """True when a new timeline entry sorts after every entry the ledger's pass went through.

    The canonical pass then ends exactly as the previous one did, plus that entry: it can be
    applied on top of the stored balances instead of deriving them all again.
    """
    for inv in ledger.invoices.values():
        if (inv.issued_on, 0, inv.invoice_id) >= key:
            return False
    for pay in ledger.payments.values():
        when = payment_date(pay, ledger.invoices, ledger.archived_invoices)
        if when is not None and (when, 1, pay.payment_id) >= key:
            return False
    return True


def _resumed(invoice: Invoice, balance: Balance) -> _Open:
    """The working balance a pass had for an invoice when it produced `balance`."""
    return _Open(
        invoice,
        paid=balance.paid,
        last_paid_on=balance.last_paid_on,
        settled_on=balance.settled_on,
    )


def _settle_last_invoice(
    ledger: Ledger, invoices: Mapping[str, Invoice], invoice: Invoice
) -> Ledger:
    """`settle` for a new invoice that comes last on the timeline (and no held payment names).

    The pass reaches it with the stored balances and credit, and applies the cash on account.
    """
    credit = dict(ledger.credit)
    working = _opened(invoice, ledger.opening_paid)
    available = credit.pop(invoice.currency, ZERO)
    if available > ZERO:
        rest = working.pay(available, invoice.issued_on)
        if rest > ZERO:
            credit[invoice.currency] = rest
    balances = dict(ledger.balances)
    balances[invoice.invoice_id] = Balance(
        paid=working.paid,
        outstanding=working.owed,
        last_paid_on=working.last_paid_on,
        settled_on=working.settled_on,
    )
    return _with(ledger, invoices=invoices, balances=balances, credit=_positive(credit))


def _settle_last_payment(
    ledger: Ledger, payments: Mapping[str, Payment], payment: Payment, when: date
) -> Ledger:
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
    rest = payment.amount
    # None: for no invoice, or for an archived (settled) one, which takes nothing more.
    named = None if payment.invoice_id is None else working.get(payment.invoice_id)
    if named is not None:
        rest = named.pay(rest, when)
    if rest > ZERO:
        _pool(working, credit, payment.currency, rest, when)
    updated = dict(balances)
    for inv_id, w in working.items():
        if w.paid != balances[inv_id].paid:
            updated[inv_id] = Balance(
                paid=w.paid,
                outstanding=w.owed,
                last_paid_on=w.last_paid_on,
                settled_on=w.settled_on,
            )
    return _with(ledger, payments=payments, balances=updated, credit=_positive(credit))


def carried_forward(
    ledger: Ledger, invoices: Mapping[str, Invoice], payments: Mapping[str, Payment]
) -> tuple[dict[str, Decimal], dict[str, Balance]]:
    """Derive these facts (the ones retention archives) from the ledger's opening balances.

    Returns the cash on account per currency and every invoice's balance once they are applied.
    """
    working, credit, _held = _derive(invoices, payments, ledger)
    return _positive(credit), _balances(working)


def _balances(working: Mapping[str, _Open]) -> dict[str, Balance]:
    return {
        inv_id: Balance(
            paid=w.paid, outstanding=w.owed, last_paid_on=w.last_paid_on, settled_on=w.settled_on
        )
        for inv_id, w in working.items()
    }


def _positive(credit: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {cur: amt for cur, amt in sorted(credit.items()) if amt > ZERO}


def _derive(
    invoices: Mapping[str, Invoice], payments: Mapping[str, Payment], opening: Ledger
) -> tuple[dict[str, _Open], dict[str, Decimal], tuple[str, ...]]:
    """The canonical pass from `opening`'s balances: working balances, credit, held payment ids."""
    working = {inv_id: _opened(inv, opening.opening_paid) for inv_id, inv in invoices.items()}
    credit: dict[str, Decimal] = dict(opening.opening_credit)
    timeline, held = _timeline(invoices, payments, opening.archived_invoices)

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
        if payment.invoice_id in working:  # not one archived (settled): that pays nothing more
            rest = working[payment.invoice_id].pay(rest, when)
        if rest > ZERO:
            _pool(working, credit, payment.currency, rest, when)
    return working, credit, held


def _opened(invoice: Invoice, opening_paid: Mapping[str, Opening]) -> _Open:
    carried = opening_paid.get(invoice.invoice_id)
    if carried is None:
        return _Open(invoice)
    return _Open(invoice, paid=carried.paid, last_paid_on=carried.last_paid_on)


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


def payment_date(
    payment: Payment,
    invoices: Mapping[str, Invoice],
    archived: Mapping[str, ArchivedInvoice],
) -> date | None:
    """A payment's place on the timeline, or None while it is held (its invoice not seen)."""
    if payment.invoice_id is None or payment.invoice_id in archived:
        return payment.received_on
    target = invoices.get(payment.invoice_id)
    return None if target is None else max(payment.received_on, target.issued_on)


def _timeline(
    invoices: Mapping[str, Invoice],
    payments: Mapping[str, Payment],
    archived: Mapping[str, ArchivedInvoice],
) -> tuple[list[tuple[date, int, str, str]], tuple[str, ...]]:
    """Return the (business date, rank, kind, id) entries in order, and the held payment ids."""
    entries = [(inv.issued_on, 0, "invoice", inv.invoice_id) for inv in invoices.values()]
    held = []
    for pay in payments.values():
        when = payment_date(pay, invoices, archived)
        if when is None:
            held.append(pay.payment_id)
            continue
        entries.append((when, 1, "payment", pay.payment_id))
    return sorted(entries), tuple(sorted(held))
