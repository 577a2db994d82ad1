"""The collector's page of one customer, rendered from its snapshot and its timeline.

Pure: the snapshot is `core.snapshot.customer_snapshot`'s (as Redis holds it), the timeline
`queries.read_timeline`'s items, newest first. The invoice table's state column says in one
word why an invoice is or is not chased; the words come from the snapshot's `not_chased`
clauses (which `domain.owed` writes) and its open disputes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from processor.serving.markup import document, esc, main_element, money, money_lines, table

# A `not_chased` clause's beginning -> the state it shows (domain/owed.py writes them).
_CLAUSES = (
    ("dispute ", "disputed"),
    ("promise ", "promised"),
    ("payment plan ", "on plan"),
    ("on hold ", "held"),
    ("the customer is on hold ", "held"),
    ("a residue below ", "residue"),
)


def invoice_states(invoice: Mapping[str, Any], disputes: Iterable[Mapping[str, Any]]) -> list[str]:
    """What an open invoice is now: disputed, promised, on plan, held, residue.

    None of these: late or current, by its days past due.
    """
    states: list[str] = []
    for clause in invoice.get("not_chased") or ():
        for start, state in _CLAUSES:
            if str(clause).startswith(start) and state not in states:
                states.append(state)
    open_dispute = any(
        d.get("invoice_id") == invoice.get("invoice_id") and d.get("outcome") is None
        for d in disputes
    )
    if open_dispute and "disputed" not in states:
        states.insert(0, "disputed")
    if not states:
        states.append("late" if int(invoice.get("days_past_due") or 0) > 0 else "current")
    return states


def _state_cell(states: Iterable[str]) -> str:
    return " ".join(
        f'<span class="state state-{esc(s.replace(" ", "-"))}">{esc(s)}</span>' for s in states
    )


def _late_fees(fees: Mapping[str, Any] | None, currency: str) -> str:
    if not fees:
        return ""
    capped = ", capped" if fees.get("capped") else ""
    return (
        f"{esc(money(fees.get('total')))} {esc(currency)}"
        f'<br><span class="muted">fixed {esc(money(fees.get("fixed")))} + interest '
        f"{esc(money(fees.get('interest')))}, {esc(fees.get('days_late'))} days{capped}</span>"
    )


def _discount(offer: Mapping[str, Any] | None, currency: str) -> str:
    if not offer:
        return ""
    return (
        f"pay {esc(money(offer.get('pay')))} {esc(currency)} by {esc(offer.get('pay_by'))}"
        f'<br><span class="muted">saves {esc(money(offer.get("saves")))}</span>'
    )


def _invoice_row(
    invoice: Mapping[str, Any], disputes: list[Mapping[str, Any]], extras: tuple[str, ...]
) -> list[str]:
    currency = str(invoice.get("currency", ""))
    due = esc(invoice.get("due_date", ""))
    if invoice.get("payable_by"):
        due += f'<br><span class="muted">payable by {esc(invoice["payable_by"])}</span>'
    to_collect = invoice.get("to_collect")
    row = [
        esc(invoice.get("invoice_id", "")),
        esc(invoice.get("issued_on", "")),
        due,
        esc(invoice.get("days_past_due", 0)),
        f"{esc(money(invoice.get('amount')))} {esc(currency)}",
        f"{esc(money(invoice.get('outstanding')))} {esc(currency)}",
        "" if to_collect is None else f"{esc(money(to_collect))} {esc(currency)}",
        _state_cell(invoice_states(invoice, disputes)),
    ]
    if "not_chased" in extras:
        row.append("<br>".join(esc(c) for c in invoice.get("not_chased") or ()))
    if "late_fees" in extras:
        row.append(_late_fees(invoice.get("late_fees"), currency))
    if "discount" in extras:
        row.append(_discount(invoice.get("discount"), currency))
    return row


INVOICE_HEADERS = (
    "Invoice",
    "Issued",
    "Due",
    "Days past due",
    "Amount",
    "Outstanding",
    "To collect",
    "State",
)
# Columns shown only when some open invoice has them.
EXTRA_COLUMNS = (
    ("not_chased", "Not chased because"),
    ("late_fees", "Late fees"),
    ("discount", "Discount offer"),
)


def invoices_table(snapshot: Mapping[str, Any]) -> str:
    """The open invoices with their state; a sentence when there is none."""
    invoices = snapshot.get("open_invoices") or []
    if not invoices:
        return '<p class="empty">No open invoice.</p>'
    disputes = list(snapshot.get("disputes") or [])
    extras = tuple(key for key, _ in EXTRA_COLUMNS if any(inv.get(key) for inv in invoices))
    headers = [*INVOICE_HEADERS, *(label for key, label in EXTRA_COLUMNS if key in extras)]
    rows = (_invoice_row(inv, disputes, extras) for inv in invoices)
    return f'<div class="invoices">{table(headers, rows, numeric={3, 4, 5, 6})}</div>'


def _facts(snapshot: Mapping[str, Any]) -> str:
    segment = snapshot.get("segment") or {}
    items: list[tuple[str, str]] = [
        (label, esc(segment.get(key, "—")))
        for key, label in (
            ("priority", "Priority"),
            ("aging_bucket", "Aging"),
            ("behavior", "Behaviour"),
            ("value_tier", "Value tier"),
            ("risk_bucket", "Risk"),
            ("delinquency_type", "Delinquency"),
        )
    ]
    items.append(("Risk score", esc(snapshot.get("risk_score", "—"))))
    if snapshot.get("delinquency_reason"):
        items.append(("Why this delinquency type", esc(snapshot["delinquency_reason"])))
    items.append(("Outstanding", money_lines(snapshot.get("outstanding"))))
    if snapshot.get("late_fees"):
        items.append(("Late fees accrued", money_lines(snapshot["late_fees"])))
    if snapshot.get("credit"):
        items.append(("Credit", money_lines(snapshot["credit"])))
    reason = snapshot.get("last_change_reason")
    items.append(("Latest reason", esc(reason) if reason else '<span class="muted">—</span>'))
    items.append(("Updated", esc(when(snapshot.get("updated_at") or snapshot.get("as_of") or ""))))
    body = "".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in items)
    return f'<dl class="facts">{body}</dl>'


def _collection(snapshot: Mapping[str, Any]) -> str:
    parts = []
    disputes = snapshot.get("disputes") or []
    if disputes:
        rows = (
            [
                esc(d.get("dispute_id", "")),
                esc(d.get("invoice_id") or "—"),
                esc(money(d["amount"])) if d.get("amount") is not None else "all",
                esc(d.get("opened_on") or "—"),
                esc(d.get("outcome") or "open"),
            ]
            for d in disputes
        )
        parts.append(
            "<h2>Disputes</h2>"
            + table(("Dispute", "Invoice", "Amount", "Opened", "Outcome"), rows, numeric={2})
        )
    commitments = snapshot.get("commitments") or {}
    if commitments:
        rows = ([esc(cid), esc(status)] for cid, status in sorted(commitments.items()))
        parts.append(
            "<h2>Promises and instalments</h2>" + table(("Id", "Status"), rows, numeric=set())
        )
    holds = snapshot.get("holds") or []
    if holds:
        parts.append("<h2>Active holds</h2><p>" + ", ".join(esc(h) for h in holds) + "</p>")
    return "".join(parts)


def when(text: object) -> str:
    """An ISO datetime as a collector reads it (as given when it is not one)."""
    try:
        at = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    zone = f" {at.tzname()}" if at.tzinfo is not None else ""
    return at.strftime("%Y-%m-%d %H:%M:%S") + zone


def _kind(kind: str) -> str:
    return f'<span class="kind kind-{esc(kind)}">{esc(kind)}</span>'


def timeline_section(items: Iterable[Mapping[str, Any]]) -> str:
    """The customer's timeline, newest first: what happened, and why for what arpulse did."""
    rows = [
        [
            f'<span class="when">{esc(when(item.get("at", "")))}</span>',
            _kind(str(item.get("kind", ""))),
            esc(item.get("summary", "")),
            esc(item["reason"]) if item.get("reason") else "",
        ]
        for item in items
    ]
    if not rows:
        return '<h2>Timeline</h2><p class="empty">Nothing recorded yet.</p>'
    return (
        '<h2>Timeline</h2><div class="timeline">'
        + table(("When", "Kind", "What", "Reason"), rows, numeric=set())
        + "</div>"
    )


def customer_main(
    snapshot: Mapping[str, Any], timeline: Iterable[Mapping[str, Any]] | None = None
) -> str:
    """The main element of a customer's page (`timeline` None: not shown)."""
    customer_id = str(snapshot.get("customer_id", ""))
    name = snapshot.get("customer_name") or customer_id
    parts = [
        f'<h1>{esc(name)} <span class="id">{esc(customer_id)}</span></h1>',
        _facts(snapshot),
        "<h2>Open invoices</h2>",
        invoices_table(snapshot),
        _collection(snapshot),
    ]
    if timeline is not None:
        parts.append(timeline_section(timeline))
    return main_element("".join(parts))


def customer_page(
    snapshot: Mapping[str, Any],
    timeline: Iterable[Mapping[str, Any]] | None = None,
    *,
    fragment: bool = False,
) -> str:
    """A customer's whole page, or its main element alone for a refresh."""
    main = customer_main(snapshot, timeline)
    if fragment:
        return main
    name = snapshot.get("customer_name") or snapshot.get("customer_id", "")
    return document(title=str(name), main=main)
