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
from datetime import date, datetime, timedelta
from decimal import Decimal

from processor.domain.contact import may_contact, not_before
from processor.domain.ids import stable_id
from processor.domain.ledger import ZERO, Invoice, Ledger
from processor.domain.outputs import ActionRequest, Cause
from processor.domain.plan import LedgerFacts, ledger_facts, policy_plan
from processor.domain.policy import LadderStep, Policy
from processor.domain.reasons import days, situation
from processor.domain.segmentation import Assessment
from processor.domain.state import CustomerState, DetectedBy

_NOTHING: frozenset[str] = frozenset()

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
    outstanding: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Contacts:
    """The actions a decision takes, and the contact memory they leave behind."""

    actions: tuple[ActionRequest, ...]
    done_steps: Mapping[str, frozenset[str]]
    last_contact: Mapping[str, date]


def due_steps(
    state: CustomerState,
    facts: LedgerFacts,
    flagged: Mapping[str, DetectedBy],
    risk_bucket: str,
    today: date,
    policy: Policy,
) -> list[DueStep]:
    """The steps of each unpaid invoice's current rung that are not taken yet.

    A step is reached on its day: a preventive one up to the due date, a later one once the
    invoice is known to be late. Only the invoice's most advanced reached rung is taken; earlier
    rungs it skipped (an invoice first seen late, a move to another risk bucket's ladder, a step
    held by a cooldown until the next rung came) are superseded, never sent in a burst; and a
    rung taken on a channel under one bucket's ladder is not taken again under another's.
    """
    if not facts.open:
        return []
    plan = policy_plan(policy)
    ladder = plan.ladders[risk_bucket]
    today_day = today.toordinal()
    done_steps = state.done_steps
    due = []
    for row in facts.open:
        invoice = row.invoice
        past_due = today_day - row.due
        # Reached: dated by today and not before the invoice existed; up to the due date only
        # preventive steps (offset <= 0), after it only later ones, once lateness is known.
        if past_due <= 0:
            index = ladder.rung_index(row.issued - row.due, past_due)
        elif invoice.invoice_id in flagged:
            index = ladder.rung_index(max(row.issued - row.due, 1), past_due)
        else:
            continue
        if index < 0:
            continue
        done = done_steps.get(invoice.invoice_id, _NOTHING)
        steps = [step for step in ladder.steps_at[index] if step.id not in done]
        if not steps:
            continue
        rung = ladder.offsets[index]
        if done:
            # A move to another bucket's ladder does not repeat a rung already taken on a
            # channel.
            taken = {
                taken_rung[1]
                for step_id in done
                if (taken_rung := plan.rungs.get(step_id)) is not None and taken_rung[0] == rung
            }
            steps = [step for step in steps if step.channel not in taken]
        on = invoice.due_date + timedelta(days=rung)
        due += [
            DueStep(invoice=invoice, step=step, on=on, outstanding=row.outstanding)
            for step in steps
        ]
    return due


def chased_currencies(ledger: Ledger, policy: Policy) -> set[str]:
    """Currencies the customer owes at least the policy's minimum in (the others wait)."""
    minimum = policy.contact.minimum_amount
    return {
        currency
        for currency, owed in ledger_facts(ledger).owed.items()
        if owed >= minimum.get(currency, ZERO)
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
) -> Contacts:
    """The ladder actions due on `today`, after the minimum amount, cooldowns and merging."""
    due = due_steps(state, facts, flagged, assessment.segment.risk_bucket, today, policy)
    if not due:
        return Contacts(actions=(), done_steps=state.done_steps, last_contact=state.last_contact)
    groups: dict[tuple[str, str], list[DueStep]] = {}
    chased = chased_currencies(state.ledger, policy)
    for item in due:
        if item.invoice.currency not in chased:
            continue
        if not may_contact(item.step.channel, today, state.last_contact, policy.contact):
            continue
        groups.setdefault((item.step.channel, item.invoice.currency), []).append(item)
    if not groups:
        return Contacts(actions=(), done_steps=state.done_steps, last_contact=state.last_contact)
    done = dict(state.done_steps)
    last_contact = dict(state.last_contact)
    actions = []
    for (channel_name, _currency), group in sorted(groups.items()):
        action = _contact(state, group, flagged, assessment, cause, now, today, policy)
        actions.append(action)
        last_contact[channel_name] = today
        for invoice_id, step_id in action.steps:
            done[invoice_id] = done.get(invoice_id, frozenset()) | {step_id}
    return Contacts(actions=tuple(actions), done_steps=done, last_contact=last_contact)


