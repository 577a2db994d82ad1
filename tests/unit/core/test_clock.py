"""The simulated clock: runs from its start at its speed, and stands still at its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from processor.core.clock import SimulatedClock

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_the_simulated_clock_runs_from_its_start_at_its_speed() -> None:
    real = [1000.0]
    anchor = datetime.fromtimestamp(1000.0, UTC)
    clock = SimulatedClock(start=T0, days_per_second=2, anchor=anchor, real=lambda: real[0])
    assert clock.now() == T0
    real[0] = 1001.5
    assert clock.now() == T0 + timedelta(days=3)
    assert clock.real_seconds_until(T0 + timedelta(days=4)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(start=datetime(2026, 1, 1), days_per_second=1)


def test_the_simulated_clock_stands_still_at_its_end() -> None:
    real = [1000.0]
    anchor = datetime.fromtimestamp(1000.0, UTC)
    end = T0 + timedelta(days=5)
    clock = SimulatedClock(
        start=T0, days_per_second=2, anchor=anchor, end=end, real=lambda: real[0]
    )
    real[0] = 1002.0
    assert clock.now() == T0 + timedelta(days=4)
    real[0] = 1010.0
    assert clock.now() == end
    assert clock.real_seconds_until(T0 + timedelta(days=30)) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="before start"):
        SimulatedClock(start=T0, days_per_second=1, end=T0 - timedelta(days=1))
