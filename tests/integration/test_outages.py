"""Outages: Redis unreachable for 30 s, then the broker unreachable for 10 s.

The worker reaches its own broker and Redis through proxies that the test cuts (every connection
closed, the port refusing new ones) and restores, so the servers keep their data. While Redis is
out, decisions and outputs go on and `/healthz` says `degraded`; while the broker is out,
`/healthz` answers 503. Both times the metrics say which, processing resumes by itself, and
nothing sent before, during or after the outage is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from processor.demo.devstack import DevStack
from schemas import topics
from tests.support import factories as f
from tests.support.faults import TcpProxy, broker_behind_proxy
from tests.support.harness import Harness, WorkerProcess, notice_policy, unique

pytestmark = pytest.mark.integration

REDIS_OUTAGE = 30.0
BROKER_OUTAGE = 10.0


@dataclass
class Observed:
    """What the test saw during and after each outage."""

    health: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    metrics: dict[str, list[str]] = field(default_factory=dict)
    resumed: dict[str, float] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)


def metric_lines(worker: WorkerProcess, *names: str) -> list[str]:
    """The worker's exported samples of the named metrics."""
    _, text = worker.http("/metrics")
    return [line for line in str(text).splitlines() if line.split(" ")[0] in names]


async def watch(worker: WorkerProcess, seconds: float, into: list[tuple[int, Any]]) -> None:
    """Poll /healthz every half second for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        into.append(await asyncio.to_thread(worker.http, "/healthz"))
        await asyncio.sleep(0.5)


async def until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait for `check()`; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await asyncio.to_thread(check):
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout}s")


async def send_late_invoice(harness: Harness, customer: str) -> None:
    issued, notice = f.late_invoice(customer)
    await harness.send(topics.INVOICE_ISSUED, issued)
    await harness.send(topics.DUE_DATE_PASSED, notice)


def flagged(snapshot: dict[str, Any]) -> bool:
    """The snapshot shows the late flag of its open invoice."""
    return any(inv["flagged"] for inv in snapshot["open_invoices"])


def outputs_about(harness: Harness, customer: str) -> set[tuple[str, str]]:
    return {
        (m.topic, m.value["event_id"])
        for m in harness.outputs.messages
        if m.value.get("customer_id") == customer
    }


@pytest.fixture(scope="module")
def proxied(stack: DevStack, workdir: Path) -> Iterator[tuple[str, TcpProxy, TcpProxy]]:
    """A broker of its own behind a proxy, and the session's Redis behind another."""
    redis_port = urlsplit(stack.redis_url).port
    assert redis_port is not None
    with broker_behind_proxy(workdir) as (kafka, broker), TcpProxy(redis_port) as redis:
        yield kafka, broker, redis


@pytest_asyncio.fixture(scope="module")
async def observed(
    proxied: tuple[str, TcpProxy, TcpProxy], workdir: Path
) -> AsyncIterator[Observed]:
    kafka, broker, redis = proxied
    seen = Observed()
    worker = WorkerProcess(
        kafka=kafka,
        redis_url=f"redis://127.0.0.1:{redis.port}/0",
        workdir=workdir,
        **notice_policy(workdir),
        app_id=unique("arpulse-outage"),
    ).start()
    harness = Harness(kafka)
    try:
        await asyncio.to_thread(worker.wait_ready)
        await harness.start()
        names = {phase: unique(phase) for phase in ("before", "redis", "broker", "after")}
        seen.customers = names
        await send_late_invoice(harness, names["before"])
        await harness.wait_for(topics.LATE_PAYMENT_FLAGS, customer_id=names["before"])

        redis.cut()
        await send_late_invoice(harness, names["redis"])
        seen.health["redis"] = []
        watching = asyncio.create_task(watch(worker, REDIS_OUTAGE, seen.health["redis"]))
        await harness.wait_for(topics.COLLECTION_ACTIONS, customer_id=names["redis"])
        await asyncio.sleep(REDIS_OUTAGE / 2)
        seen.metrics["redis"] = metric_lines(
            worker, "arpulse_redis_up", "arpulse_projection_pending_snapshots"
        )
        await watching
        redis.restore()
        seen.resumed["redis"] = await until(
            lambda: (
                worker.http(f"/customers/{names['redis']}")[0] == 200
                and worker.http("/healthz")[1].get("status") == "ready"
            ),
            30,
            "the snapshot written after the Redis outage",
        )

        await harness.send(topics.INVOICE_ISSUED, f.late_invoice(names["broker"])[0])
        broker.cut()
        seen.health["broker"] = []
        await watch(worker, BROKER_OUTAGE * 0.7, seen.health["broker"])
        seen.metrics["broker"] = metric_lines(worker, "arpulse_broker_up")
        await asyncio.sleep(BROKER_OUTAGE * 0.3)
        broker.restore()
        seen.resumed["broker"] = await until(
            lambda: worker.http("/healthz")[0] == 200, 90, "the worker ready after the outage"
        )
        await harness.send(topics.DUE_DATE_PASSED, f.late_invoice(names["broker"])[1])
        await send_late_invoice(harness, names["after"])
        for name in names.values():
            await harness.wait_for(topics.COLLECTION_ACTIONS, customer_id=name, timeout=60)
            seen.snapshots[name] = await harness.snapshot(worker, name, until=flagged, timeout=30)
            seen.outputs[name] = outputs_about(harness, name)
        yield seen
    finally:
        await harness.stop()
        worker.stop()


def test_while_redis_is_out_outputs_go_on_and_health_and_metrics_say_so(
    observed: Observed,
) -> None:
    bodies = [body for status, body in observed.health["redis"] if isinstance(body, dict)]
    assert any(b["status"] == "degraded" for b in bodies), bodies[-3:]
    assert all(status == 200 for status, _ in observed.health["redis"])  # still processing
    degraded = next(b for b in bodies if b["status"] == "degraded")
    assert any("Redis unreachable" in p for p in degraded["problems"])
    assert "arpulse_redis_up 0.0" in observed.metrics["redis"]
    flags = {t for t, _ in observed.outputs[observed.customers["redis"]]}
    assert topics.LATE_PAYMENT_FLAGS in flags and topics.COLLECTION_ACTIONS in flags


def test_after_redis_returns_the_snapshots_kept_in_memory_are_written(observed: Observed) -> None:
    snapshot = observed.snapshots[observed.customers["redis"]]
    assert snapshot["open_invoices"][0]["flagged"] == "due_date_event"
    assert observed.resumed["redis"] < 15


def test_while_the_broker_is_out_health_answers_503_and_the_metric_says_so(
    observed: Observed,
) -> None:
    statuses = [status for status, _ in observed.health["broker"]]
    assert 503 in statuses, statuses
    down = next(body for status, body in observed.health["broker"] if status == 503)
    assert down["broker_reachable"] is False
    assert any("broker unreachable" in p for p in down["problems"])
    assert "arpulse_broker_up 0.0" in observed.metrics["broker"]


def test_after_both_outages_processing_resumed_by_itself_and_nothing_was_lost(
    observed: Observed,
) -> None:
    for phase, customer in observed.customers.items():
        snapshot = observed.snapshots[customer]
        [invoice] = snapshot["open_invoices"]
        assert invoice["flagged"] == "due_date_event", phase
        kinds = {t for t, _ in observed.outputs[customer]}
        assert {topics.LATE_PAYMENT_FLAGS, topics.COLLECTION_ACTIONS} <= kinds, phase
    assert observed.resumed["broker"] < 60
