"""The read model's HTTP handlers without a web server: a bad query is a 400 that names the
parameter (Redis is not asked), and an unreachable Redis is a 503, never a crash.

The answers from a real Redis (200 and 404) are checked in tests/integration/test_read_model.py.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from processor.core.policy_file import load_policy
from processor.demo.devstack import free_port
from processor.serving.http import ReadModelHandlers
from processor.serving.keys import Keys

POLICY = load_policy(None)


def handlers() -> tuple[ReadModelHandlers, Redis]:
    """Handlers over a Redis URL nobody listens on."""
    redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    return ReadModelHandlers(redis=redis, keys=Keys("arpulse-test"), policy=POLICY), redis


def test_the_routes_are_the_contract_paths() -> None:
    read_model, _ = handlers()
    assert set(read_model.routes()) == {
        "/customers/{customer_id}",
        "/customers/{customer_id}/timeline",
        "/worklist",
        "/reports/aging",
        "/reports/kpis",
    }


def test_a_bad_report_query_is_a_400_naming_the_parameter() -> None:
    read_model, _ = handlers()
    aging = asyncio.run(read_model.aging({"as_of": "yesterday"}, {}))
    assert (aging.status, aging.body["error"].split(":")[0]) == (400, "as_of")
    form = asyncio.run(read_model.aging({"format": "xml"}, {}))
    assert (form.status, form.body["error"].split(":")[0]) == (400, "format")
    kpis = asyncio.run(read_model.kpis({"as_of": "2026-02-30"}, {}))
    assert (kpis.status, kpis.body["error"].split(":")[0]) == (400, "as_of")
    ancient = asyncio.run(read_model.kpis({"as_of": "0001-01-01"}, {}))  # its window: no calendar
    assert (ancient.status, ancient.body["error"].split(":")[0]) == (400, "as_of")
    timeline = asyncio.run(read_model.timeline({"limit": "0"}, {"customer_id": "c"}))
    assert (timeline.status, timeline.body["error"].split(":")[0]) == (400, "limit")


def test_reports_from_an_unreachable_redis_are_a_503_without_its_error_text() -> None:
    read_model, redis = handlers()
    for reply in (
        asyncio.run(read_model.aging({}, {})),
        asyncio.run(read_model.kpis({}, {})),
        asyncio.run(read_model.timeline({}, {"customer_id": "c"})),
    ):
        assert (reply.status, reply.body) == (503, {"error": "read model unavailable"})
    asyncio.run(redis.aclose())


def test_a_bad_worklist_query_is_a_400_naming_the_parameter() -> None:
    read_model, _ = handlers()
    reply = asyncio.run(read_model.worklist({"limit": "many"}, {}))
    assert reply.status == 400
    assert reply.body == {"error": "limit: must be an integer, got 'many'"}


def test_an_unreachable_redis_is_a_503_for_both_reads_without_its_error_text() -> None:
    read_model, redis = handlers()

    async def ask() -> list[tuple[int, object]]:
        try:
            one = await read_model.customer({}, {"customer_id": "cust-1"})
            many = await read_model.worklist({}, {})
        finally:
            await redis.aclose()
        return [(one.status, one.body), (many.status, many.body)]

    assert asyncio.run(ask()) == [(503, {"error": "read model unavailable"})] * 2
