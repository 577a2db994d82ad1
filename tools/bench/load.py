"""The bench's load: a backlog of a synthetic portfolio, and typical customer states to seed.

The events come from the soak's mix (tools/soak/mix.py): a fixed population of on-time,
occasionally late, habitually late and delinquent payers in several currencies, each billed about
once a month (`INVOICE_INTERVAL_DAYS`), whose invoices are paid on time, late, partly or never,
with the platform's due-date notices and about 1 % invalid messages. The first `count` events in
business time form the backlog; the same mix, iterated further, feeds the latency phase.

The states are made by the pure domain, the way `arpulse simulate` runs it: a sample of customers
lives through a typical history (`STATE_HISTORY_DAYS` of the same mix), every one is advanced to
the end, and each state is encoded as the worker stores it (with its exposure and next wake-up).
Clones of those states under new customer ids then fill a changelog with many customers without
pushing millions of events through a worker.

Pure: no I/O, no clock reads; the same arguments give the same bytes.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from processor.core.state_codec import FORMAT, Wake, encode_state
from processor.domain.calendar import customer_calendar
from processor.domain.policy import Policy
from processor.domain.schedule import next_wake
from processor.domain.segmentation import exposure
from processor.domain.state import CustomerState
from processor.simulation.simulate import simulate
from tools.soak.mix import EventMix, Outgoing, expected_events_per_invoice

START = datetime(2026, 1, 5, tzinfo=UTC)  # business time of the backlog's start (a Monday)
INVOICE_INTERVAL_DAYS = 30.0  # each customer is billed about monthly
INVALID_SHARE = 0.01  # bad events: they end on the dead-letter topic
STATE_HISTORY_DAYS = 540  # a year and a half: histories fill for about a year (retention)


def events_per_invoice() -> float:
    """Messages one invoice causes on average (issue, payments, notice, invalid companions)."""
    return expected_events_per_invoice(INVALID_SHARE)


def backlog_size(customers: int, invoices: int) -> int:
    """Events in a backlog holding about `invoices` invoices per customer."""
    return max(1, round(customers * invoices * events_per_invoice()))


def events_per_day(customers: int) -> float:
    """Messages a population of `customers` produces per business day, once in steady state."""
    return customers * events_per_invoice() / INVOICE_INTERVAL_DAYS


def portfolio_mix(customers: int, seed: int) -> EventMix:
    """The mix of `customers` billed monthly from START (one business day = one mix 'second')."""
    return EventMix(
        customers=customers,
        rate=events_per_day(customers),
        days_per_second=1.0,
        start=START,
        seed=seed,
        invalid_share=INVALID_SHARE,
    )


def take(mix: EventMix, count: int) -> list[Outgoing]:
    """The next `count` events of the mix, in business-time order."""
    return list(itertools.islice(mix, count))


def typical_states(
    *, sample: int, seed: int, policy: Policy, days: int = STATE_HISTORY_DAYS
) -> tuple[list[CustomerState], datetime]:
    """`sample` customers' states after `days` of the mix, all advanced to its end; and the end.

    Invalid events are part of the mix and end as dead letters here, as in the worker.
    """
    end = START + timedelta(days=days)
    lines = []
    for event in portfolio_mix(sample, seed):
        if event.at >= end:
            break
        lines.append(event.value)
    result = simulate(lines, policy, until=end)
    return [result.states[key] for key in sorted(result.states)], end


def encoded(state: CustomerState, policy: Policy) -> bytes:
    """The table value the worker stores for `state` (with its exposure and next wake-up)."""
    wake = Wake(at=next_wake(state, policy), policy_version=policy.version)
    contribution = exposure(state, customer_calendar(state.profile, policy))
    return encode_state(state, contribution=contribution, wake=wake)


def clone_id(n: int) -> str:
    """The customer id of the n-th clone (zero-based)."""
    return f"bench-cust-{n + 1:07d}"


def clones(states: list[CustomerState], count: int, policy: Policy) -> Iterator[tuple[str, bytes]]:
    """`count` (customer id, encoded state) pairs: the sample's states in turn under new ids.

    Each sample state is encoded once; a clone is that encoding with its leading customer id
    replaced (the only place the codec writes it), which is what encoding the clone would give.
    """
    if not states:
        raise ValueError("no states to clone")
    encodings = [encoded(state, policy) for state in states]
    heads = [_id_head(state.customer_id) for state in states]
    for n in range(count):
        customer_id = clone_id(n)
        raw, head = encodings[n % len(states)], heads[n % len(states)]
        if not raw.startswith(head):  # a codec that writes the id elsewhere: encode it whole
            state = replace(states[n % len(states)], customer_id=customer_id)
            yield customer_id, encoded(state, policy)
            continue
        yield customer_id, _id_head(customer_id) + raw[len(head) :]


def _id_head(customer_id: str) -> bytes:
    """How an encoded state starts, up to and including its customer id."""
    return b'{"v":%d,"id":' % FORMAT + json.dumps(customer_id).encode()
