"""The collection ladder in time: which steps are due for a customer today, and the contacts.

A step of the customer's risk-bucket ladder is due for an unpaid invoice once its date (due date
plus offset) has come; a delinquency step also waits until the invoice is known to be late.
Due steps are then filtered by the contact rules and merged:

- a currency the customer owes less than the policy's minimum in is not chased (the steps wait);
- a channel still in its cooldown is not used (the steps wait until the cooldown ends);
- everything due on one channel in one currency becomes one action listing its invoices, led by
  the most advanced step (largest offset, then the most severe action and tone).

A step is taken once per invoice (``done_steps``); a paid invoice has no due steps, so whatever
it still had pending is cancelled by the payment itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from processor.domain.contact import CUSTOMER_FACING, cooldown_ends, may_contact, not_before, route
from processor.domain.ids import stable_id
from processor.domain.ledger import ZERO, Invoice
from processor.domain.outputs import ActionRequest, Cause
from processor.domain.owed import Owing
from processor.domain.plan import (
    LedgerFacts,
    OpenInvoice,
    PolicyPlan,
    RungPlan,
    policy_plan,
)
from processor.domain.policy import LadderStep, Policy
from processor.domain.reasons import days, situation
from processor.domain.segmentation import Assessment
from processor.domain.state import CustomerState, DetectedBy

_NOTHING: frozenset[str] = frozenset()
_NO_RUNGS: frozenset[int] = frozenset()
ESCALATIONS = frozenset({"credit_hold", "agency_referral"})
__all__ = ["ESCALATIONS", "Contacts", "DueStep", "due_steps", "planned_contacts"]

_DETECTION_TEXT = {
    "due_date_event": "per the platform's due-date notice",
    "clock": "per the processor's clock",
    "late_payment": "learned from a payment received after the due date",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DueStep:
    """One ladder step whose day has come for one unpaid invoice."""

    invoice: Invoice
    step: LadderStep
    on: date
    outstanding: Decimal  # what may be chased (the outstanding amount less what is paused)
    first_seen_late: bool = False
    owing: Owing | None = None
    # Why the step goes out on another channel than the ladder's (None: it does not).
    rerouted: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Contacts:
    """The actions a decision takes, and the contact memory they leave behind."""

    actions: tuple[ActionRequest, ...]
    done_steps: Mapping[str, frozenset[str]]
    last_contact: Mapping[str, date]
    first_contact: Mapping[str, date]


def due_steps(
    state: CustomerState,
    facts: LedgerFacts,
    flagged: Mapping[str, DetectedBy],
    risk_bucket: str,
    today: date,
    policy: Policy,
    owed: Mapping[str, Owing] | None = None,
) -> list[DueStep]:
    """The steps of each unpaid invoice's current rung that are not taken yet.

    A step is reached on its day: a preventive one up to the due date, a later one once the
    invoice is known to be late. Only the invoice's most advanced reached rung is taken; earlier
    rungs it skipped (an invoice first seen late, a move to another risk bucket's ladder, a step
    held by a cooldown until the next rung came, a pause by a dispute, promise, plan or hold) are
    superseded, never sent in a burst; and a rung taken on a channel under one bucket's ladder is
    not taken again under another's. `owed` says what may be chased (`processor.domain.owed`): an
    invoice with nothing to chase has no due step; one covered by unapplied cash only reminders;
    a rung the customer was reached on is not contacted again; a channel the customer does not
    allow, or that bounced, is replaced (`contact.route`). `risk_bucket` names the ladder (the
    assessment's, which the delinquency type's approach may change). An escalation (credit
    hold, agency referral) needs a customer-facing contact about the invoice
    `collection.escalation_notice_days` before: without one (an invoice first seen late) the
    rung before escalation is taken instead.
    """
    if not facts.open:
        return []
    plan = policy_plan(policy)
    ladder = plan.ladders[risk_bucket]
    due = []
    for row in facts.open:
        owing = None if owed is None else owed.get(row.invoice.invoice_id)
        if owing is not None and owing.chaseable <= ZERO:
            continue
        past_due = today.toordinal() - row.due
        # Reached: dated by today and not before the invoice existed; up to the due date only
        # preventive steps (offset <= 0), after it only later ones, once lateness is known.
        if past_due <= 0:
            lower = row.issued - row.due
        elif row.invoice.invoice_id in flagged:
            lower = max(row.issued - row.due, 1)
        else:
            continue
        index = ladder.rung_index(lower, past_due)
        if index >= 0:
            due += _rung_steps(state, row, owing, plan, ladder, lower, index, today, policy)
    return due


def _rung_steps(
    state: CustomerState,
    row: OpenInvoice,
    owing: Owing | None,
    plan: PolicyPlan,
    ladder: RungPlan,
    lower: int,
    index: int,
    today: date,
    policy: Policy,
) -> list[DueStep]:
    """The steps of the rung an invoice has reached that are still to take (see `due_steps`)."""
    invoice = row.invoice
    done = state.done_steps.get(invoice.invoice_id, _NOTHING)
    steps = _open_steps(ladder.steps_at[index], done, owing)
    first_seen_late = False
    if any(step.action in ESCALATIONS for step in steps):
        first = state.first_contact.get(invoice.invoice_id)
        if first is None and not _contacted(done, plan.rungs):
            # First seen late: the last rung before escalation comes first.
            first_seen_late = True
            index = _before_escalation(ladder, lower, index, done, owing)
            if index < 0:
                return []
            steps = _open_steps(ladder.steps_at[index], done, owing)
        elif first is not None and (today - first).days < policy.collection.escalation_notice_days:
            steps = [step for step in steps if step.action not in ESCALATIONS]
        # (no first contact dated but one taken: contacted before they were dated, long ago)
    rung = ladder.offsets[index]
    if not steps or rung in state.collection.reached.get(invoice.invoice_id, _NO_RUNGS):
        return []
    if done:
        # A move to another bucket's ladder does not repeat a rung already taken on a channel.
        taken = {
            taken_rung[1]
            for step_id in done
            if (taken_rung := plan.rungs.get(step_id)) is not None and taken_rung[0] == rung
        }
        steps = [step for step in steps if step.channel not in taken]
    due = []
    for step in steps:
        way = route(step.channel, step.action, state, policy)
        due.append(
            DueStep(
                invoice=invoice,
                step=step if way.note is None else step.model_copy(update={"channel": way.channel}),
                on=date.fromordinal(row.due + rung),
                outstanding=row.outstanding if owing is None else owing.chaseable,
                first_seen_late=first_seen_late,
                owing=owing,
                rerouted=way.note,
            )
        )
    return due


def _contacted(done: frozenset[str], rungs: Mapping[str, tuple[int, str]]) -> bool:
    """True when a step taken for the invoice reached the customer (not internal, not agency)."""
    return any(
        (rung := rungs.get(step)) is not None and rung[1] in CUSTOMER_FACING for step in done
    )


def _open_steps(
    steps: tuple[LadderStep, ...], done: frozenset[str], owing: Owing | None
) -> list[LadderStep]:
    """The steps of a rung not taken yet (only reminders while unapplied cash covers it)."""
    found = [step for step in steps if step.id not in done]
    if owing is not None and owing.reminder_only:
        found = [step for step in found if step.action == "reminder"]
    return found


def _before_escalation(
    ladder: RungPlan, lower: int, index: int, done: frozenset[str], owing: Owing | None
) -> int:
    """The most advanced reached rung at or before `index` with a step that does not escalate."""
    while index >= 0 and ladder.offsets[index] >= lower:
        steps = _open_steps(ladder.steps_at[index], done, owing)
        if any(step.action not in ESCALATIONS for step in steps):
            return index
        index -= 1
    return -1


def chased_currencies(facts: LedgerFacts, policy: Policy) -> set[str]:
    """Currencies the customer owes at least the policy's minimum in (the others wait)."""
    minimum = policy.contact.minimum_amount
    return {
        currency for currency, owed in facts.owed.items() if owed >= minimum.get(currency, ZERO)
    }


