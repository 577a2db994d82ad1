"""The read model's HTTP handlers: a customer's snapshot and timeline, the worklist, the reports.

Framework-free: each handler takes the query and path parameters and returns a `Reply`; the
runtime mounts them on the worker's web server (`processor.runtime.web_server`). Answers come
from Redis, so any worker answers for any customer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

from redis.asyncio import Redis
from redis.exceptions import RedisError

from processor.core.ports import Handler, Reply
from processor.domain.policy import Policy
from processor.serving.freshness import (
    RETRY_AFTER,
    STALE_HEADER,
    Freshness,
    is_held,
    is_whole,
    marked_stale,
)
from processor.serving.keys import Keys
from processor.serving.queries import (
    BadRequest,
    bounded_int,
    read_customer,
    read_timeline,
    read_worklist,
    worklist_query,
)
from processor.serving.reports import aging_csv, read_aging, read_kpis

_UNAVAILABLE = {"error": "read model unavailable"}
REBUILDING = {"error": "read model being rebuilt: retry shortly"}
_log = logging.getLogger(__name__)
# Reports look back up to a window and a countback from their day: keep both inside the calendar.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9000, 12, 31)


class ReadModelHandlers:
    """The customer, timeline, worklist and report routes over one Redis read model."""

    def __init__(
        self, *, redis: Redis, keys: Keys, policy: Policy, freshness: Freshness | None = None
    ) -> None:
        """`freshness`: when given, answers from a read model being rebuilt say so."""
        self._redis = redis
        self._keys = keys
        self._policy = policy
        self._freshness = freshness

    def routes(self) -> dict[str, Handler]:
        """Path -> handler, for the web server."""
        return {
            "/customers/{customer_id}": self.customer,
            "/customers/{customer_id}/timeline": self.timeline,
            "/worklist": self.worklist,
            "/reports/aging": self.aging,
            "/reports/kpis": self.kpis,
        }

    async def timeline(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """A customer's timeline, newest first (`limit`, default 100, at most 200)."""
        try:
            limit = bounded_int(query.get("limit", "100"), "limit", 1, 200)
        except BadRequest as exc:
            return Reply({"error": str(exc)}, status=400)
        try:
            items = await read_timeline(self._redis, self._keys, params["customer_id"], limit=limit)
            whole = await is_whole(self._freshness)
        except RedisError as exc:
            return _unavailable(exc)
        return marked_stale(Reply({"customer_id": params["customer_id"], "items": items}), whole)

    async def aging(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """The aging report (`as_of`, `format=json|csv`)."""
        try:
            as_of = _as_of(query)
            form = query.get("format", "json")
            if form not in ("json", "csv"):
                raise BadRequest(f"format: must be json or csv, got {form!r}")
        except BadRequest as exc:
            return Reply({"error": str(exc)}, status=400)
        try:
            report = await read_aging(self._redis, self._keys, as_of=as_of)
            whole = await is_whole(self._freshness)
        except RedisError as exc:
            return _unavailable(exc)
        if form == "csv":
            csv = Reply(aging_csv(report).encode(), content_type="text/csv; charset=utf-8")
            return marked_stale(csv, whole)
        return marked_stale(Reply(report), whole)

    async def kpis(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """DSO, CEI, ADD and the share over 90 days (`as_of`)."""
        try:
            as_of = _as_of(query)
        except BadRequest as exc:
            return Reply({"error": str(exc)}, status=400)
        try:
            report = await read_kpis(
                self._redis,
                self._keys,
                policy=self._policy.reports,
                countback_days=self._policy.history.retain_days,
                as_of=as_of,
            )
            whole = await is_whole(self._freshness)
        except RedisError as exc:
            return _unavailable(exc)
        return marked_stale(Reply(report), whole)

    async def customer(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """One customer's snapshot; 404 when unknown, 503 when Redis cannot be read.

        While the customer's partition is being rebuilt a snapshot says it is stale, and a
        missing one is a 503 to retry (it may not be written yet), not a 404.
        """
        customer_id = params["customer_id"]
        try:
            snapshot = await read_customer(self._redis, self._keys, customer_id)
            held = await is_held(self._freshness, customer_id)
        except RedisError as exc:
            return _unavailable(exc)
        if snapshot is None and not held:
            return Reply(REBUILDING, status=503, headers=(STALE_HEADER, RETRY_AFTER))
        if snapshot is None:
            return Reply({"error": f"customer {customer_id!r} not found"}, status=404)
        return marked_stale(Reply(snapshot), held)

    async def worklist(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """Customers to chase, highest priority first; 400 names a bad query parameter."""
        try:
            filters = worklist_query(query)
        except BadRequest as exc:
            return Reply({"error": str(exc)}, status=400)
        try:
            rows = await read_worklist(self._redis, self._keys, **filters)
            whole = await is_whole(self._freshness)
        except RedisError as exc:
            return _unavailable(exc)
        return marked_stale(Reply({"items": rows, "count": len(rows), **filters}), whole)


def _unavailable(exc: RedisError) -> Reply:
    """A 503 that tells the caller nothing of Redis (its address, its error); the log has it."""
    _log.warning("read model unavailable: %s", exc)
    return Reply(_UNAVAILABLE, status=503)


def _as_of(query: Mapping[str, str]) -> date | None:
    raw = query.get("as_of")
    if not raw:
        return None
    return report_day(raw, "as_of")


def report_day(raw: str, name: str) -> date:
    """A report's day from its text; BadRequest naming `name` if it is none or out of range."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}: must be a date (YYYY-MM-DD), got {raw!r}") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise BadRequest(f"{name}: must be between {EARLIEST_DAY} and {LATEST_DAY}, got {raw}")
    return day
