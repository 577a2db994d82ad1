"""Whether a read comes from a whole read model, or from one being rebuilt.

Redis holds a marker per partition once it holds every customer of it (`Keys.projected`, kept
by the workers, `processor.runtime.read_model_heal`). While one is missing, a read may miss
customers or count them short: the answer says so with `STALE_HEADER`, and a customer not found
is "not there yet" (503, to be retried), not "unknown" (404).
"""

from __future__ import annotations

from redis.asyncio import Redis

from processor.core.ports import Reply, partition_for
from processor.serving.keys import Keys

STALE_HEADER = ("X-Arpulse-Read-Model", "rebuilding")
RETRY_AFTER = ("Retry-After", "5")


class Freshness:
    """Answers 'is this read whole?' from the markers, for a worker's partition count."""

    def __init__(self, *, redis: Redis, keys: Keys, partitions: int) -> None:
        self._redis = redis
        self._keys = keys
        self._partitions = partitions

    async def whole(self) -> bool:
        """Whether Redis holds every partition (for reads across customers)."""
        return int(await self._redis.hlen(self._keys.projected)) >= self._partitions

    async def holds(self, customer_id: str) -> bool:
        """Whether Redis holds the customer's partition (so a missing snapshot means unknown)."""
        partition = partition_for(customer_id.encode(), self._partitions)
        return bool(await self._redis.hexists(self._keys.projected, str(partition)))


async def is_whole(freshness: Freshness | None) -> bool:
    """Whether reads across customers are whole (no `Freshness` given: taken as whole)."""
    return True if freshness is None else await freshness.whole()


async def is_held(freshness: Freshness | None, customer_id: str) -> bool:
    """Whether a missing snapshot of `customer_id` means unknown (no `Freshness`: it does)."""
    return True if freshness is None else await freshness.holds(customer_id)


def marked_stale(reply: Reply, whole: bool) -> Reply:
    """`reply`, with the stale header when the read model is not whole."""
    return reply if whole else reply.with_headers(STALE_HEADER)
