"""A whole portfolio played on a simulated clock that stops, and the reference it must end in.

The reliability tests (crashes, scale-out) feed a generated portfolio as the platform would emit
it, each event when the simulated clock reaches its `occurred_at`, while they kill, add and stop
workers. The clock stands still at `end`, so once the workers have caught up every customer is
decided up to exactly that instant, and `arpulse simulate --until end` over the same events says
what the states and outputs must be: the uninterrupted run, computed without a broker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from processor.core.clock import SimulatedClock
from processor.core.policy_file import load_policy
from processor.core.settings import Settings
from processor.core.state_codec import decode_state
from processor.demo.devstack import DevStack
from processor.demo.portfolio import portfolio
from processor.domain.state import CustomerState
from processor.serving.rebuild import read_changelog
from processor.simulation.simulate import Simulation, simulate
from schemas import topics
from tests.support.harness import Harness, Received, WorkerProcess, input_env


@dataclass(frozen=True)
class Timeline:
    """A simulated clock from `start` to `end` at `speed` days a second, read at `anchor`."""

    start: datetime
    end: datetime
    speed: float
    anchor: datetime

    @classmethod
    def starting_in(cls, seconds: float, *, start: datetime, days: int, speed: float) -> Timeline:
        """A timeline whose clock reads `start` `seconds` from now (time for workers to join)."""
        anchor = datetime.now(UTC) + timedelta(seconds=seconds)
        return cls(start=start, end=start + timedelta(days=days), speed=speed, anchor=anchor)

    @property
    def clock(self) -> SimulatedClock:
        """The same clock the workers read."""
        return SimulatedClock(
            start=self.start, days_per_second=self.speed, anchor=self.anchor, end=self.end
        )

    def env(self) -> dict[str, str]:
        """Worker settings that put it on this timeline."""
        return {
            "ARPULSE_CLOCK": "simulated",
            "ARPULSE_SIMULATED_START": self.start.isoformat(),
            "ARPULSE_SIMULATED_DAYS_PER_SECOND": str(self.speed),
            "ARPULSE_SIMULATED_ANCHOR": self.anchor.isoformat(),
            "ARPULSE_SIMULATED_END": self.end.isoformat(),
            "ARPULSE_SCHEDULER_INTERVAL_MS": "50",
            "ARPULSE_FETCH_MAX_WAIT_MS": "20",
        }

    def real_seconds_left(self) -> float:
        """Real seconds until the clock stops."""
        return max(0.0, self.clock.real_seconds_until(self.end))


Event = tuple[str, dict[str, Any]]


def worker_on(
    timeline: Timeline,
    *,
    stack: DevStack,
    workdir: Path,
    app_id: str,
    inputs: dict[str, str],
    **env: str,
) -> WorkerProcess:
    """A worker (not started) of `app_id`, on the timeline's clock, reading the test's inputs."""
    return WorkerProcess(
        kafka=stack.kafka_bootstrap,
        redis_url=stack.redis_url,
        workdir=workdir,
        app_id=app_id,
        **input_env(inputs),
        **timeline.env(),
        **env,
    )


# One line per faulty run (repeats counted), printed at the end of the test session.
REPORTS: list[str] = []


def history(prefix: str, *, customers: int, today: date, invoices: int) -> list[Event]:
    """A generated portfolio (late and on-time payers), its customers renamed under `prefix`."""
    events: list[Event] = []
    for event in portfolio(customers=customers, today=today, invoices=invoices):
        value = {**event.value, "customer_id": f"{prefix}-{event.value['customer_id']}"}
        events.append((event.topic, value))
    events.sort(key=lambda item: item[1]["occurred_at"])
    return events


async def feed(
    harness: Harness, inputs: dict[str, str], events: list[Event], clock: SimulatedClock
) -> None:
    """Produce each event when the clock reaches its `occurred_at` (older ones at once)."""
    for topic, event in events:
        wait = clock.real_seconds_until(datetime.fromisoformat(event["occurred_at"]))
        if wait > 0:
            await asyncio.sleep(wait)
        await harness.send(inputs[topic], event)


def reference(events: list[Event], end: datetime) -> Simulation:
    """What an uninterrupted worker decides over the events, up to `end`."""
    lines = [json.dumps(event).encode() for _, event in events]
    return simulate(lines, load_policy(None), until=end)


async def stored_states(kafka: str, app_id: str) -> dict[str, CustomerState]:
    """Every customer's state as the workers left it in the table's changelog."""
    settings = Settings(app_id=app_id, kafka_broker=kafka)  # type: ignore[call-arg]
    raw = await read_changelog(settings)
    return {key.decode(): decode_state(value) for key, value in raw.items()}


def outputs_of(harness: Harness, topic: str, customers: set[str]) -> list[Received]:
    """Messages on an output topic about the given customers."""
    return [
        m
        for m in harness.outputs.messages
        if m.topic == topic and m.value["customer_id"] in customers
    ]


async def wait_until_quiet(
    harness: Harness, workers: list[WorkerProcess], timeline: Timeline, *, quiet: float = 3.0
) -> None:
    """Wait for the clock to stop, every worker to be ready and no output for `quiet` seconds."""
    await asyncio.sleep(timeline.real_seconds_left())
    deadline = asyncio.get_running_loop().time() + 90
    seen = -1
    while asyncio.get_running_loop().time() < deadline:
        for worker in workers:
            await asyncio.to_thread(worker.wait_ready, 60)
        if len(harness.outputs.messages) == seen:
            return
        seen = len(harness.outputs.messages)
        await asyncio.sleep(quiet)
    raise AssertionError("the workers never went quiet")


@dataclass
class Comparison:
    """How a faulty run's outputs and states compare with the uninterrupted reference."""

    missing_actions: set[str]
    extra_actions: set[str]
    repeated_actions: dict[str, int]
    changed_repeats: list[str]
    missing_flags: set[str]
    extra_flags: set[str]
    different_states: list[str]
    customers: int
    actions: int
    first_difference: str = ""

    def report(self) -> str:
        """One line for the test log."""
        repeats = sum(n - 1 for n in self.repeated_actions.values())
        return (
            f"{self.customers} customers, {self.actions} distinct actions; "
            f"{len(self.repeated_actions)} actions re-sent ({repeats} repeats, all with the same "
            f"event_id); missing {len(self.missing_actions)}, extra {len(self.extra_actions)}, "
            f"states differing {len(self.different_states)}"
        )


