"""The pipeline from consumed messages to outputs and stored state, independent of Faust.

For each input message, in order: validate at the edge, route bad input to the dead letters, move
a message that sits on the wrong partition for its customer to the re-key topic, otherwise run the
pure domain step. Messages are taken in batches (whatever the consumer has ready, so a batch is
one message when idle and hundreds with a backlog): the batch's outputs are published and waited
for once, and only then is each customer's new state stored, once, and its Redis snapshot queued.
Publishing before storing is what makes a crash safe: a batch whose outputs may not have gone out
is not yet in the state, so it is processed again and re-publishes the same outputs under the
same deterministic ids.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from processor.core import translate
from processor.core.clock import Clock
from processor.core.metrics import TRANSITION_DIMENSIONS, Metrics, reason_label
from processor.core.ports import (
    ORIGIN_HEADER,
    Inbound,
    OnScheduled,
    Outbox,
    Outgoing,
    Projection,
    StateStore,
    partition_for,
)
from processor.core.report_doc import share_or_none
from processor.core.settings import Settings
from processor.core.snapshot import customer_snapshot
from processor.core.state_cache import DecodedStates
from processor.core.state_codec import decode_state, encode_state
from processor.core.timeline import decision_entries, fact_entry
from processor.core.wakes import WakePlanner, read_wake_message
from processor.domain.calendar import customer_calendar
from processor.domain.decide import Decision, advance, business_date, on_event
from processor.domain.errors import DomainError
from processor.domain.ids import stable_id
from processor.domain.ledger import Retraction
from processor.domain.policy import Policy
from processor.domain.receivables import share
from processor.domain.segmentation import exposure
from processor.domain.state import CustomerState
from schemas import events
from schemas.validation import Rejected, parse_input

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Touched:
    """A customer a batch decided something for: where it lives and what was decided."""

    partition: int
    decisions: list[Decision] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)  # facts and what they brought


@dataclass(slots=True)
class Batch:
    """What a batch decided, before anything is published or stored.

    States are the batch's working copies: each message sees what the earlier ones in the batch
    decided, and nothing reaches the store until every output is acknowledged.
    """

    states: dict[bytes, CustomerState] = field(default_factory=dict)
    touched: dict[bytes, _Touched] = field(default_factory=dict)
    outgoing: list[Outgoing] = field(default_factory=list)
    counted: list[tuple[Decision, float | None]] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)  # reason labels, counted once sent


class EventProcessor:
    """Runs the pipeline over batches of messages (callers keep per-partition order).

    A batch is input events or wake-ups (a message on the wake topic). It is decided message by
    message, in order, against working copies of the states; then every output is published and
    acknowledged at once; only then are the states stored, once per customer (the module's rule).
    One wait for the broker per batch instead of one per message is what lets a worker with a
    backlog run at the speed of its CPU.
    """

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
        self._wakes = WakePlanner(policy)
        self._clock = clock
        self._metrics = metrics
        self._store = store
        self._outbox = outbox
        self._projection = projection
        self._all_types = frozenset().union(*settings.input_topics.values())
        self._expected = settings.input_topics
        # The drain loop runs partitions concurrently, and a batch may span partitions: one lock
        # per partition keeps each read-decide-publish-store atomic.
        self._locks: dict[int, asyncio.Lock] = {}
        self._decoded = DecodedStates(settings.state_cache_customers)

    async def process(self, message: Inbound) -> str:
        """Process one message; returns its outcome (the metric label)."""
        outcomes = await self.process_batch([message])
        assert outcomes is not None
        return outcomes[0]

    async def process_batch(
        self,
        messages: Sequence[Inbound],
        *,
        may_store: Callable[[], bool] | None = None,
    ) -> list[str] | None:
        """Process messages (input events, or wake-ups) in order; returns each one's outcome.

        `may_store` is asked once the outputs are acknowledged: False (the partition was revoked
        meanwhile) leaves the store untouched and returns None; the messages are not processed
        and must not be acknowledged (the new owner processes them again).
        """
        if not messages:
            return []
        wake_topic = self._settings.wake_topic
        wakes = [message.topic == wake_topic for message in messages]
        events_in = len(messages) - sum(wakes)
        started = time.perf_counter()
        if events_in:
            self._metrics.last_event.set(time.time())
        async with self._holding(messages):
            batch = Batch()
            outcomes = [
                self._wake(message, batch) if wake else self._decide(message, batch)
                for message, wake in zip(messages, wakes, strict=True)
            ]
            await self._deliver(batch.outgoing)
            if may_store is not None and not may_store():
                return None
            self._store_batch(batch)
        self._count_batch(batch)
        m = self._metrics
        if events_in:
            m.batch_events.observe(events_in)
        per_event = (time.perf_counter() - started) / max(1, events_in)
        for message, wake, outcome in zip(messages, wakes, outcomes, strict=True):
            if wake:
                m.wakeups.labels(outcome).inc()
            else:
                m.events.labels(_origin_topic(message), outcome).inc()
                m.processing_seconds.observe(per_event)
        return outcomes

    async def reject(self, message: Inbound, field: str, problem: str) -> None:
        """Dead-letter a message the pipeline failed on for a reason of its own (a bug)."""
        batch = Batch()
        self._dead_letter(batch, message, field, problem, None)
        await self._deliver(batch.outgoing)
        self._count_batch(batch)
        self._metrics.events.labels(_origin_topic(message), "dead_lettered").inc()

    def _decide(self, message: Inbound, batch: Batch) -> str:
        """One message's outcome, its outputs queued on the batch (nothing is sent here)."""
        try:
            return self._decide_one(message, batch)
        except Exception as exc:  # a bug must not stop the partition: park the event
            self._metrics.processing_errors.labels("internal").inc()
            log.exception(
                "processing %s/%s/%s failed", message.topic, message.partition, message.offset
            )
            problem = f"{type(exc).__name__}: {exc}"
            self._dead_letter(batch, message, "internal", problem, None)
            return "dead_lettered"

    def _decide_one(self, message: Inbound, batch: Batch) -> str:
        parsed = parse_input(
            message.value,
            expected_types=self._expected.get(message.topic, self._all_types),
            max_bytes=self._settings.max_payload_bytes,
        )
        if isinstance(parsed, Rejected):
            error = parsed.error
            self._dead_letter(batch, message, error.field, error.problem, parsed.customer_id)
            return "dead_lettered"
        key = parsed.customer_id.encode("utf-8")
        home = partition_for(key, self._settings.partitions)
        if message.key != key or message.partition != home:
            self._rekey(batch, message, key, home)
            return "rekeyed"
        state = self._state(batch, key, parsed.customer_id)
        # Decide as of the event's business time (capped at the clock): replays and late
        # deliveries then decide what was true when the fact happened, not what a re-read implies.
        now = min(parsed.occurred_at, self._clock.now())
        try:
            progress = on_event(state, translate.to_fact(parsed), now=now, policy=self._policy)
        except DomainError as exc:
            self._dead_letter(batch, message, exc.field, exc.problem, parsed.customer_id)
            return "dead_lettered"
        if not progress.applied:
            return "duplicate"
        self._record(batch, message.partition, key, progress.decisions, message.produced_at)
        batch.touched[key].timeline.append(fact_entry(parsed))
        for retraction in progress.decisions[-1].retracted:
            self._retract(batch, message, retraction, parsed.customer_id, parsed.event_id)
        problem = translate.terms_problem(parsed)
        if problem is not None:  # the invoice stands; only its terms are refused
            self._dead_letter(batch, message, "terms", problem, parsed.customer_id)
        return "applied"

    def _state(self, batch: Batch, key: bytes, customer_id: str) -> CustomerState:
        """The customer's state as the batch has it so far; a new customer's, if none stored."""
        state = self._stored(batch, key)
        if state is None:
            state = batch.states[key] = CustomerState(customer_id=customer_id)
        return state

    def _stored(self, batch: Batch, key: bytes) -> CustomerState | None:
        """The customer's state as the batch has it so far.

        At first the stored one: from the decoded-state cache when it holds exactly the stored
        bytes, else decoded.
        """
        state = batch.states.get(key)
        if state is None:
            raw = self._store.get(key)
            if raw is None:
                return None
            state = self._decoded.get(key, raw)
            if state is None:
                state = decode_state(raw)
                self._decoded.put(key, raw, state)
            batch.states[key] = state
        return state

    def _record(
        self,
        batch: Batch,
        partition: int,
        key: bytes,
        decisions: Sequence[Decision],
        produced_at: float | None,
    ) -> None:
        """Queue the decisions' outputs and make the last state the batch's working copy."""
        touched = batch.touched.get(key)
        if touched is None:
            touched = batch.touched[key] = _Touched(partition)
        for decision in decisions:
            batch.outgoing += self._outputs(decision)
            batch.counted.append((decision, produced_at))
            touched.timeline += decision_entries(decision)
        touched.decisions += decisions
        batch.states[key] = decisions[-1].state

    def _wake(self, message: Inbound, batch: Batch) -> str:
        """What time brought a customer the scheduler found due; its outputs queued on the batch."""
        try:
            call = read_wake_message(message.value)
        except ValueError:
            log.error("unreadable wake-up %s/%s", message.partition, message.offset)
            return "unreadable"
        key = call.customer_id.encode("utf-8")
        try:
            state = self._stored(batch, key)
            if state is None:
                return "stale"
            # Every wake up to the one the scheduler sent, each decided at its own instant: a
            # late or repeated wake-up message decides exactly what a punctual one would have.
            # Not beyond it: later instants are still within the scheduler's grace, and an
            # event on its way could belong before them (the scheduler sends those in turn).
            decisions = advance(state, min(self._clock.now(), call.at), policy=self._policy)
        except Exception:  # a bug must not stop the partition: the wake-up is derived, not lost
            self._metrics.processing_errors.labels("internal").inc()
            log.exception("wake-up %s/%s failed", message.partition, message.offset)
            return "failed"
        if not decisions:
            if key not in batch.touched and self._on_scheduled is not None:
                # nothing due after all: back in the index (if touched, stored with the batch)
                self._on_scheduled(message.partition, key, self._wakes.of_state(state).at)
            return "stale"
        self._record(batch, message.partition, key, decisions, None)
        return "applied"

    @contextlib.asynccontextmanager
    async def _holding(self, messages: Sequence[Inbound]) -> AsyncIterator[None]:
        """Hold the locks of every partition the messages are on (in order: no deadlock)."""
        async with contextlib.AsyncExitStack() as held:
            for partition in sorted({m.partition for m in messages}):
                await held.enter_async_context(self._lock(partition))
            yield

    async def _deliver(self, outgoing: Sequence[Outgoing]) -> None:
        """Send every message, then wait until the broker has acknowledged all of them."""
        pending = [
            await self._outbox.send(
                out.topic,
                key=out.key,
                value=out.value,
                partition=out.partition,
                headers=out.headers,
            )
            for out in outgoing
        ]
        for delivery in pending:
            await delivery

    def _store_batch(self, batch: Batch) -> None:
        """Store each touched customer's last state once, then schedule and project it."""
        for key, touched in batch.touched.items():
            last = touched.decisions[-1]
            state = last.state
            calendar = customer_calendar(state.profile, self._policy)
            contribution = exposure(state, calendar)
            wake = self._wakes.of_state(state)
            raw = encode_state(state, contribution=contribution, wake=wake)
            self._store.put(key, raw)
            self._decoded.put(key, raw, state)
            if self._on_scheduled is not None:
                self._on_scheduled(touched.partition, key, wake.at)
            self._metrics.portfolio.update(touched.partition, key, contribution)
            at = state.decided_at or self._clock.now()
            receivables = share(state, last.owed, calendar)
            self._projection.publish(
                customer_snapshot(
                    state,
                    last.assessment,
                    owed=last.owed,
                    today=state.assessed_on or business_date(at, self._policy, state),
                    at=at,
                    policy=self._policy,
                    receivables=receivables,
                ),
                share=share_or_none(receivables),
                timeline=touched.timeline,
            )

    def _lock(self, partition: int) -> asyncio.Lock:
        return self._locks.setdefault(partition, asyncio.Lock())

    def _count_batch(self, batch: Batch) -> None:
        for decision, produced_at in batch.counted:
            self._count(decision, produced_at)
        for reason in batch.dead_letters:
            self._metrics.dead_letters.labels(reason).inc()

    def _outputs(self, decision: Decision) -> list[Outgoing]:
        customer_id = decision.state.customer_id
        key = customer_id.encode("utf-8")
        now = decision.state.decided_at or self._clock.now()
        s = self._settings
        outgoing = [
            Outgoing(
                s.topic_late_payment_flags,
                key,
                translate.to_bytes(translate.flag_event(f, customer_id=customer_id, at=now)),
            )
            for f in decision.flags
        ]
        if decision.segment_change is not None:
            change = translate.segment_event(
                decision.segment_change, customer_id=customer_id, at=now
            )
            outgoing.append(Outgoing(s.topic_customer_segments, key, translate.to_bytes(change)))
        outgoing += [
            Outgoing(
                s.topic_collection_actions,
                key,
                translate.to_bytes(translate.action_event(a, customer_id=customer_id, at=now)),
            )
            for a in decision.actions
        ]
        outgoing += [
            Outgoing(
                s.topic_collection_actions,
                key,
                translate.to_bytes(translate.withdrawal_event(w, customer_id=customer_id, at=now)),
            )
            for w in decision.withdrawals
        ]
        outgoing += [
            Outgoing(
                s.topic_collection_actions,
                key,
                translate.to_bytes(translate.commitment_event(c, customer_id=customer_id, at=now)),
            )
            for c in decision.statuses
        ]
        outgoing += [
            Outgoing(
                s.topic_collection_actions,
                key,
                translate.to_bytes(
                    translate.fee_event(
                        f, customer_id=customer_id, at=now, policy_version=self._policy.version
                    )
                ),
            )
            for f in decision.fees
        ]
        return outgoing

    def _count(self, decision: Decision, produced_at: float | None) -> None:
        m = self._metrics
        for flag in decision.flags:
            m.late_flags.labels(flag.detected_by).inc()
        for action in decision.actions:
            m.actions.labels(action.action, action.channel).inc()
        for fee in decision.fees:
            m.fee_assessments.labels("true" if fee.final else "false").inc()
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

    def _rekey(self, batch: Batch, message: Inbound, key: bytes, partition: int) -> None:
        origin = message.origin or f"{message.topic}/{message.partition}/{message.offset}"
        batch.outgoing.append(
            Outgoing(
                self._settings.rekey_topic,
                key,
                message.value or b"",
                partition,
                ((ORIGIN_HEADER, origin.encode("utf-8")),),
            )
        )

    def _retract(
        self,
        batch: Batch,
        message: Inbound,
        retraction: Retraction,
        customer_id: str,
        found_by: str,
    ) -> None:
        """Dead-letter an earlier fact the message contradicted (contract semantics 7).

        Its payload is its own event as arpulse recorded it; the position is the message that
        found the contradiction out (the earlier one's position is not kept).
        """
        kind = translate.EVENT_TYPE_OF[type(retraction.fact)]
        topic = next(t for t, kinds in self._settings.input_topics.items() if kind in kinds)
        now = self._clock.now()
        letter = events.DeadLetter(
            event_id=stable_id("dead", "retracted", retraction.fact.event_id),
            occurred_at=now,
            customer_id=customer_id,
            source_topic=topic,
            partition=message.partition,
            offset=message.offset,
            key=customer_id,
            payload=translate.fact_payload(retraction.fact).decode("utf-8"),
            error=f"{retraction.field}: {retraction.problem} (retracted when event "
            f"{found_by} arrived)",
            failed_at=now,
        )
        self._queue_letter(batch, letter, customer_id.encode("utf-8"), retraction.field)

    def _dead_letter(
        self,
        batch: Batch,
        message: Inbound,
        field: str,
        problem: str,
        customer_id: str | None,
    ) -> None:
        """Queue the dead letter of a message: what is wrong (`field: problem`), and where it was.

        Bad input (the contract), a contradiction (the domain) and a bug (internal) all end here.
        """
        error = f"{field}: {problem}"
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
            error=error,
            failed_at=now,
        )
        self._queue_letter(batch, letter, message.key, field)

    def _queue_letter(
        self, batch: Batch, letter: events.DeadLetter, key: bytes | None, field: str
    ) -> None:
        """Queue a dead letter on the batch, logged, and counted once sent (by `field`)."""
        log.info(
            "dead letter %s/%s/%s: %s",
            letter.source_topic,
            letter.partition,
            letter.offset,
            letter.error,
        )
        batch.outgoing.append(
            Outgoing(self._settings.topic_dead_letter, key, translate.to_bytes(letter))
        )
        batch.dead_letters.append(reason_label(field))


def _origin_topic(message: Inbound) -> str:
    if message.origin:
        return message.origin.rsplit("/", 2)[0]
    return message.topic
