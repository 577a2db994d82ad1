"""The agents and the drain loop: from consumed messages to processed batches, per partition.

The consumer agent buffers input messages in the time-order buffer, the wake agent queues
wake-ups (`processor.runtime.inbox`); the drain loop releases what is due, in order, and runs
it through the pipeline in batches (`processor.runtime.batches`), input events first, then the
wake-ups, and those only if the scheduler's gate still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from processor.core.ordering import Pending, business_time
from processor.runtime.batches import run_batch
from processor.runtime.worker import Worker

log = logging.getLogger(__name__)

Agent = Callable[[Any], Awaitable[None]]


def consumer_agent(worker: Worker) -> Agent:
    """One agent over every input topic: it only buffers; the drain loop processes."""
    limit = worker.settings.max_buffered_events
    inbox, offsets = worker.inbox, worker.offsets

    async def consume(stream: Any) -> None:
        manual = stream.noack()  # acknowledged once processed, which may be after later ones
        inbox.acknowledge = manual.ack
        async for event in manual.events():
            message = event.message
            offsets.delivered[(message.topic, message.partition)] = message.offset
            inbox.ordering.add(
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                timestamp=message.timestamp or 0.0,
                key=message.key,
                business_time=business_time(message.value, worker.settings.max_payload_bytes),
                payload=event,
            )
            inbox.arrived.set()
            # Back-pressure: wait while the drain loop works through a full buffer. Not when it
            # released nothing: the buffer may be waiting for a message only this agent delivers.
            while inbox.ordering.pending() >= limit and inbox.draining:
                inbox.round_done.clear()
                await inbox.round_done.wait()

    return consume


def wake_agent(worker: Worker) -> Agent:
    """The wake-up agent: hands each wake-up to the drain loop, which decides or defers it.

    Decided there as one batch, after the partition's released events and only if the
    scheduler's gate holds then (`_wakeups_due`), so that a burst of wake-ups costs one wait for
    the broker, not one each, and never jumps ahead of an event that arrived before it.
    """

    async def wake(stream: Any) -> None:
        async for event in stream.events():
            worker.inbox.queue_wakeup(event.message.partition, event)

    return wake


async def drain_loop(worker: Worker) -> None:
    """Release buffered messages whose turn has come and process them, partition by partition.

    Wakes on every arrival, and every 20 ms for messages whose wait in the time-order buffer ends
    with nothing new arriving. Partitions are processed concurrently, so one partition's wait for
    acknowledgements does not hold up the others.
    """
    inbox = worker.inbox
    started = 0.0
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(inbox.arrived.wait(), timeout=0.02)
        pause = linger(worker, started, time.monotonic())
        if pause > 0:
            await asyncio.sleep(pause)
        started = time.monotonic()
        inbox.arrived.clear()
        partitions = inbox.partitions()
        if partitions:
            inbox.draining = True
            try:
                results = await asyncio.gather(
                    *(drain_partition(worker, p) for p in partitions), return_exceptions=True
                )
            finally:
                inbox.draining = False
            for partition, result in zip(partitions, results, strict=True):
                if isinstance(result, Exception):  # a bug: the messages stay unacknowledged
                    worker.metrics.processing_errors.labels("internal").inc()
                    log.error("draining partition %d failed", partition, exc_info=result)
            if any(result is True for result in results):
                inbox.arrived.set()  # more may have become releasable meanwhile
        inbox.round_done.set()


def linger(worker: Worker, started: float, now: float) -> float:
    """How long a drain round that could start `now` waits for more (the last one `started`).

    While the broker holds a full batch or more of input not yet consumed (a backlog), rounds
    start at most every `batch_linger_ms`: without it a busy worker settles into rounds of a
    dozen messages, and each pays for a wait for the broker, a store per customer and a Redis
    write. Caught up (live load), a round starts at once: latency is not traded away.
    """
    pause = worker.settings.batch_linger_ms / 1000
    if not pause or worker.offsets.undelivered() < worker.settings.batch_max_events:
        return 0.0
    return max(0.0, started + pause - now)


def _mark_processed(worker: Worker, done: list[Pending], later: list[Pending]) -> None:
    """Advance each topic partition's processed offset past `done`, never past one still waiting.

    Waiting: buffered, or released in a later chunk. One customer's messages keep their order on
    a topic, but two customers' may be released out of offset order (`processor.core.ordering`):
    the processed position is the end of the processed prefix, so `caught_up` never lets a
    wake-up jump ahead of an input still waiting. Every message delivered from a topic partition
    is processed, waiting, or in `done` (this partition's rounds run one at a time), so the prefix
    ends just below the lowest offset still waiting, or at the last delivered when none waits:
    offsets processed earlier out of order count once the gap below them closes.
    """
    processed, delivered = worker.offsets.processed, worker.offsets.delivered
    for key in {(item.topic, item.partition) for item in done}:
        topic, part = key
        waiting = [i.offset for i in later if i.topic == topic and i.partition == part]
        buffered = worker.inbox.ordering.lowest(part, topic)
        if buffered is not None:
            waiting.append(buffered)
        high = max(i.offset for i in done if (i.topic, i.partition) == key)
        mark = min(waiting) - 1 if waiting else max(high, delivered.get(key, high))
        previous = processed.get(key)
        processed[key] = mark if previous is None else max(previous, mark)


async def drain_partition(worker: Worker, partition: int) -> bool:
    """Process, in order and in batches, the partition's buffered messages whose turn has come.

    Returns whether anything was processed. Nothing is processed while a rebalance is under way or
    for a partition this worker no longer owns, and a batch whose partition was revoked while its
    outputs were being published is not stored: a table write from here could land after the new
    owner's and overwrite newer state. (Faust's stream queue can still hand over messages of a
    revoked partition after the buffer was dropped.) Unprocessed messages stay unacknowledged and
    are delivered again to the owner (the pipeline's publish-then-store rule makes that safe).
    """
    inbox = worker.inbox
    async with inbox.lock(partition):
        if not worker.owns(partition):
            inbox.take_wakeups(partition)  # derived from stored state: the owner re-sends
            return False
        released = inbox.ordering.release(partition)
        size = worker.settings.batch_max_events
        for start in range(0, len(released), size):
            items = released[start : start + size]
            chunk = [item.payload for item in items]
            if not await run_batch(worker, partition, chunk, wakeups=False):
                inbox.drop(partition)  # revoked: all of it is redelivered
                return start > 0
            _mark_processed(worker, items, released[start + size :])
            for event in chunk:
                if inbox.acknowledge is not None:
                    await inbox.acknowledge(event)
        wakeups = _wakeups_due(worker, partition)
        if wakeups:
            await run_batch(worker, partition, wakeups, wakeups=True)
        return bool(released) or bool(wakeups)


def _wakeups_due(worker: Worker, partition: int) -> list[Any]:
    """The partition's queued wake-ups, if its inputs are caught up; else back to the index.

    The gate is checked here, when they would be decided, not when they were sent or received:
    inputs can arrive in between (and a wake-up sent before a crash or a rebalance is read back
    while the backlog is still being processed). A wake-up decided ahead of them would act on a
    state that misses them: a due date flagged by the clock before its own due-date notice, a
    reminder for an invoice paid meanwhile. The inputs released in this round are processed
    first, so the check is against what the broker has beyond them.
    """
    events = worker.inbox.take_wakeups(partition)
    if not events or worker.may_wake(partition):
        return events
    for event in events:
        worker.requeue(partition, event.message.key)
    worker.metrics.wakeups.labels("deferred").inc(len(events))
    return []
