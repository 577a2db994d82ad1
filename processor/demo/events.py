"""The generated portfolio's unit: one input event, with its topic, key and business date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class PortfolioEvent:
    """One input event: its topic, key and JSON body, and the business date it happens on."""

    topic: str
    key: str
    value: dict[str, Any]
    on: date
    profile: str = ""


def stamp(day: date, seconds: int) -> str:
    """An `occurred_at` on `day`: 08:00 UTC plus `seconds` (distinct instants per event)."""
    moment = datetime.combine(day, time(8, 0), tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.isoformat()
