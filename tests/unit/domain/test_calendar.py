"""The customer's calendar (contract semantics 11): its zone's days and its country's business days.

Builders' day 0 is Thursday 2026-01-01: day 30 is a Saturday, day 32 the Monday after, day 18
(2026-01-19) is Martin Luther King Jr. Day in the US, day 92 (2026-04-03) Good Friday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from processor.domain.calendar import calendar_for, customer_calendar
from processor.domain.decide import advance, on_event
from processor.domain.policy import Policy
from processor.domain.profile import Profile
from tests.support.builders import at, day, due, inv, pay, profile
from tests.support.play import actions_of, fixed_risk, timeline


def test_builders_days_are_the_weekdays_this_file_relies_on() -> None:
    assert day(30).strftime("%A") == "Saturday" and day(32).strftime("%A") == "Monday"
    assert day(18) == date(2026, 1, 19) and day(92) == date(2026, 4, 3)


@pytest.mark.parametrize(
    ("country", "due_on", "payable"),
    [
        (None, date(2026, 1, 31), date(2026, 2, 2)),  # Saturday: Monday
        (None, date(2026, 1, 19), date(2026, 1, 19)),  # no country: weekends only
        ("US", date(2026, 1, 19), date(2026, 1, 20)),  # Martin Luther King Jr. Day
        ("US", date(2026, 12, 25), date(2026, 12, 28)),  # Christmas (Friday): Monday
        ("DE", date(2026, 4, 3), date(2026, 4, 7)),  # Good Friday, weekend, Easter Monday
        ("GB", date(2026, 4, 3), date(2026, 4, 6)),  # Easter Monday is not UK-wide
        ("JP", date(2026, 1, 1), date(2026, 1, 2)),  # New Year's Day
        ("SA", date(2026, 2, 6), date(2026, 2, 8)),  # a Friday-Saturday weekend
        ("SA", date(2026, 2, 8), date(2026, 2, 8)),  # Sunday is a business day there
        ("AQ", date(2026, 1, 31), date(2026, 2, 2)),  # a country without a calendar: weekends
    ],
)
def test_a_due_date_on_a_non_business_day_is_payable_on_the_next_business_day(
    country: str | None, due_on: date, payable: date
) -> None:
    assert calendar_for("UTC", country, True).payable_by(due_on) == payable


def test_as_is_keeps_every_due_date() -> None:
    assert calendar_for("UTC", "US", False).payable_by(date(2026, 1, 31)) == date(2026, 1, 31)


def test_the_profile_picks_the_zone_and_country_and_the_policy_fills_the_rest(
    committed_policy: Policy,
) -> None:
    plain = customer_calendar(Profile(), committed_policy)
    assert (plain.zone_name, plain.country, plain.roll) == ("UTC", None, True)
    la = customer_calendar(Profile(time_zone="America/Los_Angeles", country="US"), committed_policy)
    assert (la.zone_name, la.country) == ("America/Los_Angeles", "US")
    assert la is customer_calendar(
        Profile(time_zone="America/Los_Angeles", country="US"), committed_policy
    )  # one shared object per zone and country


def test_due_on_a_saturday_and_paid_on_monday_is_on_time(committed_policy: Policy) -> None:
    policy = fixed_risk(committed_policy, "low")
    steps = (
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=1)),  # the platform's notice comes on Sunday
        (pay("P", "100.00", on=32, invoice_id="A"), at(32)),
    )
    state, decisions = timeline(policy, *steps, until=at(40))
    assert [f for d in decisions for f in d.flags] == []
    assert [a for d in decisions for a in d.actions] == []
    assert state.ledger.balances["A"].is_paid
    # With due dates taken as they are, the same history is late
    as_is = policy.model_copy(
        update={"calendar": policy.calendar.model_copy(update={"due_on_non_business_day": "as_is"})}
    )
    _, late = timeline(as_is, *steps, until=at(40))
    assert [(f.detected_by, f.days_past_due) for d in late for f in d.flags] == [
        ("due_date_event", 1)
    ]


def test_a_due_notice_for_a_weekend_due_date_is_held_until_it_is_late(
    committed_policy: Policy,
) -> None:
    policy = fixed_risk(committed_policy, "low")
    _, decisions = timeline(
        policy,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=1)),
        until=at(40),
    )
    [flag] = [f for d in decisions for f in d.flags]
    flagging = next(d for d in decisions if d.flags)
    # Payable by Monday (day 32): late from Tuesday's start, on the notice's word
    assert flagging.state.decided_at == datetime(2026, 2, 3, tzinfo=UTC)
    assert (flag.detected_by, flag.days_past_due, flag.due_date) == ("due_date_event", 1, day(30))
    [action] = [a for d in decisions for a in d.actions]
    assert "payable by 2026-02-02 as the due date is not a business day" in action.reason


def test_a_holiday_of_the_customers_country_moves_the_due_date(committed_policy: Policy) -> None:
    policy = fixed_risk(committed_policy, "low")
    us = profile(country="US")
    paid_next_day = (
        (inv("A", issued=0, due=18), at(0)),
        (pay("P", "100.00", on=19, invoice_id="A"), at(19)),
    )
    _, decisions = timeline(policy, (us, at(0)), *paid_next_day, until=at(30))
    assert [f for d in decisions for f in d.flags] == []
    _, nowhere = timeline(policy, *paid_next_day, until=at(30))
    assert [f.detected_by for d in nowhere for f in d.flags] == ["late_payment"]


def test_days_are_the_customers_the_clock_flags_at_its_midnight_to_the_second(
    policy: Policy,
) -> None:
    policy = fixed_risk(policy, "low")
    la = profile(time_zone="America/Los_Angeles")
    # Due on day 29 (Friday 2026-01-30); grace 1 day: late from Sunday 00:00 in Los Angeles
    state, decisions = timeline(
        policy, (la, at(0)), (inv("A", issued=0, due=29), at(0)), until=at(29, hour=23)
    )
    assert [f for d in decisions for f in d.flags] == []
    late_from = datetime(2026, 2, 1, 8, tzinfo=UTC)  # 00:00 PST
    before = advance(state, late_from - timedelta(seconds=1), policy=policy)
    assert [f for d in before for f in d.flags] == []
    if before:
        state = before[-1].state
    [wake] = advance(state, late_from, policy=policy)
    assert wake.state.decided_at == late_from
    [flag] = wake.flags
    assert flag.caused_by == "clock:2026-02-01T08:00:00+00:00"
    assert (flag.detected_by, flag.days_past_due) == ("clock", 2)
    # In UTC the same invoice is flagged eight hours earlier
    _, utc = timeline(policy, (inv("A", issued=0, due=29), at(0)), until=at(40))
    [utc_flag] = [f for d in utc for f in d.flags]
    assert utc_flag.caused_by == "clock:2026-02-01T00:00:00+00:00"


def test_an_event_that_finds_the_clock_late_names_the_instant_it_became_late(
    policy: Policy,
) -> None:
    policy = fixed_risk(policy, "low")
    # No wake runs between the invoice and the payment: the payment finds it clock-late
    state, _ = timeline(policy, (inv("A", "100.00", issued=0, due=29), at(0)), until=at(0))

    progress = on_event(state, pay("P", "1.00", on=40, invoice_id="A"), now=at(40), policy=policy)
    flags = [f for d in progress.decisions for f in d.flags]
    assert [(f.detected_by, f.caused_by) for f in flags] == [
        ("clock", "clock:2026-02-01T00:00:00+00:00")
    ]
    assert actions_of(list(progress.decisions))  # and its ladder goes on
