"""The worker's clock: the only place in arpulse that reads the time (the domain takes `now`).

Real time by default. The simulated clock starts at a chosen instant and runs faster than real
time (e.g. one day per second), so a demo or a test watches weeks of collections in a minute.
Workers and restarts given the same start, speed and anchor share one simulated timeline. Given
an end, the simulated clock stops there: a test then knows the exact instant every customer ends
at, and can compare the worker with `arpulse simulate` to that instant.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

SECONDS_PER_DAY = 86400


class Clock(Protocol):
    """Something that says what time it is."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """Real time, in UTC."""

    def now(self) -> datetime:
        """The wall clock."""
        return datetime.now(UTC)


class SimulatedClock:
    """Reads `start` at the real instant `anchor`, then runs `days_per_second` days a second.

    Given an `end`, it stands still there.
    """

    def __init__(
        self,
        *,
        start: datetime,
        days_per_second: float,
        anchor: datetime | None = None,
        end: datetime | None = None,
        real: Callable[[], float] = time.time,
    ) -> None:
        if start.tzinfo is None or (end is not None and end.tzinfo is None):
            raise ValueError("start and end must be timezone-aware")
        if end is not None and end < start:
            raise ValueError("end must not be before start")
        self._start = start.astimezone(UTC)
        self._end = None if end is None else end.astimezone(UTC)
        self._rate = days_per_second * SECONDS_PER_DAY
        self._real = real
        self._anchor = anchor.timestamp() if anchor is not None else real()

    def now(self) -> datetime:
        """Simulated time: the start plus real time elapsed since the anchor, sped up."""
        moment = self._start + timedelta(seconds=(self._real() - self._anchor) * self._rate)
        return moment if self._end is None else min(moment, self._end)

    def real_seconds_until(self, moment: datetime) -> float:
        """Real seconds until the simulated clock reads `moment` (negative: already past).

        Past the end the clock never reads `moment`; the answer is then the time until it would
        have, had it run on (what a feeder pacing events by the clock wants).
        """
        running = self._start + timedelta(seconds=(self._real() - self._anchor) * self._rate)
        return (moment - running).total_seconds() / self._rate


def clock_from(
    kind: str,
    *,
    start: datetime | None,
    days_per_second: float,
    anchor: datetime | None,
    end: datetime | None = None,
) -> Clock:
    """The clock settings ask for (`kind`: "system" or "simulated")."""
    if kind == "simulated":
        if start is None:
            raise ValueError("a simulated clock needs a start")
        return SimulatedClock(start=start, days_per_second=days_per_second, anchor=anchor, end=end)
    return SystemClock()
