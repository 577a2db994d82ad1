"""The customer profile (contract 1.1): sticky fields, the latest in business time wins, and the
channels it allows or forbids (semantics 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from processor.domain.decide import on_event
from processor.domain.facts import CreditScore
from processor.domain.policy import Policy
from processor.domain.state import CustomerState, apply
from tests.support.builders import at, due, inv, outcome, profile
from tests.support.play import fixed_risk, timeline


def test_every_field_is_sticky_and_the_latest_update_wins_whatever_arrives_first() -> None:
    first = profile(on=1, time_zone="Europe/Berlin", country="DE", customer_type="smb")
    second = profile(on=5, country="AT", credit_score=CreditScore(score=40))
    older = profile(on=3, time_zone="America/Chicago", customer_type="enterprise")
    forward = CustomerState(customer_id="cust-1")
    for fact in (first, older, second):
        forward = apply(forward, fact)
    backward = CustomerState(customer_id="cust-1")
    for fact in (second, older, first):
        backward = apply(backward, fact)
    assert forward.profile == backward.profile
    p = forward.profile
    assert (p.time_zone, p.country, p.customer_type) == ("America/Chicago", "AT", "enterprise")
    assert p.credit_score == CreditScore(score=40)
    assert p.versions["country"] == (at(5), second.event_id)


def test_a_credit_limit_is_replaced_as_a_whole_and_a_repeat_changes_nothing() -> None:
    both = profile(on=1, credit_limit=(("USD", Decimal("100.00")), ("EUR", Decimal("50.00"))))
    usd = profile(on=2, credit_limit=(("USD", Decimal("900.00")),))
    state = apply(apply(CustomerState(customer_id="cust-1"), both), usd)
    assert state.profile.credit_limit == {"USD": Decimal("900.00")}
    assert apply(state, usd) is state


def test_a_profile_before_or_after_the_invoices_gives_the_same_customer(policy: Policy) -> None:
    policy = fixed_risk(policy, "low")
    la = profile(on=0, hour=1, time_zone="America/Los_Angeles", country="US")
    invoice = (inv("A", issued=0, due=29), at(0, hour=2))
    before, _ = timeline(policy, (la, at(0, hour=1)), invoice, until=at(60))
    after, _ = timeline(policy, invoice, (la, at(0, hour=3)), until=at(60))
    assert before.profile.time_zone == after.profile.time_zone == "America/Los_Angeles"
    assert before.flags == after.flags and before.done_steps == after.done_steps
    assert before.segment == after.segment


def test_do_not_contact_turns_every_contact_into_a_collector_s_task(policy: Policy) -> None:
    policy = fixed_risk(policy, "medium")
    _, decisions = timeline(
        policy,
        (profile(do_not_contact=True), at(0)),
        (inv("A", issued=0, due=29), at(0)),
        (due("A", on=29), at(30)),
        until=at(100),
    )
    actions = [a for d in decisions for a in d.actions]
    assert actions and {a.channel for a in actions} <= {"internal", "agency"}
    assert all("do-not-contact" in a.reason for a in actions if a.channel == "internal")


def test_a_channel_not_allowed_moves_to_the_next_allowed_and_a_call_becomes_a_task(
    policy: Policy,
) -> None:
    policy = fixed_risk(policy, "medium")
    _, decisions = timeline(
        policy,
        (profile(channels=frozenset({"letter"})), at(0)),
        (inv("A", issued=0, due=29), at(0)),
        (due("A", on=29), at(30)),
        until=at(40),
    )
    by_rule = {a.rule_id: a for d in decisions for a in d.actions}
    assert by_rule["medium.pre3.reminder"].channel == "letter"
    assert (
        "the customer does not allow email, so by letter instead"
        in by_rule["medium.pre3.reminder"].reason
    )
    assert by_rule["medium.d7.call"].channel == "internal"


def test_a_contact_still_ahead_is_withdrawn_when_the_customer_asks_not_to_be_contacted(
    policy: Policy,
) -> None:
    policy = fixed_risk(policy, "low")
    # The clock flags A at midnight (quiet hours): the reminder waits until 08:00
    state, decisions = timeline(policy, (inv("A", issued=0, due=29), at(0)), until=at(31, hour=0))
    [reminder] = [a for d in decisions for a in d.actions]
    assert reminder.not_before is not None
    quiet = profile(on=31, hour=2, do_not_contact=True)
    progress = on_event(state, quiet, now=datetime(2026, 2, 1, 2, tzinfo=UTC), policy=policy)
    [withdrawal] = [w for d in progress.decisions for w in d.withdrawals]
    assert withdrawal.withdraws == reminder.event_id
    assert "do-not-contact" in withdrawal.reason


def test_a_profile_restating_a_bounced_channel_makes_it_usable_again(policy: Policy) -> None:
    policy = fixed_risk(policy, "low")
    state, decisions = timeline(
        policy, (inv("A", issued=0, due=29), at(0)), (due("A", on=29), at(30)), until=at(31)
    )
    [first] = [a for d in decisions for a in d.actions]
    state = apply(state, outcome(first.event_id, "bounced", on=31))
    assert state.collection.bounced == {"email"}
    fixed = apply(state, profile(on=32, channels=frozenset({"email", "letter"})))
    assert fixed.collection.bounced == frozenset()
    unrelated = apply(state, profile(on=32, channels=frozenset({"letter"})))
    assert unrelated.collection.bounced == {"email"}