def compare(
    harness: Harness,
    events: list[Event],
    states: dict[str, CustomerState],
    expected: Simulation,
) -> Comparison:
    """The faulty run against the reference: action and flag ids, repeats, final states."""
    customers = {event["customer_id"] for _, event in events}
    actions = outputs_of(harness, topics.COLLECTION_ACTIONS, customers)
    flags = outputs_of(harness, topics.LATE_PAYMENT_FLAGS, customers)
    got = Counter(m.value["event_id"] for m in actions)
    want = {a.action.event_id for a in expected.actions}
    want |= {o.output.event_id for o in expected.others}
    first: dict[str, dict[str, Any]] = {}
    changed = []
    for message in actions:
        earlier = first.setdefault(message.value["event_id"], message.value)
        if earlier != message.value:
            changed.append(message.value["event_id"])
    got_flags = {m.value["event_id"] for m in flags}
    want_flags = {f.flag.event_id for f in expected.flags}
    different = sorted(c for c in customers if states.get(c) != expected.states.get(c))
    first_difference = ""
    if different:
        first_difference = describe(
            different[0], states.get(different[0]), expected.states.get(different[0])
        )
    return Comparison(
        missing_actions=want - set(got),
        extra_actions=set(got) - want,
        repeated_actions={k: n for k, n in got.items() if n > 1},
        changed_repeats=changed,
        missing_flags=want_flags - got_flags,
        extra_flags=got_flags - want_flags,
        different_states=different,
        customers=len(customers),
        actions=len(want),
        first_difference=first_difference,
    )


def describe(customer: str, got: object, want: object) -> str:
    """Which fields of a customer's state differ from the reference (for failure messages)."""
    if got is None or want is None:
        return f"{customer}: stored {got is not None}, expected {want is not None}"
    return f"{customer}: " + "; ".join(_differences("", got, want))


def _differences(path: str, got: object, want: object) -> list[str]:
    """Paths to the differing leaves of two states (dataclasses compared field by field)."""
    if type(got) is type(want) and dataclasses.is_dataclass(got):
        found: list[str] = []
        for name in (f.name for f in dataclasses.fields(got)):
            a, b = getattr(got, name), getattr(want, name)
            if a != b:
                found += _differences(f"{path}{name}.", a, b)
        return found
    return [f"{path.rstrip('.')}: stored {got!r} != expected {want!r}"]
