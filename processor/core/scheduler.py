"""The scheduler: wakes customers when time alone has something for them, on the owner only.

Each customer's next wake-up is computed when its state is stored (`processor.core.wakes`) and
stored with it in the changelog-backed table, so it survives restarts and follows partitions. The
worker keeps an index of those instants per owned partition: a min-heap of (instant, customer)
with lazy deletion, plus the current instant per customer. A tick pops only what is due, so its
cost grows with the work due, never with the number of customers. A due customer is not decided
here: a wake-up message goes to the internal wake topic on the customer's partition, and the
partition's owner decides it in its drain loop, after that partition's events and in the same
batch runner (`processor.runtime.drain`).

Wake-ups of a partition wait while its inputs have unprocessed messages (at most
`scheduler_max_defer_seconds`): an event already in the backlog, a payment say, is applied first.
And a wake-up is sent only once the clock read its instant `grace` real seconds ago (a watermark
behind the clock): an event produced just before the instant but still on its way, not yet
fetched so invisible to the backlog check, is applied first too.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from processor.core.clock import Clock

log = logging.getLogger(__name__)

# Once a partition's wake-ups have waited `max_defer_seconds` for its backlog, the gate stays open
# this long: enough for a wake-up to go through the wake topic to the drain loop and be decided.
VALVE_OPEN_SECONDS = 5.0


class WakeIndex:
    """Next wake-up per customer, by partition, ordered by instant."""

    def __init__(self) -> None:
        self._heaps: dict[int, list[tuple[datetime, bytes]]] = {}
        self._current: dict[int, dict[bytes, datetime]] = {}

    def set(self, partition: int, key: bytes, at: datetime | None) -> None:
        """Record a customer's next wake-up (None: it has none)."""
        current = self._current.setdefault(partition, {})
        if at is None:
            current.pop(key, None)
            return
        if current.get(key) == at:
            return
        current[key] = at
        heap = self._heaps.setdefault(partition, [])
        heapq.heappush(heap, (at, key))
        if len(heap) > 2 * len(current) + 1024:  # too many superseded entries: rebuild
            self._heaps[partition] = [(when, k) for k, when in current.items()]
            heapq.heapify(self._heaps[partition])

    def drop(self, partition: int) -> None:
        """Forget a partition this worker no longer owns."""
        self._heaps.pop(partition, None)
        self._current.pop(partition, None)

    def partitions(self) -> frozenset[int]:
        """Partitions the index holds."""
        return frozenset(self._current)

    def pop_due(self, partition: int, now: datetime, limit: int) -> list[tuple[bytes, datetime]]:
        """Up to `limit` customers due by `now`; they leave the index until decided again."""
        heap = self._heaps.get(partition)
        current = self._current.get(partition, {})
        due: list[tuple[bytes, datetime]] = []
        while heap and heap[0][0] <= now and len(due) < limit:
            at, key = heapq.heappop(heap)
            if current.get(key) == at:
                del current[key]
                due.append((key, at))
        return due

    def next_at(self, partition: int) -> datetime | None:
        """The partition's earliest wake-up."""
        heap = self._heaps.get(partition)
        current = self._current.get(partition, {})
        while heap and current.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def __len__(self) -> int:
        return sum(len(current) for current in self._current.values())


SendWake = Callable[[int, bytes, datetime], Awaitable[None]]


class Scheduler:
    """Turns due index entries into wake-up messages, partition by partition."""

    def __init__(
        self,
        *,
        index: WakeIndex,
        clock: Clock,
        send_wake: SendWake,
        caught_up: Callable[[int], bool],
        max_defer_seconds: float,
        grace_seconds: float = 0.0,
        batch: int = 1000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._index = index
        self._grace = grace_seconds
        self._readings: deque[tuple[float, datetime]] = deque()
        self._clock = clock
        self._send_wake = send_wake
        self._caught_up = caught_up
        self._max_defer = max_defer_seconds
        self._batch = batch
        self._monotonic = monotonic
        self._behind_since: dict[int, float] = {}
        self._open_until: dict[int, float] = {}

    async def tick(self) -> int:
        """Send the wake-ups due by the watermark on partitions ready for them; returns how many."""
        now = self.watermark()
        sent = 0
        if now is None:
            return sent
        for partition in sorted(self._index.partitions()):
            next_at = self._index.next_at(partition)
            if next_at is None or next_at > now or not self.may_wake(partition):
                continue
            due = self._index.pop_due(partition, now, self._batch)
            for n, (key, at) in enumerate(due):
                try:
                    await self._send_wake(partition, key, at)
                except BaseException:
                    for unsent_key, unsent_at in due[n:]:  # back in the index for the next tick
                        self._index.set(partition, unsent_key, unsent_at)
                    raise
                sent += 1
        return sent

    def watermark(self) -> datetime | None:
        """What the clock read `grace` real seconds ago (None: not running that long yet)."""
        real = self._monotonic()
        self._readings.append((real, self._clock.now()))
        while len(self._readings) > 1 and self._readings[1][0] <= real - self._grace:
            self._readings.popleft()
        read_at, reading = self._readings[0]
        return reading if read_at <= real - self._grace else None

    def may_wake(self, partition: int) -> bool:
        """Caught up with the partition's inputs, or waited long enough for it.

        The drain loop asks again just before deciding a wake-up: inputs can arrive after it
        was sent (and one sent before a crash or a rebalance is read back while the
        partition's inputs are still behind), and it must not jump ahead of them. So once the
        wait is over the gate stays open for `VALVE_OPEN_SECONDS`, long enough for the wake-ups
        it let through to reach the drain loop: a partition that never catches up (sustained
        load) would otherwise defer them at the second check, time after time, for ever.
        """
        if self._caught_up(partition):
            self._behind_since.pop(partition, None)
            self._open_until.pop(partition, None)
            return True
        now = self._monotonic()
        if now < self._open_until.get(partition, float("-inf")):
            return True
        since = self._behind_since.setdefault(partition, now)
        if now - since >= self._max_defer:
            log.warning(
                "partition %s still has a backlog after %.0fs; waking its customers anyway",
                partition,
                self._max_defer,
            )
            self._open_until[partition] = now + VALVE_OPEN_SECONDS
            self._behind_since[partition] = now + VALVE_OPEN_SECONDS
            return True
        return False
