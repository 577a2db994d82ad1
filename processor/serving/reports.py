"""The aging report and the collection figures, read from the portfolio's sums in Redis.

Both read only the sums the projection keeps (`processor.serving.projection`): a handful of
hashes, one per segment and currency, whatever the number of customers. The portfolio is the
sum of its segments (value tiers). Shared by the HTTP handlers and `arpulse report`.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from redis.asyncio import Redis

from processor.core.report_doc import aging_row, currency_figures, read_totals, summed
from processor.domain.policy import ReportsPolicy
from processor.domain.receivables import COLUMNS, CurrencyShare
from processor.serving.keys import Keys

Sums = dict[str, dict[str, CurrencyShare]]  # segment -> currency -> sums


async def read_sums(redis: Redis, keys: Keys) -> tuple[Sums, date | None]:
    """Every segment's and currency's sums, and the latest business day decided."""
    scopes = sorted(
        m.decode() if isinstance(m, bytes) else m for m in await redis.smembers(keys.totals)
    )
    pipe = redis.pipeline(transaction=False)
    for scope in scopes:
        pipe.hgetall(keys.total(scope))
    pipe.get(keys.as_of)
    *hashes, latest = await pipe.execute()
    sums: Sums = {}
    for scope, fields in zip(scopes, hashes, strict=True):
        decoded = {_text(k): _text(v) for k, v in fields.items()}
        segment, currency, mine = read_totals(scope, decoded)
        sums.setdefault(segment, {})[currency] = mine
    return sums, None if latest is None else date.fromisoformat(_text(latest))


def portfolio(sums: Sums) -> dict[str, CurrencyShare]:
    """Per currency, the sum over segments."""
    currencies = sorted({c for by_currency in sums.values() for c in by_currency})
    return {
        c: summed(by_currency[c] for by_currency in sums.values() if c in by_currency)
        for c in currencies
    }


def aging_report(sums: Sums, as_of: date) -> dict[str, Any]:
    """The aging report on `as_of`: per currency for the portfolio and for each segment."""
    return {
        "as_of": as_of.isoformat(),
        "columns": list(COLUMNS),
        "portfolio": {c: aging_row(c, mine, as_of) for c, mine in portfolio(sums).items()},
        "segments": {
            segment: {c: aging_row(c, mine, as_of) for c, mine in sorted(by_currency.items())}
            for segment, by_currency in sorted(sums.items())
        },
    }


def kpi_report(
    sums: Sums, as_of: date, policy: ReportsPolicy, countback_days: int
) -> dict[str, Any]:
    """The collection figures on `as_of`: per currency for the portfolio and each segment."""

    def of(currency: str, mine: CurrencyShare) -> dict[str, Any]:
        return currency_figures(mine, currency, as_of, policy, countback_days)

    return {
        "as_of": as_of.isoformat(),
        "window_days": policy.window_days,
        "cei_convention": policy.cei_convention,
        "portfolio": {c: of(c, mine) for c, mine in portfolio(sums).items()},
        "segments": {
            segment: {c: of(c, mine) for c, mine in sorted(by_currency.items())}
            for segment, by_currency in sorted(sums.items())
        },
    }


def aging_csv(report: dict[str, Any]) -> str:
    """The aging report as CSV: one line per scope (portfolio, then segments) and currency."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["as_of", "scope", "currency", *report["columns"]])
    scopes = [("portfolio", report["portfolio"])]
    scopes += [(f"segment:{s}", rows) for s, rows in report["segments"].items()]
    for scope, rows in scopes:
        for currency, row in rows.items():
            writer.writerow(
                [report["as_of"], scope, currency, *(row[c] for c in report["columns"])]
            )
    return out.getvalue()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def read_aging(redis: Redis, keys: Keys, *, as_of: date | None = None) -> dict[str, Any]:
    """The aging report on `as_of` (default: the latest business day decided)."""
    sums, latest = await read_sums(redis, keys)
    day = as_of or latest
    if day is None:  # nothing decided yet
        return {"as_of": None, "columns": list(COLUMNS), "portfolio": {}, "segments": {}}
    return aging_report(sums, day)


async def read_kpis(
    redis: Redis,
    keys: Keys,
    *,
    policy: ReportsPolicy,
    countback_days: int,
    as_of: date | None = None,
) -> dict[str, Any]:
    """The collection figures on `as_of` (default: the latest business day decided)."""
    sums, latest = await read_sums(redis, keys)
    day = as_of or latest
    if day is None:
        return {
            "as_of": None,
            "window_days": policy.window_days,
            "cei_convention": policy.cei_convention,
            "portfolio": {},
            "segments": {},
        }
    return kpi_report(sums, day, policy, countback_days)
