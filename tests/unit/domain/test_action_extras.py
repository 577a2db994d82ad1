"""What actions carry besides the ladder's choice, decided as the worker decides: a payment link
on customer-facing chasing actions, the late fees accrued on chasing ones (and late_fee.assessed
for the billing system), and the early-payment discount offered while its window is open."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest

from processor.domain.decide import Decision
from processor.domain.policy import (
    DiscountOfferPolicy,
    LateFeePolicy,
    PaymentPolicy,
    Policy,
)
from tests.support.builders import (
    at,
    credit,
    day,
    dispute,
    due,
    inv,
    pay,
    profile,
    void,
    write_off,
)
from tests.support.play import fixed_risk, timeline

D = Decimal
TERMS = "2/10 net 30"
LINK = "https://pay.example.com/{customer_id}/{invoice_ids}?amount={amount}&cur={currency}"


def with_rules(policy: Policy, **sections: Any) -> Policy:
    return policy.model_copy(update=sections)


def actions(decisions: list[Decision]) -> list[Any]:
    return [a for d in decisions for a in d.actions]


@pytest.fixture
def low(policy: Policy) -> Policy:
    return fixed_risk(policy, "low")


def test_customer_facing_chasing_actions_carry_the_payment_link_url_encoded(low: Policy) -> None:
    rules = with_rules(low, payment=PaymentPolicy(url_template=LINK))
    _, decisions = timeline(rules, (inv("INV/7 a", "1000.00"), at(0)), until=at(140))
    chasing = [a for a in actions(decisions) if a.channel in ("email", "phone", "letter")]
    assert chasing
    for action in chasing:
        assert action.payment_url == (
            "https://pay.example.com/cust-1/INV%2F7%20a?amount=1000.00&cur=USD"
        )
        assert unquote(action.payment_url.split("/")[4].split("?")[0]) == "INV/7 a"
    others = [a for a in actions(decisions) if a.channel in ("internal", "agency")]
    assert others and all(a.payment_url is None for a in others)


def test_a_thank_you_carries_no_payment_link(low: Policy) -> None:
    rules = with_rules(low, payment=PaymentPolicy(url_template=LINK))
    _, decisions = timeline(
        rules,
        (inv("I", "1000.00"), at(0)),
        (due("I"), at(31)),
        (pay("P", "1000.00", on=40, invoice_id="I"), at(40)),
        until=at(60),
    )
    thanks = [a for a in actions(decisions) if a.action == "thank_you"]
    assert thanks and all(a.payment_url is None for a in thanks)


def test_without_a_template_no_action_carries_a_link(low: Policy) -> None:
    _, decisions = timeline(low, (inv("I", "1000.00"), at(0)), until=at(140))
    assert actions(decisions) and all(a.payment_url is None for a in actions(decisions))


FEES = LateFeePolicy(fixed={"USD": D("40.00")}, interest="annual", rate_percent=D("36.5"))


def test_chasing_actions_state_the_fees_accrued_on_their_invoices(low: Policy) -> None:
    rules = with_rules(low, late_fees=FEES)
    _, decisions = timeline(rules, (inv("I", "1000.00"), at(0)), (due("I"), at(31)), until=at(47))
    reminders = {a.rule_id: a for a in actions(decisions)}
    first, second = reminders["low.d1.reminder"], reminders["low.d15.reminder"]
    # Day 31: one day late (1.00 of interest); day 45: fifteen days late.
    assert [(f.invoice_id, f.fixed, f.interest, f.total) for f in first.late_fees] == [
        ("I", D(40), D(1), D(41))
    ]
    assert second.late_fees[0].total == D(55) and second.late_fees[0].days_late == 15
    assert "Late fees accrued to date (stated, not invoiced): 55.00 USD" in second.reason
    assert first.amount_outstanding == D("1000.00")  # what is owed is not changed by the fee


def test_late_fee_assessed_goes_with_each_statement_and_once_more_when_settled(
    low: Policy,
) -> None:
    rules = with_rules(low, late_fees=FEES.model_copy(update={"assess": True}))
    history = (
        (inv("I", "1000.00"), at(0)),
        (due("I"), at(31)),
        (pay("P", "1000.00", on=50, invoice_id="I"), at(50)),
    )
    _, decisions = timeline(rules, *history, until=at(80))
    fees = [f for d in decisions for f in d.fees]
    assert [(f.fee.total, f.final) for f in fees] == [
        (D(41), False),  # with the day-31 reminder
        (D(55), False),  # with the day-45 reminder
        (D(59), True),  # settled on day 50: 19 days of interest
    ]
    _, again = timeline(rules, *history, until=at(80))
    assert [f.event_id for d in again for f in d.fees] == [f.event_id for f in fees]
    _, silent = timeline(with_rules(low, late_fees=FEES), *history, until=at(80))
    assert not [f for d in silent for f in d.fees]


def test_preventive_actions_state_no_fee(policy: Policy) -> None:
    rules = with_rules(fixed_risk(policy, "medium"), late_fees=FEES)
    _, decisions = timeline(rules, (inv("I", "1000.00"), at(0)), until=at(29))
    preventive = [a for a in actions(decisions) if a.stage == "preventive"]
    assert preventive and all(a.late_fees == () for a in preventive)


def test_a_reminder_offers_the_discount_three_days_before_its_window_closes(low: Policy) -> None:
    _, decisions = timeline(low, (inv("I", "1000.00", terms=TERMS), at(0)), until=at(29))
    offers = [a for a in actions(decisions) if a.discount_offers]
    assert len(offers) == 1
    action = offers[0]
    assert (action.rule_id, action.stage, action.action, action.channel) == (
        "terms.discount_reminder",
        "preventive",
        "reminder",
        "email",
    )
    offer = action.discount_offers[0]
    assert (offer.invoice_id, offer.pay_by, offer.pay, offer.saves) == (
        "I",
        day(10),
        D("980.00"),
        D("20.00"),
    )
    assert "pay 980.00 USD for I by 2026-01-11 and save 20.00 USD" in action.reason
    decided = next(d for d in decisions if action in d.actions)
    assert decided.state.decided_at == at(7).replace(hour=0)


def test_an_invoice_paid_with_its_discount_is_never_chased(low: Policy) -> None:
    state, decisions = timeline(
        low,
        (inv("I", "1000.00", terms=TERMS), at(0)),
        (pay("P", "980.00", on=5, invoice_id="I"), at(5)),
        until=at(200),
    )
    assert actions(decisions) == []
    assert state.ledger.balances["I"].discounted == D(20)
    assert state.segment is not None and state.segment.aging_bucket == "current"


def test_the_discount_paid_a_day_late_leaves_the_rest_chased(low: Policy) -> None:
    state, decisions = timeline(
        low,
        (inv("I", "5000.00", terms=TERMS), at(0)),
        (pay("P", "4900.00", on=11, invoice_id="I"), at(11)),
        (due("I"), at(31)),
        until=at(32),
    )
    reminder = next(a for a in actions(decisions) if a.rule_id == "low.d1.reminder")
    assert reminder.amount_outstanding == D("100.00")
    assert state.ledger.balances["I"].discounted == 0


def test_the_discount_is_offered_only_to_the_customers_the_policy_names(low: Policy) -> None:
    nobody = with_rules(low, discount_offer=DiscountOfferPolicy())
    _, decisions = timeline(nobody, (inv("I", "1000.00", terms=TERMS), at(0)), until=at(29))
    assert not [a for a in actions(decisions) if a.discount_offers]
    named = with_rules(low, discount_offer=DiscountOfferPolicy(customers=("cust-1",)))
    _, decisions = timeline(named, (inv("I", "1000.00", terms=TERMS), at(0)), until=at(29))
    assert [a.rule_id for a in actions(decisions) if a.discount_offers] == [
        "terms.discount_reminder"
    ]


def test_no_discount_reminder_to_a_customer_not_to_be_contacted(low: Policy) -> None:
    _, decisions = timeline(
        low,
        (profile(on=0, hour=1, do_not_contact=True), at(0, 1)),
        (inv("I", "1000.00", terms=TERMS), at(0)),
        until=at(29),
    )
    assert not [a for a in actions(decisions) if a.rule_id == "terms.discount_reminder"]


def test_no_discount_reminder_for_a_disputed_invoice(low: Policy) -> None:
    _, decisions = timeline(
        low,
        (inv("I", "1000.00", terms=TERMS), at(0)),
        (dispute("D", "I", on=2), at(2)),
        until=at(29),
    )
    assert not [a for a in actions(decisions) if a.rule_id == "terms.discount_reminder"]


def test_a_preventive_ladder_reminder_in_the_window_carries_the_offer(policy: Policy) -> None:
    # Due on day 12: the ladder's reminder three days before (day 9) is inside the window, on
    # the day the discount reminder would go (a day before the window closes): one contact.
    medium = with_rules(
        fixed_risk(policy, "medium"),
        discount_offer=DiscountOfferPolicy(value_tiers=("small",), remind_days_before=1),
    )
    _, decisions = timeline(medium, (inv("I", "1000.00", due=12, terms=TERMS), at(0)), until=at(11))
    reminders = [a for a in actions(decisions) if a.discount_offers]
    assert [a.rule_id for a in reminders] == ["medium.pre3.reminder"]
    assert reminders[0].discount_offers[0].saves == D("20.00")


ASSESS = FEES.model_copy(update={"assess": True})


@pytest.mark.parametrize(
    "closing",
    [
        "void",
        "write_off",
        "credit",
    ],
)
def test_an_invoice_that_turns_out_to_owe_no_fee_gets_a_final_zero(
    low: Policy, closing: str
) -> None:
    rules = with_rules(low, late_fees=ASSESS)
    close = {
        "void": void("I", on=50),
        "write_off": write_off("I", on=50),
        "credit": credit("C", "1000.00", on=50, invoice_id="I"),
    }[closing]
    history = ((inv("I", "1000.00"), at(0)), (due("I"), at(31)), (close, at(50)))
    _, decisions = timeline(rules, *history, until=at(80))
    fees = [f for d in decisions for f in d.fees]
    assert [(f.fee.total, f.final) for f in fees] == [
        (D(41), False),
        (D(55), False),
        (D(0), True),  # the figure that stands: nothing is owed
    ]


def test_a_payment_in_time_that_arrives_late_sets_the_fee_stated_to_zero(low: Policy) -> None:
    rules = with_rules(low, late_fees=ASSESS)
    _, decisions = timeline(
        rules,
        (inv("I", "1000.00"), at(0)),
        (due("I"), at(31)),
        (pay("P", "1000.00", on=20, invoice_id="I"), at(50)),  # received day 20, known day 50
        until=at(80),
    )
    fees = [f for d in decisions for f in d.fees]
    assert [(f.fee.total, f.final) for f in fees][-1] == (D(0), True)


def test_no_fee_is_stated_on_the_disputed_part(low: Policy) -> None:
    rules = with_rules(low, late_fees=FEES)
    _, decisions = timeline(
        rules,
        (inv("I", "1000.00"), at(0)),
        (dispute("D", "I", on=20, amount="900.00"), at(20)),
        (due("I"), at(31)),
        until=at(47),
    )
    reminders = {a.rule_id: a for a in actions(decisions) if a.rule_id.startswith("low.")}
    fee = reminders["low.d15.reminder"].late_fees[0]
    assert reminders["low.d15.reminder"].amount_outstanding == D("100.00")
    assert (fee.fixed, fee.interest) == (D(40), D("1.50"))  # 15 days on the 100.00 chased
