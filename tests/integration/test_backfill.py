"""A backfill: a generated history (every contract 1.1 fact included) published as fast as the
client can, customer after customer as a go-live export does (each customer's events in business
order), so that many events of many customers on different topics share a record timestamp.
The worker must publish exactly the late flags and actions that `simulate` gives on the same
history in business order (the clock is stopped at the end, so both decide up to one instant).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from processor.demo.devstack import DevStack
from schemas import topics
from tests.support.harness import Harness, own_inputs, unique
from tests.support.timeline import (
    Timeline,
    compare,
    history,
    outputs_of,
    reference,
    stored_states,
    wait_until_quiet,
    worker_on,
)

pytestmark = pytest.mark.integration

END = datetime(2026, 9, 1, tzinfo=UTC)


async def test_a_backfill_published_at_full_speed_decides_as_business_order(
    stack: DevStack, workdir: Path, harness: Harness
) -> None:
    app_id = unique("arpulse-backfill")
    inputs = own_inputs(app_id)
    events = history(unique("fill"), customers=120, today=END.date(), invoices=6)
    kinds = Counter(event["event_type"] for _, event in events)
    assert {"credit_note.issued", "dispute.opened", "payment.reversed"} <= set(kinds)
    # The clock stands still just after the last event: the worker replays a backlog.
    timeline = Timeline.starting_in(0, start=END + timedelta(days=1), days=0, speed=1.0)
    worker = worker_on(timeline, stack=stack, workdir=workdir, app_id=app_id, inputs=inputs)
    expected = reference(events, timeline.end)
    want = {a.action.event_id for a in expected.actions} | {f.flag.event_id for f in expected.flags}
    customers = {event["customer_id"] for _, event in events}
    worker.start()
    try:
        worker.wait_ready()
        by_customer = sorted(events, key=lambda item: item[1]["customer_id"])  # stable
        await harness.send_all([(inputs[topic], event) for topic, event in by_customer])
        await wait_until_quiet(harness, [worker], timeline)
        # A slow machine can pause longer than the quiet period (wake-ups are deferred while
        # the partition catches up): wait, up to a minute, for what the reference publishes.
        for _ in range(30):
            got = {
                m.value["event_id"]
                for topic in (topics.COLLECTION_ACTIONS, topics.LATE_PAYMENT_FLAGS)
                for m in outputs_of(harness, topic, customers)
            }
            if want <= got:
                break
            await asyncio.sleep(2)
        await harness.settle()
    finally:
        worker.stop()
    states = await stored_states(stack.kafka_bootstrap, app_id)
    result = compare(harness, events, states, expected)
    clock_flags = [
        m
        for m in outputs_of(harness, topics.LATE_PAYMENT_FLAGS, customers)
        if m.value["detected_by"] == "clock"
    ]
    want_clock = [f for f in expected.flags if f.flag.detected_by == "clock"]
    assert (result.missing_flags, result.extra_flags) == (set(), set())
    assert len({m.value["event_id"] for m in clock_flags}) == len(want_clock)
    assert (result.missing_actions, result.extra_actions) == (set(), set())
    assert result.different_states == [], result.first_difference
    assert result.actions > 0 and len(expected.flags) > 0
