"""A customer's timeline for the collector: the facts received and what arpulse made of them.

Each entry is a small JSON-ready dict with an id (the event's), its business instant, a kind
(``fact``, ``flag``, ``action``, ``segment``), a one-line summary and the reason arpulse gave.
Entries are built from what was already decided, so the same history gives the same entries,
and a redelivered event gives the same entry again (the read model keeps each id once).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from processor.domain.decide import Decision
from schemas import events
from schemas.events import money_text

# The fields that name a fact, in the order a collector reads them.
_NAMED = (
    "invoice_id",
    "payment_id",
    "credit_note_id",
    "dispute_id",
    "promise_id",
    "plan_id",
    "hold_id",
    "outcome",
    "result",
)

_DATED = ("due_date", "new_due_date", "received_on", "until")


def fact_entry(event: events.InputEvent) -> dict[str, Any]:
    """The entry of one input event: its type and what it names and amounts to."""
    # Attributes, not a dump: one per event processed, so it stays cheap. Only the fields its
    # model has are read (asking a pydantic model for an attribute it lacks is slow).
    named, dated, has_amount, has_reason = _fields_of(type(event))
    parts = [str(value) for name in named if (value := getattr(event, name)) is not None]
    if has_amount:
        amount = event.amount  # type: ignore[union-attr]
        if isinstance(amount, Decimal):
            currency = getattr(event, "currency", None) or ""
            parts.append(f"{money_text(amount)} {currency}".strip())
    for name in dated:
        value = getattr(event, name)
        if value is not None:
            parts.append(f"{name.replace('_', ' ')} {value}")
    reason = event.reason if has_reason else None  # type: ignore[union-attr]
    return _entry(
        event.occurred_at,
        "fact",
        event.event_id,
        f"{event.event_type}: {', '.join(parts)}" if parts else event.event_type,
        reason if isinstance(reason, str) else None,
    )


_Fields = tuple[tuple[str, ...], tuple[str, ...], bool, bool]
_FIELDS: dict[type, _Fields] = {}


def _fields_of(model: type[events.InputEvent]) -> _Fields:
    """Which of the entry's fields an input model has (looked up once per model)."""
    found = _FIELDS.get(model)
    if found is None:
        fields = model.model_fields
        found = _FIELDS[model] = (
            tuple(n for n in _NAMED if n in fields),
            tuple(n for n in _DATED if n in fields),
            "amount" in fields,
            "reason" in fields,
        )
    return found


def decision_entries(decision: Decision) -> list[dict[str, Any]]:
    """The entries of what one decision published: late flags, actions, segment moves."""
    at = decision.state.decided_at
    if at is None:
        return []
    found = []
    for flag in decision.flags:
        summary = (
            f"{flag.invoice_id} late: {flag.days_past_due} days past due, "
            f"{money_text(flag.amount_outstanding)} {flag.currency} outstanding "
            f"(detected by {flag.detected_by.replace('_', ' ')})"
        )
        found.append(_entry(at, "flag", flag.event_id, summary, None))
    for action in decision.actions:
        invoices = ", ".join(action.invoice_ids)
        summary = f"{action.action.replace('_', ' ')} by {action.channel}" + (
            f" for {invoices}" if invoices else ""
        )
        found.append(_entry(at, "action", action.event_id, summary, action.reason))
    change = decision.segment_change
    if change is not None:
        moved = ", ".join(
            f"{name} {getattr(change.previous, name, None) or '-'} -> "
            f"{getattr(change.current, name)}"
            for name in change.changed
        )
        found.append(_entry(at, "segment", change.event_id, f"segment: {moved}", change.reason))
    return found


def _entry(
    at: datetime, kind: str, event_id: str, summary: str, reason: str | None
) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "kind": kind,
        "event_id": event_id,
        "summary": summary,
        "reason": reason,
    }
