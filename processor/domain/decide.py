"""Decisions: from the state before and after a change, what to tell the world.

``decide`` compares two states on a given `now` and returns late flags, at most one segment
change and the collection actions, each with a rule id, a readable reason and a deterministic
event id. ``handle`` is the whole pure step the worker runs per event: apply, then decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from processor.domain.facts import DueDatePassed, Fact
from processor.domain.ids import stable_id
from processor.domain.ledger import ZERO, Invoice, Ledger
from processor.domain.policy import LadderStep, Policy
from processor.domain.segmentation import Assessment, assess
from processor.domain.state import CustomerState, DetectedBy, Segment, apply

DIMENSIONS = ("aging_bucket", "behavior", "value_tier", "risk_bucket", "priority")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """What triggered a decision: an input event, or the processor's clock."""

    id: str
    due_notice_for: str | None = None

    @classmethod
    def of_event(cls, event_id: str, *, due_notice_for: str | None = None) -> Cause:
        """A decision caused by an input event (`due_notice_for`: its invoice, for due notices)."""
        return cls(id=event_id, due_notice_for=due_notice_for)

    @classmethod
    def clock(cls, now: datetime) -> Cause:
        """A decision caused by time passing on the processor's clock."""
        return cls(id=f"clock:{now.isoformat()}")


@dataclass(frozen=True, slots=True, kw_only=True)
class LateFlag:
    """An invoice is known to be late."""

    event_id: str
    invoice_id: str
    due_date: date
    days_past_due: int
    amount_outstanding: Decimal
    currency: str
    detected_by: DetectedBy
    caused_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentChange:
    """The customer's segment moved."""

    event_id: str
    previous: Segment | None
    current: Segment
    changed: tuple[str, ...]
    reason: str
    caused_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRequest:
    """A collection action to perform on one or more invoices of one currency."""

    event_id: str
    action: str
    channel: str
    tone: str
    stage: str
    invoice_ids: tuple[str, ...]
    amount_outstanding: Decimal
    currency: str
    segment: Segment
    priority: int
    rule_id: str
    policy_version: str
    reason: str
    caused_by: str
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The new state to store and the outputs to publish (publish first, then store)."""

    state: CustomerState
    assessment: Assessment
    flags: tuple[LateFlag, ...] = ()
    segment_change: SegmentChange | None = None
    actions: tuple[ActionRequest, ...] = ()


def business_date(now: datetime, policy: Policy) -> date:
    """'Today' on the policy's business calendar."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(policy.zone).date()


def handle(state: CustomerState, fact: Fact, *, now: datetime, policy: Policy) -> Decision | None:
    """Apply one fact and decide; None when the event was already applied (nothing to do).

    Raises DomainError when the fact contradicts the ledger (the state is then unchanged).
    """
    after = apply(state, fact)
    if after is state:
        return None
    due_for = fact.invoice_id if isinstance(fact, DueDatePassed) else None
    cause = Cause.of_event(fact.event_id, due_notice_for=due_for)
    return decide(before=state, after=after, cause=cause, now=now, policy=policy)


def decide(
    *, before: CustomerState, after: CustomerState, cause: Cause, now: datetime, policy: Policy
) -> Decision:
    """Everything the change from `before` to `after` means on `now`."""
    today = business_date(now, policy)
    flags = tuple(_new_flags(after, cause, today, policy))
    flagged = {**after.flags, **{f.invoice_id: f.detected_by for f in flags}}
    assessment = assess(after.ledger, today, policy)
    change = _segment_change(after, assessment, cause)
    firsts = _first_steps(after, flags, assessment, cause, today, policy)
    thanks = _thank_yous(before, after, flagged, assessment, cause, policy)
    done = dict(after.done_steps)
    for action in (*firsts, *thanks):
        for invoice_id in action.invoice_ids:
            done[invoice_id] = done.get(invoice_id, frozenset()) | {action.rule_id}
    state = replace(
        after,
        flags=flagged,
        done_steps=done,
        segment=assessment.segment,
        assessed_on=today,
        last_reason=change.reason if change else after.last_reason,
    )
    return Decision(
        state=state,
        assessment=assessment,
        flags=flags,
        segment_change=change,
        actions=(*firsts, *thanks),
    )


