"""The Redis read model: one snapshot per customer and worklists ordered by priority.

Keys (`processor.serving.keys`, with the configured prefix, default ``arpulse``):
- ``{p}:customer:{customer_id}``: the snapshot, a JSON string;
- ``{p}:worklist``: sorted set, member customer_id, score priority (customers with priority > 0);
- ``{p}:worklist:risk:{bucket}`` and ``{p}:worklist:aging:{bucket}``: the same, per bucket;
- ``{p}:share:{customer_id}``: the customer's share of the receivables (`core.report_doc`),
  and ``{p}:totals:{segment}|{currency}``: hashes holding the sum of every customer's share, kept
  by the same script that replaces a share (listed in the set ``{p}:totals``), with
  ``{p}:as_of``, the latest business day any snapshot was decided for: the aging report and the
  collection figures read only these (`processor.serving.reports`), never every customer;
- ``{p}:timeline:{customer_id}``: sorted set of the customer's timeline entries (JSON), scored by
  their instant, the newest `TIMELINE_KEPT` kept; an entry repeated is the same member.

Writes never block event processing: the latest snapshot per customer waits in memory and a
background flusher writes them in one pipeline; while Redis is down they stay pending (newer ones
replace older) and are written when it returns, so the projection catches up by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from processor.domain.policy import AGING_BUCKETS, RISK_BUCKETS
from processor.serving.keys import Keys

log = logging.getLogger(__name__)

TIMELINE_KEPT = 200


@dataclass(slots=True)
class _Pending:
    """One customer's writes waiting: its latest snapshot and share, its new timeline entries."""

    snapshot: dict[str, Any]
    share: dict[str, dict[str, str]] | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)


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
        self._pending: dict[str, _Pending] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._script = redis.register_script(_WRITE_SNAPSHOT)
        self._share_script = redis.register_script(_WRITE_SHARE)
        self._mark_script = redis.register_script(_MARK_PROJECTED)
        self._bucket_keys = [
            keys.worklist,
            *(keys.by_risk(b) for b in RISK_BUCKETS),
            *(keys.by_aging(b) for b in AGING_BUCKETS),
        ]
        self.healthy = True
        self._published = 0  # snapshots published so far
        self._written = 0  # of those, the ones up to here are in Redis

    @property
    def published(self) -> int:
        """How many snapshots were published so far (a position for `written`)."""
        return self._published

    async def written(self, upto: int, timeout: float = 60.0) -> bool:
        """Wait until every snapshot published up to `upto` is written; False on timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._written < upto:
            if asyncio.get_running_loop().time() > deadline:
                return False
            self._wake.set()
            await asyncio.sleep(self._flush_interval)
        return True

    async def unprojected(self, partitions: Iterable[int]) -> set[int]:
        """Which of `partitions` Redis holds no marker for (lost data, or never projected)."""
        wanted = sorted(partitions)
        if not wanted:
            return set()
        marks = await self._redis.hmget(self._keys.projected, [str(p) for p in wanted])
        return {p for p, mark in zip(wanted, marks, strict=True) if mark is None}

    async def begin_projection(self, partitions: Iterable[int]) -> str:
        """Note in Redis that `partitions` are being written whole; returns the note's token.

        `mark_projected` checks it: a Redis that loses its data meanwhile loses the note too.
        """
        token = uuid.uuid4().hex
        fields = [str(p) for p in partitions]
        if fields:
            await self._redis.hset(self._keys.projecting, mapping=dict.fromkeys(fields, token))
        return token

    async def mark_projected(self, partitions: Iterable[int], token: str) -> set[int]:
        """Mark those of `partitions` whose writing began with `token` and is still noted.

        One script: a partition is marked only if Redis kept the note since its writing began,
        so a Redis flushed or restarted mid-way is written again by the next pass.
        """
        fields = [str(p) for p in partitions]
        if not fields:
            return set()
        marked = await self._mark_script(
            keys=[self._keys.projecting, self._keys.projected], args=[token, *fields]
        )
        return {int(p) for p in marked}

    @property
    def pending(self) -> int:
        """Snapshots waiting to be written."""
        return len(self._pending)

    def publish(
        self,
        snapshot: dict[str, Any],
        *,
        share: dict[str, dict[str, str]] | None = None,
        timeline: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Queue a snapshot; a newer one for the same customer replaces it (timelines add up)."""
        customer_id = snapshot["customer_id"]
        self._published += 1
        waiting = self._pending.get(customer_id)
        if waiting is None:
            self._pending[customer_id] = _Pending(snapshot, share, list(timeline))
        else:
            waiting.snapshot = snapshot
            waiting.share = share if share is not None else waiting.share
            waiting.timeline += timeline
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
        upto = self._published
        if not self._pending:
            self._written = upto
            return True
        batch = self._pending
        self._pending = {}
        pipe = self._redis.pipeline(transaction=False)
        for customer_id, waiting in batch.items():
            self._write(pipe, customer_id, waiting)
        try:
            results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # a cancelled flush (shutdown) keeps its batch too
            self._requeue(batch)
            if not isinstance(exc, (RedisError, OSError)):
                raise
            if self.healthy:
                log.warning("Redis write failed, %d snapshots pending: %s", len(batch), exc)
            self.healthy = False
            if self._on_flush:
                self._on_flush(len(batch), False)
            return False
        refused = [r for r in results if isinstance(r, ResponseError)]
        if refused:  # a write Redis refused (not an outage): retrying it would not help
            log.error("Redis refused %d writes of the read model: %s", len(refused), refused[0])
        if not self.healthy:
            log.info("Redis writes resumed")
        self.healthy = True
        self._written = max(self._written, upto)
        if self._on_flush:
            self._on_flush(len(batch), True)
        return True

    def _requeue(self, batch: dict[str, _Pending]) -> None:
        """Put a batch that was not written back, behind anything newer published meanwhile."""
        for customer_id, waiting in batch.items():
            newer = self._pending.get(customer_id)
            if newer is None:
                self._pending[customer_id] = waiting
            else:  # keep the newer snapshot and share, and every timeline entry
                newer.share = newer.share if newer.share is not None else waiting.share
                newer.timeline = waiting.timeline + newer.timeline

    def _write(self, pipe: Any, customer_id: str, waiting: _Pending) -> None:
        """The customer's writes: snapshot and worklist places, share, timeline.

        One script call for the snapshot and its place in every worklist, one for its share of
        the portfolio's sums, and the timeline's new entries.
        """
        snapshot = waiting.snapshot
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
        keys = self._keys
        if waiting.share is not None:
            pipe.scripts.add(self._share_script)
            pipe.evalsha(
                self._share_script.sha,
                3,
                keys.share(customer_id),
                keys.totals,
                keys.as_of,
                keys.totals_prefix,
                json.dumps(waiting.share, separators=(",", ":"), sort_keys=True),
                str(snapshot.get("as_of", "")),
            )
        if waiting.timeline:
            timeline = keys.timeline(customer_id)
            pipe.zadd(
                timeline,
                {
                    json.dumps(entry, separators=(",", ":"), sort_keys=True): _instant(entry)
                    for entry in waiting.timeline
                },
            )
            pipe.zremrangebyrank(timeline, 0, -(TIMELINE_KEPT + 1))


