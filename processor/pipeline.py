"""The per-event pipeline, independent of the streaming framework.

For each input message: validate at the edge, route bad input to the dead letters, move a message
that sits on the wrong partition for its customer to the re-key topic, otherwise run the pure
domain step and then, in this order: publish the outputs and wait for the broker's
acknowledgement, store the new state, queue the Redis snapshot. Publishing before storing is what
makes a crash safe: an event whose outputs may not have gone out is not yet in the state, so it is
processed again and re-publishes the same outputs under the same deterministic ids.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiokafka.partitioner import murmur2

from processor import translate
from processor.clock import Clock
from processor.domain.decide import Decision, advance, business_date, on_event
from processor.domain.errors import DomainError
from processor.domain.ids import stable_id
from processor.domain.policy import Policy
from processor.domain.schedule import next_wake
from processor.domain.segmentation import exposure
from processor.domain.state import CustomerState
from processor.metrics import TRANSITION_DIMENSIONS, Metrics, reason_label
from processor.projection import Projection
from processor.settings import Settings
from processor.state_codec import Wake, decode_state, encode_state
from processor.views import customer_snapshot
from schemas import events
from schemas.validation import ContractError, Rejected, parse_input

log = logging.getLogger(__name__)

ORIGIN_HEADER = "arpulse-origin"


@dataclass(frozen=True, slots=True)
class Inbound:
    """One consumed message, as the pipeline needs it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    origin: str | None = None  # "topic/partition/offset" of a re-keyed message's first landing
    produced_at: float | None = None  # the record's timestamp (Unix seconds), for latency


class StateStore(Protocol):
    """Customer state by key (the changelog-backed table in the worker)."""

    def get(self, key: bytes) -> bytes | None:
        """The stored state, or None."""
        ...

    def put(self, key: bytes, value: bytes) -> None:
        """Store a new state (always a new value: never mutated in place)."""
        ...


