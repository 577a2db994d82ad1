"""What may be chased on each open invoice today (contract semantics 6, 9 and 10).

Outstanding is what the ledger says is owed. Chaseable is the part of it a collector may ask
for today: not the part under an open (or upheld) dispute, not what a pending promise or a plan
instalment not yet due covers, nothing while the invoice or the customer is on hold, and nothing
of a residue below the policy's tolerance. Unapplied cash of the currency that covers an overdue
invoice limits it to reminders (someone must reconcile that cash first). Each pause keeps a
clause a collector can read, so every reason names what shaped the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from processor.domain.collection import Collection
from processor.domain.commitments import Commitment
from processor.domain.ledger import ZERO, Ledger
from processor.domain.plan import OpenInvoice
from processor.domain.policy import Policy
from processor.domain.segmentation import ResidueTest, residue_test


@dataclass(frozen=True, slots=True, kw_only=True)
class Owing:
    """One open invoice: what it owes, what may be chased, and why the rest may not."""

    outstanding: Decimal
    chaseable: Decimal
    paused: tuple[str, ...] = ()
    residue: bool = False
    reminder_only: bool = False
    # How much of it each pause covers: ("held" | "disputed" | "promised" | "on_plan", amount),
    # each part counted under the first pause that took it (the aging report's columns).
    paused_amounts: tuple[tuple[str, Decimal], ...] = ()


def owing(
    ledger: Ledger,
    collection: Collection,
    rows: tuple[OpenInvoice, ...],
    found: list[Commitment],
    today: date,
    policy: Policy,
) -> dict[str, Owing]:
    """Invoice id -> what it owes and what may be chased of it today."""
    if not rows:
        return {}
    residue = residue_test(policy)
    if collection.empty and not found and not ledger.held:  # the common case: nothing paused
        return {
            row.invoice.invoice_id: _residue(row, residue)
            or Owing(outstanding=row.outstanding, chaseable=row.outstanding)
            for row in rows
        }
    chaseable: dict[str, Decimal] = {}
    paused: dict[str, list[str]] = {}
    amounts: dict[str, dict[str, Decimal]] = {}
    result: dict[str, Owing] = {}
    for row in rows:
        small = _residue(row, residue)
        if small is not None:
            result[row.invoice.invoice_id] = small
            continue
        chaseable[row.invoice.invoice_id] = row.outstanding
        paused[row.invoice.invoice_id] = []
        amounts[row.invoice.invoice_id] = {}
    _holds(collection, today, chaseable, paused, amounts)
    _disputes(collection, rows, chaseable, paused, amounts)
    _commitments(rows, found, chaseable, paused, amounts)
    covered = _covered_by_unapplied(ledger, rows, today)
    for row in rows:
        invoice_id = row.invoice.invoice_id
        if invoice_id in result:
            continue
        result[invoice_id] = Owing(
            outstanding=row.outstanding,
            chaseable=max(ZERO, chaseable[invoice_id]),
            paused=tuple(paused[invoice_id]),
            reminder_only=invoice_id in covered,
            paused_amounts=tuple((k, v) for k, v in amounts[invoice_id].items() if v > ZERO),
        )
    return result


def _residue(row: OpenInvoice, residue: ResidueTest) -> Owing | None:
    """A residue below the currency's tolerance: nothing of it is chased (else None)."""
    if not residue(row.outstanding, row.invoice.currency):
        return None
    return Owing(
        outstanding=row.outstanding,
        chaseable=ZERO,
        paused=(f"a residue below the {row.invoice.currency} tolerance",),
        residue=True,
    )


def _take(
    amounts: Mapping[str, dict[str, Decimal]], invoice_id: str, category: str, amount: Decimal
) -> None:
    """Count `amount` of an invoice under a pause category."""
    mine = amounts[invoice_id]
    mine[category] = mine.get(category, ZERO) + amount


def _holds(
    collection: Collection,
    today: date,
    chaseable: dict[str, Decimal],
    paused: Mapping[str, list[str]],
    amounts: Mapping[str, dict[str, Decimal]],
) -> None:
    """An active hold on an invoice, or on the whole customer, pauses everything it covers."""
    for hold in sorted(collection.holds.values(), key=lambda h: h.hold_id):
        if not hold.active(today):
            continue
        text = _hold_text(hold.hold_id, hold.reason, hold.until)
        if hold.invoice_id is None:
            for invoice_id in chaseable:
                _take(amounts, invoice_id, "held", chaseable[invoice_id])
                chaseable[invoice_id] = ZERO
                paused[invoice_id].append(f"the customer is {text}")
        elif hold.invoice_id in chaseable:
            _take(amounts, hold.invoice_id, "held", chaseable[hold.invoice_id])
            chaseable[hold.invoice_id] = ZERO
            paused[hold.invoice_id].append(text)


