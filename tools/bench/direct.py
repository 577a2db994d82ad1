"""The bench's direct phase: the worker's pipeline on a plain aiokafka loop, through the backlog.

Why: between the raw pass-through and the worker lie two costs: the logic (tools/bench/logic.py
measures it alone) and the runtime around it (Faust's consumer thread, conductor, streams and
table; the drain loop; the Redis projection). This phase runs the worker's own `EventProcessor`
on the loop the raw pass uses, keeping what any runtime of the worker must do:

- a consumer group over the input topics, in `getmany` batches (`fetch_max_wait_ms` as the worker);
- the worker's time-order buffer (processor/core/ordering.py): a partition's messages released in
  record-timestamp order across the input topics, with the same grace for the other topics;
- each released run decided in batches of `batch_max_events`, its outputs published and
  acknowledged, then each touched customer's state written to a changelog topic, acknowledged,
  and only then the processed offsets committed (at-least-once, as the worker).

It leaves out Faust, the Redis projection (snapshots are kept in memory), rebalancing and
recovery. Its events/s over the raw pass's is the ratio a worker with its own consume loop could
reach on this machine: between the worker's ratio and the logic's ceiling, it says how much of
the gap is the runtime.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.coordinator.assignors.range import (
    RangePartitionAssignor,
)

from processor.core.in_memory import FixedClock, MemoryProjection, MemoryStore
from processor.core.metrics import build_metrics
from processor.core.ordering import Reorderer, business_time
from processor.core.pipeline import EventProcessor
from processor.core.ports import Inbound
from processor.core.settings import Settings
from processor.domain.policy import Policy

STALL_TIMEOUT_S = 60.0  # nothing processed for this long: the run is broken


@dataclass(frozen=True, slots=True)
class DirectResult:
    """What the loop did (times from its first consumed message to its last commit)."""

    events: int
    seconds: float
    cpu_seconds: float  # of this process, over the same span
    outputs: int
    changelog_records: int

    @property
    def events_per_s(self) -> float:
        """Throughput."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


class _ChangelogStore(MemoryStore):
    """The table in a dict; each write is also queued for the changelog topic."""

    def __init__(self) -> None:
        super().__init__()
        self.unsent: list[tuple[bytes, bytes]] = []

    def put(self, key: bytes, value: bytes) -> None:
        super().put(key, value)
        self.unsent.append((key, value))


class _ProducerOutbox:
    """Publishes through the loop's producer; counts what it sent."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self.sent = 0

    async def send(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: object = (),
    ) -> asyncio.Future[object]:
        self.sent += 1
        future: asyncio.Future[object] = await self._producer.send(
            topic, key=key, value=value, partition=partition
        )
        return future


async def pipeline_loop(
    *,
    bootstrap: str,
    settings: Settings,
    policy: Policy,
    at: datetime,
    changelog: str,
    group: str,
    count: int,
) -> DirectResult:
    """Consume `count` input messages of `settings`' topics and run them through the pipeline."""
    inputs = list(settings.input_topics)
    consumer = AIOKafkaConsumer(
        *inputs,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        partition_assignment_strategy=(RangePartitionAssignor,),  # co-partitioned topics
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=settings.producer_linger_ms, acks=-1
    )
    await producer.start()
    try:
        await consumer.start()
        try:
            return await _loop(consumer, producer, settings, policy, at, changelog, count)
        finally:
            await consumer.stop()
    finally:
        await producer.stop()


