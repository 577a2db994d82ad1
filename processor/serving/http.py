"""The read model's HTTP handlers: one customer's snapshot and the worklist, from Redis.

Framework-free: each handler takes the query and path parameters and returns a `Reply`; the
runtime mounts them on the worker's web server (`processor.runtime.web_server`). Answers come
from Redis, so any worker answers for any customer.
"""

from __future__ import annotations

from collections.abc import Mapping

from redis.asyncio import Redis
from redis.exceptions import RedisError

from processor.core.ports import Handler, Reply
from processor.serving.keys import Keys
from processor.serving.queries import BadRequest, read_customer, read_worklist, worklist_query


class ReadModelHandlers:
    """`GET /customers/{customer_id}` and `GET /worklist` over one Redis read model."""

    def __init__(self, *, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    def routes(self) -> dict[str, Handler]:
        """Path -> handler, for the web server."""
        return {"/customers/{customer_id}": self.customer, "/worklist": self.worklist}

    async def customer(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """One customer's snapshot; 404 when unknown, 503 when Redis cannot be read."""
        customer_id = params["customer_id"]
        try:
            snapshot = await read_customer(self._redis, self._keys, customer_id)
        except RedisError as exc:
            return Reply({"error": f"read model unavailable: {exc}"}, status=503)
        if snapshot is None:
            return Reply({"error": f"customer {customer_id!r} not found"}, status=404)
        return Reply(snapshot)

    async def worklist(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """Customers to chase, highest priority first; 400 names a bad query parameter."""
        try:
            filters = worklist_query(query)
        except BadRequest as exc:
            return Reply({"error": str(exc)}, status=400)
        try:
            rows = await read_worklist(self._redis, self._keys, **filters)
        except RedisError as exc:
            return Reply({"error": f"read model unavailable: {exc}"}, status=503)
        return Reply({"items": rows, "count": len(rows), **filters})
