"""Reads of the Redis read model: one customer's snapshot, the worklist, and their query rules.

Shared by the HTTP handlers and the `arpulse customer` / `arpulse worklist` commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

from redis.asyncio import Redis

from processor.domain.policy import AGING_BUCKETS, RISK_BUCKETS
from processor.errors import ArpulseError
from processor.serving.keys import Keys

MAX_WORKLIST = 1000


class BadRequest(ArpulseError):
    """A query parameter is invalid."""


def bounded_int(raw: str, name: str, low: int, high: int) -> int:
    """An integer parameter from its text; BadRequest naming it unless `low` to `high`."""
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}: must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name}: must be between {low} and {high}, got {value}")
    return value


def worklist_limit(raw: str) -> int:
    """A worklist's `limit` from its text; BadRequest unless 1 to MAX_WORKLIST."""
    return bounded_int(raw, "limit", 1, MAX_WORKLIST)


def choice(params: Any, name: str, allowed: Iterable[str]) -> str | None:
    """A parameter that is one of `allowed`, or None when absent or empty."""
    value = params.get(name) or None
    if value is not None and value not in allowed:
        raise BadRequest(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")
    return value


def worklist_query(params: Any) -> dict[str, Any]:
    """Validate `limit`, `risk_bucket` and `aging_bucket` query parameters."""
    return {
        "limit": worklist_limit(params.get("limit", "50")),
        "risk_bucket": choice(params, "risk_bucket", RISK_BUCKETS),
        "aging_bucket": choice(params, "aging_bucket", AGING_BUCKETS),
    }


async def read_customer(redis: Redis, keys: Keys, customer_id: str) -> dict[str, Any] | None:
    """One customer's snapshot, or None if unknown."""
    raw = await redis.get(keys.customer(customer_id))
    return None if raw is None else dict(json.loads(raw))


async def read_worklist(
    redis: Redis,
    keys: Keys,
    *,
    limit: int,
    risk_bucket: str | None = None,
    aging_bucket: str | None = None,
) -> list[dict[str, Any]]:
    """Customers to chase, highest priority first, with the essentials of each snapshot."""
    members: list[tuple[Any, float]]
    if risk_bucket and aging_bucket:
        members = await _intersection(redis, keys, risk_bucket, aging_bucket, limit)
    elif risk_bucket:
        members = await _top(redis, keys.by_risk(risk_bucket), limit)
    elif aging_bucket:
        members = await _top(redis, keys.by_aging(aging_bucket), limit)
    else:
        members = await _top(redis, keys.worklist, limit)
    if not members:
        return []
    ids = [m.decode() if isinstance(m, bytes) else m for m, _ in members]
    raws = await redis.mget([keys.customer(i) for i in ids])
    rows = []
    for customer_id, (_, score), raw in zip(ids, members, raws, strict=True):
        snapshot = json.loads(raw) if raw else {}
        rows.append(
            {
                "customer_id": customer_id,
                "priority": int(score),
                "customer_name": snapshot.get("customer_name"),
                "segment": snapshot.get("segment"),
                "outstanding": snapshot.get("outstanding", {}),
                "oldest_days_past_due": max(
                    (i["days_past_due"] for i in snapshot.get("open_invoices", [])), default=0
                ),
                "last_change_reason": snapshot.get("last_change_reason"),
            }
        )
    return rows


async def _top(redis: Redis, key: str, limit: int) -> list[tuple[Any, float]]:
    """The `limit` highest-scored members of a sorted set, with their scores."""
    return _scored(await redis.zrevrange(key, 0, limit - 1, withscores=True))


async def _intersection(
    redis: Redis, keys: Keys, risk_bucket: str, aging_bucket: str, limit: int
) -> list[tuple[Any, float]]:
    """Members of both the risk and the aging worklist, highest priority first."""
    risk = dict(_scored(await redis.zrange(keys.by_risk(risk_bucket), 0, -1, withscores=True)))
    aging = _scored(await redis.zrange(keys.by_aging(aging_bucket), 0, -1, withscores=True))
    both = [(m, s) for m, s in aging if m in risk]
    both.sort(key=lambda pair: (-pair[1], pair[0]))
    return both[:limit]


def _scored(reply: object) -> list[tuple[Any, float]]:
    """A sorted-set reply asked `withscores`: (member, score) pairs (redis-py types it loosely)."""
    return cast(list[tuple[Any, float]], reply)


async def read_timeline(
    redis: Redis, keys: Keys, customer_id: str, *, limit: int = 100
) -> list[dict[str, Any]]:
    """A customer's timeline entries, newest first (`processor.core.timeline`)."""
    raws = await redis.zrevrange(keys.timeline(customer_id), 0, max(0, limit - 1))
    return [dict(json.loads(raw)) for raw in cast(list[bytes], raws)]
