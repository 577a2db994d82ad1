"""Contact rules: cooldowns between contacts on a channel, and quiet hours on the customer's clock.

Both are pure functions of the policy, the customer's contact memory and `now`; an action decided
inside quiet hours is still published at once, with `not_before` saying when it may be carried out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from processor.domain.policy import ContactPolicy, QuietHours

_SATURDAY = 5


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