def _detection(ledger: Ledger, invoice: Invoice, today: date, policy: Policy) -> DetectedBy | None:
    """How lateness is known for an unflagged invoice, or None if it is not (yet) late."""
    balance = ledger.balances[invoice.invoice_id]
    if balance.settled_on is not None and balance.settled_on <= invoice.due_date:
        return None
    if invoice.invoice_id in ledger.due_notices:
        return "due_date_event"
    if balance.last_paid_on is not None and balance.last_paid_on > invoice.due_date:
        return "late_payment"
    if balance.outstanding > ZERO and (today - invoice.due_date).days > policy.clock_grace_days:
        return "clock"
    return None


def _new_flags(
    state: CustomerState, cause: Cause, today: date, policy: Policy
) -> Iterable[LateFlag]:
    ledger = state.ledger
    for invoice in sorted(ledger.invoices.values(), key=lambda i: (i.due_date, i.invoice_id)):
        if invoice.invoice_id in state.flags:
            continue
        detected_by = _detection(ledger, invoice, today, policy)
        if detected_by is None:
            continue
        balance = ledger.balances[invoice.invoice_id]
        reference = balance.settled_on or today
        yield LateFlag(
            event_id=stable_id("flag", state.customer_id, invoice.invoice_id),
            invoice_id=invoice.invoice_id,
            due_date=invoice.due_date,
            days_past_due=max(1, (reference - invoice.due_date).days),
            amount_outstanding=balance.outstanding,
            currency=invoice.currency,
            detected_by=detected_by,
            caused_by=cause.id if detected_by != "clock" else _clock_cause(cause, today),
        )


def _clock_cause(cause: Cause, today: date) -> str:
    """Clock detections name the clock even when an event woke the customer up."""
    return cause.id if cause.id.startswith("clock:") else f"clock:{today.isoformat()}"


def _segment_change(
    state: CustomerState, assessment: Assessment, cause: Cause
) -> SegmentChange | None:
    previous, current = state.segment, assessment.segment
    if previous == current:
        return None
    changed = tuple(
        d for d in DIMENSIONS if previous is None or getattr(previous, d) != getattr(current, d)
    )
    if previous is None:
        moves = "first assessment"
    else:
        moves = ", ".join(f"{d} {getattr(previous, d)}→{getattr(current, d)}" for d in changed)
    reason = f"{moves}: {_situation(assessment)}"
    return SegmentChange(
        event_id=stable_id("segment", state.customer_id, cause.id, _segment_key(current)),
        previous=previous,
        current=current,
        changed=changed,
        reason=reason,
        caused_by=cause.id,
    )


def _segment_key(segment: Segment) -> str:
    return "/".join(str(getattr(segment, d)) for d in DIMENSIONS)


