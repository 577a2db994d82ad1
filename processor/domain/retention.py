"""Bounded history ("retention"): archive a customer's past, exactly.

A customer's state would otherwise keep every invoice, payment, due notice, event id, late flag
and ladder step forever, and re-derive balances from all of them on every event. When the
customer's business date moves on, ``compact`` cuts the history at C = today - `retain_days`
and archives what is dated on or before C: every invoice settled by then, every payment except
those for invoices still owing at C (and held ones), the due notices of invoices no longer held,
the event ids dated as old, and the late flags and ladder steps of the archived invoices. It
carries forward what the derivation of the rest needs: the cash on account per currency as of C
(`opening_credit`), what archived payments paid on invoices still owing at C (`opening_paid`;
those invoices stay, with their own payments, flags and steps), the held payments, and the id
and currency of each archived invoice for another `retain_days` (`archived_invoices`), so a
payment naming it still goes where the whole history sends it. The ledger records
`archived_through`: C pulled back to the newest date of what was archived (nothing archived lies
in between, so a late fact dated in between is still accepted).

Why this is exact. The ledger applies facts in business-date order, and a fact dated on or
before C only touches invoices issued on or before C and the cash on account, so the pass over
those facts ends in the same place whatever comes later: the cash on account and each invoice's
paid amount and last payment date as of C. Starting the pass there gives every later balance,
the credit and the held payments unchanged: a payment kept for an invoice still owing is
replayed on top of what the others paid (it never paid more than the invoice owed, or the
invoice would be settled), and a later payment naming an archived invoice, which owes nothing,
goes to the cash on account as it would have. Segments do not change either: an archived invoice
was issued and settled at least `retain_days` before today, so it has left the behaviour and
value-tier windows (policy validation makes `retain_days` at least as long as both); it is paid,
so it is in no aging bucket, ladder step or wake-up; and it was flagged, if it was late, by the
decision that archives it. A fact dated on or before `archived_through` is refused from then on
(the ledger's `_refuse_archived`): it could re-deliver an archived fact, which can no longer be
recognised; only a payment for an invoice still held that it does not overpay is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta

from processor.domain.ledger import (
    ZERO,
    ArchivedInvoice,
    Balance,
    DueNotice,
    Invoice,
    Ledger,
    Opening,
    Payment,
    carried_forward,
    payment_date,
)
from processor.domain.plan import ledger_facts
from processor.domain.policy import HistoryPolicy
from processor.domain.state import CustomerState


def compact(state: CustomerState, *, today: date, policy: HistoryPolicy) -> CustomerState:
    """The state with its past before `today - retain_days` archived (or unchanged)."""
    retain = timedelta(days=policy.retain_days)
    cutoff = archive_cutoff(state.ledger, today - retain)
    if cutoff is None:
        return state
    return _archive(state, cutoff, forget_before=cutoff - retain)


def archive_cutoff(ledger: Ledger, limit: date) -> date | None:
    """`limit` if the ledger holds something dated on or before it to archive, else None.

    The oldest date a cut could archive something at is an invoice's settlement (with the
    payments for it), a payment for no invoice or for an archived one, or a due notice for an
    invoice the ledger does not hold (`plan.LedgerFacts.earliest_archivable`).
    """
    earliest = ledger_facts(ledger).earliest_archivable
    return limit if earliest is not None and earliest <= limit else None


def _archive(state: CustomerState, cutoff: date, *, forget_before: date) -> CustomerState:
    """Archive what is dated on or before `cutoff`, carrying forward what the rest needs."""
    ledger = state.ledger
    dated = _payment_dates(ledger)
    early = {k: ledger.payments[k] for k, when in dated.items() if when <= cutoff}
    issued = {k: v for k, v in ledger.invoices.items() if v.issued_on <= cutoff}
    _credit, balances = carried_forward(ledger, issued, early)  # as of the cutoff
    old_invoices = {k: v for k, v in issued.items() if balances[k].is_paid}
    invoices = {k: v for k, v in ledger.invoices.items() if k not in old_invoices}
    # A payment for an invoice still owing stays (a re-delivery of it must be recognised), and
    # is replayed on top of what the archived facts leave. It never paid more than its invoice
    # owed (that would have settled it), so leaving it out changes nothing else.
    old_payments = {k: v for k, v in early.items() if v.invoice_id not in invoices}
    credit, opening = carried_forward(ledger, issued, old_payments)
    payments = {k: v for k, v in ledger.payments.items() if k not in old_payments}
    notices = {k: v for k, v in ledger.due_notices.items() if k in invoices or v.due_date > cutoff}
    old_notices = [v for k, v in ledger.due_notices.items() if k not in notices]
    through = max(
        (
            *(v.issued_on for v in issued.values()),
            *(dated[k] for k in old_payments),
            *(v.due_date for v in old_notices),
        ),
        default=cutoff,  # not used: the cut archives something (`archive_cutoff`)
    )
    archived = replace(
        ledger,
        invoices=invoices,
        payments=payments,
        due_notices=notices,
        # Later balances, the credit and the held payments derive unchanged (module docstring).
        balances={k: v for k, v in ledger.balances.items() if k in invoices},
        archived_through=through,
        opening_credit=credit,
        opening_paid={
            k: Opening(paid=b.paid, last_paid_on=b.last_paid_on)
            for k, b in opening.items()
            if k in invoices and b.paid > ZERO
        },
        archived_invoices=_remembered(
            ledger, old_invoices, balances, payments, forget_before, cutoff
        ),
    )
    return _forget(
        replace(state, ledger=archived),
        through,
        kept=_event_ids(invoices.values(), payments.values(), notices.values()),
        dropped=_event_ids(old_invoices.values(), old_payments.values(), old_notices),
        invoices=old_invoices,
    )


def _payment_dates(ledger: Ledger) -> dict[str, date]:
    """Each payment's place on the timeline (held payments have none)."""
    dates = {}
    for payment_id, payment in ledger.payments.items():
        when = payment_date(payment, ledger.invoices, ledger.archived_invoices)
        if when is not None:
            dates[payment_id] = when
    return dates


