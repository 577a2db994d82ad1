"""The customer snapshot: what any service reads about one customer (Redis and HTTP)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from processor.domain.segmentation import Assessment
from processor.domain.state import SEGMENT_DIMENSIONS, CustomerState
from schemas.events import money_text

_SHARE = Decimal("0.001")


def customer_snapshot(
    state: CustomerState, assessment: Assessment, *, today: date, at: datetime
) -> dict[str, Any]:
    """A JSON-ready view of one customer; money as decimal strings, dates as ISO strings."""
    ledger = state.ledger
    figures = assessment.figures
    open_invoices = []
    for inv in ledger.open_invoices():
        balance = ledger.balances[inv.invoice_id]
        open_invoices.append(
            {
                "invoice_id": inv.invoice_id,
                "amount": money_text(inv.amount),
                "outstanding": money_text(balance.outstanding),
                "currency": inv.currency,
                "issued_on": inv.issued_on.isoformat(),
                "due_date": inv.due_date.isoformat(),
                "days_past_due": max(0, (today - inv.due_date).days),
                "flagged": state.flags.get(inv.invoice_id),
            }
        )
    segment = state.segment
    return {
        "customer_id": state.customer_id,
        "customer_name": state.customer_name,
        "segment": None
        if segment is None
        else {dimension: getattr(segment, dimension) for dimension in SEGMENT_DIMENSIONS},
        "risk_score": assessment.risk_score,
        "open_invoices": open_invoices,
        "outstanding": {
            c: money_text(a) for c, a in sorted(ledger.outstanding_by_currency().items())
        },
        "credit": {c: money_text(a) for c, a in ledger.credit.items()},
        "held_payments": list(ledger.held),
        "payment_behavior": {
            "paid_invoices": figures.paid_invoices,
            "late_invoices": figures.late_invoices,
            "late_share": money_text(figures.late_share.quantize(_SHARE)),
            "average_days_late": money_text(figures.average_days_late),
            "max_days_late": figures.max_days_late,
        },
        "invoices_total": len(ledger.invoices),
        "last_change_reason": state.last_reason,
        "as_of": today.isoformat(),
        "updated_at": at.isoformat(),
    }
