"""Time order across the input topics: one customer's events are applied in the order produced.

Kafka orders a partition, not a set of topics. A customer's invoice, payment and due-date notice
arrive on three topics, and a consumer with a backlog (after a restart, an outage, a slow spell)
reads them in whatever interleaving the fetches give: a due notice could be applied before the
payment the platform produced first, and the customer chased for an invoice already paid.

So, per partition number, messages from the input topics wait in a small buffer and are released
lowest record timestamp first (the same synchronisation Kafka Streams does for a task's
partitions). The head is released once every other input topic of that partition either has a
later message buffered, or has nothing more to deliver (caught up with its high watermark) as seen
by a fetch made after the head arrived (`grace`: one fetch wait). Without the grace, a message
produced just before the head on another topic could still be invisible to the consumer's last
fetch, and the two would be applied in the wrong order.

Record timestamps have millisecond resolution, and a producer emitting a customer's due-date notice
and then its payment can stamp both with the same millisecond. Their arrival order says nothing
(it depends on how the consumer's fetches interleave the topics), so equal timestamps are ordered
by the events' own business time (`occurred_at`), which the caller passes as `business_time`.

The order that must be kept is one customer's events on one topic: the producer's order for a
message key, which the domain relies on (it decides each event as of its `occurred_at` and never
goes back in time for a customer). So the order key, (timestamp, business time), is made
non-decreasing per topic partition and message key: one key's messages on one topic keep offset
order even when its producer's clock or its `occurred_at` goes back. Not per topic partition: a
backfill publishes many customers' histories within one millisecond, and customer A's payment of
5 January followed on the same partition by customer B's payment of 3 January would lift B's to
5 January, behind B's notice of 4 January on another topic: the notice applied first, the clock
flags the invoice late, then the payment (made two days early) lands. Across customers the order
of one partition does not matter to the domain (and Faust commits offsets acknowledged out of
order up to the first gap only). A key's floor is kept only while the key has messages buffered
(memory is bounded by what is buffered, not by the number of customers): once they are all
released, anything later of that key is released after them anyway. A message without a key
falls back to the topic partition's floor, which every message raises.

The same holds in the release rule: "another topic has a later message buffered" is proof that
nothing older will come from it only for the head's own key (whose floor lifts what follows), or
when that topic has already delivered a later timestamp (record timestamps go forward on a
partition; a tie says nothing about another customer's next message). Otherwise that topic is
treated as silent, and waited for as below. An unkeyed head is proven by any buffered message, as
its floor is the topic partition's.

A topic known to be behind (the broker holds messages not yet delivered: a backlog after a
restart or an outage) is waited for, as Kafka Streams does since KIP-695: its older messages are
on their way, and releasing the head early is exactly the reordering this buffer exists to stop.
A topic whose position is not known yet (no fetch answered) is waited for at most `max_wait`.
`max_stall` is a safety valve only: a topic that is behind but delivers nothing for that long
must not stop the partition for ever.
"""

from __future__ import annotations

import heapq
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

# (topic, partition) -> True: every message the broker has was delivered; False: the broker has
# more (a backlog); None: not known yet (no fetch answered)
CaughtUp = Callable[[str, int], bool | None]


def _loads(payload: bytes) -> Any:
    """The JSON document, read with orjson (about twice the standard library's speed).

    What orjson refuses (an escaped lone surrogate, say) is read as the standard library reads it.
    """
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json.loads(payload)


def business_time(payload: bytes | None, max_bytes: int) -> float:
    """An input's `occurred_at` in Unix seconds, which orders messages with equal timestamps.

    Best effort: 0.0 when it cannot be read (a payload the pipeline will dead-letter anyway).
    """
    if not payload or len(payload) > max_bytes:
        return 0.0
    try:
        at = datetime.fromisoformat(_loads(payload)["occurred_at"])
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return 0.0
    return at.timestamp() if at.tzinfo is not None else 0.0


@dataclass(order=True, slots=True)
class Pending:
    """A delivered message waiting for its turn."""

    timestamp: float
    business_time: float  # orders messages with equal timestamps
    sequence: int
    topic: str = field(compare=False)
    partition: int = field(compare=False)
    offset: int = field(compare=False)
    arrived: float = field(compare=False)
    payload: Any = field(compare=False, default=None)
    key: bytes | None = field(compare=False, default=None)


@dataclass(slots=True)
class _Held:
    """One key's messages buffered from one topic partition: how many, and their floor."""

    count: int
    floor: tuple[float, float]


