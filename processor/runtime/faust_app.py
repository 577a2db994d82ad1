"""The composition root: wires settings, policy, clock, metrics, Redis and the Faust app.

Faust is only the transport here: it consumes the input topics, keeps the changelog-backed table
and commits offsets; every decision is made by `EventProcessor` and the pure domain behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import faust
from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError
from faust.exceptions import NotReady, ProducerSendError
from faust.streams import _current_event
from faust.types import TP
from redis.asyncio import Redis

from processor.core.clock import Clock, clock_from
from processor.core.metrics import Metrics, build_metrics
from processor.core.ordering import Reorderer, business_time
from processor.core.pipeline import (
    ORIGIN_HEADER,
    EventProcessor,
    Inbound,
    partition_for,
    wake_message,
)
from processor.core.scheduler import Scheduler, WakeIndex
from processor.core.settings import Settings
from processor.core.state_codec import decode_state, exposure_of_raw, wake_of_raw
from processor.domain.policy import Policy
from processor.domain.schedule import next_wake
from processor.runtime.faust_adapter import correct_recovery_end_offsets, set_fetch_max_wait
from processor.serving.projection import Keys, RedisProjection

log = logging.getLogger(__name__)
RAW = {"key_serializer": "raw", "value_serializer": "raw"}
_RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
_WATCH_INTERVAL = 2.0
_WATCH_RETRY = 0.5  # while the broker has not answered: readiness waits on it
_T = TypeVar("_T")


class TableStore:
    """The Faust table as the pipeline's state store (keys and values are bytes)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, key: bytes) -> bytes | None:
        """The stored state for `key`."""
        value = self._table.get(key)
        return None if value is None else bytes(value)

    def put(self, key: bytes, value: bytes) -> None:
        """Reassign the key: Faust writes a changelog record only on assignment."""
        self._table[key] = value


