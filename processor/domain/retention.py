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
invoice would be settled; and, still owing at C, it took no early-payment discount by then, so
its kept payments dated on or before C earn none when replayed), and a later payment naming an
archived invoice, which owes nothing, goes to the cash on account as it would have. Segments do
not change either: an archived invoice was issued and settled at least `retain_days` before
today, so it has left the behaviour and value-tier windows (policy validation makes
`retain_days` at least as long as both); it is paid, so it is in no aging bucket, ladder step or
wake-up; and it was flagged, if it was late, by the decision that archives it. A fact dated on
or before `archived_through` is refused from then on (the ledger's `_refuse_archived`): it could
re-deliver an archived fact, which can no longer be recognised; only a payment for an invoice
still held that it does not overpay is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta

from processor.domain.collection import Collection
from processor.domain.ledger import (
    ZERO,
    ArchivedInvoice,
    Balance,
    CreditNote,
    Invoice,
    Ledger,
    Opening,
    Payment,
    carried_forward,
    payment_date,
    source_dates,
)
from processor.domain.plan import earliest_archivable
from processor.domain.policy import HistoryPolicy
from processor.domain.state import CustomerState


def compact(state: CustomerState, *, today: date, policy: HistoryPolicy) -> CustomerState:
    """The state with its past before `today - retain_days` archived (or unchanged)."""
    cutoff = archive_cutoff(state.ledger, today - timedelta(days=policy.retain_days))
    if cutoff is None or _blocked(state.ledger, cutoff):
        return state
    forget_before = today - timedelta(days=policy.remember_archived_days)
    return _archive(state, cutoff, forget_before)


def _blocked(ledger: Ledger, cutoff: date) -> bool:
    """True while a fact dated after the cut undoes one dated before it (a reversal or a void).

    What the archived facts leave would then not be final: the cut waits until it passes them.
    """
    for payment_id, reversal in ledger.reversals.items():
        payment = ledger.payments.get(payment_id)
        if payment is not None and reversal.reversed_on > cutoff and payment.received_on <= cutoff:
            return True
    for invoice_id, void in ledger.voids.items():
        invoice = ledger.invoices.get(invoice_id)
        if invoice is not None and void.voided_on > cutoff and invoice.issued_on <= cutoff:
            return True
    return False


def archive_cutoff(ledger: Ledger, limit: date) -> date | None:
    """`limit` if the ledger holds something dated on or before it to archive, else None.

    The oldest date a cut could archive something at is an invoice's settlement (with the
    payments for it), a payment for no invoice or for an archived one, or a due notice for an
    invoice the ledger does not hold (`plan.earliest_archivable`).
    """
    earliest = earliest_archivable(ledger)
    return limit if earliest is not None and earliest <= limit else None


def _archive(state: CustomerState, cutoff: date, forget_before: date) -> CustomerState:
    """Archive what is dated on or before `cutoff`, carrying forward what the rest needs."""
    ledger = state.ledger
    dated = _payment_dates(ledger)
    credited = _credit_dates(ledger)
    issued = {k: v for k, v in ledger.invoices.items() if v.issued_on <= cutoff}
    early = _sub_ledger(
        ledger,
        issued,
        {k: ledger.payments[k] for k, when in dated.items() if when <= cutoff},
        {k: ledger.credit_notes[k] for k, when in credited.items() if when <= cutoff},
        cutoff,
    )
    _credit, balances = carried_forward(ledger, early)  # as of the cutoff
    old_invoices = {k: v for k, v in issued.items() if balances[k].is_paid}
    invoices = {k: v for k, v in ledger.invoices.items() if k not in old_invoices}
    # A payment for an invoice still owing stays (a re-delivery of it must be recognised), and
    # is replayed on top of what the archived facts leave. It never paid more than its invoice
    # owed (that would have settled it), so leaving it out changes nothing else.
    old_payments = {k: v for k, v in early.payments.items() if v.invoice_id not in invoices}
    old_credits = {k: v for k, v in early.credit_notes.items() if v.invoice_id not in invoices}
    old = _sub_ledger(ledger, issued, old_payments, old_credits, cutoff, archived=old_invoices)
    credit, opening = carried_forward(ledger, old)
    notices = {k: v for k, v in ledger.due_notices.items() if k in invoices or v.due_date > cutoff}
    old_notices = [v for k, v in ledger.due_notices.items() if k not in notices]
    through = max(
        (
            *(v.issued_on for v in issued.values()),
            *(dated[k] for k in old_payments),
            *(credited[k] for k in old_credits),
            *(v.due_date for v in old_notices),
        ),
        default=cutoff,  # not used: the cut archives something (`archive_cutoff`)
    )
    archived = replace(
        ledger,
        invoices=invoices,
        payments={k: v for k, v in ledger.payments.items() if k not in old_payments},
        credit_notes={k: v for k, v in ledger.credit_notes.items() if k not in old_credits},
        write_offs={k: v for k, v in ledger.write_offs.items() if v.invoice_id not in old_invoices},
        voids={k: v for k, v in ledger.voids.items() if k not in old_invoices},
        due_changes={k: v for k, v in ledger.due_changes.items() if k not in old_invoices},
        reversals={k: v for k, v in ledger.reversals.items() if k not in old_payments},
        due_notices=notices,
        # Later balances, the credit and the held payments derive unchanged (module docstring).
        balances={k: v for k, v in ledger.balances.items() if k in invoices},
        archived_through=through,
        opening_credit=credit,
        opening_paid={
            k: Opening(paid=b.paid, last_paid_on=b.last_paid_on, credited=b.credited)
            for k, b in opening.items()
            if k in invoices and (b.paid > ZERO or b.credited > ZERO)
        },
        archived_invoices=_remembered(ledger, old_invoices, balances, cutoff, forget_before),
    )
    return _forget(
        replace(state, ledger=archived),
        through,
        kept=_event_ids(archived),
        dropped=_event_ids(ledger) - _event_ids(archived),
        invoices=old_invoices,
    )


def _sub_ledger(
    ledger: Ledger,
    invoices: Mapping[str, Invoice],
    payments: Mapping[str, Payment],
    credit_notes: Mapping[str, CreditNote],
    cutoff: date,
    *,
    archived: Mapping[str, Invoice] | None = None,
) -> Ledger:
    """The facts among `invoices`, `payments` and `credit_notes`' companions dated by `cutoff`.

    `archived`: only the write-offs and voids of those invoices (the others stay in the ledger
    and are replayed on top of the opening balances).
    """
    scope = invoices if archived is None else archived
    return Ledger(
        invoices=invoices,
        payments=payments,
        credit_notes=credit_notes,
        write_offs={
            k: v
            for k, v in ledger.write_offs.items()
            if v.invoice_id in scope and v.written_off_on <= cutoff
        },
        voids={k: v for k, v in ledger.voids.items() if k in scope and v.voided_on <= cutoff},
        reversals={
            k: v for k, v in ledger.reversals.items() if k in payments and v.reversed_on <= cutoff
        },
    )


def _credit_dates(ledger: Ledger) -> dict[str, date]:
    """Each applied credit note's place on the timeline."""
    dates = {}
    for note_id, note in ledger.credit_notes.items():
        when = payment_date(note, ledger)
        if when is not None:
            dates[note_id] = when
    return dates


def _payment_dates(ledger: Ledger) -> dict[str, date]:
    """Each payment's place on the timeline (held payments have none)."""
    dates = {}
    for payment_id, payment in ledger.payments.items():
        when = payment_date(payment, ledger)
        if when is not None:
            dates[payment_id] = when
    return dates


def _remembered(
    ledger: Ledger,
    old_invoices: Mapping[str, Invoice],
    balances: Mapping[str, Balance],
    cutoff: date,
    forget_before: date,
) -> dict[str, ArchivedInvoice]:
    """The archived invoices settled after `forget_before` (policy remember_archived_days).

    A payment naming one is applied as the whole history would apply it (pooled: it owes
    nothing); naming one forgotten, it is unapplied cash with a reconcile task, never lost.
    """
    remembered = {
        **ledger.archived_invoices,
        **{
            k: ArchivedInvoice(currency=v.currency, settled_on=balances[k].settled_on or cutoff)
            for k, v in old_invoices.items()
        },
    }
    return {k: v for k, v in remembered.items() if v.settled_on > forget_before}


def _forget(
    state: CustomerState,
    through: date,
    *,
    kept: set[str],
    dropped: set[str],
    invoices: Mapping[str, Invoice],
) -> CustomerState:
    """Drop the decision memory of archived facts: their event ids, flags, steps and contacts.

    The id of a repeat (a fact re-sent under a new id) goes with its date, as its fact does.
    Collection facts about archived invoices only (disputes, sent contacts, reached rungs) go too.
    """
    collection, statuses, tasks = state.collection, state.statuses, state.tasks
    if not collection.empty or collection.sent:
        collection = _pruned(collection, statuses, through, invoices)
        kept_ids = set(collection.disputes) | set(collection.promises) | set(collection.plans)
        statuses = {k: v for k, v in statuses.items() if k.split("#", 1)[0] in kept_ids}
        tasks = frozenset(t for t in tasks if _subject(t) not in invoices)
    return replace(
        state,
        seen={
            event_id: on
            for event_id, on in state.seen.items()
            if event_id in kept or (on > through and event_id not in dropped)
        },
        flags={k: v for k, v in state.flags.items() if k not in invoices},
        done_steps={k: v for k, v in state.done_steps.items() if k not in invoices},
        first_contact={k: v for k, v in state.first_contact.items() if k not in invoices},
        collection=collection,
        statuses=statuses,
        tasks=tasks,
    )


def _subject(task: str) -> str:
    """The id a once-only task is about (its key's last part)."""
    return task.rsplit(":", 1)[-1]


def _pruned(
    collection: Collection,
    statuses: Mapping[str, str],
    through: date,
    invoices: Mapping[str, Invoice],
) -> Collection:
    """Collection facts that can no longer change a decision, dropped with the archived past.

    Disputes and contacts about archived invoices, commitments settled by `through`, holds
    released by then.
    """
    plans = {
        k: v
        for k, v in collection.plans.items()
        if not (
            all(f"{k}#{n}" in statuses for n in range(1, len(v.instalments) + 1))
            and v.instalments[-1].due_date <= through
        )
    }
    return replace(
        collection,
        disputes={k: v for k, v in collection.disputes.items() if v.invoice_id not in invoices},
        promises={
            k: v
            for k, v in collection.promises.items()
            if not (k in statuses and v.promised_on <= through)
        },
        plans=plans,
        holds={
            k: v
            for k, v in collection.holds.items()
            if v.released_on is None or v.released_on > through
        },
        sent={
            k: v
            for k, v in collection.sent.items()
            if not all(i in invoices for i in v.invoice_ids)
        },
        reached={k: v for k, v in collection.reached.items() if k not in invoices},
    )


def _event_ids(ledger: Ledger) -> set[str]:
    """The event ids of every money fact the ledger holds."""
    return {event_id for event_id, _on in source_dates(ledger)}


def fact_dates(ledger: Ledger) -> dict[str, date]:
    """The business date of each fact the ledger holds, by the event id it was recorded under."""
    return dict(source_dates(ledger))


def dated_seen(ledger: Ledger, event_ids: Iterable[str]) -> dict[str, date]:
    """Dates for event ids stored without one: the fact's date, for the id of a held fact.

    Any other id (only in states written before retention existed) repeated some fact under a
    new id: it takes the newest fact date, never earlier than its own, so it is not forgotten
    sooner than its fact.
    """
    dates = fact_dates(ledger)
    newest = max(dates.values(), default=date.min)
    return {event_id: dates.get(event_id, newest) for event_id in event_ids}
