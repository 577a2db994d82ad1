"""The HTTP surface on the worker: customer lookup, worklist, health and Prometheus metrics.

Customer and worklist answers come from Redis, so any worker answers for any customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from processor.domain.policy import AGING_BUCKETS, RISK_BUCKETS
from processor.serving.projection import read_customer, read_worklist

if TYPE_CHECKING:
    from processor.runtime.faust_app import Worker

MAX_WORKLIST = 1000


class BadRequest(ValueError):
    """A query parameter is invalid."""


def worklist_query(params: Any) -> dict[str, Any]:
    """Validate `limit`, `risk_bucket` and `aging_bucket` query parameters."""
    raw_limit = params.get("limit", "50")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise BadRequest(f"limit: must be an integer, got {raw_limit!r}") from None
    if not 1 <= limit <= MAX_WORKLIST:
        raise BadRequest(f"limit: must be between 1 and {MAX_WORKLIST}, got {limit}")
    risk = params.get("risk_bucket") or None
    if risk is not None and risk not in RISK_BUCKETS:
        raise BadRequest(f"risk_bucket: must be one of {', '.join(RISK_BUCKETS)}, got {risk!r}")
    aging = params.get("aging_bucket") or None
    if aging is not None and aging not in AGING_BUCKETS:
        raise BadRequest(f"aging_bucket: must be one of {', '.join(AGING_BUCKETS)}, got {aging!r}")
    return {"limit": limit, "risk_bucket": risk, "aging_bucket": aging}


def register_pages(worker: Worker) -> None:
    """Add the arpulse pages to the worker's web server."""
    app = worker.app

    @app.page("/healthz")
    class Health(View):
        async def get(self, request: Request) -> Response:
            ready = worker.ready
            problems = worker.problems()
            status = "starting" if not ready else "degraded" if problems else "ready"
            body = {
                "status": status,
                "problems": problems,
                "recovery_done": bool(app.tables.recovery.completed.is_set()),
                "broker_reachable": worker.broker_ok,
                "rebalancing": bool(app.rebalancing),
                "redis_writes_ok": worker.projection.healthy,
                "projection_pending": worker.projection.pending,
            }
            return self.json(body, status=200 if ready else 503)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            worker.refresh_lag()
            payload = generate_latest(worker.metrics.registry)
            return self.bytes(payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/customers/{customer_id}")
    class Customer(View):
        async def get(self, request: Request, customer_id: str) -> Response:
            try:
                snapshot = await read_customer(worker.redis, worker.keys, customer_id)
            except RedisError as exc:
                return self.json({"error": f"read model unavailable: {exc}"}, status=503)
            if snapshot is None:
                return self.json({"error": f"customer {customer_id!r} not found"}, status=404)
            return self.json(snapshot)

    @app.page("/worklist")
    class Worklist(View):
        async def get(self, request: Request) -> Response:
            try:
                query = worklist_query(request.query)
            except BadRequest as exc:
                return self.json({"error": str(exc)}, status=400)
            try:
                rows = await read_worklist(worker.redis, worker.keys, **query)
            except RedisError as exc:
                return self.json({"error": f"read model unavailable: {exc}"}, status=503)
            return self.json({"items": rows, "count": len(rows), **query})