class FaustOutbox:
    """Sends through the app's producer (the topics exist: the worker creates them at start)."""

    def __init__(self, app: faust.App) -> None:
        self._app = app

    async def send(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> Awaitable[object]:
        """Queue a message; the returned future resolves when the broker acknowledged it.

        Straight to the producer, not through a Faust topic: its channel machinery (codecs,
        callbacks, a future wrapper per message) is a tenth of a batch's cost and adds nothing
        for bytes in, bytes out.
        """
        future: Awaitable[object] = await self._app.producer.send(
            topic, key, value, partition, None, list(headers) or None
        )
        return future


@dataclass
class Worker:
    """Everything the running worker is made of (tests and the CLI reach in here)."""

    settings: Settings
    policy: Policy
    app: faust.App
    metrics: Metrics
    redis: Redis
    keys: Keys
    projection: RedisProjection
    processor: EventProcessor
    table: Any
    clock: Clock
    wakes: WakeIndex
    broker_ok: bool = False
    scheduler: Scheduler | None = None
    # (topic, partition) -> last offset fully processed by this process (scheduler gate)
    processed: dict[tuple[str, int], int] = field(default_factory=dict)
    # partitions whose stored customers are indexed (wake-ups, portfolio gauges)
    adopted: set[int] = field(default_factory=set)
    revocations: int = 0  # partition revocations so far (an index pass spanning one is redone)
    # (topic, partition) -> last offset handed to the time-order buffer
    delivered: dict[tuple[str, int], int] = field(default_factory=dict)
    ordering: Reorderer = field(init=False)
    acknowledge: Callable[[Any], Awaitable[bool]] | None = None
    _drain_locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    # set when a message was buffered: the drain loop has something to look at
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    # set after every drain round; `draining` while a round processes released messages
    round_done: asyncio.Event = field(default_factory=asyncio.Event)
    draining: bool = False
    # wake-up messages handed over by the wake agent, per partition, for the drain loop
    wakeups: dict[int, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ordering = Reorderer(
            [*self.settings.input_topics, self.settings.rekey_topic],
            caught_up=self.delivered_all,
            max_wait=self.settings.ordering_max_wait_ms / 1000,
            max_stall=self.settings.ordering_max_stall_seconds,
            grace=(self.settings.fetch_max_wait_ms + 20) / 1000,  # one fetch, and a margin
        )

    def drain_lock(self, partition: int) -> asyncio.Lock:
        """Serialises releasing and processing one partition's buffered messages."""
        return self._drain_locks.setdefault(partition, asyncio.Lock())

    def owns(self, partition: int) -> bool:
        """Whether this worker may process (and store for) the partition right now."""
        return not self.app.rebalancing and partition in self.active_partitions()

    def delivered_all(self, topic: str, partition: int) -> bool | None:
        """Whether every message of the topic partition the broker has was delivered here.

        None: not known yet (no fetch has reported the broker's high watermark).
        """
        return self._reached_highwater(topic, partition, self.delivered)

    def _reached_highwater(
        self, topic: str, partition: int, last_offsets: dict[tuple[str, int], int]
    ) -> bool | None:
        """Whether `last_offsets` (or, before any, the committed offset) is at the highwater.

        None when the highwater is not known yet.
        """
        remaining = self._beyond(topic, partition, last_offsets)
        return None if remaining is None else remaining == 0

    def _beyond(
        self, topic: str, partition: int, last_offsets: dict[tuple[str, int], int]
    ) -> int | None:
        """Messages the broker holds beyond `last_offsets` (or, before any, the committed offset).

        None when the highwater is not known yet (no fetch has reported it).
        """
        tp = TP(topic, partition)
        consumer = self.app.consumer
        highwater = consumer.highwater(tp)
        if highwater is None:
            return None
        last = last_offsets.get((topic, partition))
        done = last + 1 if last is not None else consumer._committed_offset.get(tp) or 0
        return max(0, highwater - done)

    @property
    def ready(self) -> bool:
        """True once table recovery is done, no rebalance is under way and the broker answers."""
        recovery = self.app.tables.recovery
        return (
            bool(recovery.completed.is_set())
            and not recovery.in_recovery  # `completed` stays set through later recoveries
            and not self.app.rebalancing
            and self.broker_ok
        )

    def problems(self) -> list[str]:
        """What is wrong right now, in words (the health endpoint lists them)."""
        found = []
        if not self.broker_ok:
            found.append("broker unreachable: processing waits and retries")
        if not self.projection.healthy:
            found.append(
                f"Redis unreachable: {self.projection.pending} snapshots pending;"
                " processing goes on, reads fail"
            )
        recovery = self.app.tables.recovery
        if recovery.in_recovery or not recovery.completed.is_set():
            found.append("recovering state from the changelog")
        if self.app.rebalancing:
            found.append("rebalancing partitions")
        return found

    def active_partitions(self) -> set[int]:
        """Input partitions this worker processes now."""
        inputs = set(self.settings.input_topics)
        return {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic in inputs}

    def undelivered(self) -> int:
        """Input messages the broker holds beyond what was delivered here (as of the last fetch)."""
        inputs = self.settings.input_topics
        return sum(
            self._beyond(tp.topic, tp.partition, self.delivered) or 0
            for tp in self.app.consumer.assignment()
            if tp.topic in inputs
        )

    def caught_up(self, partition: int) -> bool:
        """True when every input message of the partition the broker has was processed."""
        return all(
            self._reached_highwater(topic, partition, self.processed) is True
            for topic in (*self.settings.input_topics, self.settings.rekey_topic)
        )

    def stored_wake(self, raw: bytes) -> datetime | None:
        """A stored customer's next wake-up (recomputed if stored under another policy)."""
        wake = wake_of_raw(raw)
        if wake.policy_version == self.policy.version:
            return wake.at
        return next_wake(decode_state(raw), self.policy)

    def may_wake(self, partition: int) -> bool:
        """The scheduler's gate: the partition's inputs are caught up (or waited for enough)."""
        return self.scheduler is not None and self.scheduler.may_wake(partition)

    def requeue(self, partition: int, key: bytes) -> None:
        """Put a stored customer's wake-up back in the index (decided later, once caught up)."""
        raw = self.table.get(key)
        if raw is not None:
            self.track(partition, key, bytes(raw))

    def track(self, partition: int, key: bytes, raw: bytes) -> None:
        """Index a stored customer of an owned partition: its wake-up and portfolio share."""
        self.wakes.set(partition, key, self.stored_wake(raw))
        self.metrics.portfolio.update(partition, key, exposure_of_raw(raw))

    async def adopt(self, partitions: set[int]) -> None:
        """Index every stored customer of newly owned partitions (one pass over the store).

        The store, not a changelog callback, is the source: recovery does not replay partitions
        a worker keeps through a rebalance. A large store is indexed in slices, yielding to the
        event loop between them, so heartbeats and processing go on meanwhile.
        """
        if not partitions:
            return
        for count, (key, raw) in enumerate(list(self.table.data.items()), start=1):
            partition = partition_for(key, self.settings.partitions)
            if partition in partitions:
                self.track(partition, key, raw)
            if count % 2000 == 0:
                await asyncio.sleep(0)

    def forget(self, partitions: set[int]) -> None:
        """Stop indexing partitions this worker no longer owns."""
        for partition in partitions:
            self.wakes.drop(partition)
            self.metrics.portfolio.drop(partition)

    def refresh_lag(self) -> None:
        """Consumer lag per input topic: highwater minus the next offset to process.

        Counted from what was processed, not what was fetched: messages waiting in Faust's
        stream buffer or the time-order buffer are lag too.
        """
        consumer = self.app.consumer
        lag: dict[str, int] = dict.fromkeys(self.settings.input_topics, 0)
        for tp in consumer.assignment():
            if tp.topic not in lag:
                continue
            highwater = consumer.highwater(tp)
            processed = self.processed.get((tp.topic, tp.partition))
            committed = consumer._committed_offset.get(tp)
            done = processed + 1 if processed is not None else committed
            if highwater is not None and done is not None:
                lag[tp.topic] += max(0, highwater - done)
        for topic, value in lag.items():
            self.metrics.consumer_lag.labels(topic).set(value)


def build_faust_app(settings: Settings) -> faust.App:
    """A Faust app configured for fast group joins, at-least-once delivery and bytes everywhere."""
    set_fetch_max_wait(settings.fetch_max_wait_ms)
    correct_recovery_end_offsets()
    return faust.App(
        settings.app_id,
        broker=[f"kafka://{host}" for host in settings.kafka_broker.split(",")],
        store="memory://",
        autodiscover=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_interval_seconds,
        broker_commit_interval=settings.commit_interval_seconds,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=settings.producer_linger_ms / 1000,
        processing_guarantee="at_least_once",
        stream_wait_empty=False,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        datadir=str(settings.data_dir),
        logging_config=None,
    )


def build_worker(
    settings: Settings,
    policy: Policy,
    *,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
) -> Worker:
    """Wire a worker; nothing connects until the Faust worker starts."""
    app = build_faust_app(settings)
    metrics = metrics or build_metrics()
    redis = Redis.from_url(settings.redis_url.get_secret_value())
    keys = Keys(settings.redis_prefix)

    def count_flush(size: int, ok: bool) -> None:
        metrics.projection_writes.labels("ok" if ok else "failed").inc()

    projection = RedisProjection(redis=redis, keys=keys, on_flush=count_flush)
    metrics.projection_pending.set_function(lambda: projection.pending)
    metrics.redis_up.set_function(lambda: 1.0 if projection.healthy else 0.0)
    clock = clock or clock_from(
        settings.clock,
        start=settings.simulated_start,
        days_per_second=settings.simulated_days_per_second,
        anchor=settings.simulated_anchor,
        end=settings.simulated_end,
    )
    wakes = WakeIndex()
    metrics.scheduled.set_function(lambda: float(len(wakes)))
    table = app.Table(
        "customers",
        default=None,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
    )
    processor = EventProcessor(
        settings=settings,
        policy=policy,
        clock=clock,
        metrics=metrics,
        store=TableStore(table),
        outbox=FaustOutbox(app),
        projection=projection,
        on_scheduled=wakes.set,
    )
    worker = Worker(
        settings=settings,
        policy=policy,
        app=app,
        metrics=metrics,
        redis=redis,
        keys=keys,
        projection=projection,
        processor=processor,
        table=table,
        clock=clock,
        wakes=wakes,
    )
    _register_agents(worker)
    _register_lifecycle(worker)
    from processor.serving.http import register_pages

    register_pages(worker)
    return worker


def _register_agents(worker: Worker) -> None:
    settings, app = worker.settings, worker.app
    sources = [*settings.input_topics, settings.rekey_topic]
    inputs = app.topic(*sources, partitions=settings.partitions, allow_empty=True, **RAW)
    app.agent(inputs, name="arpulse.consume", concurrency=1)(_consumer(worker))
    wake_topic = app.topic(
        settings.wake_topic, partitions=settings.partitions, allow_empty=True, **RAW
    )
    app.agent(wake_topic, name="arpulse.wake", concurrency=1)(_waker(worker))


def _consumer(worker: Worker) -> Any:
    """One agent over every input topic: it only buffers; the drain loop processes.

    Handing messages over instead of processing them here is what makes batches: while the drain
    loop waits for a batch's acknowledgements, the next messages pile up in the buffer.
    """
    limit = worker.settings.max_buffered_events

    async def consume(stream: Any) -> None:
        manual = stream.noack()  # acknowledged once processed, which may be after later ones
        worker.acknowledge = manual.ack
        async for event in manual.events():
            message = event.message
            worker.delivered[(message.topic, message.partition)] = message.offset
            worker.ordering.add(
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                timestamp=message.timestamp or 0.0,
                business_time=business_time(message.value, worker.settings.max_payload_bytes),
                payload=event,
            )
            worker.arrived.set()
            # Back-pressure: wait while the drain loop works through a full buffer. Not when it
            # released nothing: the buffer may be waiting for a message only this agent delivers.
            while worker.ordering.pending() >= limit and worker.draining:
                worker.round_done.clear()
                await worker.round_done.wait()

    return consume


async def _drain_loop(worker: Worker) -> None:
    """Release buffered messages whose turn has come and process them, partition by partition.

    Wakes on every arrival, and every 20 ms for messages whose wait in the time-order buffer ends
    with nothing new arriving. Partitions are processed concurrently, so one partition's wait for
    acknowledgements does not hold up the others.
    """
    started = 0.0
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(worker.arrived.wait(), timeout=0.02)
        pause = _linger(worker, started, time.monotonic())
        if pause > 0:
            await asyncio.sleep(pause)
        started = time.monotonic()
        worker.arrived.clear()
        partitions = sorted({*worker.ordering.waiting(), *worker.wakeups})
        if partitions:
            worker.draining = True
            try:
                results = await asyncio.gather(
                    *(_drain(worker, p) for p in partitions), return_exceptions=True
                )
            finally:
                worker.draining = False
            for partition, result in zip(partitions, results, strict=True):
                if isinstance(result, Exception):  # a bug: the messages stay unacknowledged
                    worker.metrics.processing_errors.labels("internal").inc()
                    log.error("draining partition %d failed", partition, exc_info=result)
            if any(result is True for result in results):
                worker.arrived.set()  # more may have become releasable meanwhile
        worker.round_done.set()


def _linger(worker: Worker, started: float, now: float) -> float:
    """How long a drain round that could start `now` waits for more (the last one `started`).

    While the broker holds a full batch or more of input not yet consumed (a backlog), rounds
    start at most every `batch_linger_ms`: without it a busy worker settles into rounds of a
    dozen messages, and each pays for a wait for the broker, a store per customer and a Redis
    write. Caught up (live load), a round starts at once: latency is not traded away.
    """
    linger = worker.settings.batch_linger_ms / 1000
    if not linger or worker.undelivered() < worker.settings.batch_max_events:
        return 0.0
    return max(0.0, started + linger - now)


async def _drain(worker: Worker, partition: int) -> bool:
    """Process, in order and in batches, the partition's buffered messages whose turn has come.

    Returns whether anything was processed. Nothing is processed while a rebalance is under way or
    for a partition this worker no longer owns, and a batch whose partition was revoked while its
    outputs were being published is not stored: a table write from here could land after the new
    owner's and overwrite newer state. (Faust's stream queue can still hand over messages of a
    revoked partition after the buffer was dropped.) Unprocessed messages stay unacknowledged and
    are delivered again to the owner, who re-publishes the same outputs under the same ids.
    """
    async with worker.drain_lock(partition):
        if not worker.owns(partition):
            worker.wakeups.pop(partition, None)  # derived from stored state: the owner re-sends
            return False
        released = worker.ordering.release(partition)
        size = worker.settings.batch_max_events
        for start in range(0, len(released), size):
            chunk = [item.payload for item in released[start : start + size]]
            if not await _process_batch(worker, partition, chunk):
                worker.ordering.drop(partition)  # revoked: all of it is redelivered
                worker.wakeups.pop(partition, None)
                return start > 0
            for event in chunk:
                message = event.message
                worker.processed[(message.topic, message.partition)] = message.offset
                if worker.acknowledge is not None:
                    await worker.acknowledge(event)
        woke = await _wake_batch(worker, partition, _wakeups_due(worker, partition))
        return bool(released) or woke


def _wakeups_due(worker: Worker, partition: int) -> list[Any]:
    """The partition's queued wake-ups, if its inputs are caught up; else back to the index.

    The gate is checked here, when they would be decided, not when they were sent or received:
    inputs can arrive in between (and a wake-up sent before a crash or a rebalance is read back
    while the backlog is still being processed). A wake-up decided ahead of them would act on a
    state that misses them: a due date flagged by the clock before its own due-date notice, a
    reminder for an invoice paid meanwhile. The inputs released in this round are processed
    first, so the check is against what the broker has beyond them.
    """
    events = worker.wakeups.pop(partition, [])
    if not events or worker.may_wake(partition):
        return events
    for event in events:
        worker.requeue(partition, event.message.key)
    worker.metrics.wakeups.labels("deferred").inc(len(events))
    return []


async def _wake_batch(worker: Worker, partition: int, events: list[Any]) -> bool:
    """Decide the partition's queued wake-ups as one batch; whether there were any.

    A wake-up is a signal derived from stored state, not a fact: one lost here (revoked, or a
    crash) is sent again by whichever worker next indexes the customer, so no acknowledgement
    waits for it.
    """
    if not events:
        return False
    inbound = [_inbound(event.message) for event in events]
    token = _current_event.set(weakref.ref(events[-1]))
    try:
        outcomes = await _retrying_broker(
            worker,
            lambda: worker.processor.wake_batch(inbound, may_store=lambda: worker.owns(partition)),
            inbound[0],
        )
    except Exception:  # a bug must not stop the drain loop; the wake-ups are derived, not lost
        worker.metrics.processing_errors.labels("internal").inc()
        log.exception("%d wake-ups on partition %d failed", len(events), partition)
        outcomes = ["failed"] * len(events)
    finally:
        _current_event.reset(token)
    for outcome in outcomes or ():
        worker.metrics.wakeups.labels(outcome).inc()
    return True


async def _process_batch(worker: Worker, partition: int, events: list[Any]) -> bool:
    """Run one batch through the pipeline; False when the partition was lost meanwhile.

    Faust writes a table change to the changelog partition of the "current event"; every event
    of the batch is on this partition, so the last one stands for all.
    """
    inbound = [_inbound(event.message) for event in events]
    token = _current_event.set(weakref.ref(events[-1]))
    try:
        outcomes = await _retrying_broker(
            worker,
            lambda: worker.processor.process_batch(
                inbound, may_store=lambda: worker.owns(partition)
            ),
            inbound[0],
        )
    except Exception:  # a bug outside the per-message step: one message at a time, then park it
        worker.metrics.processing_errors.labels("internal").inc()
        log.exception("processing a batch of %d on partition %d failed", len(events), partition)
        for event, message in zip(events, inbound, strict=True):
            _current_event.set(weakref.ref(event))
            await _process_alone(worker, message)
        return True
    finally:
        _current_event.reset(token)
    return outcomes is not None


async def _process_alone(worker: Worker, inbound: Inbound) -> None:
    """Process one message; what still fails is dead-lettered (a bug must not stop a partition)."""
    try:
        await _retrying_broker(worker, lambda: worker.processor.process(inbound), inbound)
    except Exception as exc:
        worker.metrics.processing_errors.labels("internal").inc()
        log.exception(
            "processing %s/%s/%s failed", inbound.topic, inbound.partition, inbound.offset
        )
        await worker.processor.reject(inbound, "internal", f"{type(exc).__name__}: {exc}")


def _waker(worker: Worker) -> Any:
    """The wake-up agent: hands each wake-up to the drain loop, which decides or defers it.

    Decided there as one batch, after the partition's released events and only if the
    scheduler's gate holds then (`_wakeups_due`), so that a burst of wake-ups costs one wait for
    the broker, not one each, and never jumps ahead of an event that arrived before it.
    """

    async def wake(stream: Any) -> None:
        async for event in stream.events():
            worker.wakeups.setdefault(event.message.partition, []).append(event)
            worker.arrived.set()

    return wake


async def _retrying_broker(
    worker: Worker, step: Callable[[], Awaitable[_T]], inbound: Inbound
) -> _T:
    """Run a pipeline step, retrying with back-off while publishing to the broker fails.

    A retried step starts again from the stored state: nothing was stored for it yet.
    """
    attempt = 0
    while True:
        try:
            return await step()
        except (KafkaError, ProducerSendError) as exc:  # Faust wraps what send() raises
            worker.metrics.processing_errors.labels("broker").inc()
            delay = _RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS) - 1)]
            log.warning(
                "publishing for %s/%s/%s failed (%s); retrying in %.1fs",
                inbound.topic,
                inbound.partition,
                inbound.offset,
                exc,
                delay,
            )
            attempt += 1
            await asyncio.sleep(delay)


def _inbound(message: Any) -> Inbound:
    """A consumed Faust message as the pipeline takes it."""
    return Inbound(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        origin=_origin(message.headers),
        produced_at=message.timestamp or None,
    )


def _origin(headers: Any) -> str | None:
    if not headers:
        return None
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        if name == ORIGIN_HEADER and value:
            return bytes(value).decode("utf-8")
    return None


def _register_lifecycle(worker: Worker) -> None:
    app = worker.app

    @app.task
    async def start_projection() -> None:
        await worker.projection.start()

    @app.task
    async def watch_broker() -> None:
        await _watch_broker(worker)

    @app.task
    async def schedule() -> None:
        await _run_scheduler(worker)

    @app.task
    async def drain() -> None:
        await _drain_loop(worker)

    @app.on_partitions_revoked.connect  # type: ignore[misc]
    async def forget_revoked(app: faust.App, revoked: Any, **kwargs: Any) -> None:
        worker.forget({tp.partition for tp in revoked})
        for partition in {tp.partition for tp in revoked}:
            worker.ordering.drop(partition)
            worker.wakeups.pop(partition, None)
        worker.adopted.clear()  # re-adopted from the store once rebalance and recovery end
        worker.revocations += 1

    @app.on_before_shutdown.connect  # type: ignore[misc]
    async def stop_projection(app: faust.App, **kwargs: Any) -> None:
        await worker.projection.stop()
        await worker.redis.aclose()