class _Loop:
    """The loop's state: what was delivered, the time-order buffer, the pipeline."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        settings: Settings,
        policy: Policy,
        at: datetime,
    ) -> None:
        self.consumer, self.producer, self.settings = consumer, producer, settings
        self.delivered: dict[tuple[str, int], int] = {}
        # per topic partition: delivered offsets not yet committable (in offset order), and those
        # of them processed (the buffer releases one partition's customers in any order)
        self.uncommitted: dict[TopicPartition, deque[int]] = {}
        self.done: dict[TopicPartition, set[int]] = {}
        self.ordering = Reorderer(
            list(settings.input_topics),
            caught_up=self.caught_up,
            max_wait=settings.ordering_max_wait_ms / 1000,
            max_stall=settings.ordering_max_stall_seconds,
            grace=(settings.fetch_max_wait_ms + 20) / 1000,  # as the worker's
        )
        self.store, self.outbox = _ChangelogStore(), _ProducerOutbox(producer)
        self.processor = EventProcessor(
            settings=settings,
            policy=policy,
            clock=FixedClock(at),
            metrics=build_metrics(),
            store=self.store,
            outbox=self.outbox,
            projection=MemoryProjection(),
        )
        self.changelog_records = 0
        self.events = 0  # messages decided so far

    def caught_up(self, topic: str, partition: int) -> bool | None:
        """Whether every message of the topic partition the broker has was delivered."""
        highwater = self.consumer.highwater(TopicPartition(topic, partition))
        if highwater is None:
            return None
        last = self.delivered.get((topic, partition))
        return bool((last + 1 if last is not None else 0) >= highwater)

    def buffer(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        """Hand fetched messages to the time-order buffer."""
        for tp, messages in fetched.items():
            for message in messages:
                self.delivered[(tp.topic, tp.partition)] = message.offset
                self.uncommitted.setdefault(tp, deque()).append(message.offset)
                self.ordering.add(
                    topic=tp.topic,
                    partition=tp.partition,
                    offset=message.offset,
                    timestamp=message.timestamp / 1000,
                    key=message.key,
                    business_time=business_time(message.value, self.settings.max_payload_bytes),
                    payload=message,
                )

    async def process_released(self) -> dict[TopicPartition, int]:
        """Decide what the buffer releases, in batches; the offsets now committable per topic.

        Up to the first offset not processed yet: the buffer keeps one customer's order on a
        topic, not the partition's, so a later offset may be released before an earlier one.
        """
        touched: set[TopicPartition] = set()
        size = self.settings.batch_max_events
        for partition in self.ordering.waiting():
            released = [item.payload for item in self.ordering.release(partition)]
            for start in range(0, len(released), size):
                chunk = released[start : start + size]
                await self.processor.process_batch([_inbound(m) for m in chunk])
                self.events += len(chunk)
                for message in chunk:
                    tp = TopicPartition(message.topic, message.partition)
                    self.done.setdefault(tp, set()).add(message.offset)
                    touched.add(tp)
        committable: dict[TopicPartition, int] = {}
        for tp in touched:
            uncommitted, done = self.uncommitted[tp], self.done[tp]
            while uncommitted and uncommitted[0] in done:
                done.remove(uncommitted[0])
                committable[tp] = uncommitted.popleft() + 1
        return committable

    async def write_changelog(self, topic: str) -> None:
        """Publish the states stored since the last call and wait for their acknowledgements."""
        unsent = self.store.unsent
        if unsent:
            acks = [await self.producer.send(topic, key=key, value=value) for key, value in unsent]
            self.changelog_records += len(acks)
            unsent.clear()
            await asyncio.gather(*acks)


async def _loop(
    consumer: AIOKafkaConsumer,
    producer: AIOKafkaProducer,
    settings: Settings,
    policy: Policy,
    at: datetime,
    changelog: str,
    count: int,
) -> DirectResult:
    loop = _Loop(consumer, producer, settings, policy, at)
    first: float | None = None
    cpu_first = 0.0
    last_progress = time.monotonic()
    while loop.events < count:
        fetched = await consumer.getmany(
            timeout_ms=settings.fetch_max_wait_ms, max_records=settings.batch_max_events
        )
        if fetched and first is None:
            first, cpu_first = time.perf_counter(), time.process_time()
        loop.buffer(fetched)
        events_before = loop.events
        committable = await loop.process_released()
        await loop.write_changelog(changelog)  # states acknowledged before offsets committed
        if committable:
            await consumer.commit(committable)
        if loop.events > events_before:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > STALL_TIMEOUT_S:
            raise TimeoutError(f"direct loop: only {loop.events} of {count} messages processed")
    assert first is not None
    return DirectResult(
        events=loop.events,
        seconds=time.perf_counter() - first,
        cpu_seconds=time.process_time() - cpu_first,
        outputs=loop.outbox.sent,
        changelog_records=loop.changelog_records,
    )


def _inbound(message: Any) -> Inbound:
    """An aiokafka record as the pipeline takes it."""
    return Inbound(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        produced_at=message.timestamp / 1000,
    )
