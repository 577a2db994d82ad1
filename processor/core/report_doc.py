"""A customer's receivables share as the read model stores it, and the portfolio's sums read back.

Flat and integral, so the Redis script that keeps the portfolio's sums can subtract a customer's
previous share and add its new one exactly (HINCRBY on whole minor units: no float ever touches
an amount). One document per customer: ``{"<segment>|<currency>": {"<series>|<day>": minor}}``,
series ``s`` (credit sales), ``a`` (change in what is owed), ``o<k>`` (change in what is owed more
than k days past due), and ``m|<column>`` for the memo levels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from processor.domain.kpis import Countback, Figures, figures
from processor.domain.money import minor_unit, minor_units
from processor.domain.policy import ReportsPolicy
from processor.domain.receivables import AGES, CurrencyShare, Share, aging

log = logging.getLogger(__name__)

Document = dict[str, dict[str, str]]

# Redis keeps 64-bit integers; a value beyond this leaves room for sums of many of them.
LARGEST_MINOR = 2**62


def share_document(share: Share) -> Document:
    """The customer's share in whole minor units."""
    document: Document = {}
    for currency, mine in sorted(share.currencies.items()):
        places = minor_units(currency)
        fields: dict[str, str] = {}
        series = [("s", mine.sales), ("a", mine.owed), *((f"o{k}", mine.over[k]) for k in AGES)]
        for name, changes in series:
            for on, amount in sorted(changes.items()):
                fields[f"{name}|{on.isoformat()}"] = str(_minor(amount, places))
        for column, amount in sorted(mine.memo.items()):
            fields[f"m|{column}"] = str(_minor(amount, places))
        if fields:
            document[f"{share.segment}|{currency}"] = fields
    return document


def share_or_none(share: Share) -> Document:
    """`share_document`, or no share (logged) when an amount is beyond what the sums hold.

    Leaving the customer out of the reports is better than stopping its partition or letting a
    sum wrap around; the log names the customer.
    """
    try:
        return share_document(share)
    except ValueError as exc:
        log.error("receivables of a customer left out of the reports: %s", exc)
        return {}


def read_totals(scope: str, fields: Mapping[str, str | int]) -> tuple[str, str, CurrencyShare]:
    """One stored sum (scope ``<segment>|<currency>``) back as (segment, currency, share)."""
    segment, currency = scope.rsplit("|", 1)
    places = minor_units(currency)
    mine = CurrencyShare()
    targets = {"s": mine.sales, "a": mine.owed, **{f"o{k}": mine.over[k] for k in AGES}}
    for name, value in fields.items():
        series, _, when = name.partition("|")
        amount = Decimal(int(value)).scaleb(-places)
        if series == "m":
            mine.memo[when] = amount
            continue
        target = targets.get(series)
        if target is not None:
            target[date.fromisoformat(when)] = amount
    return segment, currency, mine


def summed(shares: Iterable[CurrencyShare]) -> CurrencyShare:
    """Several shares of one currency added up."""
    total = CurrencyShare()
    for mine in shares:
        total.add(mine)
    return total


def currency_figures(
    mine: CurrencyShare, currency: str, as_of: date, reports: ReportsPolicy, countback_days: int
) -> dict[str, Any]:
    """One currency's collection figures on `as_of` under the policy's window, as JSON."""
    found = figures(
        mine,
        as_of,
        window_days=reports.window_days,
        countback_days=countback_days,
        convention=reports.cei_convention,
    )
    return figures_json(found, currency)


def figures_json(found: Figures, currency: str) -> dict[str, Any]:
    """Figures as JSON: decimal strings (amounts to the currency's minor unit), None undefined."""
    countback: Countback | None = found.dso_countback
    unit = minor_unit(currency)
    return {
        "dso_countback": None if countback is None else str(countback.days),
        "dso_countback_capped": None if countback is None else countback.capped,
        "dso_simple": _text_or_none(found.dso_simple),
        "best_possible_dso": _text_or_none(found.best_possible_dso),
        "add": _text_or_none(found.add),
        "cei_percent": _text_or_none(found.cei),
        "over_90_share": _text_or_none(found.over_90_share),
        "receivables": str(found.receivables.quantize(unit)),
        "current": str(found.current.quantize(unit)),
        "over_90": str(found.over_90.quantize(unit)),
        "beginning_receivables": str(found.beginning.quantize(unit)),
        "credit_sales": str(found.credit_sales.quantize(unit)),
    }


def aging_row(currency: str, mine: CurrencyShare, as_of: date) -> dict[str, str]:
    """One currency's aging row on `as_of`, amounts to the currency's minor unit."""
    unit = minor_unit(currency)
    return {column: str(amount.quantize(unit)) for column, amount in aging(mine, as_of).items()}


def _text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _minor(amount: Decimal, places: int) -> int:
    minor = int(amount.scaleb(places))
    if minor != amount.scaleb(places):
        raise ValueError(f"{amount} is not a whole number of minor units ({places} places)")
    if abs(minor) >= LARGEST_MINOR:
        raise ValueError(f"{amount} is beyond what the read model's sums can hold")
    return minor
