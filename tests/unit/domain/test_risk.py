"""Risk that follows the money (contract semantics 12), behaviour that counts what is unpaid,
credit limits and scores, delinquency types, and the worklist's priority.

Figures in the expectations are the committed policy's points, worked by hand in the comments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from processor.domain.decide import Decision, business_date, standing
from processor.domain.facts import CreditScore, Fact
from processor.domain.policy import Policy
from processor.domain.segmentation import Assessment
from processor.domain.state import CustomerState, apply
from tests.support.builders import (
    at,
    day,
    dispute,
    due,
    inv,
    pay,
    plan,
    profile,
    promise,
    resolve,
)
from tests.support.play import timeline


def state_of(*facts: Fact) -> CustomerState:
    state = CustomerState(customer_id="cust-1")
    for fact in facts:
        state = apply(state, fact)
    return state


def assessed(policy: Policy, on: int, *facts: Fact) -> Assessment:
    return standing(state_of(*facts), day(on), policy)[0]


def paid_history(count: int, *, late: int = 0, amount: str = "1000.00") -> list[Fact]:
    """`count` invoices, monthly from day 0, each paid `late` days after its due date."""
    facts: list[Fact] = []
    for n in range(count):
        facts += [
            inv(f"H{n}", amount, issued=30 * n, due=30 * n + 30),
            pay(f"HP{n}", amount, on=30 * n + 30 + late, invoice_id=f"H{n}"),
        ]
    return facts


# --- risk follows the money ------------------------------------------------------------------


def test_a_large_debt_a_few_weeks_late_is_high_risk(policy: Policy) -> None:
    # 2,000,000 USD 20 days late: days 5 + new 10 + key stake 50 = 65
    big = assessed(policy, 50, inv("BIG", "2000000.00", issued=0, due=30))
    assert (big.segment.risk_bucket, big.stake, big.risk_score) == ("high", "key", 65)
    assert dict(big.points) == {"days late": 5, "behaviour": 10, "amount past due": 50}


def test_the_worklist_puts_a_large_young_debt_before_a_small_old_one(policy: Policy) -> None:
    big = assessed(policy, 50, inv("BIG", "2000000.00", issued=0, due=30))
    small = assessed(policy, 170, inv("SMALL", "30.00", issued=0, due=30))
    assert small.days_past_due == 140 and small.stake == "minor"
    # priority: stake 50 + days 5 + 65 x 0.3 = 75 (rounded half up); the small one:
    # 0 + 25 + 35 x 0.3 = 36
    assert (big.segment.priority, small.segment.priority) == (75, 36)


@pytest.mark.parametrize(
    ("amount", "stake"),
    [("2499.99", "minor"), ("2500.00", "small"), ("25000.00", "mid"), ("250000.00", "key")],
)
def test_the_stake_is_the_past_due_amount_against_the_tier_thresholds(
    amount: str, stake: str, policy: Policy
) -> None:
    assert assessed(policy, 40, inv("A", amount, issued=0, due=30)).stake == stake


def test_an_unlisted_currency_is_staked_at_the_policy_s_rate(policy: Policy) -> None:
    # KWD has no thresholds of its own: USD's 25,000 / 3.25 = 7,692.308 KWD is a mid stake
    mid = assessed(policy, 40, inv("A", "7692.308", issued=0, due=30, currency="KWD"))
    below = assessed(policy, 40, inv("A", "7692.307", issued=0, due=30, currency="KWD"))
    assert (mid.stake, below.stake) == ("mid", "small")


def test_a_residue_is_never_at_stake_and_never_outranks_a_debt(policy: Policy) -> None:
    facts = [inv("A", "500.00", issued=0, due=30), pay("P", "499.50", on=31, invoice_id="A")]
    residue = assessed(policy, 200, *facts)
    assert residue.segment.priority == 0 and residue.stake == "minor"
    debt = assessed(policy, 40, inv("B", "40.00", issued=0, due=30))
    assert debt.segment.priority > residue.segment.priority


def test_every_rung_of_a_ladder_is_reached_by_some_customer(policy: Policy) -> None:
    # low at 121+ days: a reliable payer's one-off small invoice (25 + 0 + 0 = 25 < 30)
    reliable = [*paid_history(8), inv("X", "300.00", issued=240, due=250)]
    low = assessed(policy, 250 + 125, *reliable)
    assert (low.segment.risk_bucket, low.segment.behavior, low.ladder) == ("low", "on_time", "low")
    assert low.segment.delinquency_type == "accidental"
    # medium at 115+ days: a habitually late payer, a minor stake (20 + 30 + 0 = 50 < 60)
    slow = [*paid_history(8, late=20), inv("X", "300.00", issued=240, due=250)]
    medium = assessed(policy, 250 + 116, *slow)
    assert (medium.segment.risk_bucket, medium.ladder) == ("medium", "medium")


# --- credit limits and scores ----------------------------------------------------------------


def test_credit_limit_use_and_a_poor_score_raise_the_risk(policy: Policy) -> None:
    facts: list[Fact] = [inv("A", "900.00", issued=0, due=30)]
    plain = assessed(policy, 35, *facts)
    limited = assessed(
        policy,
        35,
        profile(credit_limit=(("USD", Decimal("1000.00")),)),
        *facts,
    )
    assert limited.risk_score - plain.risk_score == 10  # 90 % of the limit: near it
    scored = assessed(policy, 35, profile(credit_score=CreditScore(score=30)), *facts)
    assert scored.risk_score - plain.risk_score == 20  # poor
    assert ("credit score", 20) in scored.points


def _limit_run(policy: Policy) -> list[Decision]:
    _, decisions = timeline(
        policy,
        (profile(credit_limit=(("USD", Decimal("1000.00")),)), at(0)),
        (inv("A", "600.00", issued=0, due=30), at(0)),
        (inv("B", "600.00", issued=5, due=35), at(5)),
        (pay("P", "600.00", on=20, invoice_id="A"), at(20)),
        until=at(25),
    )
    return decisions


def test_over_the_credit_limit_raises_a_credit_hold_at_once_and_its_release(
    policy: Policy,
) -> None:
    decisions = _limit_run(policy)
    holds = [(d.state.decided_at, a) for d in decisions for a in d.actions]
    [(held_at, hold), (released_at, release)] = holds
    assert (hold.action, hold.channel, hold.rule_id) == (
        "credit_hold",
        "internal",
        "credit_limit.exceeded",
    )
    assert held_at == at(5)  # with the invoice that crossed it, not on a later wake
    assert "owes 1200.00 USD, over its credit limit of 1000.00 USD by 200.00" in hold.reason
    assert (release.action, release.rule_id, released_at) == (
        "credit_hold_release",
        "release.credit_limit",
        at(20),
    )
    assert hold.event_id != release.event_id
    assert _limit_run(policy)[-1].state == decisions[-1].state  # deterministic


# --- behaviour counts what is unpaid, and how late ---------------------------------------------


def test_a_customer_who_pays_none_of_six_invoices_is_not_new(policy: Policy) -> None:
    facts = [inv(f"I{n}", issued=30 * n, due=30 * n + 30) for n in range(6)]
    late = assessed(policy, 30 * 5 + 30 + 31, *facts)
    assert late.figures.paid_invoices == 0 and late.figures.unpaid_late == 6
    assert late.segment.behavior == "habitually_late"


def test_three_invoices_ninety_days_unpaid_are_not_on_time(policy: Policy) -> None:
    facts = [*paid_history(5), *(inv(f"U{n}", issued=150, due=160) for n in range(3))]
    figures = assessed(policy, 250, *facts).figures
    assert (figures.paid_invoices, figures.unpaid_late, figures.average_days_late) == (
        5,
        3,
        Decimal("90.0"),
    )
    assert assessed(policy, 250, *facts).segment.behavior == "habitually_late"


def test_a_day_late_every_time_is_not_forty_days_late_every_time(policy: Policy) -> None:
    one_day = assessed(policy, 400, *paid_history(6, late=1)).segment.behavior
    forty = assessed(policy, 400, *paid_history(6, late=40)).segment.behavior
    assert (one_day, forty) == ("occasionally_late", "habitually_late")


# --- delinquency types --------------------------------------------------------------------


def _kind(policy: Policy, on: int, *facts: Fact) -> tuple[str, str | None]:
    assessment = assessed(policy, on, *facts)
    return assessment.segment.delinquency_type, assessment.delinquency_reason


@pytest.mark.parametrize(
    ("facts", "on", "kind", "why"),
    [
        pytest.param(paid_history(3), 100, "none", None, id="nothing-past-due"),
        pytest.param(
            [*paid_history(8), inv("X", issued=240, due=250)],
            260,
            "accidental",
            "a reliable payer's first delay",
            id="reliable-one-off",
        ),
        pytest.param(
            [inv("X", issued=0, due=30)], 40, "accidental", "little history yet", id="new"
        ),
        pytest.param(
            [*paid_history(6, late=4), inv("X", issued=180, due=210)],
            215,
            "disorganized",
            "6 of 6 invoices late",
            id="frequent-small-delays",
        ),
        pytest.param(
            [
                *paid_history(4),
                inv("X", issued=120, due=150),
                promise("PR1", "100.00", by=160, on=151, invoice_ids=("X",)),
                promise("PR2", "100.00", by=170, on=165, invoice_ids=("X",)),
            ],
            180,
            "strategic",
            "2 promises or instalments broken",
            id="broken-promises",
        ),
        pytest.param(
            [
                *paid_history(4),
                inv("X", issued=120, due=150),
                inv("Y", issued=121, due=151),
                dispute("D1", "X", on=140),
                resolve("D1", "rejected", on=150),
                dispute("D2", "Y", on=141),
                resolve("D2", "rejected", on=152),
            ],
            160,
            "strategic",
            "2 disputes rejected",
            id="lost-disputes",
        ),
        pytest.param(
            [
                *paid_history(2),
                inv("X", "900.00", issued=60, due=90),
                inv("Y", "900.00", issued=61, due=91),
                plan("PL", ("X", "Y"), [(120, "900.00"), (150, "900.00")], on=100),
            ],
            110,
            "distressed",
            "on a payment plan",
            id="on-a-plan",
        ),
        pytest.param(
            [
                *paid_history(2),
                inv("X", issued=60, due=90),
                inv("Y", issued=61, due=91),
                pay("PX", "40.00", on=95, invoice_id="X"),
                pay("PY", "40.00", on=95, invoice_id="Y"),
            ],
            100,
            "distressed",
            "2 past-due invoices paid in part",
            id="partial-payments",
        ),
    ],
)
def test_delinquency_types(
    facts: list[Fact], on: int, kind: str, why: str | None, policy: Policy
) -> None:
    got, reason = _kind(policy, on, *facts)
    assert got == kind
    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason


def test_contacts_ignored_make_a_strategic_delinquency_and_the_high_ladder(
    policy: Policy,
) -> None:
    # A reliable payer until now; X is chased (days 1, 15, 31) and nothing is paid at all:
    # after the third contact ignored, the customer is strategic
    _, decisions = timeline(
        policy,
        *[(f, at(_day_of(f))) for f in paid_history(4)],
        (inv("X", "900.00", issued=120, due=150), at(120)),
        (due("X", on=150), at(151)),
        until=at(215),
    )
    kinds = [d.assessment.segment.delinquency_type for d in decisions]
    first = kinds.index("strategic")
    assert "accidental" in kinds[:first]
    strategic = decisions[first].assessment
    assert strategic.ladder == "high" and strategic.segment.risk_bucket != "high"
    assert "3 contacts about one invoice ignored" in (strategic.delinquency_reason or "")
    before = [a.rule_id for d in decisions[:first] for a in d.actions]
    after = [a.rule_id for d in decisions[first:] for a in d.actions]
    assert before[:2] == ["low.d1.reminder", "low.d15.reminder"]
    assert len(before) == 3 and ".d31." in before[2]  # the third contact, 31 days late
    assert after and all(rule.startswith("high.") for rule in after)
    reason = next(a.reason for d in decisions[first:] for a in d.actions)
    assert "strategic: the high-risk ladder" in reason


def _day_of(fact: Fact) -> int:
    return (fact.occurred_at.date() - day(0)).days


def test_an_accidental_delinquency_gets_friendly_early_reminders(policy: Policy) -> None:
    # A reliable payer forgets X; it goes on paying its other invoices (Y), so it is not
    # ignoring anyone: accidental, and its early reminders are friendly
    _, decisions = timeline(
        policy,
        *[(f, at(_day_of(f))) for f in paid_history(8)],
        (inv("X", "400.00", issued=240, due=250), at(240)),
        (due("X", on=250), at(251)),
        (inv("Y", "400.00", issued=250, due=280), at(250)),
        (pay("PY", "400.00", on=270, invoice_id="Y"), at(270)),
        until=at(290),
    )
    early = [a for d in decisions for a in d.actions if a.stage == "early_delinquency"]
    assert [a.rule_id for a in early] == ["low.d1.reminder", "low.d15.reminder", "low.d31.reminder"]
    assert {a.tone for a in early} == {"friendly"}
    assert {a.segment.delinquency_type for a in early} == {"accidental"}
    assert "not the rung's firm: the delinquency is accidental" in early[-1].reason


# --- priority ---------------------------------------------------------------------------------


def test_a_mixed_portfolio_is_ordered_as_a_collector_would_work_it(policy: Policy) -> None:
    today = 200
    portfolio = {
        # 300,000 USD 20 days late: the most money at stake
        "key-debt": [inv("A", "300000.00", issued=150, due=180)],
        # 30,000 USD 100 days late
        "old-mid-debt": [inv("A", "30000.00", issued=70, due=100)],
        # a promise of 5,000 USD due today on a 6,000 USD debt 50 days late
        "promise-today": [
            inv("A", "6000.00", issued=120, due=150),
            promise("PR", "5000.00", by=today, on=190, invoice_ids=("A",)),
        ],
        # 6,000 USD 50 days late, no promise
        "same-without-promise": [inv("A", "6000.00", issued=120, due=150)],
        # 300 USD 140 days late
        "small-old-debt": [inv("A", "300.00", issued=30, due=60)],
        # 300 USD 5 days late
        "small-new-debt": [inv("A", "300.00", issued=165, due=195)],
        # paid but a 0.50 USD residue
        "residue": [
            inv("A", "500.00", issued=30, due=60),
            pay("P", "499.50", on=61, invoice_id="A"),
        ],
        "nothing-due": [inv("A", "900.00", issued=190, due=220)],
    }
    priority = {
        name: assessed(policy, today, *facts).segment.priority for name, facts in portfolio.items()
    }
    order = sorted(priority, key=lambda name: -priority[name])
    assert order == [
        "key-debt",
        "old-mid-debt",
        "promise-today",
        "same-without-promise",
        "small-old-debt",
        "small-new-debt",
        "residue",
        "nothing-due",
    ], priority
    assert priority["residue"] == priority["nothing-due"] == 0
    assert priority["promise-today"] - priority["same-without-promise"] == 10


def test_segments_are_dated_on_the_customer_s_day(policy: Policy) -> None:
    # 20:00 UTC on 2026-01-30 (the due date, day 29) is already 05:00 on the 31st in Tokyo
    now = datetime(2026, 1, 30, 20, tzinfo=UTC)
    tokyo = state_of(profile(time_zone="Asia/Tokyo"), inv("A", issued=0, due=29))
    utc = state_of(inv("A", issued=0, due=29))
    assert business_date(now, policy, tokyo) == date(2026, 1, 31)
    assert business_date(now, policy, utc) == date(2026, 1, 30)
    assert standing(tokyo, business_date(now, policy, tokyo), policy)[0].days_past_due == 1
    assert standing(utc, business_date(now, policy, utc), policy)[0].days_past_due == 0