def _lead(group: list[DueStep], policy: Policy) -> DueStep:
    """The step that gives a merged contact its action, tone and stage: the most advanced."""
    if len(group) == 1:
        return group[0]
    rank = policy_plan(policy).lead_rank
    return max(group, key=lambda d: rank[d.step.id])


def _contact(
    state: CustomerState,
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
    zone = policy.customer_zone(state.customer_timezone)
    return ActionRequest(
        event_id=stable_id("action", state.customer_id, *(f"{i}:{s}" for i, s in steps)),
        action=step.action,
        channel=step.channel,
        tone=step.tone,
        stage=step.stage,
        invoice_ids=tuple(sorted(owed)),
        amount_outstanding=amount,
        currency=currency,
        segment=assessment.segment,
        priority=assessment.segment.priority,
        rule_id=step.id,
        policy_version=policy.version,
        reason=_reason(group, lead, amount, currency, flagged, assessment, today, policy),
        caused_by=cause.id,
        not_before=not_before(step.channel, now, zone, policy.contact.quiet_hours),
        steps=steps,
    )


def _reason(
    group: list[DueStep],
    lead: DueStep,
    amount: Decimal,
    currency: str,
    flagged: Mapping[str, DetectedBy],
    assessment: Assessment,
    today: date,
    policy: Policy,
) -> str:
    """Which facts fired which rule, in sentences a collector can read."""
    parts = [_invoice_clause(item, flagged, today) for item in sorted(group, key=_by_invoice)]
    subject = "; ".join(parts)
    step = lead.step
    what = f"{step.tone} {step.action.replace('_', ' ')} by {step.channel}"
    held = ""
    if lead.on < today:
        held = f" It was due on {lead.on} and held by the contact rules until today."
    merged = ""
    if len(group) > 1:
        merged = f" One contact covers {len(group)} due steps ({amount} {currency} in total)."
    return (
        f"{subject}. Customer is {assessment.segment.risk_bucket} risk: "
        f"{situation(assessment)}. Rule {step.id} (policy {policy.version}, "
        f"{_offset_text(step.offset_days)}): {what}.{merged}{held}"
    )


def _by_invoice(item: DueStep) -> tuple[str, str]:
    return item.invoice.invoice_id, item.step.id


def _invoice_clause(item: DueStep, flagged: Mapping[str, DetectedBy], today: date) -> str:
    invoice = item.invoice
    owed = f"{item.outstanding} {invoice.currency} outstanding"
    late_by = (today - invoice.due_date).days
    if late_by <= 0:
        when = "due today" if late_by == 0 else f"due in {days(-late_by)} on {invoice.due_date}"
        return f"Invoice {invoice.invoice_id} ({owed}) is {when}, step {item.step.id}"
    how = _DETECTION_TEXT[flagged[invoice.invoice_id]]
    return (
        f"Invoice {invoice.invoice_id} ({owed}) is {days(late_by)} past due "
        f"(due {invoice.due_date}, late {how}), step {item.step.id}"
    )


def _offset_text(offset: int) -> str:
    if offset < 0:
        return f"{days(-offset)} before the due date"
    if offset == 0:
        return "on the due date"
    return f"{days(offset)} after the due date"
