"""The composition root wires a whole worker without connecting to anything, and lets a test
put in its own parts (here a projection and a clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from processor.bootstrap import build_worker
from processor.core.in_memory import FixedClock, MemoryProjection
from processor.core.policy_file import load_policy
from processor.core.scheduler import Scheduler
from processor.core.settings import load_settings
from processor.serving.openapi import openapi_document


class Projection(MemoryProjection):
    """An in-memory projection with the lifecycle the worker runs."""

    healthy = True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def probe(self) -> bool:
        return True

    published = 0

    async def written(self, upto: int, timeout: float) -> bool:
        return True

    async def unprojected(self, partitions: Iterable[int]) -> set[int]:
        return set()

    async def begin_projection(self, partitions: Iterable[int]) -> str:
        return "token"

    async def mark_projected(self, partitions: Iterable[int], token: str) -> set[int]:
        return set(partitions)


def test_the_root_builds_every_part_and_mounts_the_pages(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 6, 1, tzinfo=UTC))
    projection = Projection()

    async def build() -> None:
        settings = load_settings(app_id="arpulse-bootstrap-test", data_dir=str(tmp_path))
        worker = build_worker(settings, load_policy(None), clock=clock, projection=projection)
        assert worker.clock is clock and worker.projection is projection
        assert set(worker.app.agents) == {"arpulse.consume", "arpulse.wake"}
        assert set(worker.app.web.views) == {
            "/healthz",
            "/metrics",
            "/customers/{customer_id}",
            "/customers/{customer_id}/timeline",
            "/worklist",
            "/reports/aging",
            "/reports/kpis",
            "/ui",
            "/ui/customers/{customer_id}",
            "/ui/aging",
            "/openapi.json",
        }
        described = openapi_document(data_guarded=False, ops_guarded=False)["paths"]
        assert set(described) == set(worker.app.web.views)  # the document describes every route
        assert isinstance(worker.scheduler, Scheduler)  # built here, not in a background task
        ready, health = worker.health()
        assert not ready and health["status"] == "starting"  # nothing connected yet
        assert "broker unreachable: processing waits and retries" in health["problems"]

    asyncio.run(build())
