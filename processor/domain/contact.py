"""Contact rules: which channel, how often, and when, on the customer's clock.

Pure functions of the policy, the customer's profile and contact memory, and `now`: a step on a
channel the customer does not allow (or that bounced) moves to the next allowed one, cooldowns
space contacts on a channel, and an action decided inside quiet hours is still published at
once, with `not_before` saying when it may be carried out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from processor.domain.policy import ContactPolicy, Policy, QuietHours
from processor.domain.profile import CUSTOMER_FACING
from processor.domain.state import CustomerState

__all__ = ["CUSTOMER_FACING", "Route", "cooldown_ends", "may_contact", "not_before", "route"]

_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class Route:
    """The channel an action goes out on, and why it is not the one planned (None: it is)."""

    channel: str
    note: str | None = None


def route(channel: str, action: str, state: CustomerState, policy: Policy) -> Route:
    """The channel a planned contact may use for this customer.

    Nothing customer-facing to a customer marked do_not_contact, nor on a channel its profile
    does not allow or that bounced: the contact moves to the next allowed channel in the
    policy's `contact.channel_order` (a channel that bounced, only when the profile names the
    customer's channels), and a call task, or a contact with no channel left, becomes an
    internal task for a collector.
    """
    if channel not in CUSTOMER_FACING:
        return Route(channel)
    profile = state.profile
    bounced = state.collection.bounced
    allowed = profile.allowed_channels - bounced
    if channel in allowed:
        return Route(channel)
    if profile.do_not_contact:
        why = "the customer is marked do-not-contact"
    elif channel in bounced:
        why = f"the customer's {channel} bounced before"
    else:
        why = f"the customer does not allow {channel}"
    if action != "call_task" and profile.channels is not None:
        order: tuple[str, ...] = policy.contact.channel_order
        start = order.index(channel) + 1 if channel in order else 0
        for other in (*order[start:], *order[:start]):
            if other in allowed:
                return Route(other, f"{why}, so by {other} instead")
    return Route("internal", f"{why}, so a collector must decide how to reach them")


def cooldown_ends(
    channel: str, last_contact: Mapping[str, date], policy: ContactPolicy
) -> date | None:
    """The first business date a channel may be used again, or None if it may be used now."""
    last = last_contact.get(channel)
    days = policy.cooldown_days.get(channel, 0)  # type: ignore[call-overload]
    if last is None or days <= 0:
        return None
    return last + timedelta(days=days)


def may_contact(
    channel: str, today: date, last_contact: Mapping[str, date], policy: ContactPolicy
) -> bool:
    """True when the channel's cooldown has passed (or it has none)."""
    ends = cooldown_ends(channel, last_contact, policy)
    return ends is None or today >= ends


def not_before(channel: str, now: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime | None:
    """When a contact decided at `now` may be carried out; None when it may be at once."""
    if channel not in quiet.channels:
        return None
    local = now.astimezone(zone)
    if _allowed(local, quiet):
        return None
    # The next allowed instant is the end of the quiet period or a midnight (after a weekend).
    for days in range(9):
        day = local.date() + timedelta(days=days)
        for clock in sorted({quiet.end, time(0)}):
            candidate = datetime.combine(day, clock, tzinfo=zone)
            if candidate > local and _allowed(candidate, quiet):
                return candidate.astimezone(now.tzinfo)
    return None  # unreachable: a weekday always has allowed hours (start == end: none quiet)


def _allowed(local: datetime, quiet: QuietHours) -> bool:
    if quiet.weekends and local.weekday() >= _SATURDAY:
        return False
    moment, start, end = local.timetz().replace(tzinfo=None), quiet.start, quiet.end
    if start == end:
        return True
    if start > end:  # wraps midnight: quiet from start to end the next morning
        return end <= moment < start
    return not start <= moment < end
