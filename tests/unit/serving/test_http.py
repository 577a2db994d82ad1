"""The read model's HTTP handlers without a web server: a bad query is a 400 that names the
parameter (Redis is not asked), and an unreachable Redis is a 503, never a crash.

The answers from a real Redis (200 and 404) are checked in tests/integration/test_read_model.py.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from processor.demo.devstack import free_port
from processor.serving.http import ReadModelHandlers
from processor.serving.keys import Keys


def handlers() -> tuple[ReadModelHandlers, Redis]:
    """Handlers over a Redis URL nobody listens on."""
    redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    return ReadModelHandlers(redis=redis, keys=Keys("arpulse-test")), redis


def test_the_routes_are_the_contract_paths() -> None:
    read_model, _ = handlers()
    assert set(read_model.routes()) == {"/customers/{customer_id}", "/worklist"}


def test_a_bad_worklist_query_is_a_400_naming_the_parameter() -> None:
    read_model, _ = handlers()
    reply = asyncio.run(read_model.worklist({"limit": "many"}, {}))
    assert reply.status == 400
    assert reply.body == {"error": "limit: must be an integer, got 'many'"}


def test_an_unreachable_redis_is_a_503_for_both_reads() -> None:
    read_model, redis = handlers()

    async def ask() -> tuple[int, int, str]:
        try:
            one = await read_model.customer({}, {"customer_id": "cust-1"})
            many = await read_model.worklist({}, {})
        finally:
            await redis.aclose()
        return one.status, many.status, str(one.body["error"])

    one, many, error = asyncio.run(ask())
    assert (one, many) == (503, 503)
    assert error.startswith("read model unavailable")
