"""Translation at the edge: contract models -> domain facts, domain decisions -> contract bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from processor.domain import facts
from processor.domain.decide import (
    ActionRequest,
    CommitmentStatus,
    FeeAssessment,
    LateFlag,
    SegmentChange,
    Withdrawal,
)
from processor.domain.outputs import LateFee
from processor.domain.state import Segment
from processor.domain.terms import TermsError, parse_terms
from schemas import events

# Input model -> domain fact: the fields are named alike, so one table says which is which.
_FACTS: dict[type[events.InputEvent], type[facts.Fact]] = {
    events.InvoiceIssued: facts.InvoiceIssued,
    events.PaymentReceived: facts.PaymentReceived,
    events.DueDatePassed: facts.DueDatePassed,
    events.CreditNoteIssued: facts.CreditNoteIssued,
    events.InvoiceVoided: facts.InvoiceVoided,
    events.InvoiceWrittenOff: facts.InvoiceWrittenOff,
    events.DueDateChanged: facts.DueDateChanged,
    events.PaymentReversed: facts.PaymentReversed,
    events.DisputeOpened: facts.DisputeOpened,
    events.DisputeResolved: facts.DisputeResolved,
    events.PromiseToPayMade: facts.PromiseMade,
    events.PaymentPlanAgreed: facts.PlanAgreed,
    events.HoldSet: facts.HoldSet,
    events.HoldReleased: facts.HoldReleased,
    events.ContactOutcome: facts.ContactOutcome,
    events.CustomerProfileUpdated: facts.ProfileUpdated,
}
EVENT_TYPE_OF: dict[type[facts.Fact], str] = {
    fact: model.model_fields["event_type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model, fact in _FACTS.items()
}
_MODEL_OF = {fact: model for model, fact in _FACTS.items()}
_COMMON = frozenset({"event_type", "schema_version"})
# The fact's fields each input model carries (asking a pydantic model for one it lacks is slow).
_CARRIED: dict[type[events.InputEvent], tuple[str, ...]] = {
    model: tuple(name for name in fact.__dataclass_fields__ if name in model.model_fields)
    for model, fact in _FACTS.items()
}


def to_fact(event: events.InputEvent) -> facts.Fact:
    """The domain fact an input event states."""
    kind = _FACTS[type(event)]
    values: dict[str, Any] = {name: getattr(event, name) for name in _CARRIED[type(event)]}
    if isinstance(event, events.PromiseToPayMade):
        values["invoice_ids"] = tuple(event.invoice_ids or ())
    elif isinstance(event, events.PaymentPlanAgreed):
        values["invoice_ids"] = tuple(event.invoice_ids)
        values["instalments"] = tuple(
            facts.Instalment(due_date=i.due_date, amount=i.amount) for i in event.instalments
        )
    elif isinstance(event, events.CustomerProfileUpdated):
        values.update(_profile_values(event))
    return kind(**values)


def terms_problem(event: events.InputEvent) -> str | None:
    """Why an invoice's terms cannot be read (None: readable, or none given).

    The invoice is kept all the same: its due date stands and it has no discount window.
    """
    if not isinstance(event, events.InvoiceIssued) or event.terms is None:
        return None
    try:
        parse_terms(event.terms)
    except TermsError as exc:
        return f"{exc}; the invoice is kept with its due_date and no discount window"
    return None


def _profile_values(event: events.CustomerProfileUpdated) -> dict[str, Any]:
    score = event.credit_score
    return {
        "credit_limit": None
        if event.credit_limit is None
        else tuple(sorted(event.credit_limit.items())),
        "credit_score": None
        if score is None
        else facts.CreditScore(score=score.score, source=score.source, as_of=score.as_of),
        "channels": None if event.channels is None else frozenset(event.channels),
    }


def fact_event(fact: facts.Fact) -> events.InputEvent:
    """The contract event that states a domain fact (what a retracted fact is dead-lettered as)."""
    model = _MODEL_OF[type(fact)]
    values: dict[str, Any] = {
        name: getattr(fact, name)
        for name in model.model_fields
        if name not in _COMMON and hasattr(fact, name)
    }
    if isinstance(fact, facts.PromiseMade):
        values["invoice_ids"] = list(fact.invoice_ids) or None
    elif isinstance(fact, facts.PlanAgreed):
        values["invoice_ids"] = list(fact.invoice_ids)
        values["instalments"] = [
            {"due_date": i.due_date.isoformat(), "amount": str(i.amount)} for i in fact.instalments
        ]
    elif isinstance(fact, facts.ProfileUpdated):
        values["credit_limit"] = None if fact.credit_limit is None else dict(fact.credit_limit)
        score = fact.credit_score
        values["credit_score"] = (
            None
            if score is None
            else {"score": score.score, "source": score.source, "as_of": score.as_of}
        )
        values["channels"] = None if fact.channels is None else sorted(fact.channels)
    values = {k: v for k, v in values.items() if v is not None}
    return model.model_validate(
        {**values, "event_type": EVENT_TYPE_OF[type(fact)], "schema_version": 1}, strict=False
    )


def fact_payload(fact: facts.Fact) -> bytes:
    """A fact's event as JSON bytes, for a dead letter."""
    event = fact_event(fact)
    return event.model_dump_json(exclude_none=True).encode("utf-8")


