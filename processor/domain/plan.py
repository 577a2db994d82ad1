"""What a policy and a ledger imply once, reused by every decision on them.

Decisions and wake-ups ask the same questions of the same (immutable) objects many times: the
ladder steps of a risk bucket by offset, a channel's cooldown, the unpaid invoices in due order,
who was settled when. `policy_plan` and `ledger_facts` answer them once per object, in day
numbers (proleptic ordinals) so that the hot loops compare integers instead of building dates.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from processor.domain.calendar import AS_DUE_UTC, Calendar
from processor.domain.ledger import ZERO, Invoice, Ledger
from processor.domain.memo import IdentityMemo, PairMemo
from processor.domain.policy import (
    ACTION_SEVERITY,
    RISK_BUCKETS,
    TONE_SEVERITY,
    LadderStep,
    Policy,
)


@dataclass(frozen=True, slots=True)
class RungPlan:
    """One risk bucket's ladder, by offset."""

    # Distinct offsets, ascending, and the steps at each (in ladder order).
    offsets: tuple[int, ...]
    steps_at: tuple[tuple[LadderStep, ...], ...]
    # (offset, step id, channel) of every step, by offset (ladder order among equal offsets).
    by_offset: tuple[tuple[int, str, str], ...]

    def rung_index(self, lower: int, upper: int) -> int:
        """Index of the largest offset in [lower, upper], or -1 when there is none."""
        index = bisect_right(self.offsets, upper) - 1
        if index < 0 or self.offsets[index] < lower:
            return -1
        return index


@dataclass(frozen=True, slots=True)
class PolicyPlan:
    """A policy's precomputations."""

    ladders: dict[str, RungPlan]
    # Step id -> (offset, channel), over every bucket's ladder (ids are unique across them).
    rungs: dict[str, tuple[int, str]]
    # Step id -> its action (releases look for the credit holds and referrals taken).
    actions: dict[str, str]
    # Step id -> the key that makes a step lead a merged contact (most advanced, most severe).
    lead_rank: dict[str, tuple[int, int, int, str]]
    # Channel -> cooldown days, for channels that have one.
    cooldown: dict[str, int]
    clock_flag_after: int  # days after the due date the clock flags an unnoticed invoice
    unpaid_late_after: int  # days past due from which an unpaid invoice counts as late
    behaviour_window: int
    tier_window: int


def _rung_plan(steps: tuple[LadderStep, ...]) -> RungPlan:
    ordered = sorted(steps, key=lambda s: s.offset_days)  # stable: ladder order within offsets
    offsets = tuple(sorted({s.offset_days for s in steps}))
    return RungPlan(
        offsets=offsets,
        steps_at=tuple(tuple(s for s in steps if s.offset_days == o) for o in offsets),
        by_offset=tuple((s.offset_days, s.id, s.channel) for s in ordered),
    )


def _plan(policy: Policy) -> PolicyPlan:
    ladders = {bucket: _rung_plan(policy.ladder.for_risk(bucket)) for bucket in RISK_BUCKETS}
    steps = [step for bucket in RISK_BUCKETS for step in policy.ladder.for_risk(bucket)]
    return PolicyPlan(
        ladders=ladders,
        rungs={s.id: (s.offset_days, s.channel) for s in steps},
        actions={s.id: s.action for s in steps},
        lead_rank={
            s.id: (
                s.offset_days,
                ACTION_SEVERITY.index(s.action),
                TONE_SEVERITY.index(s.tone),
                s.id,
            )
            for s in steps
        },
        cooldown={str(c): d for c, d in policy.contact.cooldown_days.items() if d > 0},
        clock_flag_after=policy.clock_grace_days + 1,
        unpaid_late_after=policy.behavior.unpaid_late_after_days,
        behaviour_window=policy.behavior.window_days,
        tier_window=policy.value_tier.window_days,
    )


policy_plan: IdentityMemo[Policy, PolicyPlan] = IdentityMemo(_plan)


@dataclass(slots=True)
class OpenInvoice:
    """An unpaid invoice with its day numbers and what it still owes (never changed once made).

    `due` is the day it may be paid by on the customer's calendar (its due date, or the next
    business day after a weekend or holiday): every lateness counts from it.
    """

    invoice: Invoice
    due: int
    issued: int
    outstanding: Decimal


@dataclass(frozen=True, slots=True)
class LedgerFacts:
    """A ledger's derived views (the same answers `Ledger`'s methods and the rules compute)."""

    # Unpaid invoices, oldest due date first (`Ledger.open_invoices`).
    open: tuple[OpenInvoice, ...]
    # Total owed per currency (`Ledger.outstanding_by_currency`).
    owed: dict[str, Decimal]
    # Issue days of every invoice, and settlement days of every paid one, ascending.
    issued_days: tuple[int, ...]
    paid_days: tuple[int, ...]
    # (settlement day, days late or 0) of every settled invoice: the behaviour figures' input.
    settlements: tuple[tuple[int, int], ...]
    # (issue day, currency, amount) of every invoice: the value tier's input.
    invoiced: tuple[tuple[int, str, Decimal], ...]
    # Invoices that could still be found late (not settled by their due date), by (due, id).
    flaggable: tuple[Invoice, ...]
    # Invoice -> the day it may be paid by (every invoice not voided).
    payable: dict[str, int]
    calendar: Calendar

    def payable_by(self, invoice: Invoice) -> date:
        """The date `invoice` may be paid by on the customer's calendar."""
        day = self.payable.get(invoice.invoice_id)
        return invoice.due_date if day is None else date.fromordinal(day)


