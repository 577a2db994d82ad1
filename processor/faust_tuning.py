"""Adjustments to faust-streaming that its settings do not expose.

faust-streaming 0.15 creates its group consumer with ``fetch_max_wait_ms=1500`` hard-coded. A
broker that answers a fetch only when data is already there or the wait expires (Tansu does) then
adds up to 1.5 s to every hop, which breaks the contract's one-second promise. On Apache Kafka a
fetch returns as soon as data arrives, so a short wait only costs a few more idle fetches.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

_ORIGINAL = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
_fetch_max_wait_ms = 100


def _create_worker_consumer(self: Any, transport: Any) -> Any:
    consumer = _ORIGINAL(self, transport)
    consumer._fetch_max_wait_ms = _fetch_max_wait_ms
    return consumer


def set_fetch_max_wait(milliseconds: int) -> None:
    """Make every Faust group consumer created from now on wait at most this long per fetch."""
    global _fetch_max_wait_ms
    _fetch_max_wait_ms = milliseconds
    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
