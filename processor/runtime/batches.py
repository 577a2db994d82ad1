"""One batch runner for the drain loop: input events and wake-ups through the pipeline.

Around `EventProcessor.process_batch` it adds what only the runtime knows: Faust's current event
(a table write goes to the changelog partition of the batch's events), retries while the broker
refuses what the batch publishes, and what to do when the pipeline itself fails (a bug).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from processor.core.ports import ORIGIN_HEADER, Inbound
from processor.runtime.faust_adapter import as_current_event
from processor.runtime.worker import Worker

log = logging.getLogger(__name__)
_RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
_T = TypeVar("_T")


async def run_batch(worker: Worker, partition: int, events: list[Any], *, wakeups: bool) -> bool:
    """Run a batch of the partition's events, or of its wake-ups; False if it was lost meanwhile.

    A failure outside the per-message step (a bug) must not stop the partition: input events are
    then processed one at a time, and what still fails is dead-lettered; wake-ups are counted as
    failed and dropped (they are derived from stored state: the scheduler sends them again).
    """
    inbound = [inbound_of(event.message) for event in events]
    try:
        with as_current_event(events[-1]):  # every event of the batch is on this partition
            outcomes = await retrying_broker(
                worker,
                lambda: worker.processor.process_batch(
                    inbound, may_store=lambda: worker.owns(partition)
                ),
                inbound[0],
            )
    except Exception:
        worker.metrics.processing_errors.labels("internal").inc()
        if wakeups:
            log.exception("%d wake-ups on partition %d failed", len(events), partition)
            worker.metrics.wakeups.labels("failed").inc(len(events))
            return True
        log.exception("processing a batch of %d on partition %d failed", len(events), partition)
        for event, message in zip(events, inbound, strict=True):
            with as_current_event(event):
                await _process_alone(worker, message)
        return True
    return outcomes is not None


async def _process_alone(worker: Worker, inbound: Inbound) -> None:
    """Process one message; what still fails is dead-lettered (a bug must not stop a partition)."""
    try:
        await retrying_broker(worker, lambda: worker.processor.process(inbound), inbound)
    except Exception as exc:
        worker.metrics.processing_errors.labels("internal").inc()
        log.exception(
            "processing %s/%s/%s failed", inbound.topic, inbound.partition, inbound.offset
        )
        await worker.processor.reject(inbound, "internal", f"{type(exc).__name__}: {exc}")


async def retrying_broker(
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


def inbound_of(message: Any) -> Inbound:
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
    """Where a re-keyed message first landed, from its header (None: not re-keyed)."""
    if not headers:
        return None
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        if name == ORIGIN_HEADER and value:
            return bytes(value).decode("utf-8")
    return None