def _situation(assessment: Assessment) -> str:
    """One clause on the facts behind a segment, for reasons."""
    figures = assessment.figures
    if assessment.oldest_unpaid is None:
        owed = "nothing unpaid"
    elif assessment.days_past_due > 0:
        owed = (
            f"oldest unpaid invoice {assessment.oldest_unpaid.invoice_id} is "
            f"{_days(assessment.days_past_due)} past due"
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


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


_DETECTION_TEXT = {
    "due_date_event": "per the platform's due-date notice",
    "clock": "per the processor's clock",
    "late_payment": "learned from a payment received after the due date",
}


def _first_steps(
    state: CustomerState,
    flags: tuple[LateFlag, ...],
    assessment: Assessment,
    cause: Cause,
    today: date,
    policy: Policy,
) -> list[ActionRequest]:
    """The first rung of the ladder for every invoice that just became late and is still owed."""
    segment = assessment.segment
    steps = policy.ladder.first_delinquency_steps(segment.risk_bucket)
    owed = [f for f in flags if f.amount_outstanding > ZERO]
    actions = []
    for step in steps:
        for currency in sorted({f.currency for f in owed}):
            group = [
                f
                for f in owed
                if f.currency == currency
                and step.id not in state.done_steps.get(f.invoice_id, frozenset())
            ]
            if group:
                actions.append(_step_action(state, step, group, assessment, cause, policy))
    return actions


def _step_action(
    state: CustomerState,
    step: LadderStep,
    group: list[LateFlag],
    assessment: Assessment,
    cause: Cause,
    policy: Policy,
) -> ActionRequest:
    invoice_ids = tuple(sorted(f.invoice_id for f in group))
    amount = sum((f.amount_outstanding for f in group), ZERO)
    worst = max(group, key=lambda f: f.days_past_due)
    subject = (
        f"Invoice {invoice_ids[0]}"
        if len(invoice_ids) == 1
        else f"Invoices {', '.join(invoice_ids)}"
    )
    reason = (
        f"{subject} ({amount} {worst.currency} outstanding) became late, "
        f"{_days(worst.days_past_due)} past due {_DETECTION_TEXT[worst.detected_by]}; "
        f"customer is {assessment.segment.risk_bucket} risk: {_situation(assessment)}. "
        f"Rule {step.id}: {step.tone} {step.channel} {step.action.replace('_', ' ')}."
    )
    return ActionRequest(
        event_id=stable_id("action", state.customer_id, step.id, *invoice_ids),
        action=step.action,
        channel=step.channel,
        tone=step.tone,
        stage=step.stage,
        invoice_ids=invoice_ids,
        amount_outstanding=amount,
        currency=worst.currency,
        segment=assessment.segment,
        priority=assessment.segment.priority,
        rule_id=step.id,
        policy_version=policy.version,
        reason=reason,
        caused_by=cause.id,
    )


def _thank_yous(
    before: CustomerState,
    after: CustomerState,
    flagged: dict[str, DetectedBy],
    assessment: Assessment,
    cause: Cause,
    policy: Policy,
) -> list[ActionRequest]:
    """A thank-you per currency for flagged invoices this change paid in full, late."""
    rule = policy.thank_you
    if not rule.enabled:
        return []
    paid_now = []
    for invoice_id, old in before.ledger.balances.items():
        new = after.ledger.balances.get(invoice_id)
        if (
            invoice_id in flagged
            and old.outstanding > ZERO
            and new is not None
            and new.is_paid
            and new.settled_on is not None
            and new.settled_on > after.ledger.invoices[invoice_id].due_date
            and rule.rule_id not in after.done_steps.get(invoice_id, frozenset())
        ):
            paid_now.append(after.ledger.invoices[invoice_id])
    actions = []
    for currency in sorted({inv.currency for inv in paid_now}):
        group = sorted((i for i in paid_now if i.currency == currency), key=lambda i: i.invoice_id)
        invoice_ids = tuple(i.invoice_id for i in group)
        days_late = max(
            ((after.ledger.balances[i.invoice_id].settled_on or i.due_date) - i.due_date).days
            for i in group
        )
        stage = (
            "late_delinquency"
            if days_late >= policy.late_delinquency_from_days
            else "early_delinquency"
        )
        subject = (
            f"invoice {invoice_ids[0]}" if len(group) == 1 else f"invoices {', '.join(invoice_ids)}"
        )
        reason = (
            f"Late {subject} paid in full ({_days(days_late)} after the due date); "
            f"thank the customer. Rule {rule.rule_id}."
        )
        actions.append(
            ActionRequest(
                event_id=stable_id("action", after.customer_id, rule.rule_id, *invoice_ids),
                action="thank_you",
                channel=rule.channel,
                tone="friendly",
                stage=stage,
                invoice_ids=invoice_ids,
                amount_outstanding=sum(
                    (after.ledger.balances[i].outstanding for i in invoice_ids), ZERO
                ),
                currency=currency,
                segment=assessment.segment,
                priority=assessment.segment.priority,
                rule_id=rule.rule_id,
                policy_version=policy.version,
                reason=reason,
                caused_by=cause.id,
            )
        )
    return actions
