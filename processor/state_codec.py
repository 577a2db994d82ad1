"""Customer state <-> compact JSON bytes, for the changelog-backed table.

Money is written as decimal strings and dates as ISO strings; a format version leads every record
so a later release can migrate old changelogs instead of misreading them.

Format 2 adds retention: `arch` (archived through, or null), `open` (the cash on account the
archived history left), `paid` (what it paid on invoices still owing), `gone` (archived invoices
still remembered: currency and settlement date), and a date for every seen event id: `seen`
lists the ids of facts held, dated like their fact, and `seen_on` dates the others. Format 1
records (written before retention) still decode: nothing archived, and seen ids dated from their
facts. An older release refuses format 2 rather than lose what the archived history left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from processor.domain.ledger import (
    ArchivedInvoice,
    DueNotice,
    Invoice,
    Ledger,
    Opening,
    Payment,
    settle,
)
from processor.domain.retention import dated_seen, fact_dates
from processor.domain.segmentation import Exposure, exposure
from processor.domain.state import CustomerState, Segment

FORMAT = 2
READABLE = frozenset({1, FORMAT})


def _d(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Wake:
    """A stored state's next wake-up and the policy version it was computed under."""

    at: datetime | None
    policy_version: str | None


def encode_state(
    state: CustomerState, *, contribution: Exposure | None = None, wake: Wake | None = None
) -> bytes:
    """Serialize a state; balances are not stored (they are re-derived from the facts).

    `contribution` is the state's `exposure()` when the caller already computed it; `wake` is
    its next wake-up, kept in the header so recovery can rebuild the schedule without decoding.
    """
    ledger = state.ledger
    document: dict[str, Any] = {
        "v": FORMAT,
        "id": state.customer_id,
        "name": state.customer_name,
        "inv": [
            [i.invoice_id, i.event_id, str(i.amount), i.currency, _d(i.issued_on), _d(i.due_date)]
            for i in ledger.invoices.values()
        ],
        "pay": [
            [p.payment_id, p.event_id, str(p.amount), p.currency, _d(p.received_on), p.invoice_id]
            for p in ledger.payments.values()
        ],
        "due": [[k, n.event_id, _d(n.due_date)] for k, n in ledger.due_notices.items()],
        "arch": _d(ledger.archived_through),
        "open": {currency: str(amount) for currency, amount in ledger.opening_credit.items()},
        "paid": {k: [str(o.paid), _d(o.last_paid_on)] for k, o in ledger.opening_paid.items()},
        "gone": {k: [a.currency, _d(a.settled_on)] for k, a in ledger.archived_invoices.items()},
        **_seen(state),
        "flags": dict(state.flags),
        "done": {k: sorted(v) for k, v in state.done_steps.items()},
        "seg": None if state.segment is None else _segment_list(state.segment),
        "on": _d(state.assessed_on),
        "why": state.last_reason,
        "at": None if state.decided_at is None else state.decided_at.isoformat(),
        "contact": {channel: _d(day) for channel, day in state.last_contact.items()},
        "tz": state.customer_timezone,
        "exp": _exposure_list(contribution if contribution is not None else exposure(state)),
        "wake": None if wake is None or wake.at is None else wake.at.isoformat(),
        "pv": None if wake is None else wake.policy_version,
    }
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def _seen(state: CustomerState) -> dict[str, Any]:
    """Seen ids: those dated like a held fact as a plain list, the others with their dates."""
    facts = fact_dates(state.ledger)
    plain = sorted(i for i, on in state.seen.items() if facts.get(i) == on)
    dated = {i: _d(on) for i, on in sorted(state.seen.items()) if facts.get(i) != on}
    return {"seen": plain, "seen_on": dated}


def _exposure_list(value: Exposure) -> list[Any]:
    return [value.risk_bucket, [[b, c, str(a)] for b, c, a in value.outstanding]]


def exposure_of_raw(raw: bytes | None) -> Exposure:
    """A stored state's portfolio contribution, read without rebuilding the state (recovery)."""
    if raw is None:
        return Exposure(risk_bucket=None, outstanding=())
    risk, rows = json.loads(raw)["exp"]
    return Exposure(risk_bucket=risk, outstanding=tuple((b, c, Decimal(a)) for b, c, a in rows))


def wake_of_raw(raw: bytes) -> Wake:
    """A stored state's next wake-up, read without rebuilding the state (recovery)."""
    document = json.loads(raw)
    at = document.get("wake")
    return Wake(
        at=None if at is None else datetime.fromisoformat(at), policy_version=document.get("pv")
    )


def _segment_list(segment: Segment) -> list[Any]:
    return [
        segment.aging_bucket,
        segment.behavior,
        segment.value_tier,
        segment.risk_bucket,
        segment.priority,
    ]


def decode_state(raw: bytes) -> CustomerState:
    """Rebuild a state written by `encode_state` (this release's format or format 1)."""
    doc = json.loads(raw)
    if doc.get("v") not in READABLE:
        raise ValueError(f"unsupported state format {doc.get('v')!r}")
    invoices = {
        row[0]: Invoice(
            invoice_id=row[0],
            event_id=row[1],
            amount=Decimal(row[2]),
            currency=row[3],
            issued_on=date.fromisoformat(row[4]),
            due_date=date.fromisoformat(row[5]),
        )
        for row in doc["inv"]
    }
    payments = {
        row[0]: Payment(
            payment_id=row[0],
            event_id=row[1],
            amount=Decimal(row[2]),
            currency=row[3],
            received_on=date.fromisoformat(row[4]),
            invoice_id=row[5],
        )
        for row in doc["pay"]
    }
    notices = {
        row[0]: DueNotice(event_id=row[1], due_date=date.fromisoformat(row[2]))
        for row in doc["due"]
    }
    opening = Ledger(
        due_notices=notices,
        archived_through=_date(doc.get("arch")),
        opening_credit={c: Decimal(a) for c, a in doc.get("open", {}).items()},
        opening_paid={
            k: Opening(paid=Decimal(paid), last_paid_on=_date(on))
            for k, (paid, on) in doc.get("paid", {}).items()
        },
        archived_invoices={
            k: ArchivedInvoice(currency=currency, settled_on=date.fromisoformat(on))
            for k, (currency, on) in doc.get("gone", {}).items()
        },
    )
    ledger = settle(opening, invoices=invoices, payments=payments)
    seen = dated_seen(ledger, doc["seen"])  # format 1: every id, undated
    seen.update((k, date.fromisoformat(on)) for k, on in doc.get("seen_on", {}).items())
    seg = doc["seg"]
    return CustomerState(
        customer_id=doc["id"],
        customer_name=doc["name"],
        ledger=ledger,
        seen=seen,
        flags=doc["flags"],
        done_steps={k: frozenset(v) for k, v in doc["done"].items()},
        segment=None
        if seg is None
        else Segment(
            aging_bucket=seg[0],
            behavior=seg[1],
            value_tier=seg[2],
            risk_bucket=seg[3],
            priority=seg[4],
        ),
        assessed_on=_date(doc["on"]),
        last_reason=doc["why"],
        decided_at=None if doc.get("at") is None else datetime.fromisoformat(doc["at"]),
        last_contact={k: date.fromisoformat(v) for k, v in doc.get("contact", {}).items()},
        customer_timezone=doc.get("tz"),
    )
