"""The worker's pipeline in memory, as the tests drive it: no broker, no table, no Redis."""

from __future__ import annotations

from datetime import UTC, datetime

from processor.core.in_memory import FixedClock, MemoryOutbox, MemoryProjection, MemoryStore
from processor.core.metrics import build_metrics
from processor.core.pipeline import EventProcessor
from processor.core.policy_file import load_policy
from processor.core.settings import Settings
from processor.core.translate import EVENT_TYPE_OF
from processor.domain.facts import Fact

POLICY = load_policy(None)
MAX_BYTES = 2048
SETTINGS = Settings(partitions=4, max_payload_bytes=MAX_BYTES)
TOPIC_OF = {kind: topic for topic, kinds in SETTINGS.input_topics.items() for kind in kinds}
BACKLOG_CLOCK = FixedClock(datetime(2100, 1, 1, tzinfo=UTC))  # replaying a backlog


def processor_for(
    store: MemoryStore,
    outbox: MemoryOutbox,
    *,
    projection: MemoryProjection | None = None,
    clock: FixedClock = BACKLOG_CLOCK,
) -> EventProcessor:
    """A pipeline over the given in-memory store and outbox, on a clock far past every event."""
    return EventProcessor(
        settings=SETTINGS,
        policy=POLICY,
        clock=clock,
        metrics=build_metrics(),
        store=store,
        outbox=outbox,
        projection=projection or MemoryProjection(),
    )


def topic_of(fact: Fact) -> str:
    """The input topic a fact's event is published on."""
    return TOPIC_OF[EVENT_TYPE_OF[type(fact)]]
