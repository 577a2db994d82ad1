"""Decisions: late flags, segment changes and actions, each with rule, reason and stable id."""

from __future__ import annotations

from datetime import datetime

import pytest

from processor.domain.decide import Cause, Decision, decide, on_event
from processor.domain.facts import Fact
from processor.domain.policy import Policy
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER, at, due, inv, pay


def run(policy: Policy, *steps: tuple[Fact, datetime]) -> tuple[CustomerState, list[Decision]]:
    """Events at their instants, with the wakes due between them, as the worker runs them."""
    state = CustomerState(customer_id=CUSTOMER)
    decisions: list[Decision] = []
    for fact, now in steps:
        progress = on_event(state, fact, now=now, policy=policy)
        decisions += progress.decisions
        state = progress.state
    return state, decisions


def history_for(behavior: str) -> list[tuple[Fact, datetime]]:
    """Three paid invoices giving a behaviour class, then invoice X due on day 400."""
    lateness = {
        "on_time": [0, 0, 0],
        "occasionally_late": [0, 0, 0, 5, 0],
        "habitually_late": [20, 25, 30],
    }[behavior]
    steps: list[tuple[Fact, datetime]] = []
    for n, late in enumerate(lateness):
        steps.append((inv(f"H{n}", issued=30 * n, due=30 * n + 30), at(30 * n)))
        steps.append(
            (
                pay(f"HP{n}", "100.00", on=30 * n + 30 + late, invoice_id=f"H{n}"),
                at(30 * n + 30 + late),
            )
        )
    steps.append((inv("X", "500.00", issued=370, due=400), at(370)))
    return steps


@pytest.mark.parametrize(
    ("behavior", "expected"),
    [
        ("on_time", [("reminder", "email", "friendly", "low.d1.reminder")]),
        ("occasionally_late", [("reminder", "email", "friendly", "low.d1.reminder")]),
        ("habitually_late", [("reminder", "email", "firm", "medium.d1.reminder")]),
    ],
)
def test_first_ladder_step_follows_the_risk_bucket(
    behavior: str, expected: list[tuple[str, str, str, str]], policy: Policy
) -> None:
    _, decisions = run(policy, *history_for(behavior), (due("X", on=400), at(401)))
    decision = decisions[-1]
    [flag] = decision.flags
    assert (flag.invoice_id, flag.detected_by, flag.days_past_due) == ("X", "due_date_event", 1)
    got = sorted((a.action, a.channel, a.tone, a.rule_id) for a in decision.actions)
    assert got == sorted(expected)
    for action in decision.actions:
        assert action.invoice_ids == ("X",)
        assert action.policy_version == policy.version
        assert action.stage == "early_delinquency"
        assert "X" in action.reason and "1 day past due" in action.reason


def test_high_risk_first_step_is_a_call_and_a_firm_reminder(policy: Policy) -> None:
    # A key-sized debt 75 days past due already: high risk when X becomes late
    _, decisions = run(
        policy,
        (inv("OLD", "300000.00", issued=0, due=30), at(0)),
        (inv("X", issued=80, due=104), at(80)),
        (due("X", on=104), at(105)),
    )
    decision = decisions[-1]
    assert decision.assessment.segment.risk_bucket == "high"
    assert decision.assessment.stake == "key"
    assert sorted(a.rule_id for a in decision.actions if "X" in a.invoice_ids) == [
        "high.d1.call",
        "high.d1.reminder",
    ]


def test_an_invoice_is_flagged_once_whichever_way_lateness_is_learned(policy: Policy) -> None:
    state, decisions = run(
        policy,
        (inv("A", due=30), at(0)),
        (due("A", on=30), at(31)),
        (due("A", on=30, event_id="again"), at(32)),
        (pay("P", "10.00", on=33, invoice_id="A"), at(33)),
    )
    flags = [f for d in decisions for f in d.flags]
    assert [(f.invoice_id, f.detected_by) for f in flags] == [("A", "due_date_event")]
    assert state.flags == {"A": "due_date_event"}