def _remembered(
    ledger: Ledger,
    old_invoices: Mapping[str, Invoice],
    balances: Mapping[str, Balance],
    payments: Mapping[str, Payment],
    forget_before: date,
    cutoff: date,
) -> dict[str, ArchivedInvoice]:
    """The archived invoices to remember: those settled after `forget_before`.

    One a payment the ledger holds still names is kept too, until that payment is archived.
    """
    remembered = {
        **ledger.archived_invoices,
        **{
            k: ArchivedInvoice(currency=v.currency, settled_on=balances[k].settled_on or cutoff)
            for k, v in old_invoices.items()
        },
    }
    named = {p.invoice_id for p in payments.values()}
    return {k: v for k, v in remembered.items() if v.settled_on > forget_before or k in named}


def _forget(
    state: CustomerState,
    through: date,
    *,
    kept: set[str],
    dropped: set[str],
    invoices: Mapping[str, Invoice],
) -> CustomerState:
    """Drop the decision memory of archived facts: their event ids, flags and ladder steps.

    The id of a repeat (a fact re-sent under a new id) goes with its date, as its fact does.
    """
    return replace(
        state,
        seen={
            event_id: on
            for event_id, on in state.seen.items()
            if event_id in kept or (on > through and event_id not in dropped)
        },
        flags={k: v for k, v in state.flags.items() if k not in invoices},
        done_steps={k: v for k, v in state.done_steps.items() if k not in invoices},
    )


def _event_ids(
    invoices: Iterable[Invoice], payments: Iterable[Payment], notices: Iterable[DueNotice]
) -> set[str]:
    ids = {f.event_id for f in invoices}
    ids.update(f.event_id for f in payments)
    ids.update(f.event_id for f in notices)
    return ids


def fact_dates(ledger: Ledger) -> dict[str, date]:
    """The business date of each fact the ledger holds, by the event id it was recorded under."""
    dates = {inv.event_id: inv.issued_on for inv in ledger.invoices.values()}
    for payment in ledger.payments.values():
        when = payment_date(payment, ledger.invoices, ledger.archived_invoices)
        dates[payment.event_id] = payment.received_on if when is None else when
    dates.update((notice.event_id, notice.due_date) for notice in ledger.due_notices.values())
    return dates


def dated_seen(ledger: Ledger, event_ids: Iterable[str]) -> dict[str, date]:
    """Dates for event ids stored without one: the fact's date, for the id of a held fact.

    Any other id (only in states written before retention existed) repeated some fact under a
    new id: it takes the newest fact date, never earlier than its own, so it is not forgotten
    sooner than its fact.
    """
    dates = fact_dates(ledger)
    newest = max(dates.values(), default=date.min)
    return {event_id: dates.get(event_id, newest) for event_id in event_ids}
