"""Reasons a collector can read: the facts behind a segment, in one clause."""

from __future__ import annotations

from processor.domain.segmentation import Assessment


def days(count: int) -> str:
    """'1 day' / 'n days'."""
    return f"{count} day" if count == 1 else f"{count} days"


def situation(assessment: Assessment) -> str:
    """Where the customer stands: oldest unpaid invoice, behaviour figures, risk and value."""
    figures = assessment.figures
    if assessment.oldest_unpaid is None:
        owed = "nothing unpaid"
    elif assessment.days_past_due > 0:
        owed = (
            f"oldest unpaid invoice {assessment.oldest_unpaid.invoice_id} is "
            f"{days(assessment.days_past_due)} past due"
        )
    else:
        owed = "no unpaid invoice is past due"
    history = f"{figures.late_invoices} of {figures.paid_invoices} paid invoices late" + (
        f", average {figures.average_days_late} days late" if figures.late_invoices else ""
    )
    return (
        f"{owed}; {assessment.segment.behavior.replace('_', ' ')} ({history}); "
        f"risk score {assessment.risk_score}, {assessment.segment.value_tier} value"
    )
