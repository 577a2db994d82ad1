"""The bench's broker chores: create topics, produce a backlog, feed at a fixed rate, read back.

Every topic is created with its partition count before anything is produced to it (Tansu would
auto-create it with 4). Producing keys each event by its customer id, so Kafka's default
partitioner puts it on the customer's partition, as the platform does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from processor.core.clock import SimulatedClock
from tools.soak.mix import Outgoing

SEND_WINDOW = 2000  # sends in flight before the producer waits for acknowledgements
STOP_TIMEOUT_S = 5.0


async def create_topics(bootstrap: str, names: Sequence[str], partitions: int) -> None:
    """Create `names` with `partitions` each (existing ones are left as they are)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        new = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new)
    finally:
        await admin.close()


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    """A producer that batches (5 ms linger) and waits for every replica's acknowledgement."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, acks=-1, max_request_size=4 * 1024 * 1024
    )


async def stop_producer(producer: AIOKafkaProducer) -> None:
    """Stop the producer, giving up after STOP_TIMEOUT_S (a dead broker never acknowledges)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(producer.stop(), STOP_TIMEOUT_S)


async def produce_all(
    bootstrap: str,
    records: Iterable[tuple[str, bytes, bytes, int | None]],
) -> float:
    """Produce (topic, key, value, partition or None) records; seconds until all acknowledged."""
    producer = producer_for(bootstrap)
    await producer.start()
    began = time.perf_counter()
    try:
        pending: list[asyncio.Future[Any]] = []
        for topic, key, value, partition in records:
            pending.append(await producer.send(topic, key=key, value=value, partition=partition))
            if len(pending) >= SEND_WINDOW:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return time.perf_counter() - began
    finally:
        await stop_producer(producer)


def backlog_records(
    events: Sequence[Outgoing], topic_of: Callable[[str], str]
) -> list[tuple[str, bytes, bytes, int | None]]:
    """The mix's events as records for `produce_all`, on the topics `topic_of` names."""
    return [(topic_of(e.topic), e.key.encode(), e.value, None) for e in events]


def event_id(value: bytes) -> str | None:
    """The `event_id` of a JSON event, or None (not JSON, or none there)."""
    try:
        document = json.loads(value)
    except ValueError:
        return None
    found = document.get("event_id") if isinstance(document, dict) else None
    return found if isinstance(found, str) else None


@dataclass
class Feed:
    """What a paced feed sent: the Kafka timestamp (ms) of each event by its id."""

    sent_at_ms: dict[str, int]
    sent: int
    seconds: float

    @property
    def rate(self) -> float:
        """Achieved input rate, events per second."""
        return self.sent / self.seconds if self.seconds > 0 else 0.0


async def feed(
    bootstrap: str,
    events: Sequence[Outgoing],
    *,
    topic_of: Callable[[str], str],
    rate: float,
    seconds: float,
    clock: SimulatedClock,
) -> Feed:
    """Send `events` at `rate` a second for `seconds`, never before the clock reaches one.

    The i-th event goes at start + i / rate, or when the worker's simulated clock reads its
    `occurred_at` if that is later (an event is not sent before it happened). Each event's send
    time is its record's Kafka timestamp (CreateTime, set by this producer), read back from the
    broker's acknowledgement.
    """
    producer = producer_for(bootstrap)
    await producer.start()
    pending: list[tuple[str | None, asyncio.Future[Any]]] = []
    began = time.time()
    try:
        for index, event in enumerate(events):
            slot = began + index / rate
            if slot >= began + seconds:
                break
            due = max(slot, time.time() + clock.real_seconds_until(event.at))
            if due > time.time():
                await asyncio.sleep(due - time.time())
            future = await producer.send(
                topic_of(event.topic), key=event.key.encode(), value=event.value
            )
            pending.append((event_id(event.value) if event.valid else None, future))
        await producer.flush()
        elapsed = time.time() - began
        sent_at = {}
        for key, future in pending:
            metadata = await future
            if key is not None:
                sent_at[key] = int(metadata.timestamp)
        return Feed(sent_at_ms=sent_at, sent=len(pending), seconds=elapsed)
    finally:
        await stop_producer(producer)


async def read_topic(bootstrap: str, topic: str, partitions: int) -> list[tuple[int, bytes]]:
    """Every record now on `topic`: (Kafka timestamp in ms, value)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        records: list[tuple[int, bytes]] = []
        remaining = {tp for tp in parts if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            if not batches:
                break
            for tp, messages in batches.items():
                records += [(m.timestamp, m.value) for m in messages]
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return records
    finally:
        await consumer.stop()
