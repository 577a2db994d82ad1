"""The collector's page: server-rendered HTML over the Redis read model, on the worker's server.

Read-only and GET only, like the JSON handlers beside it (`serving.http`): it reads what any
service can read from Redis and nothing of the worker, so every worker serves it for every
customer. The rendering is pure (`worklist_view`, `customer_view`, `aging_view`, `markup`);
this module only reads and answers. `fragment=1` answers the main element alone, for the
page's own refresh. A Redis failure is a 503 page that says so; the error itself goes to the
log, not to the page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from redis.asyncio import Redis
from redis.exceptions import RedisError

from processor.core.ports import Handler, Reply
from processor.serving.aging_view import aging_page
from processor.serving.customer_view import customer_page
from processor.serving.freshness import Freshness, is_held, is_whole, marked_stale
from processor.serving.keys import Keys
from processor.serving.markup import HTML_TYPE, STALE_NOTICE, message_page, with_stale_notice
from processor.serving.queries import (
    MAX_WORKLIST,
    BadRequest,
    read_customer,
    read_timeline,
    read_worklist,
)
from processor.serving.reports import read_aging
from processor.serving.worklist_view import currencies_of, parse_filters, select, worklist_page

log = logging.getLogger(__name__)

UNAVAILABLE = "The read model is unavailable; try again in a moment."
TIMELINE_LIMIT = 100


def _html(text: str, status: int = 200) -> Reply:
    return Reply(text.encode(), status=status, content_type=HTML_TYPE)


def _unavailable(what: str, exc: RedisError, fragment: bool) -> Reply:
    log.warning("collector page: reading %s from Redis failed: %r", what, exc)
    return _html(message_page("Read model unavailable", UNAVAILABLE, fragment=fragment), 503)


def _marked(page: str, whole: bool) -> Reply:
    """The page, with the stale notice and header while the read model is being rebuilt."""
    return _html(page) if whole else marked_stale(_html(with_stale_notice(page)), whole)


def _fragment(query: Mapping[str, str]) -> bool:
    return query.get("fragment") == "1"


class CollectorPage:
    """`GET /ui` (the worklist), `/ui/customers/{customer_id}` and `/ui/aging`, as HTML."""

    def __init__(self, *, redis: Redis, keys: Keys, freshness: Freshness | None = None) -> None:
        """`freshness`: when given, pages from a read model being rebuilt say so."""
        self._redis = redis
        self._keys = keys
        self._freshness = freshness

    def routes(self) -> dict[str, Handler]:
        """Path -> handler, for the web server."""
        return {
            "/ui": self.worklist,
            "/ui/customers/{customer_id}": self.customer,
            "/ui/aging": self.aging,
        }

    async def worklist(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """The worklist by priority, filtered; 400 names a bad filter, 503 when Redis fails."""
        fragment = _fragment(query)
        try:
            filters = parse_filters(query)
        except BadRequest as exc:
            return _html(message_page("Bad filter", str(exc), fragment=fragment), 400)
        # Delinquency type and currency filter the rows read, so read all there may be then.
        limit = MAX_WORKLIST if filters.filters_rows else filters.limit
        try:
            rows = await read_worklist(
                self._redis,
                self._keys,
                limit=limit,
                risk_bucket=filters.risk_bucket,
                aging_bucket=filters.aging_bucket,
            )
            whole = await is_whole(self._freshness)
        except RedisError as exc:
            return _unavailable("the worklist", exc, fragment)
        page = worklist_page(
            select(rows, filters), filters, currencies=currencies_of(rows), fragment=fragment
        )
        return _marked(page, whole)

    async def customer(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """One customer's page; 404 when unknown, 503 when Redis fails."""
        fragment = _fragment(query)
        customer_id = params["customer_id"]
        try:
            snapshot = await read_customer(self._redis, self._keys, customer_id)
            held = await is_held(self._freshness, customer_id)
            if snapshot is None and not held:
                page = message_page("Read model being rebuilt", STALE_NOTICE, fragment=fragment)
                return _html(page, 503)
            if snapshot is None:
                text = f"No customer {customer_id!r} in the read model."
                return _html(message_page("Customer not found", text, fragment=fragment), 404)
            timeline = await read_timeline(
                self._redis, self._keys, customer_id, limit=TIMELINE_LIMIT
            )
        except RedisError as exc:
            return _unavailable("a customer", exc, fragment)
        return _marked(customer_page(snapshot, timeline, fragment=fragment), held)

    async def aging(self, query: Mapping[str, str], params: Mapping[str, str]) -> Reply:
        """The aging report per currency, with its chart; 503 when Redis fails."""
        fragment = _fragment(query)
        try:
            report = await read_aging(self._redis, self._keys)
            whole = await is_whole(self._freshness)
        except RedisError as exc:
            return _unavailable("the aging report", exc, fragment)
        return _marked(aging_page(report, fragment=fragment), whole)