def _instant(entry: Mapping[str, Any]) -> float:
    """A timeline entry's score: its instant in Unix seconds."""
    return datetime.fromisoformat(entry["at"]).timestamp()


# KEYS: the notes of partitions being written, the markers of whole ones; ARGV: the writing's
# token, then the partitions. Each partition whose note still holds the token is marked whole.
_MARK_PROJECTED = """
local marked = {}
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('HSET', KEYS[2], ARGV[i], '1')
    redis.call('HDEL', KEYS[1], ARGV[i])
    table.insert(marked, ARGV[i])
  end
end
return marked
"""
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
# KEYS: the customer's share, the set of sums, the latest business day; ARGV: the prefix of the
# sums' hashes, the new share (JSON), the snapshot's business day. Each field that differs
# between the old share and the new one takes the old value out of the sums and puts the new
# one in, with HINCRBY on the values' own text: Lua's numbers (doubles) never carry an amount,
# so sums are exact to the 64-bit integers Redis keeps. A field that comes to zero is deleted,
# so the sums hold only what some customer contributes.
_WRITE_SHARE = """
local function negated(v)
  if string.sub(v, 1, 1) == '-' then return string.sub(v, 2) end
  return '-' .. v
end
local touched = {}
local function bump(scope, name, by)
  local hash = ARGV[1] .. scope
  if redis.call('HINCRBY', hash, name, by) == 0 then redis.call('HDEL', hash, name) end
  touched[scope] = hash
end
local old = redis.call('GET', KEYS[1])
local before = {}
if old then before = cjson.decode(old) end
local after = cjson.decode(ARGV[2])
for scope, fields in pairs(before) do
  local now = after[scope] or {}
  for name, value in pairs(fields) do
    if now[name] ~= value then bump(scope, name, negated(value)) end
  end
end
for scope, fields in pairs(after) do
  local was = before[scope] or {}
  for name, value in pairs(fields) do
    if was[name] ~= value then bump(scope, name, value) end
  end
end
for scope, hash in pairs(touched) do
  if redis.call('EXISTS', hash) == 1 then
    redis.call('SADD', KEYS[2], scope)
  else
    redis.call('SREM', KEYS[2], scope)
  end
end
if next(after) == nil then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
local latest = redis.call('GET', KEYS[3])
if ARGV[3] ~= '' and (not latest or latest < ARGV[3]) then redis.call('SET', KEYS[3], ARGV[3]) end
"""
_RISK_SLOT = {bucket: 3 + i for i, bucket in enumerate(RISK_BUCKETS)}
_AGING_SLOT = {bucket: 3 + len(RISK_BUCKETS) + i for i, bucket in enumerate(AGING_BUCKETS)}
