"""The ladder in time, on a fake clock: every step on its day, cooldowns, quiet hours, minimum
amount, cancellation by payment and bucket boundaries. "The clock" here is the `now` handed to
the domain: events at their instants, wakes at the instants `next_wake` schedules.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from processor.domain.contact import not_before
from processor.domain.decide import Decision, advance, on_event
from processor.domain.facts import Fact
from processor.domain.plan import policy_plan
from processor.domain.policy import Policy, QuietHours
from processor.domain.schedule import next_wake, start_of_day
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER, at, day, due, inv, pay, profile
from tests.support.play import actions_of, fixed_risk, timeline


@pytest.mark.parametrize("bucket", ["low", "medium", "high"])
def test_every_ladder_step_fires_on_its_day_for_an_unpaid_invoice(
    bucket: str, policy: Policy
) -> None:
    policy = fixed_risk(policy, bucket)
    _, decisions = timeline(
        policy,
        (inv("A", "900.00", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        until=at(200),
    )
    expected = [(day(30 + s.offset_days), s.id, ("A",)) for s in policy.ladder.for_risk(bucket)]
    assert sorted(actions_of(decisions)) == sorted(expected)
    # Each action says which facts fired which rule.
    by_rule = {a.rule_id: a for d in decisions for a in d.actions}
    last = policy.ladder.for_risk(bucket)[-1]
    reason = by_rule[last.id].reason
    assert f"{last.offset_days} days past due" in reason and "900.00 USD outstanding" in reason
    assert f"Rule {last.id}" in reason and f"{bucket} risk" in reason
    assert by_rule[last.id].stage == "late_delinquency"


def test_without_a_due_notice_the_clock_flags_after_the_grace(policy: Policy) -> None:
    policy = fixed_risk(policy, "low")
    _, decisions = timeline(policy, (inv("A", issued=0, due=30), at(0)), until=at(40))
    [flag] = [f for d in decisions for f in d.flags]
    assert (flag.detected_by, flag.caused_by) == ("clock", "clock:2026-02-02T00:00:00+00:00")
    assert flag.days_past_due == 2  # day 32 = due + grace (1) + 1
    assert actions_of(decisions) == [(day(32), "low.d1.reminder", ("A",))]


def test_a_payment_cancels_the_pending_steps_of_its_invoice(policy: Policy) -> None:
    policy = fixed_risk(policy, "medium")
    state, decisions = timeline(
        policy,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        (pay("P", "100.00", on=40, invoice_id="A"), at(40)),
        until=at(300),
    )
    rules = [rule for _, rule, _ in actions_of(decisions)]
    assert rules == [
        "medium.pre3.reminder",
        "medium.d1.reminder",
        "medium.d7.call",
        "thank_you.late_invoice_paid",
    ]
    assert state.ledger.balances["A"].is_paid


def test_a_partial_payment_keeps_the_ladder_going_for_what_is_left(policy: Policy) -> None:
    policy = fixed_risk(policy, "low")
    _, decisions = timeline(
        policy,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        (pay("P", "60.00", on=40, invoice_id="A"), at(40)),
        until=at(50),
    )
    later = [a for d in decisions for a in d.actions if a.rule_id == "low.d15.reminder"]
    assert [str(a.amount_outstanding) for a in later] == ["40.00"]


def test_due_steps_inside_a_cooldown_merge_into_one_contact(policy: Policy) -> None:
    policy = fixed_risk(policy, "low")
    _, decisions = timeline(
        policy,
        (inv("A", issued=0, due=30), at(0)),
        (inv("B", issued=0, due=31), at(0)),
        (inv("C", issued=0, due=32), at(0)),
        (due("A", on=30), at(31, hour=8)),
        (due("B", on=31), at(32, hour=8)),
        (due("C", on=32), at(33, hour=8)),
        until=at(40),
    )
    assert actions_of(decisions) == [
        (day(31), "low.d1.reminder", ("A",)),
        (day(34), "low.d1.reminder", ("B", "C")),  # email cooldown: 3 days after day 31
    ]
    merged = next(a for d in decisions for a in d.actions if a.invoice_ids == ("B", "C"))
    assert str(merged.amount_outstanding) == "200.00"
    assert "held by the contact rules" in merged.reason
    assert merged.event_id != next(a for d in decisions for a in d.actions).event_id


def test_no_customer_gets_two_emails_within_the_cooldown(policy: Policy) -> None:
    events: list[tuple[Fact, datetime]] = []
    for n in range(12):  # an invoice falling due every other day, none paid
        events.append((inv(f"I{n}", issued=0, due=30 + 2 * n), at(0)))
    _, decisions = timeline(policy, *events, until=at(220))
    email_days = sorted(
        {d.state.decided_at.date() for d in decisions for a in d.actions if a.channel == "email"}  # type: ignore[union-attr]
    )
    gaps = [(b - a).days for a, b in pairwise(email_days)]
    assert gaps and min(gaps) >= policy.contact.cooldown_days["email"]
    covered = {
        i for d in decisions for a in d.actions if a.channel == "email" for i in a.invoice_ids
    }
    assert covered == {f"I{n}" for n in range(12)}  # merged, never dropped


def test_nobody_is_chased_below_the_minimum_amount(policy: Policy) -> None:
    policy = fixed_risk(policy, "low")
    _, decisions = timeline(
        policy,
        (inv("SMALL", "10.00", issued=0, due=30), at(0)),
        (due("SMALL", on=30), at(31, hour=8)),
        until=at(60),
    )
    assert [f.invoice_id for d in decisions for f in d.flags] == ["SMALL"]
    assert actions_of(decisions) == []
    _, later = timeline(
        policy,
        (inv("SMALL", "10.00", issued=0, due=30), at(0)),
        (due("SMALL", on=30), at(31, hour=8)),
        (inv("MORE", "20.00", issued=40, due=70), at(40)),
        (due("MORE", on=70), at(71, hour=8)),
        until=at(72),
    )
    chased = {i for _, _, ids in actions_of(later) for i in ids}
    assert chased == {"SMALL", "MORE"}  # 30.00 owed in total: now worth chasing


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        ("2026-01-06T10:00", "UTC", None),  # Tuesday morning: at once
        ("2026-01-06T03:00", "UTC", "2026-01-06T08:00"),  # night: 08:00 the same day
        ("2026-01-06T21:30", "UTC", "2026-01-07T08:00"),  # evening: next morning
        ("2026-01-09T20:00", "UTC", "2026-01-12T08:00"),  # Friday evening: Monday
        ("2026-01-10T12:00", "UTC", "2026-01-12T08:00"),  # Saturday noon: Monday
        ("2026-01-06T09:00", "America/New_York", None),  # the customer's own clock
        ("2026-01-06T07:59", "America/New_York", "2026-01-06T08:00"),
    ],
)
def test_quiet_hours_move_not_before_to_the_customers_morning(
    local: str, zone: str, expected: str | None, policy: Policy
) -> None:
    tz = ZoneInfo(zone)
    now = datetime.fromisoformat(local).replace(tzinfo=tz).astimezone(UTC)
    got = not_before("email", now, tz, policy.contact.quiet_hours)
    if expected is None:
        assert got is None
    else:
        assert got == datetime.fromisoformat(expected).replace(tzinfo=tz)


def test_quiet_hours_apply_only_to_channels_that_reach_a_person(policy: Policy) -> None:
    night = datetime(2026, 1, 6, 3, tzinfo=UTC)
    quiet = policy.contact.quiet_hours
    assert not_before("letter", night, ZoneInfo("UTC"), quiet) is None
    daytime_quiet = QuietHours(start=time(12), end=time(13), weekends=False)
    assert not_before("email", night, ZoneInfo("UTC"), daytime_quiet) is None
    lunch = datetime(2026, 1, 6, 12, 30, tzinfo=UTC)
    assert not_before("email", lunch, ZoneInfo("UTC"), daytime_quiet) == datetime(
        2026, 1, 6, 13, tzinfo=UTC
    )


def test_a_wake_at_midnight_carries_not_before_in_the_customers_zone(policy: Policy) -> None:
    policy = fixed_risk(policy, "low")
    tokyo = profile(time_zone="Asia/Tokyo")
    _, decisions = timeline(
        policy, (tokyo, at(0)), (inv("A", issued=0, due=30), at(0)), until=at(40)
    )
    [action] = [a for d in decisions for a in d.actions]
    # The clock flags it at midnight in Tokyo at the start of day 32 (15:00 UTC on day 31), in
    # Tokyo's quiet hours: to be carried out from 08:00 there (23:00 UTC).
    [flag] = [f for d in decisions for f in d.flags]
    assert flag.caused_by == "clock:2026-02-01T15:00:00+00:00"
    assert action.not_before == datetime(2026, 2, 1, 23, tzinfo=UTC)
    _, utc_decisions = timeline(policy, (inv("A", issued=0, due=30), at(0)), until=at(40))
    [utc_action] = [a for d in utc_decisions for a in d.actions]
    assert utc_action.not_before == datetime(2026, 2, 2, 8, tzinfo=UTC)


def test_the_next_wake_is_the_next_boundary_and_the_segment_moves_by_the_clock(
    policy: Policy,
) -> None:
    policy = fixed_risk(policy, "low")
    state, _ = timeline(
        policy,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        until=at(31, hour=9),
    )
    # Next: the d15 step (day 45); the aging boundary (day 61) comes later.
    assert next_wake(state, policy) == start_of_day(day(45), policy)
    _, decisions = timeline(
        policy, (inv("A", issued=0, due=30), at(0)), (due("A", on=30), at(31, hour=8)), until=at(62)
    )
    moves = [
        d.segment_change
        for d in decisions
        if d.segment_change and d.state.decided_at == start_of_day(day(61), policy)
    ]
    [move] = moves
    assert move.caused_by == f"clock:{start_of_day(day(61), policy).isoformat()}"
    assert "aging_bucket 1-30→31-60" in move.reason


def test_a_paid_up_customer_is_not_woken_for_the_ladder(policy: Policy) -> None:
    state, decisions = timeline(
        policy,
        (inv("A", issued=0, due=30), at(0)),
        (pay("P", "100.00", on=20, invoice_id="A"), at(20)),
        until=at(100),
    )
    assert actions_of(decisions) == []
    wake = next_wake(state, policy)
    # Only the history windows remain: the invoice leaves the value window a year on.
    assert wake is not None and wake >= start_of_day(day(365), policy)


def test_advancing_in_one_go_or_day_by_day_decides_the_same(policy: Policy) -> None:
    events = [
        (inv("A", "500.00", issued=0, due=30), at(0)),
        (inv("B", "80.00", issued=10, due=40, currency="EUR"), at(10)),
        (due("A", on=30), at(31, hour=8)),
        (pay("P", "200.00", on=50, invoice_id="A"), at(50)),
    ]
    _, at_once = timeline(policy, *events, until=at(180))
    state = CustomerState(customer_id=CUSTOMER)
    daily: list[Decision] = []
    pending = list(events)
    for n in range(181):
        while pending and pending[0][1] <= at(n):
            fact, now = pending.pop(0)
            progress = on_event(state, fact, now=now, policy=policy)
            daily += progress.decisions
            state = progress.state
        wakes = advance(state, at(n), policy=policy)
        daily += wakes
        state = wakes[-1].state if wakes else state
    assert [a.event_id for d in at_once for a in d.actions] == [
        a.event_id for d in daily for a in d.actions
    ]
    assert [d.state.decided_at for d in at_once] == [d.state.decided_at for d in daily]


def test_a_decision_never_goes_back_in_time(policy: Policy) -> None:
    state, _ = timeline(policy, (inv("A", issued=0, due=30), at(0)), until=at(45))
    late_arrival = pay("P", "10.00", on=35, invoice_id="A")
    progress = on_event(state, late_arrival, now=at(35), policy=policy)
    assert state.decided_at is not None and state.decided_at > at(35)
    assert progress.applied and [d.state.decided_at for d in progress.decisions] == [
        state.decided_at
    ]


def test_moving_to_another_ladder_does_not_repeat_a_rung_on_the_same_channel(
    policy: Policy,
) -> None:
    # Medium risk at the pre-due reminder, high risk from the due date on: one reminder, not two.
    points = dict.fromkeys(policy.risk.aging_points, 0)
    risk = policy.risk.model_copy(
        update={
            "aging_points": {**points, "1-30": 40},
            "behavior_points": dict.fromkeys(policy.risk.behavior_points, 40),
        }
    )
    policy = policy.model_copy(update={"risk": risk})
    _, decisions = timeline(
        policy,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        until=at(32),
    )
    assert sorted(actions_of(decisions)) == [
        (day(27), "medium.pre3.reminder", ("A",)),
        (day(31), "high.d1.call", ("A",)),
        (day(31), "high.d1.reminder", ("A",)),
    ]
    # What a taken step stands for, whichever ladder it came from: a rung on a channel.
    assert policy_plan(policy).rungs["medium.pre3.reminder"] == (-3, "email")
