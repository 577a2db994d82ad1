"""What the agents hand over to the drain loop: wake-ups queued per partition, taken once."""

from __future__ import annotations

import asyncio

from processor.core.ordering import Reorderer
from processor.runtime.inbox import Inbox


def inbox() -> Inbox:
    ordering = Reorderer(["a", "b"], caught_up=lambda topic, partition: True, max_wait=0.1)
    return Inbox(ordering=ordering)


def test_wake_ups_are_taken_once_and_signal_the_drain_loop() -> None:
    async def run() -> None:
        box = inbox()
        box.queue_wakeup(1, "w1")
        box.queue_wakeup(1, "w2")
        box.queue_wakeup(3, "w3")
        assert box.arrived.is_set()
        assert box.partitions() == [1, 3]
        assert box.take_wakeups(1) == ["w1", "w2"]
        assert box.take_wakeups(1) == []
        box.drop(3)
        assert box.partitions() == []

    asyncio.run(run())


def test_a_partition_has_its_own_lock() -> None:
    async def run() -> None:
        box = inbox()
        assert box.lock(1) is box.lock(1)
        assert box.lock(1) is not box.lock(2)

    asyncio.run(run())
