"""The Redis read model against a real Redis: the projection writes snapshots and worklists,
the queries and HTTP handlers read them back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from processor.core.policy_file import load_policy
from processor.demo.devstack import DevStack
from processor.domain.policy import AGING_BUCKETS, RISK_BUCKETS
from processor.serving.http import ReadModelHandlers
from processor.serving.keys import Keys
from processor.serving.projection import TIMELINE_KEPT, RedisProjection
from processor.serving.queries import read_customer, read_timeline, read_worklist
from tests.support.harness import unique

pytestmark = pytest.mark.integration


def snapshot(customer_id: str, *, priority: int, risk: str, aging: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "segment": {"priority": priority, "risk_bucket": risk, "aging_bucket": aging},
        "open_invoices": [],
    }


@pytest_asyncio.fixture
async def redis(stack: DevStack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis_url)
    yield client
    await client.aclose()


async def memberships(redis: Redis, keys: Keys, customer_id: str) -> set[str]:
    names = [keys.worklist]
    names += [keys.by_risk(b) for b in RISK_BUCKETS] + [keys.by_aging(b) for b in AGING_BUCKETS]
    return {name for name in names if await redis.zscore(name, customer_id) is not None}


async def test_a_snapshot_moves_its_customer_between_worklists_and_off_them(
    redis: Redis,
) -> None:
    keys = Keys(unique("projection"))
    projection = RedisProjection(redis=redis, keys=keys)
    projection.publish(snapshot("c-1", priority=70, risk="high", aging="31-60"))
    projection.publish(snapshot("c-2", priority=20, risk="medium", aging="1-30"))
    assert await projection.flush()
    assert await memberships(redis, keys, "c-1") == {
        keys.worklist,
        keys.by_risk("high"),
        keys.by_aging("31-60"),
    }
    rows = await read_worklist(redis, keys, limit=10)
    assert [(r["customer_id"], r["priority"]) for r in rows] == [("c-1", 70), ("c-2", 20)]

    projection.publish(snapshot("c-1", priority=40, risk="medium", aging="61-90"))
    assert await projection.flush()
    assert await memberships(redis, keys, "c-1") == {
        keys.worklist,
        keys.by_risk("medium"),
        keys.by_aging("61-90"),
    }
    assert await redis.zscore(keys.worklist, "c-1") == 40

    projection.publish(snapshot("c-1", priority=0, risk="low", aging="current"))
    assert await projection.flush()
    assert await memberships(redis, keys, "c-1") == set()
    stored = await read_customer(redis, keys, "c-1")
    assert stored is not None and stored["segment"]["risk_bucket"] == "low"
    assert await memberships(redis, keys, "c-2") == {
        keys.worklist,
        keys.by_risk("medium"),
        keys.by_aging("1-30"),
    }


async def test_snapshots_are_written_again_after_redis_forgot_the_script(redis: Redis) -> None:
    keys = Keys(unique("projection"))
    projection = RedisProjection(redis=redis, keys=keys)
    projection.publish(snapshot("c-1", priority=5, risk="low", aging="current"))
    assert await projection.flush()
    await redis.script_flush()  # as after a Redis restart
    projection.publish(snapshot("c-1", priority=9, risk="high", aging="120+"))
    assert await projection.flush()
    assert await redis.zscore(keys.by_aging("120+"), "c-1") == 9


async def test_the_handlers_answer_from_what_the_projection_wrote(redis: Redis) -> None:
    keys = Keys(unique("arpulse-http"))
    projection = RedisProjection(redis=redis, keys=keys)
    projection.publish(snapshot("c-high", priority=80, risk="high", aging="91-120"))
    projection.publish(snapshot("c-low", priority=10, risk="low", aging="1-30"))
    assert await projection.flush()
    read_model = ReadModelHandlers(redis=redis, keys=keys, policy=load_policy(None))

    found = await read_model.customer({}, {"customer_id": "c-high"})
    assert (found.status, found.body["segment"]["priority"]) == (200, 80)
    missing = await read_model.customer({}, {"customer_id": "nobody"})
    assert (missing.status, missing.body) == (404, {"error": "customer 'nobody' not found"})

    everyone = await read_model.worklist({"limit": "10"}, {})
    assert [row["customer_id"] for row in everyone.body["items"]] == ["c-high", "c-low"]
    high = await read_model.worklist({"risk_bucket": "high"}, {})
    assert (high.body["count"], high.body["risk_bucket"]) == (1, "high")


async def test_the_receivables_sums_are_the_sum_of_the_current_shares(redis: Redis) -> None:
    """The share script adds the difference between a customer's old share and its new one:
    repeats change nothing, a replaced share moves the sums exactly, an empty one leaves no
    trace (fields that come to zero are deleted, scopes left empty leave the set)."""
    keys = Keys(unique("shares"))
    projection = RedisProjection(redis=redis, keys=keys)

    async def publish(customer: str, share: dict[str, dict[str, str]], as_of: str) -> None:
        projection.publish({"customer_id": customer, "as_of": as_of}, share=share)
        assert await projection.flush()

    async def sums() -> dict[str, dict[str, str]]:
        scopes = sorted(m.decode() for m in await redis.smembers(keys.totals))
        return {
            s: {k.decode(): v.decode() for k, v in (await redis.hgetall(keys.total(s))).items()}
            for s in scopes
        }

    a = {"mid|USD": {"s|2026-01-05": "10000", "a|2026-01-05": "10000", "m|disputed": "2500"}}
    b = {"mid|USD": {"s|2026-01-05": "5000", "a|2026-01-05": "5000", "a|2026-02-01": "-5000"}}
    await publish("c-a", a, "2026-02-01")
    await publish("c-b", b, "2026-02-02")
    await publish("c-b", b, "2026-02-02")  # a repeat
    assert await sums() == {
        "mid|USD": {
            "s|2026-01-05": "15000",
            "a|2026-01-05": "15000",
            "a|2026-02-01": "-5000",
            "m|disputed": "2500",
        }
    }
    assert await redis.get(keys.as_of) == b"2026-02-02"
    moved = {"key|USD": {"s|2026-01-05": "10000", "a|2026-01-05": "10000"}}  # a changed tier
    await publish("c-a", moved, "2026-01-31")  # an older day does not move as_of back
    assert await sums() == {
        "key|USD": {"s|2026-01-05": "10000", "a|2026-01-05": "10000"},
        "mid|USD": {"s|2026-01-05": "5000", "a|2026-01-05": "5000", "a|2026-02-01": "-5000"},
    }
    await publish("c-b", {}, "2026-02-03")
    assert await sums() == {"key|USD": {"s|2026-01-05": "10000", "a|2026-01-05": "10000"}}
    assert await redis.exists(keys.share("c-b")) == 0
    assert await redis.get(keys.as_of) == b"2026-02-03"


async def test_a_timeline_keeps_each_entry_once_newest_first_and_only_the_newest(
    redis: Redis,
) -> None:
    keys = Keys(unique("timeline"))
    projection = RedisProjection(redis=redis, keys=keys)

    def entry(n: int) -> dict[str, Any]:
        at = f"2026-03-{1 + n // 24:02d}T{n % 24:02d}:00:00+00:00"
        return {"at": at, "kind": "fact", "event_id": f"e-{n}", "summary": f"s{n}", "reason": None}

    projection.publish({"customer_id": "c-1"}, timeline=[entry(0), entry(1)])
    projection.publish({"customer_id": "c-1"}, timeline=[entry(1), entry(2)])  # e-1 again
    assert await projection.flush()
    items = await read_timeline(redis, keys, "c-1")
    assert [i["event_id"] for i in items] == ["e-2", "e-1", "e-0"]
    projection.publish({"customer_id": "c-1"}, timeline=[entry(n) for n in range(3, 260)])
    assert await projection.flush()
    items = await read_timeline(redis, keys, "c-1", limit=300)
    assert len(items) == TIMELINE_KEPT and items[0]["event_id"] == "e-259"
    assert items[-1]["event_id"] == f"e-{260 - TIMELINE_KEPT}"


async def test_the_sums_are_exact_beyond_what_a_double_holds(redis: Redis) -> None:
    """Amounts never pass through Lua's numbers: 2^53 + 1 minor units, twice, is exact."""
    keys = Keys(unique("exact"))
    projection = RedisProjection(redis=redis, keys=keys)
    big = str(2**53 + 1)
    for customer in ("c-1", "c-2"):
        projection.publish(
            {"customer_id": customer, "as_of": "2026-01-05"},
            share={"key|IRR": {"a|2026-01-05": big}},
        )
    assert await projection.flush()
    assert await redis.hget(keys.total("key|IRR"), "a|2026-01-05") == str(2 * (2**53 + 1)).encode()
    projection.publish({"customer_id": "c-1", "as_of": "2026-01-06"}, share={})
    assert await projection.flush()
    assert await redis.hget(keys.total("key|IRR"), "a|2026-01-05") == big.encode()


async def test_a_write_redis_refuses_is_logged_not_retried_for_ever(redis: Redis) -> None:
    keys = Keys(unique("refused"))
    await redis.set(keys.total("key|USD"), "not a hash")  # HINCRBY on it is refused
    projection = RedisProjection(redis=redis, keys=keys)
    projection.publish({"customer_id": "c-1"}, share={"key|USD": {"a|2026-01-05": "100"}})
    assert await projection.flush()
    assert projection.pending == 0 and projection.healthy
