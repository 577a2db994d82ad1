"""What the agents hand over and the drain loop has yet to process, per partition.

The consumer agent only buffers input messages (in the time-order buffer) and the wake agent only
queues wake-ups; the drain loop (`processor.runtime.drain`) processes both. Handing over instead
of processing in the agent is what makes batches: while the drain loop waits for a batch's
acknowledgements, the next messages pile up here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from processor.core.ordering import Reorderer


class Inbox:
    """The time-order buffer, the queued wake-ups, and the signals between agents and drain."""

    def __init__(self, *, ordering: Reorderer) -> None:
        self.ordering = ordering
        # wake-up events handed over by the wake agent, per partition
        self.wakeups: dict[int, list[Any]] = {}
        # set when something was handed over: the drain loop has something to look at
        self.arrived = asyncio.Event()
        # set after every drain round; `draining` while a round processes released messages
        self.round_done = asyncio.Event()
        self.draining = False
        # acknowledges a consumed event once processed (the consumer agent's manual ack)
        self.acknowledge: Callable[[Any], Awaitable[bool]] | None = None
        self._locks: dict[int, asyncio.Lock] = {}

    def lock(self, partition: int) -> asyncio.Lock:
        """Serialises releasing and processing one partition's handed-over messages."""
        return self._locks.setdefault(partition, asyncio.Lock())

    def queue_wakeup(self, partition: int, event: Any) -> None:
        """Hand a wake-up over to the drain loop."""
        self.wakeups.setdefault(partition, []).append(event)
        self.arrived.set()

    def take_wakeups(self, partition: int) -> list[Any]:
        """The partition's queued wake-ups, handed over once."""
        return self.wakeups.pop(partition, [])

    def partitions(self) -> list[int]:
        """Partitions with buffered messages or queued wake-ups, in order."""
        return sorted({*self.ordering.waiting(), *self.wakeups})

    def drop(self, partition: int) -> None:
        """Forget what is held for a partition (revoked: its owner gets it all again)."""
        self.ordering.drop(partition)
        self.wakeups.pop(partition, None)