def segment_model(segment: Segment) -> events.Segment:
    """A domain segment as the contract's segment object."""
    return events.Segment(
        aging_bucket=segment.aging_bucket,  # type: ignore[arg-type]
        behavior=segment.behavior,  # type: ignore[arg-type]
        value_tier=segment.value_tier,  # type: ignore[arg-type]
        risk_bucket=segment.risk_bucket,  # type: ignore[arg-type]
        delinquency_type=segment.delinquency_type,  # type: ignore[arg-type]
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
        payment_ids=list(action.payment_ids) or None,
        payment_url=action.payment_url,
        late_fees=[_fee_model(f) for f in action.late_fees] or None,
        discount_offers=[
            events.DiscountOffered(
                invoice_id=o.invoice_id, pay_by=o.pay_by, pay=o.pay, saves=o.saves, terms=o.terms
            )
            for o in action.discount_offers
        ]
        or None,
    )


def _fee_model(fee: LateFee) -> events.LateFeeAccrued:
    return events.LateFeeAccrued(
        invoice_id=fee.invoice_id,
        fixed=fee.fixed,
        interest=fee.interest,
        total=fee.total,
        as_of=fee.as_of,
        days_late=fee.days_late,
        capped=fee.capped,
    )


def fee_event(
    assessment: FeeAssessment, *, customer_id: str, at: datetime, policy_version: str
) -> events.LateFeeAssessed:
    """`late_fee.assessed` for a late invoice's fees to date."""
    fee = assessment.fee
    return events.LateFeeAssessed(
        event_id=assessment.event_id,
        occurred_at=at,
        customer_id=customer_id,
        invoice_id=fee.invoice_id,
        currency=fee.currency,
        fixed=fee.fixed,
        interest=fee.interest,
        amount=fee.total,
        as_of=fee.as_of,
        days_late=fee.days_late,
        capped=fee.capped,
        final=assessment.final,
        rule=assessment.rule,
        policy_version=policy_version,
        caused_by=assessment.caused_by,
    )


def withdrawal_event(
    withdrawal: Withdrawal, *, customer_id: str, at: datetime
) -> events.ActionWithdrawn:
    """`collection.action_withdrawn` for a domain withdrawal."""
    return events.ActionWithdrawn(
        event_id=withdrawal.event_id,
        occurred_at=at,
        customer_id=customer_id,
        withdraws=withdrawal.withdraws,
        invoice_ids=list(withdrawal.invoice_ids),
        reason=withdrawal.reason,
        caused_by=withdrawal.caused_by,
    )


def commitment_event(
    status: CommitmentStatus, *, customer_id: str, at: datetime
) -> events.CommitmentStatusChanged:
    """`commitment.status_changed` for a promise or instalment kept or broken."""
    return events.CommitmentStatusChanged(
        event_id=status.event_id,
        occurred_at=at,
        customer_id=customer_id,
        commitment_id=status.commitment_id,
        kind=status.kind,  # type: ignore[arg-type]
        status=status.status,  # type: ignore[arg-type]
        amount=status.amount,
        currency=status.currency,
        due=status.due,
        caused_by=status.caused_by,
    )


def to_bytes(event: events.OutputEvent) -> bytes:
    """The wire form of an output event."""
    return event.model_dump_json().encode("utf-8")
