"""The pipeline's ports: what it takes in, and the Protocols of the stores and sinks it writes to.

The runtime plugs Faust's table and producer and the Redis projection in here; tests and the
bench plug in the in-memory ones (`processor.core.in_memory`). Nothing here knows a transport.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aiokafka.partitioner import murmur2

# The header a re-keyed message carries: "topic/partition/offset" of where it first landed.
ORIGIN_HEADER = "arpulse-origin"


@dataclass(frozen=True, slots=True)
class Inbound:
    """One consumed message, as the pipeline needs it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    origin: str | None = None  # "topic/partition/offset" of a re-keyed message's first landing
    produced_at: float | None = None  # the record's timestamp (Unix seconds), for latency


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish."""

    topic: str
    key: bytes | None
    value: bytes
    partition: int | None = None
    headers: Sequence[tuple[str, bytes]] = ()


class StateStore(Protocol):
    """Customer state by key (the changelog-backed table in the worker)."""

    def get(self, key: bytes) -> bytes | None:
        """The stored state, or None."""
        ...

    def put(self, key: bytes, value: bytes) -> None:
        """Store a new state (always a new value: never mutated in place)."""
        ...


class Outbox(Protocol):
    """Publishes to topics; the returned awaitable completes when the broker has the message."""

    async def send(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> Awaitable[object]:
        """Queue one message; await the result for the broker's acknowledgement."""
        ...


class Projection(Protocol):
    """Where customer snapshots go (the read model)."""

    def publish(
        self,
        snapshot: dict[str, Any],
        *,
        share: dict[str, dict[str, str]] | None = None,
        timeline: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Queue the latest snapshot of one customer (never blocks, never raises).

        `share`: its share of the portfolio's receivables (`processor.core.report_doc`);
        `timeline`: entries for its timeline (`processor.core.timeline`).
        """
        ...

    @property
    def pending(self) -> int:
        """Snapshots not yet written."""
        ...


class ProjectionService(Projection, Protocol):
    """A projection the worker runs: started, stopped, probed, and reported on in health."""

    @property
    def healthy(self) -> bool:
        """Whether the last write (or probe) reached the read model."""
        ...

    async def start(self) -> None:
        """Start writing in the background."""
        ...

    async def stop(self) -> None:
        """Write what is pending (best effort) and stop."""
        ...

    async def probe(self) -> bool:
        """Check the read model answers when there is nothing to write."""
        ...

    @property
    def published(self) -> int:
        """How many snapshots were published so far (a position for `written`)."""
        ...

    async def written(self, upto: int, timeout: float) -> bool:
        """Wait until every snapshot published up to position `upto` is in the read model."""
        ...

    async def unprojected(self, partitions: Iterable[int]) -> set[int]:
        """Which of `partitions` the read model does not hold (it lost its data, or is new)."""
        ...

    async def begin_projection(self, partitions: Iterable[int]) -> str:
        """Start writing `partitions` whole; returns the token `mark_projected` asks for."""
        ...

    async def mark_projected(self, partitions: Iterable[int], token: str) -> set[int]:
        """Mark the partitions whose writing began with `token`, unless the model lost it since.

        Returns the partitions marked as holding every customer.
        """
        ...


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer, whatever web server carries it: a JSON-ready body, or bytes of a type."""

    body: Any
    status: int = 200
    content_type: str | None = None  # None: `body` is JSON-ready; else `body` is bytes
    headers: tuple[tuple[str, str], ...] = ()  # more response headers

    def with_headers(self, *headers: tuple[str, str]) -> Reply:
        """The same answer with more headers."""
        return Reply(self.body, self.status, self.content_type, (*self.headers, *headers))


# An HTTP GET handler: (query parameters, path parameters) -> the answer.
Handler = Callable[[Mapping[str, str], Mapping[str, str]], Awaitable[Reply]]


# Called once a customer's state is stored: (partition, customer key, its next wake-up or None).
OnScheduled = Callable[[int, bytes, datetime | None], None]


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2) gives `key`."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions
