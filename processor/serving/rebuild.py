"""Rebuild the Redis read model from the customer table's changelog (`arpulse projection rebuild`).

The changelog is the source of truth, so the projection can always be thrown away and rebuilt:
read every partition to its end, keep the last state per customer, write fresh snapshots and
shares of the receivables (the reports' sums start again from them). Timelines are not in the
changelog: a rebuilt read model starts them afresh.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from processor.core.clock import Clock
from processor.core.kafka_security import kafka_client_options
from processor.core.settings import Settings
from processor.core.snapshot import stored_view
from processor.domain.policy import Policy
from processor.serving.keys import Keys
from processor.serving.projection import RedisProjection
from processor.serving.redis_client import redis_client

_BATCH = 1000


async def read_changelog(settings: Settings) -> dict[bytes, bytes]:
    """The latest stored state of every customer (deleted keys left out)."""
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings), enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await consumer.start()
    try:
        await consumer.topics()  # refreshes the cluster metadata partitions_for_topic reads
        partitions = consumer.partitions_for_topic(settings.changelog_topic) or set()
        tps = [TopicPartition(settings.changelog_topic, p) for p in sorted(partitions)]
        if not tps:
            return {}
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        latest: dict[bytes, bytes | None] = {}
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(*tps, timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key is not None:
                        latest[record.key] = record.value
        return {k: v for k, v in latest.items() if v is not None}
    finally:
        await consumer.stop()


async def rebuild_projection(settings: Settings, policy: Policy, clock: Clock) -> int:
    """Replace every snapshot and worklist entry under the prefix; returns customers written."""
    states = await read_changelog(settings)
    redis = redis_client(settings)
    keys = Keys(settings.redis_prefix)
    try:
        stale = [key async for key in redis.scan_iter(match=f"{keys.prefix}:*", count=1000)]
        for start in range(0, len(stale), _BATCH):
            await redis.delete(*stale[start : start + _BATCH])
        projection = RedisProjection(redis=redis, keys=keys)
        token = await projection.begin_projection(range(settings.partitions))
        now = clock.now()
        written = 0
        for raw in states.values():
            snapshot, customer_share = stored_view(raw, policy, now)
            projection.publish(snapshot, share=customer_share)
            written += 1
            if projection.pending >= _BATCH and not await projection.flush():
                raise ConnectionError("Redis refused the rebuilt snapshots")
        if not await projection.flush():
            raise ConnectionError("Redis refused the rebuilt snapshots")
        await projection.mark_projected(range(settings.partitions), token)
        return written
    finally:
        await redis.aclose()