def planned_contacts(
    state: CustomerState,
    facts: LedgerFacts,
    flagged: Mapping[str, DetectedBy],
    assessment: Assessment,
    cause: Cause,
    now: datetime,
    today: date,
    policy: Policy,
    owed: Mapping[str, Owing] | None = None,
) -> Contacts:
    """The ladder actions due on `today`, after the minimum amount, cooldowns and merging."""
    due = due_steps(state, facts, flagged, assessment.ladder, today, policy, owed)
    if not due:
        return Contacts(
            actions=(),
            done_steps=state.done_steps,
            last_contact=state.last_contact,
            first_contact=state.first_contact,
        )
    groups: dict[tuple[str, str], list[DueStep]] = {}
    chased = chased_currencies(facts, policy)
    for item in due:
        if item.invoice.currency not in chased:
            continue
        if not may_contact(item.step.channel, today, state.last_contact, policy.contact):
            continue
        groups.setdefault((item.step.channel, item.invoice.currency), []).append(item)
    if not groups:
        return Contacts(
            actions=(),
            done_steps=state.done_steps,
            last_contact=state.last_contact,
            first_contact=state.first_contact,
        )
    done = dict(state.done_steps)
    last_contact = dict(state.last_contact)
    first_contact = dict(state.first_contact)
    actions = []
    for (channel_name, _currency), group in sorted(groups.items()):
        action = _contact(state, facts, group, flagged, assessment, cause, now, today, policy)
        actions.append(action)
        last_contact[channel_name] = today
        for invoice_id, step_id in action.steps:
            done[invoice_id] = done.get(invoice_id, frozenset()) | {step_id}
            if channel_name in CUSTOMER_FACING:
                first_contact.setdefault(invoice_id, today)
    return Contacts(
        actions=tuple(actions),
        done_steps=done,
        last_contact=last_contact,
        first_contact=first_contact,
    )


