"""One readable terminal line per output event (the demo's view of what arpulse publishes)."""

from __future__ import annotations

from typing import Any

from processor.domain.state import CLASS_DIMENSIONS

_COLORS = {"FLAG": "33", "ACTION": "36", "SEGMENT": "35", "DEAD": "31", "THANKS": "32"}


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _paint(tag: str, text: str, color: bool) -> str:
    label = f"{tag:<8}"
    if color:
        label = f"\033[{_COLORS.get(tag, '0')}m{label}\033[0m"
    return f"{label}{text}"


def render(event: dict[str, Any], *, color: bool = False, all_segments: bool = False) -> str | None:
    """A line for an output event, or None for segment changes not worth a line."""
    kind = event.get("event_type")
    who = event.get("customer_id", "?")
    if kind == "late_payment.flagged":
        return _paint(
            "FLAG",
            f"{who:<12} {event['invoice_id']} {_days(event['days_past_due'])} past due, "
            f"{event['amount_outstanding']} {event['currency']} outstanding "
            f"({event['detected_by']})",
            color,
        )
    if kind == "collection.action_requested":
        tag = "THANKS" if event["action"] == "thank_you" else "ACTION"
        invoices = ",".join(event["invoice_ids"])
        what = f"{event['tone']} {event['channel']} {event['action'].replace('_', ' ')}"
        return _paint(
            tag,
            f"{who:<12} {what:<28} {invoices} {event['amount_outstanding']} {event['currency']} "
            f"priority {event['priority']} [{event['rule_id']}]",
            color,
        )
    if kind == "customer.segment_changed":
        previous = event.get("previous") or {}
        current = event["current"]
        if not all_segments and previous.get("risk_bucket") == current["risk_bucket"]:
            return None
        moves = ", ".join(
            f"{d} {previous.get(d, '-')}→{current[d]}"
            for d in event["changed"]
            if d in CLASS_DIMENSIONS
        )
        return _paint("SEGMENT", f"{who:<12} {moves}", color)
    if kind == "dead_letter":
        return _paint(
            "DEAD",
            f"{event['source_topic']}/{event['partition']}/{event['offset']}: {event['error']}",
            color,
        )
    return None
