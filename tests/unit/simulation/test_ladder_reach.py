"""Every rung of the default ladder fires on a generated portfolio, and the documented ladder is
the policy's (issue: aging points alone once made 8 of the 29 rungs unreachable)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from processor.core.ladder_table import END, START, documented
from processor.core.policy_file import load_policy
from processor.demo.portfolio import portfolio
from processor.domain.policy import RISK_BUCKETS, Policy
from processor.simulation.simulate import Simulation, simulate

ROOT = Path(__file__).resolve().parents[3]
TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(None)


@pytest.fixture(scope="module")
def simulated(policy: Policy) -> Simulation:
    events = portfolio(customers=700, today=TODAY, seed=11)
    lines = [json.dumps(e.value).encode() for e in events]
    return simulate(lines, policy, until=datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC))


def test_every_rung_of_every_ladder_fires_on_a_generated_portfolio(
    policy: Policy, simulated: Simulation
) -> None:
    fired = Counter(item.action.rule_id for item in simulated.actions)
    rungs = [step.id for bucket in RISK_BUCKETS for step in policy.ladder.for_risk(bucket)]
    assert len(rungs) == 29
    never = [rung for rung in rungs if fired[rung] == 0]
    assert never == [], f"rungs that never fired: {never}"


def test_the_portfolio_has_every_risk_bucket_and_delinquency_type(
    simulated: Simulation,
) -> None:
    segments = [s.segment for s in simulated.states.values() if s.segment is not None]
    assert {s.risk_bucket for s in segments} == set(RISK_BUCKETS)
    kinds = Counter(s.delinquency_type for s in segments)
    assert set(kinds) == {"none", "accidental", "disorganized", "strategic", "distressed"}, kinds


def test_the_documented_ladder_is_the_policy_s(policy: Policy) -> None:
    page = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    assert page.count(START) == 1 and page.count(END) == 1
    committed = page[page.index(START) : page.index(END) + len(END)]
    assert committed == documented(policy), (
        "docs/policy.md's ladder table is not the default policy's: regenerate it with "
        "processor.core.ladder_table.documented"
    )
