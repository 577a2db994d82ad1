"""The read model heals itself: Redis flushed, or restarted without persistence, is written again
from the worker's table without an operator, and reads say they are stale until it is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis as redis_sync
from redis.asyncio import Redis

from processor.core.policy_file import load_policy
from processor.demo.devstack import DevStack
from processor.serving.freshness import STALE_HEADER, Freshness
from processor.serving.http import REBUILDING, ReadModelHandlers
from processor.serving.keys import Keys
from processor.serving.projection import RedisProjection
from schemas import topics
from tests.support import factories as f
from tests.support.faults import forgetful_redis
from tests.support.harness import PARTITIONS, WorkerProcess, notice_policy, own_worker, unique

pytestmark = pytest.mark.integration
CUSTOMERS = 6


@dataclass
class Healing:
    worker: WorkerProcess
    port: int
    customers: list[str]

    def redis(self) -> redis_sync.Redis:
        return redis_sync.Redis(port=self.port, socket_timeout=5)


async def until(condition: Any, timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(condition)
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} never held (last: {last!r})")


@pytest_asyncio.fixture
async def healing(stack: DevStack, workdir: Path) -> AsyncIterator[Healing]:
    with forgetful_redis(workdir) as port:
        async with own_worker(
            kafka=stack.kafka_bootstrap,
            redis_url=f"redis://127.0.0.1:{port}/0",
            workdir=workdir,
            prefix="arpulse-heal",
            **notice_policy(workdir),
        ) as own:
            customers = [unique("c-heal") for _ in range(CUSTOMERS)]
            for customer in customers:
                issued, notice = f.late_invoice(customer)
                await own.send(topics.INVOICE_ISSUED, issued)
                await own.send(topics.DUE_DATE_PASSED, notice)
            for customer in customers:  # flagged: every event of theirs is decided
                await own.harness.wait_for(topics.LATE_PAYMENT_FLAGS, customer_id=customer)
                await own.harness.wait_for(topics.COLLECTION_ACTIONS, customer_id=customer)
            yield Healing(worker=own.worker, port=port, customers=customers)


def whole_again(healing: Healing) -> dict[str, Any] | None:
    """Every customer's snapshot, the worklist and the aging report, once none says stale."""
    worker = healing.worker
    snapshots = {}
    for customer in healing.customers:
        status, body = worker.http(f"/customers/{customer}")
        if status != 200:
            return None
        snapshots[customer] = body
    status, worklist = worker.http("/worklist")
    status_aging, aging = worker.http("/reports/aging")
    listed = {row["customer_id"] for row in worklist["items"]} if status == 200 else set()
    if status_aging != 200 or not set(healing.customers) <= listed:
        return None
    headers = _headers(worker.url + "/worklist")
    if headers.get(STALE_HEADER[0]) is not None:
        return None
    return {"snapshots": snapshots, "aging": aging["portfolio"]}


def _headers(url: str) -> dict[str, str]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(response.headers)


def _comparable(state: dict[str, Any]) -> dict[str, Any]:
    """What a rebuild must give back: the figures (a snapshot's instant is when it was made)."""
    return {
        "aging": state["aging"],
        "outstanding": {c: s["outstanding"] for c, s in state["snapshots"].items()},
        "segments": {c: s["segment"] for c, s in state["snapshots"].items()},
    }


async def test_a_flushed_redis_is_written_again_from_the_table(healing: Healing) -> None:
    before = await until(lambda: whole_again(healing), what="the read model whole")
    healing.redis().flushdb()
    status, body = await asyncio.to_thread(
        healing.worker.http, f"/customers/{healing.customers[0]}"
    )
    # Within the second before the worker looks, the customer is not there yet: a 503 to retry,
    # never a 404 (it is not unknown); once healed, it is back.
    assert status == 200 or (status, body) == (503, REBUILDING), (status, body)
    after = await until(lambda: whole_again(healing), what="the read model rebuilt")
    assert _comparable(after) == _comparable(before)
    status, metrics = await asyncio.to_thread(healing.worker.http, "/metrics")
    rebuilt = [
        line for line in metrics.splitlines() if line.startswith("arpulse_read_model_partitions_")
    ]
    assert any(
        line.startswith("arpulse_read_model_partitions_rebuilt_total ")
        and float(line.split()[-1]) >= 2 * PARTITIONS
        for line in rebuilt
    ), rebuilt  # at start (a new Redis), and after the flush


async def test_a_redis_restarted_without_persistence_is_written_again(
    healing: Healing, workdir: Path
) -> None:
    before = await until(lambda: whole_again(healing), what="the read model whole")
    healing.redis().shutdown(nosave=True)
    with forgetful_redis(workdir, port=healing.port):
        after = await until(lambda: whole_again(healing), timeout=30, what="rebuilt after restart")
    assert _comparable(after) == _comparable(before)


# The reads' side, against a real Redis: what a read model without its markers answers.


@pytest_asyncio.fixture
async def redis(stack: DevStack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis_url)
    yield client
    await client.aclose()


async def test_a_redis_that_loses_its_data_mid_way_is_not_marked_whole(redis: Redis) -> None:
    keys = Keys(unique("midway"))
    projection = RedisProjection(redis=redis, keys=keys)
    token = await projection.begin_projection({0, 1})
    for name in await redis.keys(f"{keys.prefix}:*"):  # what a flush does to this prefix
        await redis.delete(name)
    assert await projection.mark_projected({0, 1}, token) == set()
    assert await projection.unprojected({0, 1}) == {0, 1}
    again = await projection.begin_projection({0, 1})
    assert await projection.mark_projected({0, 1}, token) == set()  # an older writing's token
    assert await projection.mark_projected({0}, again) == {0}
    assert await projection.unprojected({0, 1}) == {1}


async def test_reads_from_a_read_model_being_rebuilt_say_so(redis: Redis) -> None:
    keys = Keys(unique("stale"))
    handlers = ReadModelHandlers(
        redis=redis,
        keys=keys,
        policy=load_policy(None),
        freshness=Freshness(redis=redis, keys=keys, partitions=2),
    )
    await redis.set(keys.customer("known"), '{"customer_id": "known"}')
    missing = await handlers.customer({}, {"customer_id": "not-yet"})
    assert (missing.status, missing.body) == (503, REBUILDING)
    assert dict(missing.headers) == {STALE_HEADER[0]: STALE_HEADER[1], "Retry-After": "5"}
    known = await handlers.customer({}, {"customer_id": "known"})
    assert known.status == 200 and STALE_HEADER in known.headers
    worklist = await handlers.worklist({}, {})
    assert worklist.status == 200 and STALE_HEADER in worklist.headers
    await redis.hset(keys.projected, mapping={"0": "1", "1": "1"})
    unknown = await handlers.customer({}, {"customer_id": "not-yet"})
    assert unknown.status == 404 and unknown.headers == ()
    assert (await handlers.worklist({}, {})).headers == ()
    assert (await handlers.aging({}, {})).headers == ()
