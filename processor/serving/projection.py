"""The Redis read model: one snapshot per customer and worklists ordered by priority.

Keys (`processor.serving.keys`, with the configured prefix, default ``arpulse``):
- ``{p}:customer:{customer_id}``: the snapshot, a JSON string;
- ``{p}:worklist``: sorted set, member customer_id, score priority (customers with priority > 0);
- ``{p}:worklist:risk:{bucket}`` and ``{p}:worklist:aging:{bucket}``: the same, per bucket.

Writes never block event processing: the latest snapshot per customer waits in memory and a
background flusher writes them in one pipeline; while Redis is down they stay pending (newer ones
replace older) and are written when it returns, so the projection catches up by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from processor.domain.policy import AGING_BUCKETS, RISK_BUCKETS
from processor.serving.keys import Keys

log = logging.getLogger(__name__)


class RedisProjection:
    """Batched, self-healing writer of snapshots and worklists."""

    def __init__(
        self,
        *,
        redis: Redis,
        keys: Keys,
        flush_interval: float = 0.05,
        on_flush: Callable[[int, bool], None] | None = None,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._flush_interval = flush_interval
        self._on_flush = on_flush
        self._pending: dict[str, dict[str, Any]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._script = redis.register_script(_WRITE_SNAPSHOT)
        self._bucket_keys = [
            keys.worklist,
            *(keys.by_risk(b) for b in RISK_BUCKETS),
            *(keys.by_aging(b) for b in AGING_BUCKETS),
        ]
        self.healthy = True

    @property
    def pending(self) -> int:
        """Snapshots waiting to be written."""
        return len(self._pending)

    def publish(self, snapshot: dict[str, Any]) -> None:
        """Queue a snapshot; a newer one for the same customer replaces it."""
        self._pending[snapshot["customer_id"]] = snapshot
        self._wake.set()

    async def start(self) -> None:
        """Start the background flusher."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="redis-projection")

    async def stop(self) -> None:
        """Flush what is pending (best effort) and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending:
            await self.flush()

    async def probe(self, timeout: float = 2.0) -> bool:
        """Ping Redis when there is nothing to write (writes are the probe otherwise).

        Without it an outage with nothing to write would go unnoticed until reads failed.
        """
        if self._pending:
            return self.healthy
        try:
            await asyncio.wait_for(self._redis.ping(), timeout)
        except (RedisError, OSError, TimeoutError) as exc:
            if self.healthy:
                log.warning("Redis unreachable: %s", exc)
            self.healthy = False
            return False
        if not self.healthy:
            log.info("Redis reachable again")
        self.healthy = True
        return True

    async def _run(self) -> None:
        backoff = self._flush_interval
        while True:
            await self._wake.wait()
            self._wake.clear()
            ok = await self.flush()
            backoff = self._flush_interval if ok else min(backoff * 2, 5.0)
            if not ok:
                self._wake.set()
            await asyncio.sleep(backoff)

    async def flush(self) -> bool:
        """Write every pending snapshot in one pipeline; keep them pending if Redis fails."""
        if not self._pending:
            return True
        batch = self._pending
        self._pending = {}
        pipe = self._redis.pipeline(transaction=False)
        for customer_id, snapshot in batch.items():
            self._write(pipe, customer_id, snapshot)
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:
            for customer_id, snapshot in batch.items():
                self._pending.setdefault(customer_id, snapshot)
            if self.healthy:
                log.warning("Redis write failed, %d snapshots pending: %s", len(batch), exc)
            self.healthy = False
            if self._on_flush:
                self._on_flush(len(batch), False)
            return False
        if not self.healthy:
            log.info("Redis writes resumed")
        self.healthy = True
        if self._on_flush:
            self._on_flush(len(batch), True)
        return True

    def _write(self, pipe: Any, customer_id: str, snapshot: dict[str, Any]) -> None:
        """One script call per customer: the snapshot, and its place in every worklist."""
        segment = snapshot.get("segment") or {}
        priority = int(segment.get("priority", 0))
        risk = _RISK_SLOT.get(segment.get("risk_bucket", ""), 0)
        aging = _AGING_SLOT.get(segment.get("aging_bucket", ""), 0)
        pipe.scripts.add(self._script)  # the pipeline loads it first if Redis lacks it
        pipe.evalsha(
            self._script.sha,
            1 + len(self._bucket_keys),
            self._keys.customer(customer_id),
            *self._bucket_keys,
            customer_id,
            json.dumps(snapshot, separators=(",", ":")),
            priority,
            risk,
            aging,
        )


# KEYS: the snapshot, the worklist, then every risk and every aging worklist (_BUCKET_KEYS order);
# ARGV: customer id, snapshot JSON, priority, and the 1-based KEYS slots of its risk and aging
# worklists (0: none). Server-side, so a snapshot costs one command instead of fifteen.
_WRITE_SNAPSHOT = """
local id, priority = ARGV[1], tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2])
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], id) end
if priority > 0 then
  redis.call('ZADD', KEYS[2], priority, id)
  local risk, aging = tonumber(ARGV[4]), tonumber(ARGV[5])
  if risk > 0 then redis.call('ZADD', KEYS[risk], priority, id) end
  if aging > 0 then redis.call('ZADD', KEYS[aging], priority, id) end
else
  redis.call('ZREM', KEYS[2], id)
end
"""
_RISK_SLOT = {bucket: 3 + i for i, bucket in enumerate(RISK_BUCKETS)}
_AGING_SLOT = {bucket: 3 + len(RISK_BUCKETS) + i for i, bucket in enumerate(AGING_BUCKETS)}
