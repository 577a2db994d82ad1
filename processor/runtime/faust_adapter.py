"""Every use of faust-streaming's private APIs, and the patches its settings do not allow.

The rest of the runtime reaches Faust's internals only through the functions here, so an upgrade
of faust-streaming is checked in one file. The accessors: the consumer's committed offset, the
"current event" a table write is attributed to, table recovery's state and the assignor's active
partitions. The patches follow.

faust-streaming 0.15 creates its group consumer with ``fetch_max_wait_ms=1500`` hard-coded. A
broker that answers a fetch only when data is already there or the wait expires (Tansu does) then
adds up to 1.5 s to every hop, which breaks the contract's one-second promise. On Apache Kafka a
fetch returns as soon as data arrives, so a short wait only costs a few more idle fetches.

Table recovery reads each changelog partition up to its end offset, which Faust asks the broker for
(ListOffsets, latest). Tansu answers with the offset after the *first* record of the partition's
last record batch, not after its last record: once a producer has sent records 10, 11 and 12 in
one batch, Tansu says the partition ends at 11 where Kafka says 13. Recovery then stops after
record 10, and records 11 and 12, fetched in the same batch, arrive after it has ended: they wait
in Faust's recovery buffer, unapplied. The partition's owner after a rebalance (a new one, or one
that kept it and replayed its changelog over its own newer states) then decides from states
without them, and a payment applied and committed just before the rebalance is lost. A standby
that has already read record 12 crashes on Faust's consistency check instead (12 is past the
end). So the end offsets
recovery uses are checked against what the broker serves: fetching from the last offset it reported
returns that offset's whole batch, and the offset after the batch's last record is the real end.
On a broker that reports the end correctly the fetch only confirms it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import aiokafka
import faust
from aiokafka import TopicPartition
from faust.streams import _current_event
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)
_ORIGINAL = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
_ORIGINAL_HIGHWATERS = faust_aiokafka.AIOKafkaConsumerThread._highwaters
_fetch_max_wait_ms = 100
# How long to wait for the broker to serve the last reported record before trusting its answer.
PROBE_TIMEOUT_SECONDS = 30.0  # a broker serving a large changelog may take a while


def committed_offset(app: faust.App, tp: TP) -> int | None:
    """The offset Faust's consumer last committed for `tp` (None: nothing committed yet)."""
    consumer: Any = app.consumer  # the attribute is on Faust's Consumer, not its ConsumerT
    committed: int | None = consumer._committed_offset.get(tp)
    return committed


def highwater(app: faust.App, tp: TP) -> int | None:
    """The broker's high watermark of `tp` as the last fetch reported it (None: not known yet)."""
    value: int | None = app.consumer.highwater(tp)
    return value