class Reorderer:
    """Per partition: a heap of delivered messages, released in timestamp order."""

    def __init__(
        self,
        topics: Sequence[str],
        *,
        caught_up: CaughtUp,
        max_wait: float,
        grace: float = 0.0,
        max_stall: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._topics = tuple(topics)
        self._caught_up = caught_up
        self._max_wait = max_wait
        self._grace = grace
        self._max_stall = max_stall
        self._monotonic = monotonic
        self._heaps: dict[int, list[Pending]] = {}
        self._buffered: dict[tuple[int, str], int] = {}
        # per topic partition: the highest order key delivered (the floor of unkeyed messages)
        self._floor: dict[tuple[int, str], tuple[float, float]] = {}
        # per partition, (topic, key) -> the key's buffered messages: only while there are some
        self._held: dict[int, dict[tuple[str, bytes], _Held]] = {}
        self._sequence = itertools.count()

    def add(
        self,
        *,
        topic: str,
        partition: int,
        offset: int,
        timestamp: float,
        key: bytes | None,
        payload: Any,
        business_time: float = 0.0,
    ) -> None:
        """Buffer one delivered message (`key`: its message key, the customer).

        Its order key, (timestamp, business time), is made non-decreasing per topic partition and
        message key, so a producer's clock or business time going back can never reorder one
        customer's events on one topic; another customer's earlier messages do not lift it. A
        message without a key is kept behind everything delivered before it on its topic partition.
        """
        order = (timestamp, business_time)
        tp = (partition, topic)
        if key is None:
            order = max(order, self._floor.get(tp, order))
        else:
            held = self._held.setdefault(partition, {})
            mine = held.get((topic, key))
            if mine is None:
                held[(topic, key)] = _Held(1, order)
            else:
                order = max(order, mine.floor)
                mine.count += 1
                mine.floor = order
        self._floor[tp] = max(order, self._floor.get(tp, order))
        item = Pending(
            timestamp=order[0],
            business_time=order[1],
            sequence=next(self._sequence),
            topic=topic,
            partition=partition,
            offset=offset,
            arrived=self._monotonic(),
            payload=payload,
            key=key,
        )
        heapq.heappush(self._heaps.setdefault(partition, []), item)
        self._buffered[tp] = self._buffered.get(tp, 0) + 1

    def release(self, partition: int) -> list[Pending]:
        """Every message of the partition whose turn has come, in order."""
        heap = self._heaps.get(partition)
        released: list[Pending] = []
        while heap and self._may_release(heap[0]):
            item = heapq.heappop(heap)
            self._buffered[(partition, item.topic)] -= 1
            if item.key is not None:
                held = self._held[partition]
                mine = held[(item.topic, item.key)]
                mine.count -= 1
                if mine.count == 0:
                    del held[(item.topic, item.key)]
            released.append(item)
        return released

    def lowest(self, partition: int, topic: str) -> int | None:
        """The lowest offset of `topic` buffered for a partition (None: nothing buffered)."""
        return min(
            (i.offset for i in self._heaps.get(partition, ()) if i.topic == topic), default=None
        )

    def waiting(self) -> list[int]:
        """Partitions with buffered messages."""
        return [p for p, heap in self._heaps.items() if heap]

    def pending(self) -> int:
        """How many messages are buffered, over all partitions."""
        return sum(len(heap) for heap in self._heaps.values())

    def drop(self, partition: int) -> None:
        """Forget a revoked partition's buffer (its messages are unacknowledged: redelivered)."""
        self._heaps.pop(partition, None)
        self._held.pop(partition, None)
        for topic in self._topics:
            self._buffered.pop((partition, topic), None)
            self._floor.pop((partition, topic), None)

    def _may_release(self, head: Pending) -> bool:
        waited = self._monotonic() - head.arrived
        if waited >= self._max_stall:
            return True
        silent = [
            topic for topic in self._topics if topic != head.topic and not self._ahead(topic, head)
        ]
        if not silent:
            return True  # every other topic already has a later message here
        if waited < self._grace:
            return False  # what the consumer knows may predate the head
        known = [self._caught_up(topic, head.partition) for topic in silent]
        if False in known:
            return False  # a backlog: its older messages are on their way
        return None not in known or waited >= self._max_wait

    def _ahead(self, topic: str, head: Pending) -> bool:
        """Whether nothing `topic` delivers from now on can go before the head, for its key.

        A buffered message proves it for the head's own key (that key's floor lifts what
        follows), or for an unkeyed head (whose floor is the topic partition's), or when the
        topic has delivered a later timestamp. A tie with another customer's message proves
        nothing: the head's customer may still have an earlier event of that millisecond to come.
        """
        partition = head.partition
        if not self._buffered.get((partition, topic), 0):
            return False
        if head.key is None or (topic, head.key) in self._held.get(partition, {}):
            return True
        return self._floor[(partition, topic)][0] > head.timestamp
