"""What-if simulation: the worker's decisions over a recorded history, offline.

The same pure step the worker runs (`on_event`: the wakes due before an event, then the event)
is applied per customer in file order, and every customer is then advanced to the horizon. Events
are decided at their `occurred_at`, as the worker decides them when it keeps up; an event after
the horizon has not happened yet and is left out. Invalid lines are counted as dead letters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from processor.core import translate
from processor.domain.decide import (
    ActionRequest,
    CommitmentStatus,
    Decision,
    LateFlag,
    Withdrawal,
    advance,
    on_event,
)
from processor.domain.errors import DomainError
from processor.domain.policy import DELINQUENCY_TYPES, RISK_BUCKETS, Policy
from processor.domain.state import CustomerState
from schemas.events import INPUT_MODELS
from schemas.validation import Rejected, parse_input

INPUT_TYPES = frozenset(INPUT_MODELS)


@dataclass(frozen=True, slots=True)
class Decided:
    """One decision output with the customer it is about."""

    customer_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SimulatedAction(Decided):
    """An action the policy would have requested."""

    action: ActionRequest


@dataclass(frozen=True, slots=True)
class SimulatedFlag(Decided):
    """A late flag the worker would have published."""

    flag: LateFlag


@dataclass(frozen=True, slots=True)
class SimulatedOutput(Decided):
    """A withdrawal or a commitment status the worker would have published (collection topic)."""

    output: Withdrawal | CommitmentStatus


@dataclass
class Simulation:
    """Everything a policy decided over a history."""

    policy_version: str
    horizon: datetime | None = None
    events: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    actions: list[SimulatedAction] = field(default_factory=list)
    flags: list[SimulatedFlag] = field(default_factory=list)
    # Withdrawals and commitment statuses, in order (published beside the actions).
    others: list[SimulatedOutput] = field(default_factory=list)
    segment_changes: int = 0
    states: dict[str, CustomerState] = field(default_factory=dict)

    def record(self, decisions: Iterable[Decision]) -> None:
        """Keep the outputs of decisions, in order."""
        for decision in decisions:
            state = decision.state
            at = state.decided_at
            assert at is not None  # every decision sets it
            self.actions += [SimulatedAction(state.customer_id, at, a) for a in decision.actions]
            self.flags += [SimulatedFlag(state.customer_id, at, f) for f in decision.flags]
            others: list[Withdrawal | CommitmentStatus] = [*decision.withdrawals]
            others += decision.statuses
            self.others += [SimulatedOutput(state.customer_id, at, o) for o in others]
            self.segment_changes += decision.segment_change is not None
            # A fact the event contradicted is dead-lettered when it is found out.
            for retraction in decision.retracted:
                self.dead_letters[retraction.field] += 1


def simulate(
    lines: Iterable[bytes],
    policy: Policy,
    *,
    until: datetime | None = None,
    max_bytes: int = 65536,
) -> Simulation:
    """Run `policy` over JSON lines of input events; advance everyone to `until` (or the end)."""
    result = Simulation(policy_version=policy.version)
    latest: datetime | None = None
    for line in lines:
        if not line.strip():
            continue
        result.events += 1
        parsed = parse_input(line.strip(), expected_types=INPUT_TYPES, max_bytes=max_bytes)
        if isinstance(parsed, Rejected):
            result.dead_letters[parsed.error.field] += 1
            continue
        if until is not None and parsed.occurred_at > until:
            continue
        customer_id = parsed.customer_id
        state = result.states.get(customer_id) or CustomerState(customer_id=customer_id)
        try:
            progress = on_event(
                state, translate.to_fact(parsed), now=parsed.occurred_at, policy=policy
            )
        except DomainError as exc:
            result.dead_letters[exc.field] += 1
            continue
        result.record(progress.decisions)
        if progress.applied and translate.terms_problem(parsed) is not None:
            result.dead_letters["terms"] += 1  # the invoice is kept; its terms are refused
        result.states[customer_id] = progress.state
        latest = parsed.occurred_at if latest is None else max(latest, parsed.occurred_at)
    horizon = until or latest
    result.horizon = horizon
    if horizon is not None:
        for customer_id, state in result.states.items():
            decisions = advance(state, horizon, policy=policy)
            result.record(decisions)
            if decisions:
                result.states[customer_id] = decisions[-1].state
    return result


def summary(result: Simulation) -> dict[str, object]:
    """The figures a what-if comparison needs, as plain data (the CLI prints or dumps it)."""
    by_segment: dict[str, Counter[str]] = {bucket: Counter() for bucket in RISK_BUCKETS}
    commitments: Counter[str] = Counter()
    withdrawn = 0
    for other in result.others:
        if isinstance(other.output, CommitmentStatus):
            commitments[f"{other.output.kind} {other.output.status}"] += 1
        else:
            withdrawn += 1
    by_stage: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    per_customer: Counter[str] = Counter()
    for item in result.actions:
        action = item.action
        by_segment[action.segment.risk_bucket][action.action] += 1
        by_stage[action.stage] += 1
        by_type[action.segment.delinquency_type] += 1
        if action.action != "thank_you":
            per_customer[item.customer_id] += 1
    customers = len(result.states)
    contacts = [per_customer.get(c, 0) for c in result.states]
    segments = [state.segment for state in result.states.values() if state.segment]
    final_risk: Counter[str] = Counter(segment.risk_bucket for segment in segments)
    final_type: Counter[str] = Counter(segment.delinquency_type for segment in segments)
    return {
        "policy_version": result.policy_version,
        "horizon": None if result.horizon is None else result.horizon.isoformat(),
        "events": result.events,
        "dead_letters": sum(result.dead_letters.values()),
        "customers": customers,
        "late_flags": len(result.flags),
        "segment_changes": result.segment_changes,
        "actions": len(result.actions),
        "actions_by_segment": {
            bucket: dict(sorted(counts.items())) for bucket, counts in by_segment.items()
        },
        "actions_by_stage": dict(sorted(by_stage.items())),
        "contacts_per_customer": {
            "mean": round(sum(contacts) / customers, 2) if customers else 0.0,
            "max": max(contacts, default=0),
            "none": sum(1 for c in contacts if c == 0),
        },
        "final_risk_buckets": {bucket: final_risk.get(bucket, 0) for bucket in RISK_BUCKETS},
        "final_delinquency_types": {kind: final_type.get(kind, 0) for kind in DELINQUENCY_TYPES},
        "actions_by_delinquency_type": {kind: by_type.get(kind, 0) for kind in DELINQUENCY_TYPES},
        "withdrawn": withdrawn,
        "commitments": dict(sorted(commitments.items())),
    }
