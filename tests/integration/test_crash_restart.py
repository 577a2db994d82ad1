"""kill -9 mid-stream, several times at random points: nothing lost, nothing decided twice anew.

A portfolio plays on a simulated clock while the worker is killed with SIGKILL three times and
restarted: each time while it is publishing (catching up on what arrived while it was down), a
seeded random fraction of a second after its first new output.
When the clock has stopped and the worker has caught up, the states in its changelog must equal
those of an uninterrupted run over the same events (`arpulse simulate`), every action and flag the
uninterrupted run decides must have been published, none it does not, and an action published
twice (at-least-once) must carry the same event_id and content both times.
"""

from __future__ import annotations

import asyncio
import random
import signal
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

pytestmark = pytest.mark.integration

START = datetime(2026, 5, 4, tzinfo=UTC)  # a Monday
KILLS = 3


@pytest_asyncio.fixture(
    scope="module",
    params=["memory", pytest.param("rocksdb", marks=pytest.mark.rocksdb_reliability)],
)
async def crashed(
    stack: DevStack, workdir: Path, harness: Harness, request: pytest.FixtureRequest
) -> AsyncIterator[Comparison]:
    """Killed three times mid-publish; on RocksDB each restart reopens the same data dir."""
    store = request.param
    app_id = unique(f"arpulse-crash-{store}")
    inputs = own_inputs(app_id)
    events = history(
        unique("crash"), customers=40, today=(START + timedelta(days=40)).date(), invoices=5
    )
    timeline = Timeline.starting_in(12, start=START, days=60, speed=2.0)
    rng = random.Random(20261123)

    def worker() -> WorkerProcess:
        return worker_on(
            timeline,
            stack=stack,
            workdir=workdir,
            app_id=app_id,
            inputs=inputs,
            ARPULSE_SESSION_TIMEOUT_SECONDS="4",
            ARPULSE_TABLE_STORE=store,
            ARPULSE_DATA_DIR=str(workdir / f"{app_id}-data"),
        )

    current = worker().start()
    try:
        await asyncio.to_thread(current.wait_ready)
        feeding = asyncio.create_task(feed(harness, inputs, events, timeline.clock))
        for _ in range(KILLS):
            await busy(harness)
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            current.stop(signal.SIGKILL)
            current = worker().start()
            await asyncio.to_thread(current.wait_ready)
        await feeding
        await wait_until_quiet(harness, [current], timeline)
    finally:
        current.stop()
    states = await stored_states(stack.kafka_bootstrap, app_id)
    result = compare(harness, events, states, reference(events, timeline.end))
    REPORTS.append(f"kill -9 x{KILLS} ({store} store): {result.report()}")
    yield result


async def busy(harness: Harness, timeout: float = 30.0) -> None:
    """Return as soon as a new output appears: the worker is in the middle of publishing."""
    seen = len(harness.outputs.messages)
    deadline = asyncio.get_running_loop().time() + timeout
    while len(harness.outputs.messages) == seen:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the worker published nothing to be killed in the middle of")
        await asyncio.sleep(0.005)


def test_after_kill_9_restarts_every_state_equals_the_uninterrupted_run(
    crashed: Comparison,
) -> None:
    assert crashed.customers > 30
    assert crashed.different_states == [], crashed.first_difference


def test_after_kill_9_restarts_no_action_or_flag_is_lost_or_invented(crashed: Comparison) -> None:
    assert crashed.actions > 30
    assert crashed.missing_actions == set() and crashed.extra_actions == set()
    assert crashed.missing_flags == set() and crashed.extra_flags == set()


def test_an_action_re_sent_after_a_crash_carries_the_same_event_id_and_content(
    crashed: Comparison,
) -> None:
    assert crashed.changed_repeats == [], crashed.report()
