"""When a customer next needs a decision with no event: its next wake-up.

Everything time changes for a customer happens at the start of a business day: a ladder step's
day, the clock's late flag after the grace, an aging-bucket boundary of the oldest unpaid invoice,
a cooldown's end, and a paid or issued invoice leaving the behaviour or value-tier window. The wake
is the earliest of those dates after the last decision, at midnight on the policy's calendar.
The worker keeps one wake per customer in a time-ordered index, so a tick costs what is due.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time

from processor.domain.plan import LedgerFacts, PolicyPlan, ledger_facts, policy_plan
from processor.domain.policy import Policy
from processor.domain.segmentation import residue_test
from processor.domain.state import CustomerState

# Days past due at which the oldest unpaid invoice enters the next aging bucket.
AGING_BOUNDARIES = (1, 31, 61, 91, 121)


_MIDNIGHT = time(0)
_NOTHING: frozenset[str] = frozenset()


def start_of_day(day: date, policy: Policy) -> datetime:
    """Midnight at the start of `day` on the policy's calendar, in UTC."""
    return datetime.combine(day, _MIDNIGHT, tzinfo=policy_plan(policy).zone).astimezone(UTC)


def next_wake(state: CustomerState, policy: Policy) -> datetime | None:
    """The next instant the customer must be decided on without an event, or None if never."""
    if state.decided_at is None:
        return None
    plan = policy_plan(policy)
    today = state.decided_at.astimezone(plan.zone).date().toordinal()
    facts = ledger_facts(state.ledger)
    soonest = min(
        _lateness_day(state, facts, today, plan),
        _ladder_day(state, facts, today, plan),
        _window_day(facts.issued_days, today, plan.tier_window),
        _window_day(facts.paid_days, today, plan.behaviour_window),
        _lifecycle_day(state, facts, today, policy),
    )
    if soonest == _NEVER:
        return None
    return datetime.combine(date.fromordinal(soonest), _MIDNIGHT, tzinfo=plan.zone).astimezone(UTC)


# Every candidate below is a day number (date ordinal) after today, or _NEVER.
_NEVER = date.max.toordinal() + 1


def _lateness_day(state: CustomerState, facts: LedgerFacts, today: int, plan: PolicyPlan) -> int:
    """The clock's late flags, and the aging boundaries of the oldest unpaid invoice."""
    soonest = _NEVER
    flags = state.flags
    for row in facts.open:
        if row.invoice.invoice_id not in flags:
            day = row.due + plan.clock_flag_after
            if today < day < soonest:
                soonest = day
    if facts.open:
        oldest = facts.open[0].due
        for boundary in AGING_BOUNDARIES:
            day = oldest + boundary
            if day > today:
                return min(soonest, day)
    return soonest


def _ladder_day(state: CustomerState, facts: LedgerFacts, today: int, plan: PolicyPlan) -> int:
    """Days of pending steps, and the end of a cooldown that holds a step already due."""
    if state.segment is None or not facts.open:
        return _NEVER
    steps = plan.ladders[state.segment.risk_bucket].by_offset
    # Channels whose cooldown ends after today (only those can hold a step already due).
    held: dict[str, int] = {}
    for channel, last in state.last_contact.items():
        days = plan.cooldown.get(channel)
        if days is not None and last.toordinal() + days > today:
            held[channel] = last.toordinal() + days
    soonest = _NEVER
    done_steps = state.done_steps
    for row in facts.open:
        done = done_steps.get(row.invoice.invoice_id, _NOTHING)
        for offset, step_id, channel in steps:  # by offset: the first one to come is the soonest
            day = row.due + offset
            # A step dated before the invoice existed never applies to it.
            if day < row.issued or step_id in done:
                continue
            if day > today:
                soonest = min(soonest, day)
                break
            hold = held.get(channel)
            if hold is not None and hold < soonest:
                soonest = hold
    return soonest


def _lifecycle_day(state: CustomerState, facts: LedgerFacts, today: int, policy: Policy) -> int:
    """The next day the lifecycle has something for (`_lifecycle_days`)."""
    return min((d for d in _lifecycle_days(state, facts, policy) if d > today), default=_NEVER)


def _lifecycle_days(state: CustomerState, facts: LedgerFacts, policy: Policy) -> list[int]:
    """Days the lifecycle has something for.

    A commitment's deadline passes, a dispute's review time comes, a hold ends, unapplied cash
    is to be reconciled, a residue falls due, or an escalation's notice ends.
    """
    collection = state.collection
    rules = policy.collection
    days = _commitment_days(state, rules.promise_grace_days)
    days += [
        d.opened_on.toordinal() + rules.dispute_review_days
        for d in collection.disputes.values()
        if d.is_open() and d.opened_on is not None
    ]
    days += [
        h.until.toordinal() + 1
        for h in collection.holds.values()
        if h.until is not None and h.released_on is None
    ]
    if state.ledger.held:
        days += [
            u.received_on.toordinal() + rules.reconcile_after_days for u in state.ledger.unapplied()
        ]
    residue = residue_test(policy)
    days += [
        row.due + 1
        for row in facts.open
        if residue(row.outstanding, row.invoice.currency)
        and f"residue:{row.invoice.invoice_id}" not in state.tasks
    ]
    days += [
        first.toordinal() + rules.escalation_notice_days for first in state.first_contact.values()
    ]
    return days


def _commitment_days(state: CustomerState, grace: int) -> list[int]:
    """The day after each pending promise's, and each plan's next instalment's, grace ends."""
    days = [
        p.promised_on.toordinal() + grace + 1
        for p in state.collection.promises.values()
        if p.promise_id not in state.statuses
    ]
    for plan_ in state.collection.plans.values():
        for n, part in enumerate(plan_.instalments, start=1):
            if f"{plan_.plan_id}#{n}" not in state.statuses:
                days.append(part.due_date.toordinal() + grace + 1)
                break
    return days


def _window_day(days: tuple[int, ...], today: int, window: int) -> int:
    """The first day an invoice enters (its day comes) or leaves (`window` later) a window."""
    soonest = _NEVER
    entering = bisect_right(days, today)
    if entering < len(days):
        soonest = days[entering]
    leaving = bisect_right(days, today - window)
    if leaving < len(days):
        soonest = min(soonest, days[leaving] + window)
    return soonest
