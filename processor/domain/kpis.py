"""The collection figures finance teams judge collections by, from a portfolio's dated changes.

Definitions (docs/reports.md works an example of each), over a window of N days ending on D:
- receivables on a day: what the invoices owed at the end of it (voided ones are in no figure);
  current receivables: the part not yet past its payable-by day;
- credit sales: what was invoiced in the window;
- DSO, countback: today's receivables are matched against credit sales going back in 30-day
  periods from D: a period whose sales the rest of the receivables cover counts 30 days, the
  last one the covered share of 30 days. It stops at `countback_days` (the history kept).
- DSO, simple: receivables / credit sales * N;
- best possible DSO: current receivables / credit sales * N; ADD (average days delinquent):
  simple DSO minus best possible DSO (as shown, each rounded);
- CEI (collection effectiveness index), in percent: (beginning receivables + S - ending
  receivables) / (beginning receivables + S - ending current receivables), where the beginning is
  the day before the window and S the window's credit sales ('period', the convention of most AR
  software) or their monthly average ('monthly_average', N / 30 months);
- share over 90 days: receivables more than 90 days past due / receivables.
Days are rounded half up to 0.1, percentages to 0.1 and the share to 0.001. A figure with a zero
denominator (no sales in the window, nothing to collect) is None: undefined, not zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from processor.domain.receivables import CurrencyShare, between, level

PERIOD_DAYS = 30
_TENTH = Decimal("0.1")
_SHARE = Decimal("0.001")
_HUNDRED = Decimal(100)

CeiConvention = Literal["period", "monthly_average"]


@dataclass(frozen=True, slots=True)
class Countback:
    """Countback DSO, and whether the receivables outlasted the history looked at."""

    days: Decimal
    capped: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """One currency's figures on a day, with what they are computed from."""

    as_of: date
    window_days: int
    receivables: Decimal
    current: Decimal
    over_90: Decimal
    beginning: Decimal
    credit_sales: Decimal
    dso_countback: Countback | None
    dso_simple: Decimal | None
    best_possible_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None
    over_90_share: Decimal | None


def countback_dso(receivables: Decimal, period_sales: Sequence[Decimal]) -> Countback | None:
    """Countback DSO from receivables and credit sales per 30-day period, newest first."""
    if receivables <= 0:
        return None if receivables < 0 else Countback(days=Decimal(0), capped=False)
    left, days = receivables, Decimal(0)
    for sales in period_sales:
        if sales <= 0:
            days += PERIOD_DAYS
            continue
        if left <= sales:
            return Countback(days=_days(days + left / sales * PERIOD_DAYS), capped=False)
        left -= sales
        days += PERIOD_DAYS
    return Countback(days=_days(days), capped=True)


def simple_dso(receivables: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """Receivables over credit sales, in days of the period."""
    if credit_sales <= 0:
        return None
    return _days(receivables / credit_sales * days)


def cei(
    beginning: Decimal,
    credit_sales: Decimal,
    ending: Decimal,
    ending_current: Decimal,
    *,
    convention: CeiConvention = "period",
    months: Decimal = Decimal(1),
) -> Decimal | None:
    """Collection effectiveness index, in percent (see the module's definition)."""
    sales = credit_sales if convention == "period" else credit_sales / months
    collectible = beginning + sales - ending_current
    if collectible <= 0:
        return None
    return ((beginning + sales - ending) / collectible * _HUNDRED).quantize(_TENTH, ROUND_HALF_UP)


def figures(
    mine: CurrencyShare,
    as_of: date,
    *,
    window_days: int,
    countback_days: int,
    convention: CeiConvention = "period",
) -> Figures:
    """One currency's figures on `as_of` over the window of `window_days` ending on it."""
    start = as_of - timedelta(days=window_days)
    receivables = level(mine.owed, as_of)
    past_due = level(mine.over[0], as_of)
    over_90 = level(mine.over[90], as_of)
    current = receivables - past_due
    beginning = level(mine.owed, start)
    sales = between(mine.sales, start, as_of)
    periods = [
        between(
            mine.sales,
            as_of - timedelta(days=PERIOD_DAYS * (n + 1)),
            as_of - timedelta(days=PERIOD_DAYS * n),
        )
        for n in range(countback_days // PERIOD_DAYS)
    ]
    simple = simple_dso(receivables, sales, window_days)
    best = simple_dso(current, sales, window_days)
    return Figures(
        as_of=as_of,
        window_days=window_days,
        receivables=receivables,
        current=current,
        over_90=over_90,
        beginning=beginning,
        credit_sales=sales,
        dso_countback=countback_dso(receivables, periods),
        dso_simple=simple,
        best_possible_dso=best,
        add=None if simple is None or best is None else simple - best,
        cei=cei(
            beginning,
            sales,
            receivables,
            current,
            convention=convention,
            months=Decimal(window_days) / PERIOD_DAYS,
        ),
        over_90_share=None
        if receivables <= 0
        else (over_90 / receivables).quantize(_SHARE, ROUND_HALF_UP),
    )


def _days(value: Decimal) -> Decimal:
    return value.quantize(_TENTH, ROUND_HALF_UP)
