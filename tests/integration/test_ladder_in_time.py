"""The ladder in time on the real broker, with the worker on a simulated clock (3 days a second).

One run feeds a history as the platform would emit it (each event when the simulated clock reaches
its `occurred_at`), restarts the worker in the middle, and lets the clock run on. The tests then
read that run: a delinquent customer walks the whole ladder with nobody sending an event, an on-time
customer gets nothing, the restart neither skipped nor repeated a step, and `arpulse simulate` over
the same events decides exactly what the worker decided.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from processor.core.clock import SimulatedClock
from processor.core.policy_file import load_policy
from processor.demo.devstack import DevStack
from processor.demo.portfolio import portfolio
from processor.simulation.simulate import Simulation, simulate
from schemas import topics
from tests.support import factories as f
from tests.support.harness import (
    Harness,
    Received,
    WorkerProcess,
    input_env,
    own_inputs,
    unique,
)

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
SPEED = 3.0  # simulated days per real second
HORIZON = START + timedelta(days=120)
RESTART_AT = START + timedelta(days=50)
WALKER_DUE = (START + timedelta(days=12)).date()  # a Saturday: payable on Monday
WALKER_PAYABLE = WALKER_DUE + timedelta(days=2)
WALKER_LADDER = [  # (rule, days after the payable-by date it must be decided on)
    ("medium.pre3.reminder", -3),
    ("medium.d1.reminder", 2),  # no due notice ever comes: the clock flags it after the grace
    ("medium.d7.call", 7),
    ("medium.d15.reminder", 15),
    # Three contacts ignored, nothing paid since: a strategic delinquency, on the high ladder
    ("high.d31.call", 31),
    ("high.d45.reminder", 45),
    ("high.d61.final_notice", 61),
    ("high.d61.payment_plan", 61),
    ("high.d91.credit_hold", 91),
    ("high.d105.agency", 105),
]


@dataclass
class Run:
    """What one simulated-clock run produced, and what the offline simulation says."""

    walker: str
    on_time: str
    customers: set[str]
    actions: list[Received]
    flags: list[Received]
    restarted_at: datetime
    simulation: Simulation


def stamp(day: date, hour: int = 8) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


def paid_history(customer: str, *, days_late: int) -> list[tuple[str, dict[str, Any]]]:
    """Three invoices from last year, each paid `days_late` days after its due date."""
    events = []
    for n in range(3):
        issued = (START - timedelta(days=200 - 30 * n)).date()
        due = issued + timedelta(days=30)
        paid = due + timedelta(days=days_late)
        invoice_id = f"{customer}-H{n}"
        events.append(
            (
                topics.INVOICE_ISSUED,
                f.invoice(
                    customer,
                    invoice_id,
                    issued_on=issued,
                    due_date=due,
                    event_id=f"{invoice_id}-issued",
                    occurred_at=stamp(issued),
                ),
            )
        )
        events.append(
            (
                topics.PAYMENT_RECEIVED,
                f.payment(
                    customer,
                    f"{invoice_id}-P",
                    amount="1000.00",
                    received_on=paid,
                    invoice_id=invoice_id,
                    event_id=f"{invoice_id}-paid",
                    occurred_at=stamp(paid),
                ),
            )
        )
    return events


def scenario(prefix: str) -> tuple[str, str, list[tuple[str, dict[str, Any]]]]:
    """A walker (habitually late, then never pays), an on-time payer, and a small portfolio."""
    walker, on_time = f"{prefix}-walker", f"{prefix}-ontime"
    events = paid_history(walker, days_late=25) + paid_history(on_time, days_late=0)
    issued = (START + timedelta(days=2)).date()
    events.append(
        (
            topics.INVOICE_ISSUED,
            f.invoice(
                walker,
                "W-1",
                amount="8000.00",
                issued_on=issued,
                due_date=WALKER_DUE,
                event_id="W-1-issued",
                occurred_at=stamp(issued),
            ),
        )
    )
    on_time_due = issued + timedelta(days=20)
    events.append(
        (
            topics.INVOICE_ISSUED,
            f.invoice(
                on_time,
                "O-1",
                issued_on=issued,
                due_date=on_time_due,
                event_id="O-1-issued",
                occurred_at=stamp(issued),
            ),
        )
    )
    paid = on_time_due - timedelta(days=4)
    events.append(
        (
            topics.PAYMENT_RECEIVED,
            f.payment(
                on_time,
                "O-1-P",
                amount="1000.00",
                received_on=paid,
                invoice_id="O-1",
                event_id="O-1-paid",
                occurred_at=stamp(paid),
            ),
        )
    )
    for event in portfolio(customers=8, today=(START + timedelta(days=90)).date(), invoices=4):
        value = {**event.value, "customer_id": f"{prefix}-{event.value['customer_id']}"}
        events.append((event.topic, value))
    events.sort(key=lambda item: item[1]["occurred_at"])
    return walker, on_time, events


@pytest_asyncio.fixture(scope="module")
async def run(stack: DevStack, workdir: Path, harness: Harness) -> AsyncIterator[Run]:
    app_id = unique("arpulse-ladder")
    prefix = unique("lad")
    walker, on_time, events = scenario(prefix)
    inputs = own_inputs(app_id)
    anchor = datetime.now(UTC) + timedelta(seconds=12)  # the clock reads START then
    clock = SimulatedClock(start=START, days_per_second=SPEED, anchor=anchor)

    def worker() -> WorkerProcess:
        return WorkerProcess(
            kafka=stack.kafka_bootstrap,
            redis_url=stack.redis_url,
            workdir=workdir,
            app_id=app_id,
            **input_env(inputs),
            ARPULSE_CLOCK="simulated",
            ARPULSE_SIMULATED_START=START.isoformat(),
            ARPULSE_SIMULATED_DAYS_PER_SECOND=str(SPEED),
            ARPULSE_SIMULATED_ANCHOR=anchor.isoformat(),
            ARPULSE_SCHEDULER_INTERVAL_MS="50",
            ARPULSE_FETCH_MAX_WAIT_MS="20",
        )

    async def feed(batch: list[tuple[str, dict[str, Any]]]) -> None:
        for topic, event in batch:
            moment = datetime.fromisoformat(event["occurred_at"])
            wait = clock.real_seconds_until(moment)
            if wait > 0:
                await asyncio.sleep(wait)
            await harness.send(inputs[topic], event)

    current = worker().start()
    try:
        current.wait_ready()
        await feed(events)
        restart_wait = clock.real_seconds_until(RESTART_AT)
        if restart_wait > 0:
            await asyncio.sleep(restart_wait)
        restarted_at = clock.now()
        assert current.stop() == 0, current.log_tail()
        current = worker().start()
        await asyncio.to_thread(current.wait_ready)
        await harness.wait_for(
            topics.COLLECTION_ACTIONS,
            customer_id=walker,
            rule_id="high.d105.agency",
            timeout=clock.real_seconds_until(HORIZON) + 30,
        )
        await asyncio.sleep(max(0.0, clock.real_seconds_until(HORIZON)) + 2.0)
    finally:
        current.stop()
    customers = {event["customer_id"] for _, event in events}

    def ours(topic: str) -> list[Received]:
        return [
            m
            for m in harness.outputs.messages
            if m.topic == topic
            and m.value["customer_id"] in customers
            and datetime.fromisoformat(m.value["occurred_at"]) <= HORIZON
        ]

    lines = [json.dumps(event).encode() for _, event in events]
    yield Run(
        walker=walker,
        on_time=on_time,
        customers=customers,
        # Requested actions only (withdrawals and commitment statuses share the topic).
        actions=[
            m
            for m in ours(topics.COLLECTION_ACTIONS)
            if m.value["event_type"] == "collection.action_requested"
        ],
        flags=ours(topics.LATE_PAYMENT_FLAGS),
        restarted_at=restarted_at,
        simulation=simulate(lines, load_policy(None), until=HORIZON),
    )


def walker_steps(run: Run) -> list[tuple[str, date]]:
    return [
        (m.value["rule_id"], datetime.fromisoformat(m.value["occurred_at"]).date())
        for m in sorted(run.actions, key=lambda m: (m.value["occurred_at"], m.value["rule_id"]))
        if m.value["customer_id"] == run.walker and "W-1" in m.value["invoice_ids"]
    ]


def test_a_delinquent_customer_walks_the_whole_ladder_with_no_event_sent(run: Run) -> None:
    expected = [(rule, WALKER_PAYABLE + timedelta(days=offset)) for rule, offset in WALKER_LADDER]
    assert walker_steps(run) == expected
    [flag] = [m.value for m in run.flags if m.value["invoice_id"] == "W-1"]
    assert flag["detected_by"] == "clock" and flag["caused_by"].startswith("clock:")
    agency = next(
        m.value
        for m in run.actions
        if m.value["customer_id"] == run.walker and m.value["rule_id"] == "high.d105.agency"
    )
    assert agency["stage"] == "late_delinquency" and agency["amount_outstanding"] == "8000.00"
    assert "105 days past due" in agency["reason"] and "habitually late" in agency["reason"]
    assert agency["segment"]["delinquency_type"] == "strategic"
    assert "strategic delinquency" in agency["reason"]


def test_an_on_time_customer_receives_nothing_its_segment_does_not_allow(run: Run) -> None:
    assert [m.value["rule_id"] for m in run.actions if m.value["customer_id"] == run.on_time] == []
    assert [m for m in run.flags if m.value["customer_id"] == run.on_time] == []


def test_a_restart_mid_ladder_neither_skips_nor_repeats_a_step(run: Run) -> None:
    days = [day for _, day in walker_steps(run)]
    assert days[0] < run.restarted_at.date() < days[-1], "the restart was not mid-ladder"
    repeats = {k: n for k, n in Counter(m.value["event_id"] for m in run.actions).items() if n > 1}
    assert repeats == {}, "a clean restart re-sent actions"
    assert [rule for rule, _ in walker_steps(run)] == [rule for rule, _ in WALKER_LADDER]


def test_the_worker_decides_what_simulate_decides_on_the_same_events(run: Run) -> None:
    simulated_actions = Counter(
        (a.customer_id, a.action.event_id, a.action.rule_id) for a in run.simulation.actions
    )
    worker_actions = Counter(
        (m.value["customer_id"], m.value["event_id"], m.value["rule_id"]) for m in run.actions
    )
    assert len(simulated_actions) > 30
    assert worker_actions == simulated_actions
    assert Counter(m.value["event_id"] for m in run.flags) == Counter(
        s.flag.event_id for s in run.simulation.flags
    )
