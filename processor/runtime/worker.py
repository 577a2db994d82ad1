"""The running worker: what it owns, whether it is ready, and the index of its customers' wake-ups.

One `Worker` per process, built by the composition root (`processor.bootstrap`); the agents and
loops (`processor.runtime.drain`, `.scheduling`, `.broker_watch`) act through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import faust

from processor.core.clock import Clock
from processor.core.metrics import Metrics
from processor.core.pipeline import EventProcessor
from processor.core.ports import ProjectionService, partition_for
from processor.core.scheduler import Scheduler, WakeIndex
from processor.core.settings import Settings
from processor.core.state_codec import exposure_of_raw
from processor.core.wakes import WakePlanner
from processor.domain.policy import Policy
from processor.runtime.faust_adapter import (
    active_partitions,
    recovery_done,
    recovery_ever_completed,
)
from processor.runtime.inbox import Inbox
from processor.runtime.offsets import Offsets


@dataclass
class Worker:
    """Everything the running worker is made of (tests and the CLI reach in here)."""

    settings: Settings
    policy: Policy
    app: faust.App
    metrics: Metrics
    projection: ProjectionService
    processor: EventProcessor
    table: Any  # Faust's Table: untyped
    clock: Clock
    wakes: WakeIndex
    planner: WakePlanner
    scheduler: Scheduler
    offsets: Offsets
    inbox: Inbox
    broker_ok: bool = False
    # partitions whose stored customers are indexed (wake-ups, portfolio gauges)
    adopted: set[int] = field(default_factory=set)
    revocations: int = 0  # partition revocations so far (an index pass spanning one is redone)
    healing: set[int] = field(default_factory=set)  # partitions being written to Redis again

    def owns(self, partition: int) -> bool:
        """Whether this worker may process (and store for) the partition right now."""
        return not self.app.rebalancing and partition in self.active_partitions()

    def active_partitions(self) -> set[int]:
        """Input partitions this worker processes now."""
        return active_partitions(self.app, set(self.settings.input_topics))

    @property
    def ready(self) -> bool:
        """True once table recovery is done, no rebalance is under way and the broker answers."""
        return recovery_done(self.app) and not self.app.rebalancing and self.broker_ok

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
        if not recovery_done(self.app):
            found.append("recovering state from the changelog")
        if self.app.rebalancing:
            found.append("rebalancing partitions")
        if self.healing:
            found.append(
                f"read model being rebuilt for partitions {sorted(self.healing)} (Redis lost its"
                " data): reads say they are stale"
            )
        return found

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the worker is ready, and the health endpoint's body."""
        ready = self.ready
        problems = self.problems()
        status = "starting" if not ready else "degraded" if problems else "ready"
        return ready, {
            "status": status,
            "problems": problems,
            "recovery_done": recovery_ever_completed(self.app),
            "broker_reachable": self.broker_ok,
            "rebalancing": bool(self.app.rebalancing),
            "redis_writes_ok": self.projection.healthy,
            "projection_pending": self.projection.pending,
        }

    def may_wake(self, partition: int) -> bool:
        """The scheduler's gate: the partition's inputs are caught up (or waited for enough)."""
        return self.scheduler.may_wake(partition)

    def requeue(self, partition: int, key: bytes) -> None:
        """Put a stored customer's wake-up back in the index (decided later, once caught up)."""
        raw = self.table.get(key)
        if raw is not None:
            self.track(partition, key, bytes(raw))

    def track(self, partition: int, key: bytes, raw: bytes) -> None:
        """Index a stored customer of an owned partition: its wake-up and portfolio share."""
        self.wakes.set(partition, key, self.planner.of_stored(raw))
        self.metrics.portfolio.update(partition, key, exposure_of_raw(raw))

    async def adopt(self, partitions: set[int]) -> None:
        """Index every stored customer of newly owned partitions (one pass over the store).

        The store, not a changelog callback, is the source: recovery does not replay partitions
        a worker keeps through a rebalance. A large store is indexed in slices, yielding to the
        event loop between them, so heartbeats and processing go on meanwhile.
        """
        if not partitions:
            return
        for count, (key, raw) in enumerate(self.stored_items(), start=1):
            partition = partition_for(key, self.settings.partitions)
            if partition in partitions:
                self.track(partition, key, raw)
            if count % 2000 == 0:
                await asyncio.sleep(0)

    def stored_items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every stored customer of the owned partitions, each read when its turn comes.

        Safe to walk across awaits: the keys are listed at once (the memory store is a dict that
        processing changes meanwhile, and Faust's walk over RocksDB's partition databases fails
        if one opens during a pause), and each value is the one stored when it is reached, never
        one overtaken by processing in between, nor a million states in memory at once.
        """
        data = self.table.data
        for key in list(data.keys()):
            raw = data.get(key)
            if raw is not None:
                yield key, raw

    def forget(self, partitions: set[int]) -> None:
        """Stop indexing partitions this worker no longer owns."""
        for partition in partitions:
            self.wakes.drop(partition)
            self.metrics.portfolio.drop(partition)

    def revoked(self, partitions: set[int]) -> None:
        """Partitions were taken away: drop what is held for them, re-adopt once settled."""
        self.forget(partitions)
        for partition in partitions:
            self.inbox.drop(partition)
        self.adopted.clear()  # re-adopted from the store once rebalance and recovery end
        self.revocations += 1
