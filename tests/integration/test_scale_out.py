"""Scale-out while events flow: one worker, then two, then three, then one leaves.

A portfolio plays on a simulated clock. A second and a third worker join the group part-way, and
later the second one is stopped, so partitions move three times while customers are mid-ladder.
State follows its partition (changelog recovery, with standby replicas on the other workers). When
the clock has stopped and the workers have caught up, the states in the changelog and the set of
published action and flag ids must equal an uninterrupted single-worker run (`arpulse simulate`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from processor.demo.devstack import DevStack
from tests.support.harness import Harness, WorkerProcess, own_inputs, unique
from tests.support.timeline import (
    REPORTS,
    Comparison,
    Timeline,
    compare,
    feed,
    history,
    reference,
    stored_states,
    wait_until_quiet,
    worker_on,
)

pytestmark = [pytest.mark.integration, pytest.mark.scale_out]

START = datetime(2026, 7, 6, tzinfo=UTC)  # a Monday
DAYS = 60
SPEED = 2.0


@pytest_asyncio.fixture(
    scope="module",
    params=["memory", pytest.param("rocksdb", marks=pytest.mark.rocksdb_reliability)],
)
async def scaled(
    stack: DevStack, workdir: Path, harness: Harness, request: pytest.FixtureRequest
) -> AsyncIterator[Comparison]:
    """1 -> 2 -> 3 -> 2 workers, each with its own data dir, on either table store."""
    store = request.param
    app_id = unique(f"arpulse-scale-{store}")
    inputs = own_inputs(app_id)
    events = history(
        unique("scale"), customers=40, today=(START + timedelta(days=45)).date(), invoices=5
    )
    timeline = Timeline.starting_in(12, start=START, days=DAYS, speed=SPEED)
    feed_seconds = DAYS / SPEED

    def worker() -> WorkerProcess:
        return worker_on(
            timeline,
            stack=stack,
            workdir=workdir,
            app_id=app_id,
            inputs=inputs,
            ARPULSE_TABLE_STORE=store,
        )

    first = worker().start()
    workers = [first]
    try:
        await asyncio.to_thread(first.wait_ready)
        feeding = asyncio.create_task(feed(harness, inputs, events, timeline.clock))
        await asyncio.sleep(timeline.clock.real_seconds_until(START) + feed_seconds * 0.15)
        second = worker().start()
        workers.append(second)
        await asyncio.sleep(feed_seconds * 0.25)
        third = worker().start()
        workers.append(third)
        await asyncio.sleep(feed_seconds * 0.25)
        # in a thread, as wait_ready is: a worker's clean stop takes seconds (more when it lands
        # mid-rebalance), and blocking the loop would hold the feed back, so events would reach
        # the broker simulated days after their occurred_at
        assert await asyncio.to_thread(second.stop) == 0, second.log_tail()
        workers.remove(second)
        await feeding
        await wait_until_quiet(harness, workers, timeline)
    finally:
        for running in workers:
            running.stop()
    states = await stored_states(stack.kafka_bootstrap, app_id)
    result = compare(harness, events, states, reference(events, timeline.end))
    REPORTS.append(f"scale 1 -> 2 -> 3 -> 2 workers ({store} store): {result.report()}")
    yield result


def test_after_scaling_out_and_in_every_state_equals_a_single_worker_run(
    scaled: Comparison,
) -> None:
    assert scaled.customers > 30
    assert scaled.different_states == [], scaled.first_difference


def test_after_scaling_out_and_in_the_action_and_flag_ids_equal_a_single_worker_run(
    scaled: Comparison,
) -> None:
    assert scaled.actions > 30
    assert scaled.missing_actions == set() and scaled.extra_actions == set()
    assert scaled.missing_flags == set() and scaled.extra_flags == set()
    assert scaled.changed_repeats == [], scaled.report()
