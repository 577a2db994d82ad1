"""When a customer next needs a decision with no event: its next wake-up.

Everything time changes for a customer happens at the start of one of its days: a ladder step's
day, an invoice falling past due, the clock's late flag after the grace, an aging-bucket boundary
of the oldest unpaid invoice, unpaid delays crossing a behaviour threshold, a cooldown's end, a
commitment's day, and a paid or issued invoice leaving the behaviour or value-tier window. The
wake is the earliest of those dates after the last decision, at midnight in the customer's zone.
The worker keeps one wake per customer in a time-ordered index, so a tick costs what is due.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from processor.domain.calendar import customer_calendar
from processor.domain.contact import cooldown_ends
from processor.domain.ledger import ZERO
from processor.domain.memo import PairMemo
from processor.domain.plan import LedgerFacts, PolicyPlan, ledger_facts, policy_plan
from processor.domain.policy import Policy
from processor.domain.segmentation import ladder_bucket, residue_test
from processor.domain.state import CustomerState

# Days past due at which the oldest unpaid invoice enters the next aging bucket.
AGING_BOUNDARIES = (1, 31, 61, 91, 121)


_MIDNIGHT = time(0)
_NOTHING: frozenset[str] = frozenset()


def start_of_day(day: date, policy: Policy) -> datetime:
    """Midnight at the start of `day` on the policy's own calendar (no customer's), in UTC."""
    return datetime.combine(day, _MIDNIGHT, tzinfo=ZoneInfo(policy.timezone)).astimezone(UTC)


def next_wake(state: CustomerState, policy: Policy) -> datetime | None:
    """The next instant the customer must be decided on without an event, or None if never."""
    return _next_wake(state, policy)


def _derive_next_wake(state: CustomerState, policy: Policy) -> datetime | None:
    if state.decided_at is None:
        return None
    plan = policy_plan(policy)
    calendar = customer_calendar(state.profile, policy)
    today = calendar.today(state.decided_at).toordinal()
    facts = ledger_facts(state.ledger, calendar)
    soonest = min(
        _lateness_day(state, facts, today, plan),
        _ladder_day(state, facts, today, plan, policy),
        _window_day(facts.issued_days, today, plan.tier_window),
        _window_day(facts.paid_days, today, plan.behaviour_window),
        _behaviour_day(facts, today, policy),
        _lifecycle_day(state, facts, today, policy),
    )
    if soonest == _NEVER:
        return None
    return calendar.start_of(date.fromordinal(soonest))


# The worker asks for a stored state's wake when it stores it and again when its next event
# arrives (the same object, from the decoded-state cache): derived once per state and policy.
_next_wake: PairMemo[CustomerState, Policy, datetime | None] = PairMemo(_derive_next_wake)


# Every candidate below is a day number (date ordinal) after today, or _NEVER.
_NEVER = date.max.toordinal() + 1


def _lateness_day(state: CustomerState, facts: LedgerFacts, today: int, plan: PolicyPlan) -> int:
    """Late flags, invoices falling past due, and the oldest unpaid invoice's aging boundaries.

    An invoice falls past due the day after it is payable by: from then it is at stake (and a
    due notice held for a non-business due date takes effect); `unpaid_late_after_days` later
    it counts in behaviour.
    """
    soonest = _NEVER
    flags = state.flags
    unpaid_after = plan.unpaid_late_after
    for row in facts.open:
        day = row.due + 1
        if today < day < soonest:
            soonest = day
        day = row.due + unpaid_after + 1
        if today < day < soonest:
            soonest = day
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


def _ladder_day(
    state: CustomerState, facts: LedgerFacts, today: int, plan: PolicyPlan, policy: Policy
) -> int:
    """Days of pending steps, and the end of a cooldown that holds a step already due."""
    if state.segment is None or not facts.open:
        return _NEVER
    steps = plan.ladders[ladder_bucket(state.segment, policy)].by_offset
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


def _behaviour_day(facts: LedgerFacts, today: int, policy: Policy) -> int:
    """The day unpaid invoices' growing delays lift the average days late over a threshold.

    Unpaid past-due invoices count as late by their days so far, so the average grows by the
    day; the class changes when it reaches `habitual_frequent_min_avg_days` or
    `habitual_min_avg_days_late`. The day before the crossing is a candidate too (the average
    is rounded to a tenth), so no crossing is decided late.
    """
    rules = policy.behavior
    tolerance = rules.late_tolerance_days
    residue = residue_test(policy)
    unpaid = [
        row.due
        for row in facts.open
        if row.outstanding > ZERO
        and today - row.due > rules.unpaid_late_after_days
        and not residue(row.outstanding, row.invoice.currency)
    ]
    if not unpaid:
        return _NEVER
    since = today - rules.window_days
    window = [d for s, d in facts.settlements if since < s <= today]
    paid_late = [d for d in window if d > tolerance]
    count = len(paid_late) + len(unpaid)
    # Only a customer with history and too many delays for on_time is classed by the average.
    history = len(window) + len(unpaid)
    if history < rules.min_paid_invoices or count <= rules.on_time_max_late_share * history:
        return _NEVER
    if count == 1 and history >= rules.one_off_from_invoices:  # a one-off: on time whatever
        return _NEVER
    soonest = _NEVER
    for threshold in (rules.habitual_frequent_min_avg_days, rules.habitual_min_avg_days_late):
        # sum(paid_late) + sum(day - due) >= threshold * count  <=>  day >= crossing
        crossing = -(-(threshold * count - sum(paid_late) + sum(unpaid)) // len(unpaid))
        for day in (crossing - 1, crossing):
            if today < day < soonest:
                soonest = day
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
    if policy.discount_offer.remind_days_before:
        days += _discount_days(state, facts, policy)
    return days


def _discount_days(state: CustomerState, facts: LedgerFacts, policy: Policy) -> list[int]:
    """When a discount reminder comes: its window's reminder day, or its channel's cooldown end."""
    pending = [row for row in facts.open if row.invoice.terms is not None]
    if not pending:
        return []
    rules = policy.discount_offer
    ends = cooldown_ends(rules.reminder.channel, state.last_contact, policy.contact)
    days = []
    for row in pending:
        terms = row.invoice.terms
        until = None if terms is None else terms.discount_until(row.invoice.issued_on)
        if until is None or f"discount:{row.invoice.invoice_id}" in state.tasks:
            continue
        days.append(until.toordinal() - rules.remind_days_before)
        if ends is not None and ends <= until:
            days.append(ends.toordinal())
    return days


def _commitment_days(state: CustomerState, grace: int) -> list[int]:
    """The day after each pending promise's, and each plan's next instalment's, grace ends."""
    days = []
    for p in state.collection.promises.values():
        if p.promise_id not in state.statuses:
            due = p.promised_on.toordinal()  # due today raises the priority for that day
            days += [due, due + 1, due + grace + 1]
    for plan_ in state.collection.plans.values():
        for n, part in enumerate(plan_.instalments, start=1):
            if f"{plan_.plan_id}#{n}" not in state.statuses:
                due = part.due_date.toordinal()
                days += [due, due + 1, due + grace + 1]
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
