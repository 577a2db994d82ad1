"""The bench's logic phase: the worker's decision path alone, in this process, over the backlog.

Why: the throughput ratio compares the worker with a loop that only moves bytes. This phase says
how much of the gap is the logic itself, whatever the transport costs:

- pipeline: the worker's own `EventProcessor` (validation, the domain, the state codec and its
  cache, outputs, snapshots, metrics) through the backlog, partition by partition in batches of
  `batch_max_events`, with its table, outbox and projection in memory (processor/core/in_memory.py);
- domain: the pure step alone (`on_event`) over the backlog's valid events, parsed beforehand.

Each is timed in CPU seconds of this process (nothing else runs in it meanwhile) with the
worker's garbage-collector thresholds. Divided by the raw pass-through's events/s of the same
run, each is a ceiling: the ratio the worker would reach if Kafka, Faust and Redis cost nothing.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from processor.core import translate
from processor.core.in_memory import FixedClock, MemoryOutbox, MemoryProjection, MemoryStore
from processor.core.metrics import build_metrics
from processor.core.pipeline import EventProcessor
from processor.core.ports import Inbound, partition_for
from processor.core.settings import ENV_PREFIX, Settings, load_settings
from processor.domain.decide import on_event
from processor.domain.errors import DomainError
from processor.domain.policy import Policy
from processor.domain.state import CustomerState
from processor.runtime.gc_tuning import OLDER, YOUNG
from schemas.validation import Rejected, parse_input
from tools.soak.mix import Outgoing


@dataclass(frozen=True, slots=True)
class LogicFigures:
    """What the logic alone did with the backlog, and how fast."""

    events: int  # messages through the pipeline
    outputs: int  # messages it published (actions, flags, segment changes, dead letters)
    pipeline_cpu_s: float
    domain_events: int  # valid events through the pure step
    domain_cpu_s: float

    @property
    def pipeline_events_per_cpu_s(self) -> float:
        """Messages through the whole pipeline per CPU-second."""
        return self.events / self.pipeline_cpu_s if self.pipeline_cpu_s > 0 else 0.0

    @property
    def domain_events_per_cpu_s(self) -> float:
        """Events through the pure domain per CPU-second."""
        return self.domain_events / self.domain_cpu_s if self.domain_cpu_s > 0 else 0.0


def settings_for(partitions: int, overrides: Mapping[str, str]) -> Settings:
    """The worker's settings for the bench's partitions, with its ARPULSE_* overrides."""
    fields = {
        name.removeprefix(ENV_PREFIX).lower(): value
        for name, value in overrides.items()
        if name.removeprefix(ENV_PREFIX).lower() in Settings.model_fields
    }
    return load_settings(**{**fields, "partitions": partitions})


def inbound(events: Sequence[Outgoing], partitions: int) -> list[Inbound]:
    """The backlog as the worker's consumer hands it over: home partition, offsets per topic."""
    offsets: dict[tuple[str, int], int] = defaultdict(int)
    messages = []
    for event in events:
        key = event.key.encode("utf-8")
        partition = partition_for(key, partitions)
        offset = offsets[(event.topic, partition)]
        offsets[(event.topic, partition)] = offset + 1
        messages.append(
            Inbound(
                topic=event.topic, partition=partition, offset=offset, key=key, value=event.value
            )
        )
    return messages


@contextmanager
def _worker_collector() -> Iterator[None]:
    """The worker's collector thresholds (processor/runtime/gc_tuning.py) for the timed part."""
    before = gc.get_threshold()
    gc.collect()
    gc.set_threshold(YOUNG, OLDER, OLDER)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def time_pipeline(
    messages: Sequence[Inbound], settings: Settings, policy: Policy, at: datetime
) -> tuple[float, MemoryOutbox]:
    """CPU seconds for the worker's pipeline through `messages`, and what it published."""
    outbox = MemoryOutbox()
    processor = EventProcessor(
        settings=settings,
        policy=policy,
        clock=FixedClock(at),
        metrics=build_metrics(),
        store=MemoryStore(),
        outbox=outbox,
        projection=MemoryProjection(),
    )
    by_partition: dict[int, list[Inbound]] = defaultdict(list)
    for message in messages:
        by_partition[message.partition].append(message)
    size = settings.batch_max_events

    async def run() -> float:
        began = time.process_time()
        for partition_messages in by_partition.values():
            for start in range(0, len(partition_messages), size):
                await processor.process_batch(partition_messages[start : start + size])
        return time.process_time() - began

    with _worker_collector():
        cpu = asyncio.run(run())
    return cpu, outbox


def time_domain(
    messages: Sequence[Inbound], settings: Settings, policy: Policy, at: datetime
) -> tuple[float, int]:
    """CPU seconds for the pure step over the valid events (parsed first, not timed)."""
    every = frozenset().union(*settings.input_topics.values())
    steps = []
    for message in messages:
        kinds = settings.input_topics.get(message.topic)  # each topic takes its own types
        parsed = parse_input(
            message.value,
            expected_types=kinds or every,
            max_bytes=settings.max_payload_bytes,
        )
        if not isinstance(parsed, Rejected):
            steps.append(
                (parsed.customer_id, translate.to_fact(parsed), min(parsed.occurred_at, at))
            )
    states: dict[str, CustomerState] = {}
    with _worker_collector():
        began = time.process_time()
        for customer_id, fact, now in steps:
            state = states.get(customer_id) or CustomerState(customer_id=customer_id)
            try:
                states[customer_id] = on_event(state, fact, now=now, policy=policy).state
            except DomainError:
                continue  # the worker dead-letters it; the state stays
        cpu = time.process_time() - began
    return cpu, len(steps)


def measure(
    events: Sequence[Outgoing],
    *,
    partitions: int,
    policy: Policy,
    at: datetime,
    overrides: Mapping[str, str] | None = None,
) -> LogicFigures:
    """The pipeline and the pure domain through the backlog, on a clock standing at `at`."""
    settings = settings_for(partitions, overrides or {})
    messages = inbound(events, partitions)
    pipeline_cpu, outbox = time_pipeline(messages, settings, policy, at)
    domain_cpu, domain_events = time_domain(messages, settings, policy, at)
    return LogicFigures(
        events=len(messages),
        outputs=len(outbox.sent),
        pipeline_cpu_s=pipeline_cpu,
        domain_events=domain_events,
        domain_cpu_s=domain_cpu,
    )
