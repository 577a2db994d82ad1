"""The worker's clock: the only place in arpulse that reads the time (the domain takes `now`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


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
