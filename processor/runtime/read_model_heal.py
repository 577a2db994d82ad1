"""The read model heals itself: a Redis that lost its data is written again from the tables.

Redis keeps, beside the snapshots, a marker per partition saying it holds every customer of it
(`Keys.projected`). A Redis restarted without persistence, flushed, or new has lost the markers
with the data, so every few seconds each worker asks which of its partitions are unmarked and
writes their customers' snapshots and shares again from its own table, then marks them. Each
worker heals what it owns; a partition whose owner changes mid-way is left unmarked, and its
new owner heals it. Reads meanwhile say they are stale (`processor.serving.freshness`).
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from processor.core.ports import partition_for
from processor.core.snapshot import stored_view
from processor.runtime.worker import Worker

log = logging.getLogger(__name__)
HEAL_INTERVAL = 1.0
SLICE = 500  # customers re-published between yields to the event loop
MOST_PENDING = 5000  # the writer is let to catch up beyond this many snapshots waiting
WRITE_TIMEOUT = 120.0


async def heal_loop(worker: Worker) -> None:
    """Every few seconds, re-project the owned partitions Redis holds no marker for."""
    while True:
        try:
            await heal_once(worker)
        except RedisError as exc:  # an outage: the writer reports it; try again later
            log.debug("read model check failed: %s", exc)
        await asyncio.sleep(HEAL_INTERVAL)


async def heal_once(worker: Worker) -> set[int]:
    """Re-project the unmarked partitions this worker owns now; returns those it marked."""
    if not worker.ready or not worker.projection.healthy:
        return set()
    owned = worker.active_partitions()
    missing = await worker.projection.unprojected(owned)
    if not missing:
        return set()
    worker.healing = set(missing)
    revocations = worker.revocations
    try:
        log.info("the read model lacks partitions %s: writing them from the table", sorted(missing))
        written = await _republish(worker, missing)
        if not await worker.projection.written(worker.projection.published, WRITE_TIMEOUT):
            log.warning("re-projection of partitions %s not written yet; retrying", sorted(missing))
            return set()
        kept = missing & worker.active_partitions()
        if worker.revocations != revocations:  # a rebalance ran meanwhile: the owners redo it
            kept = set()
        await worker.projection.mark_projected(kept)
        worker.metrics.read_model_heals.inc(len(kept))
        # Customers missing from Redis is news (it lost its data); an empty partition is not.
        log.log(
            logging.WARNING if written else logging.INFO,
            "read model: %d customers of partitions %s were missing from Redis (it lost its"
            " data, or is new) and are written again",
            written,
            sorted(kept),
        )
        return kept
    finally:
        worker.healing = set()


async def _republish(worker: Worker, partitions: set[int]) -> int:
    """Publish a fresh snapshot of every stored customer of `partitions`; returns how many."""
    settings, projection = worker.settings, worker.projection
    now = worker.clock.now()
    written = 0
    for count, (key, raw) in enumerate(worker.stored_items(), start=1):
        if partition_for(key, settings.partitions) in partitions and raw is not None:
            snapshot, share = stored_view(bytes(raw), worker.policy, now)
            projection.publish(snapshot, share=share)
            written += 1
        if count % SLICE == 0:
            await asyncio.sleep(0)
            while projection.pending > MOST_PENDING and projection.healthy:
                await asyncio.sleep(0.05)
    return written
