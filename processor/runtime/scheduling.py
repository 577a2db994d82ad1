"""The scheduler loop: index the owned partitions' wake-ups once recovered, then send what is due.

The scheduler itself (`processor.core.scheduler`) is built by the composition root; this loop
only keeps its index in step with partition ownership and ticks it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from aiokafka.errors import KafkaError
from faust.exceptions import NotReady, ProducerSendError

from processor.core.ports import Outbox
from processor.core.wakes import wake_message
from processor.runtime.worker import Worker

log = logging.getLogger(__name__)


class WakeSender:
    """Sends a due customer's wake-up to the wake topic, on the customer's own partition.

    Through the broker rather than straight to the pipeline: the partition's owner then decides
    it in its drain loop, in order with that partition's events and inside its table's changelog.
    """

    def __init__(self, *, outbox: Outbox, topic: str) -> None:
        self._outbox = outbox
        self._topic = topic

    async def __call__(self, partition: int, key: bytes, at: datetime) -> None:
        """Publish one wake-up and wait for the broker's acknowledgement."""
        delivery = await self._outbox.send(
            self._topic, key=key, value=wake_message(key.decode("utf-8"), at), partition=partition
        )
        await delivery


async def scheduler_loop(worker: Worker) -> None:
    """Every tick: adopt newly owned partitions, forget lost ones, send the wake-ups due."""
    interval = worker.settings.scheduler_interval_ms / 1000
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
            await worker.scheduler.tick()
        except (KafkaError, ProducerSendError, NotReady) as exc:  # NotReady: shutting down
            log.warning("scheduler could not send wake-ups (%s); retrying", exc)
