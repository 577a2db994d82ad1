"""The bench's direct phase on the real broker: the pipeline on a plain aiokafka loop."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]

from processor.core.policy_file import load_policy
from processor.demo.devstack import DevStack
from tools.bench import direct, kafka, load, logic
from tools.bench.arpulse import App

POLICY = load_policy(None)


async def committed(
    bootstrap: str, group: str, tps: list[TopicPartition]
) -> dict[TopicPartition, int | None]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return {tp: await consumer.committed(tp) for tp in tps}
    finally:
        await consumer.stop()


def test_the_plain_loop_decides_the_backlog_as_the_logic_phase_and_commits_it(
    stack: DevStack,
) -> None:
    events = load.take(load.portfolio_mix(40, seed=3), load.backlog_size(40, 2))
    at = events[-1].at.replace(microsecond=0) + timedelta(seconds=60)
    app = App("bench-direct-test", 2)
    bootstrap = stack.kafka_bootstrap
    asyncio.run(app.create_topics(bootstrap))
    asyncio.run(kafka.create_topics(bootstrap, [app.changelog], 2))
    asyncio.run(kafka.produce_all(bootstrap, kafka.backlog_records(events, app.topic)))
    settings = logic.settings_for(2, app.env(start=at, frozen=True))

    result = asyncio.run(
        direct.pipeline_loop(
            bootstrap=bootstrap,
            settings=settings,
            policy=POLICY,
            at=at,
            changelog=app.changelog,
            group=app.app_id,
            count=len(events),
        )
    )

    assert result.events == len(events)
    assert result.events_per_s > 0
    # The same pipeline over the same messages in memory publishes as many outputs.
    _, outbox = logic.time_pipeline(logic.inbound(events, 2), logic.settings_for(2, {}), POLICY, at)
    assert result.outputs == len(outbox.sent)
    assert Counter(topic for topic, *_ in outbox.sent)["ar.dead-letter"] > 0
    assert result.changelog_records > 0
    # Every input offset committed: the next offset of each topic partition is its message count.
    counts = Counter(
        TopicPartition(app.topic(m.topic), m.partition) for m in logic.inbound(events, 2)
    )
    assert asyncio.run(committed(bootstrap, app.app_id, list(counts))) == dict(counts)