def _facts(ledger: Ledger, calendar: Calendar) -> LedgerFacts:
    balances = ledger.balances
    open_rows = []
    owed: dict[str, Decimal] = {}
    issued_days = []
    paid_days = []
    settlements = []
    invoiced = []
    flaggable = []
    payable = {}
    for invoice_id, inv in ledger.invoices.items():
        balance = balances[invoice_id]
        closed_by = balance.closed_by
        if closed_by == "voided":  # never owed: in no figure (only retention dates it)
            continue
        issued = inv.issued_on.toordinal()
        due = calendar.payable_by(inv.due_date).toordinal()
        payable[invoice_id] = due
        issued_days.append(issued)
        invoiced.append((issued, inv.currency, inv.amount))
        outstanding = balance.outstanding
        if outstanding != ZERO:
            open_rows.append(OpenInvoice(inv, due, issued, outstanding))
            if outstanding > ZERO:
                owed[inv.currency] = owed.get(inv.currency, ZERO) + outstanding
        settled = balance.settled_on
        if settled is not None:
            settled_day = settled.toordinal()
            settlements += _settlement(closed_by, balance.paid, settled_day, due)
            if outstanding == ZERO:
                paid_days.append(settled_day)
            if settled_day <= due:
                continue
        flaggable.append(inv)
    if len(open_rows) > 1:
        open_rows.sort(key=_due_order)
    if len(flaggable) > 1:
        flaggable.sort(key=lambda inv: (payable[inv.invoice_id], inv.due_date, inv.invoice_id))
    issued_days.sort()
    paid_days.sort()
    return LedgerFacts(
        open=tuple(open_rows),
        owed=owed,
        issued_days=tuple(issued_days),
        paid_days=tuple(paid_days),
        settlements=tuple(settlements),
        invoiced=tuple(invoiced),
        flaggable=tuple(flaggable),
        payable=payable,
        calendar=calendar,
    )


def _settlement(
    closed_by: str | None, paid: Decimal, settled_day: int, due: int
) -> list[tuple[int, int]]:
    """[(settlement day, days late)] as behaviour counts it; [] when it says nothing.

    A write-off counts as late as it gets (not paid); an invoice credited in full with nothing
    paid says nothing about how the customer pays.
    """
    if closed_by == "written_off":
        return [(settled_day, max(1, settled_day - due))]
    if closed_by == "credited" and paid == ZERO:
        return []
    return [(settled_day, settled_day - due if settled_day > due else 0)]


def _due_order(row: OpenInvoice) -> tuple[int, date, date, str]:
    inv = row.invoice
    return (row.due, inv.due_date, inv.issued_on, inv.invoice_id)


def _earliest(ledger: Ledger, settled_days: list[date]) -> date | None:
    """The oldest date a retention cut could archive something at (None: nothing to archive).

    That is an invoice's settlement (`settled_days`, with the payments for it), a payment for no
    invoice or for an archived one, or a due notice for an invoice the ledger does not hold.
    """
    days = settled_days
    invoices = ledger.invoices
    days += [n.due_date for k, n in ledger.due_notices.items() if k not in invoices]
    archived = ledger.archived_invoices
    for payment in ledger.payments.values():
        if payment.invoice_id is None or payment.invoice_id in archived:
            days.append(payment.received_on)
    for note in ledger.credit_notes.values():
        if note.invoice_id is None or note.invoice_id in archived:
            days.append(note.issued_on)
    return min(days, default=None)


_ledger_facts: PairMemo[Ledger, Calendar, LedgerFacts] = PairMemo(_facts)


def _earliest_of(ledger: Ledger) -> date | None:
    """The oldest date retention could archive something at (None: nothing to archive)."""
    balances = ledger.balances
    settled = [b.settled_on for k in ledger.invoices if (b := balances[k]).settled_on is not None]
    return _earliest(ledger, settled)


# Retention asks for it on the first decision of each day. It depends on no calendar, so it is
# kept apart from the views, which decisions derive on the customer's calendar.
earliest_archivable: IdentityMemo[Ledger, date | None] = IdentityMemo(_earliest_of)


def ledger_facts(ledger: Ledger, calendar: Calendar = AS_DUE_UTC) -> LedgerFacts:
    """The ledger's derived views on a customer's calendar (default: due dates as they are).

    Decisions pass the customer's calendar; views that do not depend on due dates (figures in
    tests) may take the default.
    """
    return _ledger_facts(ledger, calendar)
