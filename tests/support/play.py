"""Playing one customer's facts through the pure domain as the worker does: events at their
instants, then every wake-up up to a horizon."""

from __future__ import annotations

from datetime import date, datetime

from processor.domain.decide import Decision, advance, on_event
from processor.domain.facts import Fact
from processor.domain.policy import Policy
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER


def timeline(
    policy: Policy, *events: tuple[Fact, datetime], until: datetime
) -> tuple[CustomerState, list[Decision]]:
    """Events at their instants and every wake up to `until`, as the worker runs them."""
    state = CustomerState(customer_id=CUSTOMER)
    decisions: list[Decision] = []
    for fact, now in events:
        progress = on_event(state, fact, now=now, policy=policy)
        decisions += progress.decisions
        state = progress.state
    wakes = advance(state, until, policy=policy)
    decisions += wakes
    return (wakes[-1].state if wakes else state), decisions


def actions_of(decisions: list[Decision]) -> list[tuple[date, str, tuple[str, ...]]]:
    """(decision date, rule id, invoices) of every action, in order."""
    return [
        (d.state.decided_at.date(), a.rule_id, a.invoice_ids)  # type: ignore[union-attr]
        for d in decisions
        for a in d.actions
    ]


def fixed_risk(policy: Policy, bucket: str) -> Policy:
    """The default policy with scores that keep every customer in one risk bucket.

    Only the behaviour points count (the same for every class); every customer follows its
    risk bucket's ladder, whatever its delinquency type, in the ladder's own tones.
    """
    points = {"low": 0, "medium": 40, "high": 80}[bucket]
    risk = policy.risk.model_copy(
        update={
            "aging_points": dict.fromkeys(policy.risk.aging_points, 0),
            "behavior_points": dict.fromkeys(policy.risk.behavior_points, points),
            "stake_points": dict.fromkeys(policy.risk.stake_points, 0),
            "utilisation": policy.risk.utilisation.model_copy(
                update={"near_points": 0, "over_points": 0}
            ),
            "credit_score": policy.risk.credit_score.model_copy(
                update={"poor_points": 0, "fair_points": 0}
            ),
            "repeated_disputes_points": 0,
        }
    )
    collection = policy.collection.model_copy(update={"broken_commitment_risk_points": 0})
    delinquency = policy.delinquency.model_copy(update={"approach": {}})
    return policy.model_copy(
        update={"risk": risk, "collection": collection, "delinquency": delinquency}
    )