def _lead(group: list[DueStep], policy: Policy) -> DueStep:
    """The step that gives a merged contact its action, tone and stage: the most advanced."""
    if len(group) == 1:
        return group[0]
    rank = policy_plan(policy).lead_rank
    return max(group, key=lambda d: rank[d.step.id])


def _contact(
    state: CustomerState,
    facts: LedgerFacts,
    group: list[DueStep],
    flagged: Mapping[str, DetectedBy],
    assessment: Assessment,
    cause: Cause,
    now: datetime,
    today: date,
    policy: Policy,
) -> ActionRequest:
    lead = _lead(group, policy)
    steps = tuple(sorted((d.invoice.invoice_id, d.step.id) for d in group))
    owed = {d.invoice.invoice_id: d.outstanding for d in group}
    amount = sum(owed.values(), ZERO)
    currency = lead.invoice.currency
    step = lead.step
    tone = step.tone
    early_tone = policy.delinquency.approach_for(assessment.segment.delinquency_type).early_tone
    if early_tone is not None and step.stage == "early_delinquency":
        tone = early_tone
    return ActionRequest(
        event_id=stable_id("action", state.customer_id, *(f"{i}:{s}" for i, s in steps)),
        action=step.action,
        channel=step.channel,
        tone=tone,
        stage=step.stage,
        invoice_ids=tuple(sorted(owed)),
        amount_outstanding=amount,
        currency=currency,
        segment=assessment.segment,
        priority=assessment.segment.priority,
        rule_id=step.id,
        policy_version=policy.version,
        reason=_reason(
            group,
            lead,
            tone,
            amount,
            currency,
            facts,
            flagged,
            assessment,
            today,
            policy,
            state.last_contact,
        ),
        caused_by=cause.id,
        not_before=not_before(step.channel, now, facts.calendar.zone, policy.contact.quiet_hours),
        steps=steps,
    )


