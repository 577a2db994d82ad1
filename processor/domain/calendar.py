"""The customer's calendar: its time zone's days, and which of them are business days.

"Today" is the customer's (contract semantics 11): a Los Angeles customer's due date ends at
midnight in Los Angeles, not in UTC. A due date on a weekend or a public holiday of the
customer's country is, by the policy's default, payable on the next business day, so an invoice
due on a Saturday and paid on Monday is on time. Public holidays come from the `holidays`
library (its country calendars, observed days included); a country it does not know, or an
unknown country, has weekends only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from processor.domain.policy import Policy
from processor.domain.profile import Profile

_MIDNIGHT = time(0)
_WEEKEND = frozenset({5, 6})
# Longest run of non-business days a due date is moved across (a safety bound, never reached).
_MAX_ROLL_DAYS = 31


class Calendar:
    """One customer's zone and business days (immutable; shared by customers alike)."""

    __slots__ = ("_holidays", "_moved", "country", "roll", "weekend", "zone", "zone_name")

    def __init__(self, zone_name: str, country: str | None, roll: bool) -> None:
        self.zone_name = zone_name
        self.zone = ZoneInfo(zone_name)
        self.country = country
        self.roll = roll
        self._holidays = _country_holidays(country)
        weekend = getattr(self._holidays, "weekend", None) if self._holidays is not None else None
        self.weekend = frozenset(weekend) if weekend else _WEEKEND
        self._moved: dict[date, date] = {}

    def today(self, now: datetime) -> date:
        """The customer's date at `now` (timezone-aware)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.astimezone(self.zone).date()

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of `day` in the customer's zone, in UTC."""
        return datetime.combine(day, _MIDNIGHT, tzinfo=self.zone).astimezone(UTC)

    def is_business_day(self, day: date) -> bool:
        """Not a weekend day nor a public holiday of the customer's country."""
        if day.weekday() in self.weekend:
            return False
        return self._holidays is None or day not in self._holidays

    def payable_by(self, due: date) -> date:
        """The day an invoice due on `due` may be paid by without being late."""
        if not self.roll:
            return due
        moved = self._moved.get(due)
        if moved is None:
            moved = due
            for _ in range(_MAX_ROLL_DAYS):
                if self.is_business_day(moved):
                    break
                moved += timedelta(days=1)
            self._moved[due] = moved
        return moved


@lru_cache(maxsize=512)
def _country_holidays(country: str | None) -> holidays.HolidayBase | None:
    if country is None:
        return None
    try:
        return holidays.country_holidays(country)
    except NotImplementedError:  # a country the library has no calendar for: weekends only
        return None


@lru_cache(maxsize=4096)
def calendar_for(zone_name: str, country: str | None, roll: bool) -> Calendar:
    """The shared calendar of a zone and country (one object per combination)."""
    return Calendar(zone_name, country, roll)


AS_DUE_UTC = calendar_for("UTC", None, False)


def customer_calendar(profile: Profile, policy: Policy) -> Calendar:
    """The calendar a customer's days are counted on: its profile's, else the policy's."""
    return calendar_for(
        policy.customer_zone_name(profile.time_zone),
        profile.country or policy.calendar.default_country,
        policy.calendar.due_on_non_business_day == "next_business_day",
    )
