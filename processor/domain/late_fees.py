"""Late fees and interest as the policy sets them: what has accrued on a late invoice, by day.

arpulse states fees; it never invoices them (the billing system does, from `late_fee.assessed`).
From the day after the invoice's payable-by date plus the grace, the policy's fixed fee is due
once (if anything was still owed then) and interest runs day by day on what the invoice still
owed at the end of each day: its amount less its credit (credit corrects an invoice, so it counts
from the start), less the cash and discount applied by then (`ledger.owed_history`; a reversal
owes again from its date). A voided invoice was never owed and a written-off one is not
collected: neither accrues anything; the part of an invoice under dispute accrues nothing from
the dispute's opening (again from its rejection; never, once upheld). The total is capped and
rounded down to the minor unit, so a customer is never told of more than the terms allow.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from processor.domain.collection import Collection
from processor.domain.ledger import ZERO, Balance, Invoice, Ledger, owed_history
from processor.domain.memo import IdentityMemo
from processor.domain.money import minor_unit
from processor.domain.outputs import LateFee
from processor.domain.policy import LateFeePolicy

_ONE_DAY = timedelta(days=1)
_history: IdentityMemo[Ledger, Mapping[str, tuple[tuple[date, Decimal], ...]]] = IdentityMemo(
    owed_history
)


def accrued(
    ledger: Ledger,
    collection: Collection,
    invoice: Invoice,
    payable_by: date,
    as_of: date,
    rules: LateFeePolicy,
) -> LateFee | None:
    """The fees accrued on `invoice` by the end of `as_of` (None: nothing has)."""
    if not rules.enabled:
        return None
    balance = ledger.balances[invoice.invoice_id]
    if balance.closed_by in ("voided", "written_off"):
        return None
    start = payable_by + timedelta(days=rules.grace_days)  # fees run from the day after
    if as_of <= start:
        return None
    history = _history(ledger).get(invoice.invoice_id, ())
    if collection.disputes:
        paused = _disputed(collection, invoice)
        if paused:
            history = tuple(sorted((*history, *paused)))
    owed = invoice.amount - balance.credited
    entries = iter(history)
    pending = next(entries, None)
    while pending is not None and pending[0] <= start:
        owed -= pending[1]
        pending = next(entries, None)
    interest, late = _interest(owed, pending, entries, start, as_of, rules.daily_rate())
    if not late:
        return None  # settled within the grace, and never owed again since
    fixed = rules.fixed.get(invoice.currency, ZERO)
    return _capped(invoice, balance, fixed, interest, payable_by, as_of, rules)


def _disputed(collection: Collection, invoice: Invoice) -> list[tuple[date, Decimal]]:
    """A dispute's part accrues nothing from its opening (as if paid then), until it is rejected.

    An upheld dispute's part never accrues again: the credit note that follows corrects the
    invoice (counted from the start, the two may overlap: in the customer's favour).
    """
    found = []
    for dispute in collection.disputes.values():
        if dispute.invoice_id != invoice.invoice_id or dispute.opened_on is None:
            continue
        part = invoice.amount if dispute.amount is None else dispute.amount
        found.append((dispute.opened_on, part))
        if dispute.outcome == "rejected" and dispute.resolved_on is not None:
            found.append((max(dispute.resolved_on, dispute.opened_on), -part))
    return found


def _interest(
    owed: Decimal,
    pending: tuple[date, Decimal] | None,
    entries: Iterator[tuple[date, Decimal]],
    start: date,
    as_of: date,
    rate: Decimal,
) -> tuple[Decimal, bool]:
    """Interest for each day after `start` up to `as_of` on what was owed at its end.

    Also whether anything was owed at the end of any of those days (the invoice was late).
    """
    owed_days = ZERO
    late = False
    counted = start  # the last day accounted for
    while pending is not None and pending[0] <= as_of:
        day = pending[0]
        if day - counted > _ONE_DAY and owed > ZERO:
            late = True
            owed_days += owed * (day - counted - _ONE_DAY).days
        counted = day - _ONE_DAY
        owed -= pending[1]
        pending = next(entries, None)
    if as_of > counted and owed > ZERO:
        late = True
        owed_days += owed * (as_of - counted).days
    return owed_days * rate, late


def _capped(
    invoice: Invoice,
    balance: Balance,
    fixed: Decimal,
    interest: Decimal,
    payable_by: date,
    as_of: date,
    rules: LateFeePolicy,
) -> LateFee | None:
    unit = minor_unit(invoice.currency)
    total = fixed + interest
    limits = [rules.cap[invoice.currency]] if invoice.currency in rules.cap else []
    if rules.cap_percent > ZERO:
        limits.append(invoice.amount * rules.cap_percent / 100)
    limit = min(limits, default=None)
    capped = limit is not None and total > limit
    if capped and limit is not None:
        total = limit
    total = total.quantize(unit, rounding=ROUND_DOWN)
    if total <= ZERO:
        return None
    fixed_part = min(fixed, total)
    settled = balance.settled_on if balance.is_paid else None
    late_to = as_of if settled is None else min(as_of, settled)
    return LateFee(
        invoice_id=invoice.invoice_id,
        currency=invoice.currency,
        fixed=fixed_part,
        interest=total - fixed_part,
        total=total,
        as_of=as_of,
        days_late=max(0, (late_to - payable_by).days),
        capped=capped,
    )


def describe(rules: LateFeePolicy) -> str:
    """The policy's fees in words (reasons and assessments name what they were computed by)."""
    parts = []
    if rules.fixed:
        parts.append("a fixed fee per invoice")
    rate = {
        "daily": f"interest of {rules.rate_percent}% a day",
        "monthly": f"interest of {rules.rate_percent}% a month",
        "annual": f"interest of {rules.rate_percent}% a year",
        "statutory": (
            f"statutory interest of {rules.reference_rate_percent + rules.margin_percent}% a year "
            f"(reference rate {rules.reference_rate_percent}% plus {rules.margin_percent} points)"
        ),
    }.get(rules.interest)
    if rate is not None:
        parts.append(f"{rate} on what is owed, day by day ({rules.day_count}-day year)")
    caps = []
    if rules.cap_percent > ZERO:
        caps.append(f"{rules.cap_percent}% of the invoice")
    caps += [f"{amount} {currency}" for currency, amount in sorted(rules.cap.items())]
    text = " and ".join(parts)
    text += f", from the day after the payable-by date plus {rules.grace_days} days' grace"
    if caps:
        text += f", at most {' and '.join(caps)}"
    return text


def fee_text(fee: LateFee) -> str:
    """One late fee in words: 'INV-1 41.64 EUR (40.00 fixed, 1.64 interest, 30 days late)'."""
    parts = []
    if fee.fixed:
        parts.append(f"{fee.fixed} fixed")
    if fee.interest:
        parts.append(f"{fee.interest} interest")
    capped = ", capped" if fee.capped else ""
    return (
        f"{fee.invoice_id} {fee.total} {fee.currency} ({', '.join(parts)}, "
        f"{fee.days_late} days late{capped})"
    )