def _disputes(
    collection: Collection,
    rows: tuple[OpenInvoice, ...],
    chaseable: dict[str, Decimal],
    paused: Mapping[str, list[str]],
    amounts: Mapping[str, dict[str, Decimal]],
) -> None:
    """An open (or upheld) dispute pauses its part of the invoice (all of it without amount)."""
    for dispute in sorted(collection.disputes.values(), key=lambda d: d.dispute_id):
        target = dispute.invoice_id
        if target is None or target not in chaseable or not dispute.pauses():
            continue
        left = chaseable[target]
        part = left if dispute.amount is None else min(dispute.amount, left)
        chaseable[target] = left - part
        _take(amounts, target, "disputed", part)
        state = "open" if dispute.is_open() else "upheld, awaiting its adjustment"
        amount = ""
        if dispute.amount is not None:
            amount = f" for {dispute.amount} {_currency(rows, target)}"
        paused[target].append(f"dispute {dispute.dispute_id}{amount} ({state})")


def _currency(rows: tuple[OpenInvoice, ...], invoice_id: str) -> str:
    return next(r.invoice.currency for r in rows if r.invoice.invoice_id == invoice_id)


def _hold_text(hold_id: str, reason: str | None, until: date | None) -> str:
    why = f", {reason.replace('_', ' ')}" if reason else ""
    end = f" until {until}" if until is not None else ""
    return f"on hold {hold_id}{why}{end}"


def _commitments(
    rows: tuple[OpenInvoice, ...],
    found: list[Commitment],
    chaseable: dict[str, Decimal],
    paused: Mapping[str, list[str]],
    amounts: Mapping[str, dict[str, Decimal]],
) -> None:
    """Pending promises and instalments not yet due cover their invoices, oldest due first."""
    pending: dict[tuple[str, tuple[str, ...], str], list[Commitment]] = {}
    for c in found:
        if c.status is None and c.covers > ZERO:
            group = c.commitment_id.split("#", 1)[0]
            pending.setdefault((group, c.invoice_ids, c.currency), []).append(c)
    for (group, invoice_ids, currency), items in sorted(pending.items()):
        cover = sum((c.covers for c in items), ZERO)
        named = set(invoice_ids)
        targets = [
            r.invoice.invoice_id
            for r in rows
            if r.invoice.currency == currency
            and r.invoice.invoice_id in chaseable
            and (not named or r.invoice.invoice_id in named)
        ]
        first = items[0]
        if first.kind == "promise":
            text = f"promise {group} to pay {first.amount} {currency} by {first.due}"
        else:
            text = (
                f"payment plan {group} (next instalment {first.amount} {currency} due {first.due})"
            )
        # A promised payment pays the oldest due first (the ledger's rule), so it covers those;
        # a plan's instalments not yet due are its last payments, so they cover the newest.
        for invoice_id in targets if first.kind == "promise" else reversed(targets):
            if cover <= ZERO:
                break
            take = min(cover, chaseable[invoice_id])
            if take <= ZERO:
                continue
            chaseable[invoice_id] -= take
            cover -= take
            paused[invoice_id].append(text)
            _take(amounts, invoice_id, "promised" if first.kind == "promise" else "on_plan", take)


def _covered_by_unapplied(ledger: Ledger, rows: tuple[OpenInvoice, ...], today: date) -> set[str]:
    """Overdue invoices that unapplied cash of their currency could pay, oldest due first."""
    cash: dict[str, Decimal] = {}
    for item in ledger.unapplied():
        cash[item.currency] = cash.get(item.currency, ZERO) + item.amount
    if not cash:
        return set()
    day = today.toordinal()
    covered = set()
    for row in rows:  # oldest due first
        left = cash.get(row.invoice.currency, ZERO)
        if row.due < day and ZERO < row.outstanding <= left:
            covered.add(row.invoice.invoice_id)
            cash[row.invoice.currency] = left - row.outstanding
    return covered
