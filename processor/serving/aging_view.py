"""The aging report page: per currency, a bar chart of the aging buckets and a table.

Pure: the report is `reports.read_aging`'s (amounts as decimal strings per currency and
column, for the portfolio and per segment; `as_of` None before any business day). The chart
is inline SVG drawn here, so the page needs no chart library and no script to show it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from processor.domain.policy import AGING_BUCKETS, VALUE_TIERS
from processor.serving.markup import document, esc, main_element, money, table

_WIDTH, _HEIGHT, _BAR, _GAP, _TOP, _BOTTOM = 560, 200, 64, 24, 18, 22


def _amount(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def aging_chart(currency: str, buckets: Sequence[str], amounts: Mapping[str, Any]) -> str:
    """Bars of the amounts per aging bucket, scaled to the largest, each labelled."""
    values = [_amount(amounts.get(b, "0")) for b in buckets]
    peak = max((v for v in values if v > 0), default=Decimal(1))
    usable = _HEIGHT - _TOP - _BOTTOM
    bars = []
    for index, (bucket, value) in enumerate(zip(buckets, values, strict=True)):
        height = int(usable * max(value, Decimal(0)) / peak)
        x = _GAP + index * (_BAR + _GAP)
        y = _TOP + usable - height
        middle = x + _BAR // 2
        bars.append(
            f'<g class="bar"><title>{esc(bucket)}: {esc(money(value))} {esc(currency)}</title>'
            f'<rect x="{x}" y="{y}" width="{_BAR}" height="{height}" fill="#c0504d"></rect>'
            f'<text x="{middle}" y="{y - 4}" text-anchor="middle">{esc(money(value))}</text>'
            f'<text x="{middle}" y="{_HEIGHT - 6}" text-anchor="middle">{esc(bucket)}</text></g>'
        )
    width = max(_WIDTH, _GAP + len(buckets) * (_BAR + _GAP))
    return (
        f'<svg class="chart" role="img" aria-label="Aging of {esc(currency)}" width="{width}" '
        f'height="{_HEIGHT}" viewBox="0 0 {width} {_HEIGHT}">'
        f'<line x1="0" y1="{_HEIGHT - _BOTTOM}" x2="{width}" y2="{_HEIGHT - _BOTTOM}" '
        f'stroke="#5b6573"></line>{"".join(bars)}</svg>'
    )


def _tiers(segments: Mapping[str, Any]) -> list[str]:
    known = [t for t in VALUE_TIERS if t in segments]
    return known + sorted(t for t in segments if t not in VALUE_TIERS)


def currency_section(report: Mapping[str, Any], currency: str) -> str:
    """One currency: the chart of the portfolio's buckets, then portfolio and tier rows."""
    columns = [str(c) for c in report.get("columns") or ()]
    buckets = [c for c in columns if c in AGING_BUCKETS]
    portfolio = (report.get("portfolio") or {}).get(currency) or {}
    segments = report.get("segments") or {}
    rows = [["Portfolio", *(esc(money(portfolio.get(c, "0"))) for c in columns)]]
    for tier in _tiers(segments):
        amounts = (segments[tier] or {}).get(currency)
        if amounts:
            rows.append([esc(tier), *(esc(money(amounts.get(c, "0"))) for c in columns)])
    numeric = set(range(1, len(columns) + 1))
    return (
        f'<section class="currency"><h2>{esc(currency)}</h2>'
        f"{aging_chart(currency, buckets, portfolio)}"
        f"{table(['', *columns], rows, numeric=numeric)}</section>"
    )


def aging_main(report: Mapping[str, Any]) -> str:
    """The main element: the report's date, then one section per currency."""
    currencies = sorted(report.get("portfolio") or {})
    as_of = report.get("as_of")
    when = f"as of {esc(as_of)}" if as_of else "no business day decided yet"
    parts = [f'<h1>Aging report</h1><p class="muted">{when}</p>']
    if not currencies:
        parts.append('<p class="empty">Nothing is outstanding.</p>')
    parts.extend(currency_section(report, c) for c in currencies)
    return main_element("".join(parts))


def aging_page(report: Mapping[str, Any], *, fragment: bool = False) -> str:
    """The aging report as a whole page, or its main element alone for a refresh."""
    main = aging_main(report)
    return main if fragment else document(title="Aging report", main=main)