async def _run_scheduler(worker: Worker) -> None:
    """Adopt owned partitions' wake-ups once recovered, then send what falls due, every tick."""
    settings = worker.settings

    async def send_wake(partition: int, key: bytes, at: datetime) -> None:
        delivery = await worker.processor.outbox.send(
            settings.wake_topic,
            key=key,
            value=wake_message(key.decode("utf-8"), at),
            partition=partition,
        )
        await delivery

    scheduler = Scheduler(
        index=worker.wakes,
        clock=worker.clock,
        send_wake=send_wake,
        caught_up=worker.caught_up,
        max_defer_seconds=settings.scheduler_max_defer_seconds,
        grace_seconds=settings.scheduler_grace_ms / 1000,
    )
    worker.scheduler = scheduler
    interval = settings.scheduler_interval_ms / 1000
    while True:
        await asyncio.sleep(interval)
        if worker.app.should_stop or not worker.ready:
            continue
        owned = worker.active_partitions()
        worker.forget(worker.adopted - owned)
        revocations = worker.revocations
        await worker.adopt(owned - worker.adopted)
        if worker.revocations != revocations:
            continue  # partitions moved while indexing (it yields): index again once settled
        worker.adopted.clear()
        worker.adopted.update(owned)
        try:
            await scheduler.tick()
        except (KafkaError, ProducerSendError, NotReady) as exc:  # NotReady: shutting down
            log.warning("scheduler could not send wake-ups (%s); retrying", exc)


async def _watch_broker(worker: Worker) -> None:
    """Every few seconds: can the broker be reached (health, metric), and how far behind are we."""
    client = AIOKafkaClient(bootstrap_servers=worker.settings.kafka_broker)
    bootstrapped = False
    try:
        while True:
            try:
                if not bootstrapped:
                    await asyncio.wait_for(client.bootstrap(), timeout=3.0)
                    bootstrapped = True
                await asyncio.wait_for(client.fetch_all_metadata(), timeout=3.0)
                worker.broker_ok = True
            except (KafkaError, OSError, TimeoutError) as exc:
                if worker.broker_ok:
                    log.warning("broker unreachable: %s", exc)
                worker.broker_ok = False
            worker.metrics.broker_up.set(1.0 if worker.broker_ok else 0.0)
            await worker.projection.probe()
            worker.refresh_lag()
            await asyncio.sleep(_WATCH_INTERVAL if worker.broker_ok else _WATCH_RETRY)
    finally:
        await client.close()
