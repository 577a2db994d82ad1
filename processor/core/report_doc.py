"""A customer's receivables share as the read model stores it, and the portfolio's sums read back.

Flat and integral, so the Redis script that keeps the portfolio's sums can subtract a customer's
previous share and add its new one exactly (HINCRBY on whole minor units: no float ever touches
an amount). One document per customer: ``{"<segment>|<currency>": {"<series>|<day>": minor}}``,
series ``s`` (credit sales), ``a`` (change in what is owed), ``o<k>`` (change in what is owed more
than k days past due), and ``m|<column>`` for the memo levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from processor.domain.money import minor_units
from processor.domain.receivables import AGES, CurrencyShare, Share

Document = dict[str, dict[str, int]]


def share_document(share: Share) -> Document:
    """The customer's share in whole minor units."""
    document: Document = {}
    for currency, mine in sorted(share.currencies.items()):
        places = minor_units(currency)
        fields: dict[str, int] = {}
        series = [("s", mine.sales), ("a", mine.owed), *((f"o{k}", mine.over[k]) for k in AGES)]
        for name, changes in series:
            for on, amount in sorted(changes.items()):
                fields[f"{name}|{on.isoformat()}"] = _minor(amount, places)
        for column, amount in sorted(mine.memo.items()):
            fields[f"m|{column}"] = _minor(amount, places)
        if fields:
            document[f"{share.segment}|{currency}"] = fields
    return document


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


def _minor(amount: Decimal, places: int) -> int:
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of minor units ({places} places)")
    return int(minor)
