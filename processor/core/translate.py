"""Translation at the edge: contract models -> domain facts, domain decisions -> contract bytes."""

from __future__ import annotations

from datetime import datetime

from processor.domain.decide import ActionRequest, LateFlag, SegmentChange
from processor.domain.facts import DueDatePassed, Fact, InvoiceIssued, PaymentReceived
from processor.domain.state import Segment
from schemas import events


def to_fact(event: events.InputEvent) -> Fact:
    """The domain fact an input event states."""
    if isinstance(event, events.InvoiceIssued):
        return InvoiceIssued(
            event_id=event.event_id,
            customer_id=event.customer_id,
            occurred_at=event.occurred_at,
            invoice_id=event.invoice_id,
            amount=event.amount,
            currency=event.currency,
            issued_on=event.issued_on,
            due_date=event.due_date,
            customer_name=event.customer_name,
            terms=event.terms,
            customer_timezone=event.customer_timezone,
        )
    if isinstance(event, events.PaymentReceived):
        return PaymentReceived(
            event_id=event.event_id,
            customer_id=event.customer_id,
            occurred_at=event.occurred_at,
            payment_id=event.payment_id,
            amount=event.amount,
            currency=event.currency,
            received_on=event.received_on,
            invoice_id=event.invoice_id,
            method=event.method,
        )
    return DueDatePassed(
        event_id=event.event_id,
        customer_id=event.customer_id,
        occurred_at=event.occurred_at,
        invoice_id=event.invoice_id,
        due_date=event.due_date,
    )


def segment_model(segment: Segment) -> events.Segment:
    """A domain segment as the contract's segment object."""
    return events.Segment(
        aging_bucket=segment.aging_bucket,  # type: ignore[arg-type]
        behavior=segment.behavior,  # type: ignore[arg-type]
        value_tier=segment.value_tier,  # type: ignore[arg-type]
        risk_bucket=segment.risk_bucket,  # type: ignore[arg-type]
        priority=segment.priority,
    )


def flag_event(flag: LateFlag, *, customer_id: str, at: datetime) -> events.LatePaymentFlagged:
    """`late_payment.flagged` for a domain late flag."""
    return events.LatePaymentFlagged(
        event_id=flag.event_id,
        occurred_at=at,
        customer_id=customer_id,
        invoice_id=flag.invoice_id,
        due_date=flag.due_date,
        days_past_due=flag.days_past_due,
        amount_outstanding=flag.amount_outstanding,
        currency=flag.currency,
        detected_by=flag.detected_by,
        caused_by=flag.caused_by,
    )


def segment_event(
    change: SegmentChange, *, customer_id: str, at: datetime
) -> events.SegmentChanged:
    """`customer.segment_changed` for a domain segment change."""
    return events.SegmentChanged(
        event_id=change.event_id,
        occurred_at=at,
        customer_id=customer_id,
        previous=None if change.previous is None else segment_model(change.previous),
        current=segment_model(change.current),
        changed=list(change.changed),  # type: ignore[arg-type]
        reason=change.reason,
        caused_by=change.caused_by,
    )


def action_event(
    action: ActionRequest, *, customer_id: str, at: datetime
) -> events.CollectionActionRequested:
    """`collection.action_requested` for a domain action."""
    return events.CollectionActionRequested(
        event_id=action.event_id,
        occurred_at=at,
        customer_id=customer_id,
        action=action.action,  # type: ignore[arg-type]
        channel=action.channel,  # type: ignore[arg-type]
        tone=action.tone,  # type: ignore[arg-type]
        stage=action.stage,  # type: ignore[arg-type]
        invoice_ids=list(action.invoice_ids),
        amount_outstanding=action.amount_outstanding,
        currency=action.currency,
        segment=segment_model(action.segment),
        priority=action.priority,
        rule_id=action.rule_id,
        policy_version=action.policy_version,
        reason=action.reason,
        caused_by=action.caused_by,
        not_before=action.not_before,
    )


def to_bytes(event: events.OutputEvent) -> bytes:
    """The wire form of an output event."""
    return event.model_dump_json().encode("utf-8")