@contextlib.contextmanager
def as_current_event(event: Any) -> Iterator[None]:
    """Make `event` Faust's current event: a table write goes to its changelog partition.

    The drain loop processes a batch outside the agent that received it, so the batch's last
    event is set by hand (every event of a batch is on the same partition).
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def recovery_done(app: faust.App) -> bool:
    """Whether table recovery has completed and no later recovery is under way."""
    recovery = _recovery(app)
    # `completed` stays set through later recoveries, hence `in_recovery` as well
    return bool(recovery.completed.is_set()) and not recovery.in_recovery


def recovery_ever_completed(app: faust.App) -> bool:
    """Whether the first table recovery has completed (health reports it)."""
    return bool(_recovery(app).completed.is_set())


def _recovery(app: faust.App) -> Any:
    """Table recovery's service (on Faust's TableManager, not its TableManagerT)."""
    tables: Any = app.tables
    return tables.recovery


def active_partitions(app: faust.App, topics: Any) -> set[int]:
    """The partitions of `topics` the assignor gave this worker to process (not standbys)."""
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic in topics}


def _create_worker_consumer(self: Any, transport: Any) -> Any:
    consumer = _ORIGINAL(self, transport)
    consumer._fetch_max_wait_ms = _fetch_max_wait_ms
    return consumer


def set_fetch_max_wait(milliseconds: int) -> None:
    """Make every Faust group consumer created from now on wait at most this long per fetch."""
    global _fetch_max_wait_ms
    _fetch_max_wait_ms = milliseconds
    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]


async def served_end_offsets(
    probe: aiokafka.AIOKafkaConsumer,
    reported: Mapping[Any, int],
    *,
    timeout: float = PROBE_TIMEOUT_SECONDS,
) -> dict[Any, int]:
    """The end offset of each partition: after the last record the broker serves, at least.

    `probe` is a started consumer outside any group (its assignment and positions are replaced).
    A partition whose last reported record is not served within `timeout` keeps its reported end.
    """
    ends = dict(reported)
    # aiokafka's own TopicPartition (Faust passes its TP, which aiokafka's getmany refuses)
    probed = {TopicPartition(tp.topic, tp.partition): tp for tp, end in reported.items() if end}
    if not probed:
        return ends
    probe.assign(list(probed))
    for tp, key in probed.items():
        probe.seek(tp, reported[key] - 1)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    waiting = set(probed)
    while waiting and (left := deadline - loop.time()) > 0:
        batch = await probe.getmany(*waiting, timeout_ms=max(1, int(left * 1000)))
        for tp, records in batch.items():
            if records:
                key = probed[tp]
                ends[key] = max(ends[key], records[-1].offset + 1)
                waiting.discard(tp)
    if waiting:
        log.warning(
            "end offsets of %s not confirmed by a fetch within %.0fs; recovery reads up to the"
            " broker's answer",
            sorted(f"{tp.topic}/{tp.partition}" for tp in waiting),
            timeout,
        )
    return ends


def _probe_consumer(thread: Any) -> aiokafka.AIOKafkaConsumer:
    """A consumer outside the group, connected as Faust's own consumer is."""
    conf = thread.app.conf
    transport = thread.transport
    return aiokafka.AIOKafkaConsumer(
        client_id=conf.broker_client_id,
        bootstrap_servers=faust_aiokafka.server_list(transport.url, transport.default_port),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=_fetch_max_wait_ms,
        request_timeout_ms=int(conf.broker_request_timeout * 1000.0),
        check_crcs=conf.broker_check_crcs,
        **faust_aiokafka.credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context),
    )


async def _highwaters(self: Any, partitions: list[TP]) -> Mapping[TP, int]:
    """Faust's end offsets for table recovery, corrected to what the broker actually serves."""
    reported = await _ORIGINAL_HIGHWATERS(self, partitions)
    if self.consumer.in_transaction or not any(reported.values()):
        return reported  # last stable offsets (not from ListOffsets), or nothing to check
    probe = _probe_consumer(self)
    await probe.start()
    try:
        return await served_end_offsets(probe, reported)
    finally:
        await _stop(probe)


async def _stop(consumer: aiokafka.AIOKafkaConsumer) -> None:
    """Stop a consumer that may not have yielded to the loop since it started.

    aiokafka 0.14 cancels a helper task on stop and awaits it: cancelled before it ever ran, the
    task re-raises CancelledError into stop(), which then leaves its connections open.
    """
    await asyncio.sleep(0)  # the helper task takes its first step
    await consumer.stop()


def correct_recovery_end_offsets() -> None:
    """Make table recovery read every changelog partition to its real end (see module doc)."""
    faust_aiokafka.AIOKafkaConsumerThread._highwaters = _highwaters  # type: ignore[method-assign]


def without_faust_pages(app: faust.App) -> None:
    """Serve none of Faust's own pages: the index at `/` answers whoever asks.

    Its settings turn off the others (`web_tables_enabled` and the like, in `build_faust_app`);
    the index has no setting, so it is taken off the list of blueprints before the server starts.
    """
    manager: Any = app.web.blueprints
    manager._enabled = [
        (prefix, bp) for prefix, bp in manager._enabled if "faust.web.apps" not in str(bp)
    ]
