"""The scheduler's wake-up index and its tick: due customers only, once, behind the clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from processor.core.in_memory import FixedClock
from processor.core.scheduler import VALVE_OPEN_SECONDS, Scheduler, WakeIndex

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def test_the_index_pops_only_what_is_due_in_time_order() -> None:
    index = WakeIndex()
    for n in range(10_000):  # customers far in the future cost nothing at a tick
        index.set(0, f"later-{n}".encode(), hours(1000 + n))
    index.set(0, b"b", hours(2))
    index.set(0, b"a", hours(1))
    index.set(1, b"c", hours(1))
    assert index.pop_due(0, hours(5), limit=100) == [(b"a", hours(1)), (b"b", hours(2))]
    assert index.pop_due(0, hours(5), limit=100) == []
    assert len(index) == 10_001


def test_a_rescheduled_customer_fires_once_at_its_latest_instant() -> None:
    index = WakeIndex()
    index.set(0, b"a", hours(1))
    index.set(0, b"a", hours(3))
    assert index.pop_due(0, hours(2), limit=10) == []
    assert index.next_at(0) == hours(3)
    assert index.pop_due(0, hours(3), limit=10) == [(b"a", hours(3))]
    index.set(0, b"b", hours(1))
    index.set(0, b"b", None)  # paid up: nothing left to wake for
    assert index.pop_due(0, hours(9), limit=10) == []


def test_a_revoked_partition_is_forgotten() -> None:
    index = WakeIndex()
    index.set(3, b"a", hours(1))
    index.set(4, b"b", hours(1))
    index.drop(3)
    assert index.partitions() == {4} and len(index) == 1
    assert index.pop_due(3, hours(2), limit=10) == []


async def test_a_tick_sends_due_wakeups_of_partitions_that_caught_up() -> None:
    index = WakeIndex()
    index.set(0, b"a", hours(1))
    index.set(1, b"b", hours(1))
    index.set(1, b"c", hours(9))
    sent: list[tuple[int, bytes, datetime]] = []

    async def send(partition: int, key: bytes, at: datetime) -> None:
        sent.append((partition, key, at))

    behind = {0}
    real = [0.0]
    scheduler = Scheduler(
        index=index,
        clock=FixedClock(hours(2)),
        send_wake=send,
        caught_up=lambda p: p not in behind,
        max_defer_seconds=30,
        monotonic=lambda: real[0],
    )
    assert await scheduler.tick() == 1
    assert sent == [(1, b"b", hours(1))]
    real[0] = 10.0
    assert await scheduler.tick() == 0  # partition 0 still has a backlog
    real[0] = 31.0
    assert await scheduler.tick() == 1  # ... but a backlog never holds wake-ups forever
    assert sent[-1] == (0, b"a", hours(1))


def test_once_the_wait_for_a_backlog_is_over_the_gate_stays_open_for_the_drain_loop() -> None:
    """A partition that never catches up (sustained load): after `max_defer_seconds` the tick
    lets its wake-ups through, and the drain loop's own check a moment later must agree, or they
    are deferred again, time after time, and never decided. Then the wait starts over."""
    real = [0.0]
    scheduler = Scheduler(
        index=WakeIndex(),
        clock=FixedClock(hours(2)),
        send_wake=lambda p, k, at: asyncio.sleep(0),
        caught_up=lambda p: False,
        max_defer_seconds=30,
        monotonic=lambda: real[0],
    )
    assert not scheduler.may_wake(0)
    real[0] = 30.0
    assert scheduler.may_wake(0)  # the tick's check
    real[0] = 30.0 + VALVE_OPEN_SECONDS - 0.5
    assert scheduler.may_wake(0)  # the drain loop's, once the wake-up came back
    real[0] = 30.0 + VALVE_OPEN_SECONDS + 1
    assert not scheduler.may_wake(0)
    real[0] = 60.0 + VALVE_OPEN_SECONDS
    assert scheduler.may_wake(0)


async def test_wakeups_that_could_not_be_sent_stay_scheduled() -> None:
    index = WakeIndex()
    index.set(0, b"a", hours(1))
    index.set(0, b"b", hours(1.5))

    async def broken(partition: int, key: bytes, at: datetime) -> None:
        raise ConnectionError("broker away")

    scheduler = Scheduler(
        index=index,
        clock=FixedClock(hours(2)),
        send_wake=broken,
        caught_up=lambda p: True,
        max_defer_seconds=30,
    )
    with pytest.raises(ConnectionError):
        await scheduler.tick()
    assert index.pop_due(0, hours(2), limit=10) == [(b"a", hours(1)), (b"b", hours(1.5))]


async def test_a_wakeup_is_sent_only_once_the_clock_read_its_instant_grace_seconds_ago() -> None:
    index = WakeIndex()
    index.set(0, b"a", hours(1))
    sent: list[tuple[int, bytes, datetime]] = []

    async def send(partition: int, key: bytes, at: datetime) -> None:
        sent.append((partition, key, at))

    real = [0.0]
    readings = {0.0: hours(0.5), 0.3: hours(1), 0.6: hours(1.2), 0.9: hours(1.4)}

    class Stepping:
        def now(self) -> datetime:
            return readings[real[0]]

    scheduler = Scheduler(
        index=index,
        clock=Stepping(),
        send_wake=send,
        caught_up=lambda p: True,
        max_defer_seconds=30,
        grace_seconds=0.5,
        monotonic=lambda: real[0],
    )
    for moment in (0.0, 0.3, 0.6):
        real[0] = moment
        assert await scheduler.tick() == 0  # due at 0.3, but only 0.3 s ago at most
    real[0] = 0.9
    assert await scheduler.tick() == 1  # the clock read 01:00 0.6 s ago
    assert sent == [(0, b"a", hours(1))]