class Outbox(Protocol):
    """Publishes to topics; the returned awaitable completes when the broker has the message."""

    async def send(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> Awaitable[object]:
        """Queue one message; await the result for the broker's acknowledgement."""
        ...


# Called after a state is stored: (partition, customer key, its next wake-up or None).
OnScheduled = Callable[[int, bytes, datetime | None], None]


def wake_message(customer_id: str, at: datetime) -> bytes:
    """The scheduler's wake-up message for one customer (internal topic)."""
    return json.dumps({"customer_id": customer_id, "at": at.isoformat()}).encode("utf-8")


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2) gives `key`."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class EventProcessor:
    """Runs the pipeline for one message at a time (callers keep per-partition order)."""

    def __init__(
        self,
        *,
        settings: Settings,
        policy: Policy,
        clock: Clock,
        metrics: Metrics,
        store: StateStore,
        outbox: Outbox,
        projection: Projection,
        on_scheduled: OnScheduled | None = None,
    ) -> None:
        self._settings = settings
        self._on_scheduled = on_scheduled
        self._policy = policy
        self._clock = clock
        self._metrics = metrics
        self._store = store
        self._outbox = outbox
        self._projection = projection
        self._types = settings.input_topics
        self._all_types = frozenset(settings.input_topics.values())
        # Every input topic has its own agent; a customer's events from different topics meet
        # on the same partition number, so one lock per partition keeps read-decide-write atomic.
        self._locks: dict[int, asyncio.Lock] = {}

    @property
    def outbox(self) -> Outbox:
        """Where outputs go (the scheduler sends its wake-ups through it too)."""
        return self._outbox

    async def process(self, message: Inbound) -> str:
        """Process one message; returns its outcome (the metric label)."""
        started = time.perf_counter()
        self._metrics.last_event.set(time.time())
        outcome = await self._process(message)
        self._metrics.events.labels(_origin_topic(message), outcome).inc()
        self._metrics.processing_seconds.observe(time.perf_counter() - started)
        return outcome

    async def reject(self, message: Inbound, field: str, problem: str) -> None:
        """Dead-letter a message the pipeline failed on for a reason of its own (a bug)."""
        await self._dead_letter(message, ContractError(field, problem), None)
        self._metrics.events.labels(_origin_topic(message), "dead_lettered").inc()

    async def _process(self, message: Inbound) -> str:
        expected = self._types.get(message.topic)
        parsed = parse_input(
            message.value,
            expected_types=frozenset({expected}) if expected else self._all_types,
            max_bytes=self._settings.max_payload_bytes,
        )
        if isinstance(parsed, Rejected):
            await self._dead_letter(message, parsed.error, parsed.customer_id)
            return "dead_lettered"
        key = parsed.customer_id.encode("utf-8")
        home = partition_for(key, self._settings.partitions)
        if message.key != key or message.partition != home:
            await self._rekey(message, key, home)
            return "rekeyed"
        async with self._lock(message.partition):
            return await self._apply(message, parsed, key)

    def _lock(self, partition: int) -> asyncio.Lock:
        return self._locks.setdefault(partition, asyncio.Lock())

    async def _apply(self, message: Inbound, parsed: events.InputEvent, key: bytes) -> str:
        raw = self._store.get(key)
        state = (
            decode_state(raw) if raw is not None else CustomerState(customer_id=parsed.customer_id)
        )
        # Decide as of the event's business time (capped at the clock): replays and late
        # deliveries then decide what was true when the fact happened, not what a re-read implies.
        now = min(parsed.occurred_at, self._clock.now())
        try:
            progress = on_event(state, translate.to_fact(parsed), now=now, policy=self._policy)
        except DomainError as exc:
            await self._dead_letter(
                message, ContractError(exc.field, exc.problem), parsed.customer_id
            )
            return "dead_lettered"
        if not progress.applied:
            return "duplicate"
        await self._commit(message.partition, key, progress.decisions, message.produced_at)
        return "applied"

    async def wake(self, message: Inbound) -> str:
        """Decide what time brought a customer the scheduler found due; returns the outcome."""
        try:
            document = json.loads(message.value or b"")
            customer_id = str(document["customer_id"])
            due = datetime.fromisoformat(document["at"])
            if due.tzinfo is None:
                raise ValueError("naive instant")
        except (ValueError, KeyError, TypeError):
            log.error("unreadable wake-up %s/%s", message.partition, message.offset)
            return "unreadable"
        key = customer_id.encode("utf-8")
        async with self._lock(message.partition):
            raw = self._store.get(key)
            if raw is None:
                return "stale"
            state = decode_state(raw)
            # Every wake up to the one the scheduler sent, each decided at its own instant: a
            # late or repeated wake-up message decides exactly what a punctual one would have.
            # Not beyond it: later instants are still within the scheduler's grace, and an
            # event on its way could belong before them (the scheduler sends those in turn).
            decisions = advance(state, min(self._clock.now(), due), policy=self._policy)
            if not decisions:
                self._schedule(message.partition, key, state)
                return "stale"
            await self._commit(message.partition, key, decisions, None)
            return "applied"

    async def _commit(
        self,
        partition: int,
        key: bytes,
        decisions: Sequence[Decision],
        produced_at: float | None,
    ) -> None:
        """Publish every decision's outputs (acknowledged), then store, schedule and project."""
        await self._publish(decisions, produced_at)
        last = decisions[-1]
        state = last.state
        contribution = exposure(state)
        wake_at = next_wake(state, self._policy)
        self._store.put(
            key,
            encode_state(
                state,
                contribution=contribution,
                wake=Wake(at=wake_at, policy_version=self._policy.version),
            ),
        )
        if self._on_scheduled is not None:
            self._on_scheduled(partition, key, wake_at)
        self._metrics.portfolio.update(partition, key, contribution)
        at = state.decided_at or self._clock.now()
        self._projection.publish(
            customer_snapshot(
                state,
                last.assessment,
                today=state.assessed_on or business_date(at, self._policy),
                at=at,
            )
        )

    def _schedule(self, partition: int, key: bytes, state: CustomerState) -> None:
        if self._on_scheduled is not None:
            self._on_scheduled(partition, key, next_wake(state, self._policy))

    async def _publish(self, decisions: Sequence[Decision], produced_at: float | None) -> None:
        """Send every output of the decisions and wait until the broker has all of them."""
        outgoing: list[tuple[str, bytes, events.OutputEvent]] = []
        for decision in decisions:
            outgoing += self._outputs(decision)
        pending = [
            await self._outbox.send(topic, key=key, value=translate.to_bytes(event))
            for topic, key, event in outgoing
        ]
        for delivery in pending:
            await delivery
        for decision in decisions:
            self._count(decision, produced_at)

    def _outputs(self, decision: Decision) -> list[tuple[str, bytes, events.OutputEvent]]:
        customer_id = decision.state.customer_id
        key = customer_id.encode("utf-8")
        now = decision.state.decided_at or self._clock.now()
        s = self._settings
        outgoing: list[tuple[str, bytes, events.OutputEvent]] = [
            (
                s.topic_late_payment_flags,
                key,
                translate.flag_event(f, customer_id=customer_id, at=now),
            )
            for f in decision.flags
        ]
        if decision.segment_change is not None:
            change = translate.segment_event(
                decision.segment_change, customer_id=customer_id, at=now
            )
            outgoing.append((s.topic_customer_segments, key, change))
        outgoing += [
            (
                s.topic_collection_actions,
                key,
                translate.action_event(a, customer_id=customer_id, at=now),
            )
            for a in decision.actions
        ]
        return outgoing

    def _count(self, decision: Decision, produced_at: float | None) -> None:
        m = self._metrics
        for flag in decision.flags:
            m.late_flags.labels(flag.detected_by).inc()
        for action in decision.actions:
            m.actions.labels(action.action, action.channel).inc()
        change = decision.segment_change
        if change is not None:
            for dimension in TRANSITION_DIMENSIONS:
                if dimension in change.changed:
                    was = "none" if change.previous is None else getattr(change.previous, dimension)
                    m.segment_transitions.labels(
                        dimension, was, getattr(change.current, dimension)
                    ).inc()
        if produced_at is not None:
            elapsed = max(0.0, time.time() - produced_at)
            for kind, present in (
                ("flag", decision.flags),
                ("action", decision.actions),
                ("segment", change),
            ):
                if present:
                    m.end_to_end_seconds.labels(kind).observe(elapsed)

    async def _rekey(self, message: Inbound, key: bytes, partition: int) -> None:
        origin = message.origin or f"{message.topic}/{message.partition}/{message.offset}"
        delivery = await self._outbox.send(
            self._settings.rekey_topic,
            key=key,
            value=message.value or b"",
            partition=partition,
            headers=[(ORIGIN_HEADER, origin.encode("utf-8"))],
        )
        await delivery

    async def _dead_letter(
        self, message: Inbound, error: ContractError, customer_id: str | None
    ) -> None:
        source_topic, partition, offset = message.topic, message.partition, message.offset
        if message.origin:
            source_topic, part, off = message.origin.rsplit("/", 2)
            partition, offset = int(part), int(off)
        payload = message.value or b""
        try:
            text, encoding = payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(payload).decode("ascii"), "base64"
        key_text = None
        if message.key is not None:
            key_text = message.key.decode("utf-8", errors="replace")
        now = self._clock.now()
        letter = events.DeadLetter(
            event_id=stable_id("dead", source_topic, str(partition), str(offset)),
            occurred_at=now,
            customer_id=(customer_id or key_text or "unknown")[:128] or "unknown",
            source_topic=source_topic,
            partition=partition,
            offset=offset,
            key=key_text,
            payload=text,
            payload_encoding=encoding,  # type: ignore[arg-type]
            error=str(error),
            failed_at=now,
        )
        log.info("dead letter %s/%s/%s: %s", source_topic, partition, offset, error)
        delivery = await self._outbox.send(
            self._settings.topic_dead_letter, key=message.key, value=translate.to_bytes(letter)
        )
        await delivery
        self._metrics.dead_letters.labels(reason_label(error.field)).inc()


def _origin_topic(message: Inbound) -> str:
    if message.origin:
        return message.origin.rsplit("/", 2)[0]
    return message.topic
