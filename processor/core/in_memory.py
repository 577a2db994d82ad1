"""The pipeline's ports kept in memory: `EventProcessor` with no broker, table or Redis.

Why: to run the worker's whole decision path (validation, domain, state codec, outputs,
snapshots, metrics) in one process with nothing else in it. The bench measures with it how fast
the logic alone can go (tools/bench/logic.py), the ceiling of the worker's throughput whatever
the transport costs; tests drive the pipeline through it without a broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class MemoryStore:
    """Customer states by key in a dict (the worker's changelog-backed table)."""

    values: dict[bytes, bytes] = field(default_factory=dict)

    def get(self, key: bytes) -> bytes | None:
        """The stored state, or None."""
        return self.values.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        """Store a new state."""
        self.values[key] = value


@dataclass
class MemoryOutbox:
    """Keeps every message published, acknowledged at once: (topic, key, value, partition)."""

    sent: list[tuple[str, bytes | None, bytes, int | None]] = field(default_factory=list)

    async def send(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> Awaitable[object]:
        """Keep the message; the returned future is already done."""
        self.sent.append((topic, key, value, partition))
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


@dataclass
class MemoryProjection:
    """The last snapshot of each customer (what the Redis projection would hold)."""

    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    shares: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    timelines: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def publish(
        self,
        snapshot: dict[str, Any],
        *,
        share: dict[str, dict[str, str]] | None = None,
        timeline: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Keep the customer's latest snapshot and share, and its timeline entries by id."""
        customer_id = snapshot["customer_id"]
        self.snapshots[customer_id] = snapshot
        if share is not None:
            self.shares[customer_id] = share
        entries = self.timelines.setdefault(customer_id, {})
        for entry in timeline:
            entries[entry["event_id"]] = entry

    @property
    def pending(self) -> int:
        """Nothing waits: every snapshot is written at once."""
        return 0


@dataclass(frozen=True, slots=True)
class FixedClock:
    """A clock that always reads `at` (a backlog replayed at one instant)."""

    at: datetime

    def now(self) -> datetime:
        """The fixed instant."""
        return self.at
