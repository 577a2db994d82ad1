"""A customer's share of the aging report and of the collection figures, as day-indexed changes.

Receivables figures are sums over customers, and a report asks them as of a day. Kept as
levels (what is owed today, per bucket) they go stale: an invoice moves from 1-30 to 31-60 on a
day no event arrives. Kept as changes by business date they do not: what a customer owed on any
day is the sum of its changes up to that day, and what it owed more than k days past due is the
same sum over its invoices past that age, each of which enters on a known day. So one
customer's share is a few dated amounts per currency (`Share`), computed from its state when it
is decided; the portfolio's is their sum, and any report on any day is read off the sum without
visiting a customer (`processor.domain.kpis`). A new fact replaces the customer's share, which
also restates its past days (a due date moved, a payment reversed).

The amounts of columns that are not ages (disputed, promised, on a plan, held, unapplied) are
levels as of the customer's last decision: they change with facts and with the wake-ups that
the lifecycle already schedules (a promise falling due), not with the calendar alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from processor.domain.calendar import Calendar
from processor.domain.ledger import owed_changes
from processor.domain.owed import Owing
from processor.domain.plan import ledger_facts
from processor.domain.policy import AGING_BUCKETS, AGING_EDGES
from processor.domain.state import CustomerState

# Ages the report is cut at: an invoice is "over k" once more than k days past its payable-by day.
AGES = tuple(upper for upper, _ in AGING_EDGES)  # 0, 30, 60, 90, 120
PAUSED = ("disputed", "promised", "on_plan", "held")
MEMO = (*PAUSED, "unapplied")
COLUMNS = (*AGING_BUCKETS, "total", *MEMO)
UNSEGMENTED = "unsegmented"

Changes = dict[date, Decimal]


@dataclass(slots=True)
class CurrencyShare:
    """One currency of one customer (or of a sum of them): dated changes and memo levels."""

    sales: Changes = field(default_factory=dict)  # invoiced on each day
    owed: Changes = field(default_factory=dict)  # change in what is owed on each day
    over: dict[int, Changes] = field(default_factory=lambda: {age: {} for age in AGES})
    memo: dict[str, Decimal] = field(default_factory=dict)  # MEMO column -> level

    def add(self, other: CurrencyShare) -> None:
        """Add another share into this one (the portfolio's sum)."""
        _merge(self.sales, other.sales)
        _merge(self.owed, other.owed)
        for age in AGES:
            _merge(self.over[age], other.over[age])
        for column, amount in other.memo.items():
            self.memo[column] = self.memo.get(column, Decimal(0)) + amount


@dataclass(frozen=True, slots=True)
class Share:
    """One customer's share, under the segment its figures are reported in (its value tier)."""

    segment: str
    currencies: Mapping[str, CurrencyShare]


def share(state: CustomerState, owed: Mapping[str, Owing], calendar: Calendar) -> Share:
    """The customer's share as its state stands; `owed` is what its last decision found."""
    ledger = state.ledger
    segment = UNSEGMENTED if state.segment is None else state.segment.value_tier
    currencies: dict[str, CurrencyShare] = {}
    changes = owed_changes(ledger) if ledger.invoices else {}
    facts = ledger_facts(ledger, calendar) if changes else None
    for invoice_id, dated in changes.items():
        invoice = ledger.invoices[invoice_id]
        mine = currencies.setdefault(invoice.currency, CurrencyShare())
        _add(mine.sales, invoice.issued_on, invoice.amount)
        for on, amount in dated:
            _add(mine.owed, on, amount)
        assert facts is not None
        _aged(mine.over, dated, facts.payable_by(invoice))
    for invoice_id, owing in owed.items():
        held = ledger.invoices.get(invoice_id)
        if held is None:
            continue
        for column, amount in owing.paused_amounts:
            _level(currencies, held.currency, column, amount)
    for item in ledger.unapplied():  # held: named to another currency, an unknown invoice...
        _level(currencies, item.currency, "unapplied", item.amount)
    for currency, amount in ledger.credit.items():  # on account: overpaid, over-credited
        _level(currencies, currency, "unapplied", amount)
    for mine in currencies.values():
        _drop_zeros(mine)
    return Share(segment=segment, currencies=currencies)


def level(changes: Mapping[date, Decimal], day: date) -> Decimal:
    """The sum of the changes dated up to and including `day`."""
    return sum((amount for on, amount in changes.items() if on <= day), Decimal(0))


def between(changes: Mapping[date, Decimal], after: date, through: date) -> Decimal:
    """The sum of the changes dated after `after`, up to and including `through`."""
    return sum((a for on, a in changes.items() if after < on <= through), Decimal(0))


def aging(mine: CurrencyShare, day: date) -> dict[str, Decimal]:
    """The aging report's row of one currency on `day`: buckets, total, then the memo columns.

    The buckets split what is owed by age and add up to the total; the memo columns say how
    much of the total is paused (disputed, promised, on a plan, held) and the cash on account.
    """
    total = level(mine.owed, day)
    over = [level(mine.over[age], day) for age in AGES]
    buckets = [total - over[0], *(over[i] - over[i + 1] for i in range(len(AGES) - 1)), over[-1]]
    row = dict(zip(AGING_BUCKETS, buckets, strict=True))
    row["total"] = total
    for column in MEMO:
        row[column] = mine.memo.get(column, Decimal(0))
    return row


def _aged(over: dict[int, Changes], dated: tuple[tuple[date, Decimal], ...], due: date) -> None:
    """An invoice's changes as they count over each age (dated in order).

    It enters age k the day after it is k days past `due`, with all it owes that day; each later
    change counts on its own day. Once nothing is owed and nothing changes later, no higher age
    gets anything.
    """
    running, n, last = Decimal(0), 0, len(dated)
    for age in AGES:
        enters = due + timedelta(days=age + 1)
        while n < last and dated[n][0] <= enters:
            running += dated[n][1]
            n += 1
        if n == last and not running:
            return
        into = over[age]
        _add(into, enters, running)
        for on, amount in dated[n:]:
            _add(into, on, amount)


def _add(into: Changes, on: date, amount: Decimal) -> None:
    if amount:
        into[on] = into.get(on, Decimal(0)) + amount


def _level(
    currencies: dict[str, CurrencyShare], currency: str, column: str, amount: Decimal
) -> None:
    memo = currencies.setdefault(currency, CurrencyShare()).memo
    memo[column] = memo.get(column, Decimal(0)) + amount


def _merge(into: Changes, other: Mapping[date, Decimal]) -> None:
    for on, amount in other.items():
        _add(into, on, amount)
    for on in [on for on, amount in into.items() if not amount]:
        del into[on]


def _drop_zeros(mine: CurrencyShare) -> None:
    for changes in (mine.sales, mine.owed, *mine.over.values()):
        for on in [on for on, amount in changes.items() if not amount]:
            del changes[on]
    for column in [c for c, amount in mine.memo.items() if not amount]:
        del mine.memo[column]
