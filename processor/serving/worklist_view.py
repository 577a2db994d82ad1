"""The collector's worklist page: its filters and its table, rendered from worklist rows.

Pure: the rows are `queries.read_worklist`'s, already ordered by priority. Aging and risk
filter in Redis (their own worklists); delinquency type and currency filter here, on the rows,
since the read model keeps no worklist of either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from processor.domain.policy import AGING_BUCKETS, DELINQUENCY_TYPES, RISK_BUCKETS
from processor.serving.markup import (
    customer_href,
    document,
    esc,
    main_element,
    money_lines,
    table,
)
from processor.serving.queries import BadRequest, choice, worklist_limit
from schemas.currencies import ISO_4217_CODES

DEFAULT_LIMIT = 100
SEGMENT_COLUMNS = (
    ("aging_bucket", "Aging"),
    ("behavior", "Behaviour"),
    ("value_tier", "Value tier"),
    ("risk_bucket", "Risk"),
    ("delinquency_type", "Delinquency"),
)


@dataclass(frozen=True, slots=True)
class Filters:
    """The worklist's filters, each None for "any"."""

    aging_bucket: str | None = None
    risk_bucket: str | None = None
    delinquency_type: str | None = None
    currency: str | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def filters_rows(self) -> bool:
        """True when some rows read from Redis may be left out here (so read more of them)."""
        return self.delinquency_type is not None or self.currency is not None


def parse_filters(query: Mapping[str, str]) -> Filters:
    """The filters of a query; an empty value means any. Raises `BadRequest` naming the field."""
    limit = worklist_limit(query.get("limit") or str(DEFAULT_LIMIT))
    currency = query.get("currency") or None
    if currency is not None and currency not in ISO_4217_CODES:
        raise BadRequest(f"currency: must be an ISO 4217 code such as EUR, got {currency!r}")
    return Filters(
        aging_bucket=choice(query, "aging_bucket", AGING_BUCKETS),
        risk_bucket=choice(query, "risk_bucket", RISK_BUCKETS),
        delinquency_type=choice(query, "delinquency_type", DELINQUENCY_TYPES),
        currency=currency,
        limit=limit,
    )


def matches(row: Mapping[str, Any], filters: Filters) -> bool:
    """True when a worklist row passes every filter."""
    segment = row.get("segment") or {}
    for name in ("aging_bucket", "risk_bucket", "delinquency_type"):
        wanted = getattr(filters, name)
        if wanted is not None and segment.get(name) != wanted:
            return False
    return filters.currency is None or filters.currency in (row.get("outstanding") or {})


def select(rows: Iterable[Mapping[str, Any]], filters: Filters) -> list[Mapping[str, Any]]:
    """The rows that pass the filters, in their order, at most `filters.limit`."""
    return [row for row in rows if matches(row, filters)][: filters.limit]


def _select_box(name: str, label: str, options: Iterable[str], chosen: str | None) -> str:
    items = ['<option value="">any</option>']
    for option in options:
        selected = " selected" if option == chosen else ""
        items.append(f'<option value="{esc(option)}"{selected}>{esc(option)}</option>')
    return f'<label>{esc(label)}<select name="{esc(name)}">{"".join(items)}</select></label>'


def filter_form(filters: Filters, currencies: Iterable[str]) -> str:
    """The GET form of the filters, showing the chosen ones (outside the refreshed part)."""
    known = sorted({*currencies, *([filters.currency] if filters.currency else [])})
    boxes = [
        _select_box("aging_bucket", "Aging", AGING_BUCKETS, filters.aging_bucket),
        _select_box("risk_bucket", "Risk", RISK_BUCKETS, filters.risk_bucket),
        _select_box("delinquency_type", "Delinquency", DELINQUENCY_TYPES, filters.delinquency_type),
        _select_box("currency", "Currency", known, filters.currency),
    ]
    if filters.limit != DEFAULT_LIMIT:
        boxes.append(f'<input type="hidden" name="limit" value="{filters.limit}">')
    return (
        '<form class="filters" method="get" action="/ui">'
        f'{"".join(boxes)}<button type="submit">Filter</button><a href="/ui">clear</a></form>'
    )


def _row(row: Mapping[str, Any]) -> list[str]:
    customer_id = str(row["customer_id"])
    name = row.get("customer_name") or customer_id
    segment = row.get("segment") or {}
    link = (
        f'<a class="customer" href="{esc(customer_href(customer_id))}">{esc(name)}</a>'
        f'<br><span class="id">{esc(customer_id)}</span>'
    )
    reason = row.get("last_change_reason")
    return [
        link,
        esc(row.get("priority", 0)),
        *(esc(segment.get(key, "—")) for key, _ in SEGMENT_COLUMNS),
        money_lines(row.get("outstanding")),
        esc(row.get("oldest_days_past_due", 0)),
        esc(reason) if reason else '<span class="muted">—</span>',
    ]


def worklist_main(rows: Iterable[Mapping[str, Any]], filters: Filters) -> str:
    """The main element: the customers to chase, highest priority first."""
    shown = list(rows)
    headers = [
        "Customer",
        "Priority",
        *(label for _, label in SEGMENT_COLUMNS),
        "Outstanding",
        "Oldest days past due",
        "Last change",
    ]
    count = f'<p class="muted">{len(shown)} customer{"" if len(shown) == 1 else "s"}</p>'
    if not shown:
        body = '<p class="empty">No customer to chase matches these filters.</p>'
    else:
        body = table(headers, (_row(r) for r in shown), numeric={1, 7, 8})
    return main_element(f"<h1>Worklist</h1>{count}{body}")


def currencies_of(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """The currencies the rows owe in: the currency filter's choices."""
    return {c for row in rows for c in (row.get("outstanding") or {})}


def worklist_page(
    rows: Iterable[Mapping[str, Any]],
    filters: Filters,
    *,
    currencies: Iterable[str] = (),
    fragment: bool = False,
) -> str:
    """The worklist as a whole page, or its main element alone for a refresh.

    `rows` are those that passed the filters; `currencies` are the choices of the currency
    filter (those of the rows read before it, so that another one can be picked).
    """
    main = worklist_main(rows, filters)
    if fragment:
        return main
    return document(title="Worklist", main=main, header=filter_form(filters, currencies))
