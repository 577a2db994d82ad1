"""Reasons a collector can read: the facts behind a segment, in one clause."""

from __future__ import annotations

from processor.domain.segmentation import Assessment


def days(count: int) -> str:
    """'1 day' / 'n days'."""
    return f"{count} day" if count == 1 else f"{count} days"


def situation(assessment: Assessment) -> str:
    """Where the customer stands: what is past due, how it pays, its risk and delinquency type."""
    figures = assessment.figures
    segment = assessment.segment
    if assessment.oldest_unpaid is None:
        owed = "nothing unpaid"
    elif assessment.days_past_due > 0:
        owed = (
            f"oldest unpaid invoice {assessment.oldest_unpaid.invoice_id} is "
            f"{days(assessment.days_past_due)} past due"
        )
        if assessment.stake_amount is not None:
            amount, currency = assessment.stake_amount
            owed += f", {amount} {currency} past due ({assessment.stake} stake)"
    else:
        owed = "no unpaid invoice is past due"
    history = f"{figures.late_invoices} of {figures.paid_invoices} paid invoices late"
    if figures.unpaid_late:
        history += f", {figures.unpaid_late} unpaid past due"
    if figures.late_invoices or figures.unpaid_late:
        history += f", average {figures.average_days_late} days late"
    points = ", ".join(f"{name} {value}" for name, value in assessment.points)
    text = (
        f"{owed}; {segment.behavior.replace('_', ' ')} ({history}); "
        f"risk score {assessment.risk_score}"
        + (f" ({points})" if points else "")
        + f", {segment.value_tier} value"
    )
    if assessment.customer_type is not None:
        text += f" ({assessment.customer_type} customer)"
    for currency, owing, limit in assessment.credit.utilisation:
        text += f", owes {owing} of a {limit} {currency} credit limit"
    if assessment.credit.score is not None:
        text += f", credit score {assessment.credit.score}"
    if segment.delinquency_type != "none":
        text += f"; {segment.delinquency_type} delinquency ({assessment.delinquency_reason})"
    return text
