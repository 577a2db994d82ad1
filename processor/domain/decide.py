"""Decisions: from the state before and after a change, what to tell the world.

``decide`` compares two states on a given `now` and returns late flags, at most one segment
change and the collection actions, each with a rule id, a readable reason and a deterministic
event id. ``handle`` decides on an event, ``wake`` on time alone, and ``advance`` runs every wake
a customer has due up to an instant, in order: together they are the whole pure step the worker
(and the offline simulation) runs. The first decision on a new business day also archives the
customer's history older than `history.retain_days` (``retention.compact``), after its outputs
are decided: the worker, wake-ups and the simulation bound a customer's history identically,
from the state and the decision's instant alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from processor.domain.action_extras import assessments, with_extras
from processor.domain.calendar import customer_calendar
from processor.domain.commitments import Commitment, commitments
from processor.domain.contact import CUSTOMER_FACING, not_before, route
from processor.domain.facts import DueDatePassed, Fact
from processor.domain.ids import stable_id
from processor.domain.ladder import planned_contacts
from processor.domain.ledger import ZERO, Invoice, Ledger, Retraction
from processor.domain.lifecycle import lifecycle
from processor.domain.outputs import (
    ActionRequest,
    Cause,
    CommitmentStatus,
    FeeAssessment,
    LateFlag,
    SegmentChange,
    Withdrawal,
)
from processor.domain.owed import Owing, owing
from processor.domain.plan import LedgerFacts, ledger_facts
from processor.domain.policy import Policy
from processor.domain.profile import NO_PROFILE
from processor.domain.reasons import days, situation
from processor.domain.retention import compact
from processor.domain.schedule import next_wake
from processor.domain.segmentation import Assessment, assessed
from processor.domain.state import (
    SEGMENT_DIMENSIONS,
    CustomerState,
    DetectedBy,
    Segment,
    check_repeat,
    fold,
)

__all__ = [
    "ActionRequest",
    "Cause",
    "CommitmentStatus",
    "Decision",
    "FeeAssessment",
    "LateFlag",
    "SegmentChange",
    "Withdrawal",
    "advance",
    "business_date",
    "decide",
    "on_event",
    "standing",
    "wake",
]

DIMENSIONS = SEGMENT_DIMENSIONS


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The new state to store and the outputs to publish (publish first, then store)."""

    state: CustomerState
    assessment: Assessment
    flags: tuple[LateFlag, ...] = ()
    segment_change: SegmentChange | None = None
    actions: tuple[ActionRequest, ...] = ()
    withdrawals: tuple[Withdrawal, ...] = ()
    statuses: tuple[CommitmentStatus, ...] = ()
    # Earlier facts the event contradicted and undid: dead-lettered by the shell.
    retracted: tuple[Retraction, ...] = ()
    # What may be chased of each open invoice (the snapshot shows it).
    owed: Mapping[str, Owing] = field(default_factory=dict)
    # Late fees to date for the billing system (`late_fees.assess`).
    fees: tuple[FeeAssessment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """What one event brings: the wakes that were due before it, then its own decision."""

    state: CustomerState
    decisions: tuple[Decision, ...] = ()
    applied: bool = False  # False: the event was applied before (a duplicate)


def business_date(now: datetime, policy: Policy, state: CustomerState | None = None) -> date:
    """'Today' on the customer's calendar (its profile's zone; the policy's without one)."""
    profile = NO_PROFILE if state is None else state.profile
    return customer_calendar(profile, policy).today(now)


def _decide_fact(
    before: CustomerState, after: CustomerState, fact: Fact, now: datetime, policy: Policy
) -> Decision:
    if before.decided_at is not None and before.decided_at > now:
        now = before.decided_at
    due_for = fact.invoice_id if isinstance(fact, DueDatePassed) else None
    cause = Cause.of_event(fact.event_id, due_notice_for=due_for)
    return decide(before=before, after=after, cause=cause, now=now, policy=policy)


def on_event(state: CustomerState, fact: Fact, *, now: datetime, policy: Policy) -> Progress:
    """Decide what time brought up to `now`, then the event: the worker's and simulation's step.

    A duplicate changes and decides nothing (not even wakes: the scheduler takes those).
    Raises DomainError when the fact contradicts the ledger; nothing is then decided.
    """
    if fact.event_id in state.seen:
        check_repeat(state, fact)
        return Progress(state=state)
    wakes = advance(state, now, policy=policy)
    current = wakes[-1].state if wakes else state
    after, retracted = fold(current, fact)
    decision = _decide_fact(current, after, fact, now, policy)
    if retracted:
        decision = replace(decision, retracted=retracted)
    return Progress(state=decision.state, decisions=(*wakes, decision), applied=True)


def wake(state: CustomerState, at: datetime, *, policy: Policy) -> Decision:
    """What time alone brings at `at`: clock flags, ladder steps, segment moves."""
    return decide(before=state, after=state, cause=Cause.clock(at), now=at, policy=policy)


def advance(state: CustomerState, until: datetime, *, policy: Policy) -> list[Decision]:
    """Every wake due up to `until`, each at its own instant, in order (nothing missed or merged).

    Deciding each wake at its scheduled instant, not at `until`, makes the result independent of
    when the worker got round to it: a late timer, a restart or a replay decide the same.
    """
    decisions = []
    while (at := next_wake(state, policy)) is not None and at <= until:
        decision = wake(state, at, policy=policy)
        decisions.append(decision)
        state = decision.state
    return decisions


def decide(
    *, before: CustomerState, after: CustomerState, cause: Cause, now: datetime, policy: Policy
) -> Decision:
    """Everything the change from `before` to `after` means on `now`.

    On the first decision of a business day, the new state's old history is archived: the
    outputs are decided first, and archiving changes no later decision (see `retention`).
    """
    calendar = customer_calendar(after.profile, policy)
    today = calendar.today(now)
    facts = ledger_facts(after.ledger, calendar)
    flags = tuple(_new_flags(after, facts, cause, today, policy))
    flagged = after.flags
    if flags:
        flagged = {**flagged, **{f.invoice_id: f.detected_by for f in flags}}
    collection = after.collection
    assessment, owed, found = standing(after, today, policy, facts)
    change = _segment_change(after, assessment, cause)
    contacts = planned_contacts(after, facts, flagged, assessment, cause, now, today, policy, owed)
    thanks = _thank_yous(before, after, facts, flagged, assessment, cause, now, policy)
    done = contacts.done_steps
    if thanks:
        done = dict(done)
        for action in thanks:
            for invoice_id in action.invoice_ids:
                done[invoice_id] = done.get(invoice_id, frozenset()) | {action.rule_id}
    first_contact = contacts.first_contact
    if first_contact:  # escalation notice matters only while an invoice is owed
        balances = after.ledger.balances
        first_contact = {
            k: v
            for k, v in first_contact.items()
            if (b := balances.get(k)) is not None and not b.is_paid
        }
    life = lifecycle(
        before,
        after,
        facts,
        done,
        contacts.actions,
        found,
        owed,
        assessment,
        cause,
        now,
        today,
        policy,
    )
    state = CustomerState(
        customer_id=after.customer_id,
        customer_name=after.customer_name,
        ledger=after.ledger,
        seen=after.seen,
        flags=flagged,
        done_steps=done,
        segment=assessment.segment,
        assessed_on=today,
        last_reason=change.reason if change else after.last_reason,
        decided_at=now,
        last_contact=_contacted(contacts.last_contact, life.actions, today, policy),
        profile=after.profile,
        collection=collection
        if life.sent is collection.sent
        else replace(collection, sent=life.sent),
        statuses=life.status_memory,
        tasks=life.tasks,
        first_contact=first_contact,
    )
    if after.assessed_on is None or today > after.assessed_on:
        state = compact(state, today=today, policy=policy.history)
    actions = with_extras((*contacts.actions, *thanks, *life.actions), after, facts, today, policy)
    return Decision(
        state=state,
        assessment=assessment,
        flags=flags,
        segment_change=change,
        actions=actions,
        withdrawals=life.withdrawals,
        statuses=life.statuses,
        owed=owed,
        fees=assessments(actions, before, after, facts, today, cause, policy),
    )


def _contacted(
    last_contact: Mapping[str, date],
    actions: tuple[ActionRequest, ...],
    today: date,
    policy: Policy,
) -> Mapping[str, date]:
    """The contact memory after the lifecycle's discount reminders (they start a cooldown)."""
    if not actions:
        return last_contact
    rule_id = policy.discount_offer.reminder.rule_id
    sent = {a.channel for a in actions if a.rule_id == rule_id}
    if not sent:
        return last_contact
    return {**last_contact, **dict.fromkeys(sent, today)}


def standing(
    state: CustomerState, today: date, policy: Policy, facts: LedgerFacts | None = None
) -> tuple[Assessment, dict[str, Owing], list[Commitment]]:
    """Where the customer stands on `today`.

    Its assessment, what may be chased of each open invoice, and its commitments: the snapshot
    shows the same figures the decision used. `facts`: the ledger's views on the customer's
    calendar, when the caller has them.
    """
    if facts is None:
        facts = ledger_facts(state.ledger, customer_calendar(state.profile, policy))
    collection = state.collection
    found = (
        commitments(state.ledger, collection, today, policy.collection.promise_grace_days)
        if collection.promises or collection.plans
        else []
    )
    assessment = assessed(state, facts, today, policy, found)
    owed = owing(state.ledger, collection, facts.open, found, today, policy)
    return assessment, owed, found


def _detection(
    ledger: Ledger, invoice: Invoice, payable: date, today: date, policy: Policy
) -> DetectedBy | None:
    """How lateness is known for an unflagged invoice, or None if it is not (yet) late.

    `payable` is the day it may be paid by (a due date on a non-business day moves to the next
    business day): a due notice, a payment or the clock says it is late only after that day.
    """
    balance = ledger.balances[invoice.invoice_id]
    if balance.settled_on is not None and balance.settled_on <= payable:
        return None
    if invoice.invoice_id in ledger.due_notices and today > payable:
        return "due_date_event"
    if balance.last_paid_on is not None and balance.last_paid_on > payable:
        return "late_payment"
    if balance.outstanding > ZERO and (today - payable).days > policy.clock_grace_days:
        return "clock"
    return None


def _new_flags(
    state: CustomerState, facts: LedgerFacts, cause: Cause, today: date, policy: Policy
) -> Iterable[LateFlag]:
    ledger = state.ledger
    flags = state.flags
    # Only invoices not settled by their due date can be late (`_detection`), by (due, id).
    for invoice in facts.flaggable:
        if invoice.invoice_id in flags:
            continue
        payable = facts.payable_by(invoice)
        detected_by = _detection(ledger, invoice, payable, today, policy)
        if detected_by is None:
            continue
        balance = ledger.balances[invoice.invoice_id]
        reference = balance.settled_on or today
        yield LateFlag(
            event_id=stable_id("flag", state.customer_id, invoice.invoice_id),
            invoice_id=invoice.invoice_id,
            due_date=invoice.due_date,
            days_past_due=max(1, (reference - payable).days),
            amount_outstanding=balance.outstanding,
            currency=invoice.currency,
            detected_by=detected_by,
            caused_by=cause.id
            if detected_by != "clock"
            else _clock_cause(cause, payable, facts, policy),
        )


def _clock_cause(cause: Cause, payable: date, facts: LedgerFacts, policy: Policy) -> str:
    """Clock detections name the clock, even when an event woke the customer up.

    Then the cause is the instant the clock would have flagged it: the start of the customer's
    day after the payable-by date plus the grace (an RFC 3339 timestamp, like every clock cause).
    """
    if cause.is_clock:
        return cause.id
    late_from = payable + timedelta(days=policy.clock_grace_days + 1)
    return Cause.clock(facts.calendar.start_of(late_from)).id


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
    reason = f"{moves}: {situation(assessment)}"
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


def _thank_yous(
    before: CustomerState,
    after: CustomerState,
    facts: LedgerFacts,
    flagged: Mapping[str, DetectedBy],
    assessment: Assessment,
    cause: Cause,
    now: datetime,
    policy: Policy,
) -> list[ActionRequest]:
    """A thank-you per currency for flagged invoices this change paid in full, late."""
    rule = policy.thank_you
    if not rule.enabled or before.ledger is after.ledger:  # nothing was paid: no thanks
        return []
    channel = route(rule.channel, "thank_you", after, policy)
    if channel.channel not in CUSTOMER_FACING:  # a courtesy is not worth a collector's task
        return []
    paid_now = []
    for invoice_id, old in before.ledger.balances.items():
        new = after.ledger.balances.get(invoice_id)
        if (
            invoice_id in flagged
            and old.outstanding > ZERO
            and new is not None
            and new.is_paid
            and new.closed_by == "paid"
            and new.settled_on is not None
            and new.settled_on > facts.payable_by(after.ledger.invoices[invoice_id])
            and rule.rule_id not in after.done_steps.get(invoice_id, frozenset())
        ):
            paid_now.append(after.ledger.invoices[invoice_id])
    actions = []
    for currency in sorted({inv.currency for inv in paid_now}):
        group = sorted((i for i in paid_now if i.currency == currency), key=lambda i: i.invoice_id)
        invoice_ids = tuple(i.invoice_id for i in group)
        days_late = max(
            (
                (after.ledger.balances[i.invoice_id].settled_on or facts.payable_by(i))
                - facts.payable_by(i)
            ).days
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
            f"Late {subject} paid in full ({days(days_late)} after the due date); "
            f"thank the customer. Rule {rule.rule_id}."
        )
        actions.append(
            ActionRequest(
                event_id=stable_id("action", after.customer_id, rule.rule_id, *invoice_ids),
                action="thank_you",
                channel=channel.channel,
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
                not_before=not_before(
                    channel.channel, now, facts.calendar.zone, policy.contact.quiet_hours
                ),
                steps=tuple((i, rule.rule_id) for i in invoice_ids),
            )
        )
    return actions