def _reason(
    group: list[DueStep],
    lead: DueStep,
    tone: str,
    amount: Decimal,
    currency: str,
    facts: LedgerFacts,
    flagged: Mapping[str, DetectedBy],
    assessment: Assessment,
    today: date,
    policy: Policy,
    last_contact: Mapping[str, date],
) -> str:
    """Which facts fired which rule, in sentences a collector can read."""
    parts = [
        _invoice_clause(item, facts, flagged, today) for item in sorted(group, key=_by_invoice)
    ]
    subject = "; ".join(parts)
    step = lead.step
    what = f"{tone} {step.action.replace('_', ' ')} by {step.channel}"
    notes = ""
    if lead.rerouted is not None:
        notes += f" The rung is by {_planned_channel(lead, policy)}, but {lead.rerouted}."
    if tone != step.tone:
        notes += (
            f" The tone is {tone}, not the rung's {step.tone}: the delinquency is "
            f"{assessment.segment.delinquency_type}."
        )
    if any(d.first_seen_late for d in group):
        notes += (
            " The invoice was first seen this late and never contacted: the ladder starts at the"
            " rung that fits its age before any escalation (credit hold, agency referral), which"
            f" waits {days(policy.collection.escalation_notice_days)} after this contact."
        )
    elif lead.on < today:
        ends = cooldown_ends(lead.step.channel, last_contact, policy.contact)
        if ends is not None and ends > lead.on:
            notes += f" It was due on {lead.on} and held by the contact rules until today."
        else:
            notes += f" Its rung was due on {lead.on}; earlier rungs are superseded, not sent."
    merged = ""
    if len(group) > 1:
        merged = f" One contact covers {len(group)} due steps ({amount} {currency} in total)."
    ladder = ""
    if assessment.ladder != assessment.segment.risk_bucket:
        ladder = f" ({assessment.segment.delinquency_type}: the {assessment.ladder}-risk ladder)"
    return (
        f"{subject}. Customer is {assessment.segment.risk_bucket} risk{ladder}: "
        f"{situation(assessment)}. Rule {step.id} (policy {policy.version}, "
        f"{_offset_text(step.offset_days)}): {what}.{merged}{notes}"
    )


def _planned_channel(item: DueStep, policy: Policy) -> str:
    return policy_plan(policy).rungs[item.step.id][1]


def _by_invoice(item: DueStep) -> tuple[str, str]:
    return item.invoice.invoice_id, item.step.id


def _invoice_clause(
    item: DueStep, facts: LedgerFacts, flagged: Mapping[str, DetectedBy], today: date
) -> str:
    invoice = item.invoice
    owed = f"{item.outstanding} {invoice.currency} outstanding"
    owing = item.owing
    if owing is not None and owing.paused:
        owed = (
            f"{item.outstanding} {invoice.currency} to collect of {owing.outstanding} "
            f"outstanding; not chased: {'; '.join(owing.paused)}"
        )
    elif owing is not None and owing.reminder_only:
        owed += "; unapplied cash of the customer's may cover it, so only a reminder"
    payable = facts.payable_by(invoice)
    late_by = (today - payable).days
    if late_by <= 0:
        when = "due today" if late_by == 0 else f"due in {days(-late_by)} on {payable}"
        return f"Invoice {invoice.invoice_id} ({owed}) is {when}, step {item.step.id}"
    how = _DETECTION_TEXT[flagged[invoice.invoice_id]]
    due = f"due {invoice.due_date}"
    if payable != invoice.due_date:
        due += f", payable by {payable} as the due date is not a business day"
    return (
        f"Invoice {invoice.invoice_id} ({owed}) is {days(late_by)} past due "
        f"({due}, late {how}), step {item.step.id}"
    )


def _offset_text(offset: int) -> str:
    if offset < 0:
        return f"{days(-offset)} before the due date"
    if offset == 0:
        return "on the due date"
    return f"{days(offset)} after the due date"