def test_a_payment_after_the_due_date_flags_an_unflagged_invoice(policy: Policy) -> None:
    _, decisions = run(
        policy, (inv("A", due=30), at(0)), (pay("P", "40.00", on=31, invoice_id="A"), at(31))
    )
    [flag] = decisions[-1].flags
    assert flag.detected_by == "late_payment"
    assert str(flag.amount_outstanding) == "60.00"
    assert [a.rule_id for a in decisions[-1].actions] == ["low.d1.reminder"]


@pytest.mark.parametrize(("now_day", "flagged"), [(31, False), (32, True)])
def test_the_clock_flags_an_unnoticed_invoice_after_the_grace(
    now_day: int, flagged: bool, policy: Policy
) -> None:
    state, _ = run(policy, (inv("A", due=30), at(0)))
    decision = decide(
        before=state, after=state, cause=Cause.clock(at(now_day)), now=at(now_day), policy=policy
    )
    assert bool(decision.flags) is flagged
    if flagged:
        assert decision.flags[0].detected_by == "clock"
        assert decision.flags[0].caused_by.startswith("clock:")


def test_no_action_for_an_invoice_paid_before_the_notice_arrives(policy: Policy) -> None:
    _, decisions = run(
        policy,
        (inv("A", due=30), at(0)),
        (pay("P", "100.00", on=29, invoice_id="A"), at(29)),
        (due("A", on=30), at(31)),
    )
    assert [f for d in decisions for f in d.flags] == []
    assert [a for d in decisions for a in d.actions] == []


def test_a_late_invoice_paid_in_full_gets_a_thank_you(policy: Policy) -> None:
    _, decisions = run(
        policy,
        (inv("A", due=30), at(0)),
        (due("A", on=30), at(31)),
        (pay("P", "100.00", on=40, invoice_id="A"), at(40)),
    )
    [thanks] = decisions[-1].actions
    assert (thanks.action, thanks.channel, thanks.tone, thanks.invoice_ids) == (
        "thank_you",
        "email",
        "friendly",
        ("A",),
    )
    assert str(thanks.amount_outstanding) == "0.00"


def test_several_invoices_late_at_once_share_one_action_per_currency(policy: Policy) -> None:
    _, decisions = run(
        policy,
        (inv("A", due=30), at(0)),
        (inv("B", "50.00", due=30), at(0)),
        (inv("C", "70.00", due=30, currency="EUR"), at(0)),
        (pay("P", "1.00", on=40), at(40)),  # after the clock flagged all three on day 32
    )
    [flagging] = [d for d in decisions if d.flags]
    assert sorted(f.invoice_id for f in flagging.flags) == ["A", "B", "C"]
    assert {f.detected_by for f in flagging.flags} == {"clock"}
    by_currency = {a.currency: (a.invoice_ids, str(a.amount_outstanding)) for a in flagging.actions}
    assert by_currency == {"USD": (("A", "B"), "150.00"), "EUR": (("C",), "70.00")}


def test_segment_change_names_the_dimensions_and_the_reason(policy: Policy) -> None:
    state, decisions = run(policy, (inv("A", due=30), at(0)), (due("A", on=30), at(31)))
    first, second = decisions[0].segment_change, decisions[1].segment_change
    assert first is not None and first.previous is None and first.current.aging_bucket == "current"
    assert second is not None
    assert second.changed == ("aging_bucket", "delinquency_type", "priority")
    assert "aging_bucket current→1-30" in second.reason and "1 day past due" in second.reason
    assert state.segment == second.current


def test_output_ids_depend_on_the_decision_not_on_time(policy: Policy) -> None:
    steps = [(inv("A", due=30), at(0)), (due("A", on=30), at(31))]
    _, one = run(policy, *steps)
    _, two = run(policy, steps[0], (steps[1][0], at(31, hour=23)))
    assert [a.event_id for a in one[-1].actions] == [a.event_id for a in two[-1].actions]
    assert one[-1].flags[0].event_id == two[-1].flags[0].event_id


def test_a_duplicate_event_decides_nothing(policy: Policy) -> None:
    state, _ = run(policy, (inv("A", due=30), at(0)))
    progress = on_event(state, inv("A", due=30), now=at(1), policy=policy)
    assert not progress.applied
    assert progress.decisions == ()
    assert progress.state is state
