"""When a customer next needs a decision with no event: its next wake-up.

Everything time changes for a customer happens at the start of a business day: a ladder step's
day, the clock's late flag after the grace, an aging-bucket boundary of the oldest unpaid invoice,
a cooldown's end, and a paid or issued invoice leaving the behaviour or value-tier window. The wake
is the earliest of those dates after the last decision, at midnight on the policy's calendar.
The worker keeps one wake per customer in a time-ordered index, so a tick costs what is due.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from processor.domain.contact import cooldown_ends
from processor.domain.ladder import pending_steps, step_date
from processor.domain.ledger import ZERO
from processor.domain.policy import Policy
from processor.domain.state import CustomerState

# Days past due at which the oldest unpaid invoice enters the next aging bucket.
AGING_BOUNDARIES = (1, 31, 61, 91, 121)


def start_of_day(day: date, policy: Policy) -> datetime:
    """Midnight at the start of `day` on the policy's calendar, in UTC."""
    return datetime.combine(day, time(0), tzinfo=policy.zone).astimezone(UTC)


def next_wake(state: CustomerState, policy: Policy) -> datetime | None:
    """The next instant the customer must be decided on without an event, or None if never."""
    if state.decided_at is None:
        return None
    today = state.decided_at.astimezone(policy.zone).date()
    later = [day for day in _candidate_days(state, today, policy) if day > today]
    return start_of_day(min(later), policy) if later else None


def _candidate_days(state: CustomerState, today: date, policy: Policy) -> Iterable[date]:
    yield from _lateness_days(state, policy)
    yield from _ladder_days(state, today, policy)
    yield from _window_days(state, policy)


def _lateness_days(state: CustomerState, policy: Policy) -> Iterable[date]:
    """The clock's late flags, and the aging boundaries of the oldest unpaid invoice."""
    open_invoices = state.ledger.open_invoices()
    for invoice in open_invoices:
        if invoice.invoice_id not in state.flags:
            yield invoice.due_date + timedelta(days=policy.clock_grace_days + 1)
    if open_invoices:
        oldest = open_invoices[0]
        for boundary in AGING_BOUNDARIES:
            yield oldest.due_date + timedelta(days=boundary)


def _ladder_days(state: CustomerState, today: date, policy: Policy) -> Iterable[date]:
    """Days of pending steps, and the end of a cooldown that holds a step already due."""
    if state.segment is None:
        return
    for invoice, step in pending_steps(state, state.segment.risk_bucket, policy):
        on = step_date(invoice, step)
        yield on
        if on <= today:
            ends = cooldown_ends(step.channel, state.last_contact, policy.contact)
            if ends is not None:
                yield ends


def _window_days(state: CustomerState, policy: Policy) -> Iterable[date]:
    """Days an invoice enters or leaves the value-tier window, or a payment the behaviour one."""
    ledger = state.ledger
    behaviour_window = timedelta(days=policy.behavior.window_days)
    tier_window = timedelta(days=policy.value_tier.window_days)
    for invoice in ledger.invoices.values():
        yield invoice.issued_on
        yield invoice.issued_on + tier_window
        balance = ledger.balances[invoice.invoice_id]
        if balance.settled_on is not None and balance.outstanding == ZERO:
            yield balance.settled_on
            yield balance.settled_on + behaviour_window
