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


class _Interrupted(Exception):
    """The walk stopped: a rebalance took partitions away, or Redis went down (retried later)."""


async def heal_loop(worker: Worker) -> None:
    """Every second, re-project the owned partitions Redis holds no marker for.

    Nothing it meets stops the worker: a failure is logged and the next pass tries again.
    """
    while True:
        try:
            await heal_once(worker)
        except RedisError as exc:  # an outage: the writer reports it; try again later
            log.debug("read model check failed: %s", exc)
        except Exception:
            log.exception("re-projecting the read model failed; trying again")
        await asyncio.sleep(HEAL_INTERVAL)


async def heal_once(worker: Worker) -> set[int]:
    """Re-project the unmarked partitions this worker owns now; returns those it marked."""
    if not worker.ready or not worker.projection.healthy:
        return set()
    projection = worker.projection
    missing = await projection.unprojected(worker.active_partitions())
    if not missing:
        return set()
    worker.healing = set(missing)
    revocations = worker.revocations
    try:
        log.info("the read model lacks partitions %s: writing them from the table", sorted(missing))
        token = await projection.begin_projection(missing)
        try:
            written = await _republish(worker, missing, revocations)
        except _Interrupted as why:
            log.info("re-projection of partitions %s stopped (%s); retrying", sorted(missing), why)
            return set()
        if not await projection.written(projection.published, WRITE_TIMEOUT):
            log.warning("re-projection of partitions %s not written yet; retrying", sorted(missing))
            return set()
        if worker.revocations != revocations:  # a rebalance ran meanwhile: the owners redo it
            return set()
        kept = await projection.mark_projected(missing & worker.active_partitions(), token)
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


async def _republish(worker: Worker, partitions: set[int], revocations: int) -> int:
    """Publish a fresh snapshot of every stored customer of `partitions`; returns how many.

    Each state is read when its turn comes (never one processing has overtaken meanwhile), and
    the walk stops as soon as the partitions may have moved or Redis is down.
    """
    settings, projection = worker.settings, worker.projection
    now = worker.clock.now()
    written = 0
    for count, (key, raw) in enumerate(worker.stored_items(), start=1):
        if partition_for(key, settings.partitions) in partitions:
            snapshot, share = stored_view(bytes(raw), worker.policy, now)
            projection.publish(snapshot, share=share)
            written += 1
        if count % SLICE == 0:
            await asyncio.sleep(0)
            while projection.pending > MOST_PENDING and projection.healthy:
                await asyncio.sleep(0.05)
            if worker.revocations != revocations:
                raise _Interrupted("partitions were revoked")
            if not projection.healthy:
                raise _Interrupted("Redis is unreachable")
    return written
