"""One readable terminal line per output event (the demo's view of what arpulse publishes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from processor.domain.state import CLASS_DIMENSIONS

_COLORS = {
    "FLAG": "33",
    "ACTION": "36",
    "TASK": "34",
    "SEGMENT": "35",
    "DEAD": "31",
    "THANKS": "32",
    "FACT": "37",
    "STATUS": "32",
    "WITHDRAW": "90",
    "FEE": "33",
}
# Actions a collector handles inside the company (their reason is the point of the line).
_TASKS = frozenset(
    {
        "dispute_review",
        "reconcile_payment",
        "promise_follow_up",
        "write_off_review",
        "credit_hold_release",
        "agency_recall",
    }
)
# The lifecycle's input facts worth a line in the demo, and what to show of each.
_FACTS = {
    "dispute.opened": ("dispute_id", "invoice_id"),
    "dispute.resolved": ("dispute_id", "outcome"),
    "promise_to_pay.made": ("promise_id", "amount", "currency", "promised_on"),
    "payment_plan.agreed": ("plan_id", "currency"),
    "payment.reversed": ("payment_id", "reason"),
    "credit_note.issued": ("credit_note_id", "invoice_id", "amount", "currency"),
    "invoice.voided": ("invoice_id",),
    "invoice.written_off": ("invoice_id",),
    "collection.hold_set": ("hold_id", "reason"),
    "collection.hold_released": ("hold_id",),
    "customer.profile_updated": ("time_zone", "country", "customer_type", "do_not_contact"),
}


def render_fact(event: dict[str, Any], *, color: bool = False) -> str | None:
    """A line for a lifecycle input fact (a dispute, a promise, a reversal...), else None."""
    fields = _FACTS.get(str(event.get("event_type")))
    if fields is None:
        return None
    shown = " ".join(str(event.get(f)) for f in fields if event.get(f) is not None)
    return _paint(
        "FACT", f"{event.get('customer_id', '?'):<12} {event['event_type']} {shown}", color
    )


def _extras(action: dict[str, Any]) -> str:
    """What an action line adds: the discount on offer, the fees stated."""
    text = ""
    currency = action["currency"]
    for offer in action.get("discount_offers") or ():
        text += f" offer: pay {offer['pay']} by {offer['pay_by']}, save {offer['saves']}"
    fees = action.get("late_fees") or ()
    if fees:
        total = sum(Decimal(f["total"]) for f in fees)
        text += f" fees {total} {currency}"
    return text


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
    if kind == "collection.action_requested" and event["action"] in _TASKS:
        reason = str(event["reason"])
        return _paint(
            "TASK",
            f"{who:<12} {event['action'].replace('_', ' ')}: "
            f"{reason if len(reason) <= 140 else reason[:137] + '...'}",
            color,
        )
    if kind == "collection.action_withdrawn":
        return _paint("WITHDRAW", f"{who:<12} {event['reason']}", color)
    if kind == "commitment.status_changed":
        return _paint(
            "STATUS",
            f"{who:<12} {event['kind']} {event['commitment_id']} {event['status']} "
            f"({event['amount']} {event['currency']} due {event['due']})",
            color,
        )
    if kind == "collection.action_requested":
        tag = "THANKS" if event["action"] == "thank_you" else "ACTION"
        invoices = ",".join(event["invoice_ids"])
        what = f"{event['tone']} {event['channel']} {event['action'].replace('_', ' ')}"
        return _paint(
            tag,
            f"{who:<12} {what:<28} {invoices} {event['amount_outstanding']} {event['currency']} "
            f"priority {event['priority']} [{event['rule_id']}]{_extras(event)}",
            color,
        )
    if kind == "late_fee.assessed":
        final = ", final" if event["final"] else ""
        return _paint(
            "FEE",
            f"{who:<12} {event['invoice_id']} late fees {event['amount']} {event['currency']} "
            f"to {event['as_of']} ({_days(event['days_late'])} late{final})",
            color,
        )
    if kind == "customer.segment_changed":
        previous = event.get("previous") or {}
        current = event["current"]
        moved = ("risk_bucket", "delinquency_type")
        if not all_segments and all(previous.get(d) == current.get(d) for d in moved):
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
