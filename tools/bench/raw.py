"""The bench's raw ceiling: the plain Kafka client doing the least a processor must do.

AIOKafkaConsumer in a consumer group (getmany, manual commits after each batch's outputs are
acknowledged) -> json.loads -> a small transform (the customer, the event type, the amount kept as
a decimal string) -> json.dumps -> AIOKafkaProducer.send (batched by the client) -> wait for every
acknowledgement of the batch -> commit. An input that is not JSON is passed on as it is (the
raw loop's dead letter). No validation, no state, no decisions: what arpulse does on top of this
is what the ratio measures.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from decimal import Decimal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

FETCH_MAX_RECORDS = 5000
STALL_TIMEOUT_S = 60.0  # nothing consumed for this long: the run is broken


@dataclass(frozen=True, slots=True)
class RawResult:
    """What the raw pass measured (times from its first consumed message to its last ack)."""

    events: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        """Throughput."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def transform(value: bytes) -> bytes:
    """The pass-through's work on one message: parse, pick, re-encode (not JSON: as it is)."""
    try:
        document = json.loads(value)
    except ValueError:
        return value
    if not isinstance(document, dict):
        return value
    amount = document.get("amount")
    out = {
        "customer_id": document.get("customer_id"),
        "event_type": document.get("event_type"),
        "source_event_id": document.get("event_id"),
        "amount": str(Decimal(amount)) if isinstance(amount, str) else None,
    }
    return json.dumps(out, separators=(",", ":")).encode()


async def pass_through(
    *, bootstrap: str, inputs: list[str], output: str, group: str, count: int
) -> RawResult:
    """Consume `count` messages from `inputs`, transform and produce each to `output`."""
    consumer = AIOKafkaConsumer(
        *inputs,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=-1)
    await producer.start()
    try:
        await consumer.start()
        try:
            return await _loop(consumer, producer, output, count)
        finally:
            await consumer.stop()
    finally:
        await producer.stop()


async def _loop(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, output: str, count: int
) -> RawResult:
    done = 0
    first: float | None = None
    last_progress = time.monotonic()
    while done < count:
        batches = await consumer.getmany(timeout_ms=200, max_records=FETCH_MAX_RECORDS)
        if not batches:
            if time.monotonic() - last_progress > STALL_TIMEOUT_S:
                raise TimeoutError(f"raw pass: only {done} of {count} messages arrived")
            continue
        if first is None:
            first = time.perf_counter()
        pending = []
        for messages in batches.values():
            for message in messages:
                pending.append(
                    await producer.send(output, key=message.key, value=transform(message.value))
                )
        await asyncio.gather(*pending)
        await consumer.commit()
        done += len(pending)
        last_progress = time.monotonic()
    assert first is not None
    return RawResult(events=done, seconds=time.perf_counter() - first)
