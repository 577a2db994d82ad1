"""The broker watch: every few seconds, can the broker and Redis be reached, and how far behind.

Faust retries a lost broker by itself but says nothing; this loop is what turns an outage into
the health endpoint's answer, the `arpulse_broker_up` gauge and a log line, and it refreshes the
consumer-lag gauge between scrapes.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from processor.core.kafka_security import kafka_client_options
from processor.runtime.worker import Worker

log = logging.getLogger(__name__)
_WATCH_INTERVAL = 2.0
_WATCH_RETRY = 0.5  # while the broker has not answered: readiness waits on it


async def watch_broker(worker: Worker) -> None:
    """Probe the broker's metadata and Redis, and refresh the lag, until cancelled."""
    client = AIOKafkaClient(**kafka_client_options(worker.settings))
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
            worker.offsets.refresh_lag(worker.metrics)
            await asyncio.sleep(_WATCH_INTERVAL if worker.broker_ok else _WATCH_RETRY)
    finally:
        await client.close()
