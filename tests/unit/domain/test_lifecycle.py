"""Contract 1.1 in the pure domain: every new fact, what it does to the money and to the ladder,
and the order it arrives in. Each scenario is played as the worker plays it (events at their
instants, wake-ups in between); "the ladder" is the default policy's, pinned to one risk bucket
where the bucket is beside the point.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from itertools import permutations

import pytest

from processor.domain.collection import Sent
from processor.domain.decide import Decision, advance, on_event
from processor.domain.errors import DomainError
from processor.domain.ladder import due_steps
from processor.domain.plan import ledger_facts
from processor.domain.policy import Policy
from processor.domain.state import CustomerState, apply
from tests.support.builders import (
    CUSTOMER,
    at,
    credit,
    day,
    dispute,
    due,
    hold,
    inv,
    move_due,
    outcome,
    pay,
    plan,
    promise,
    release,
    resolve,
    reverse,
    void,
    write_off,
)
from tests.support.play import fixed_risk, timeline

D = Decimal


def chasing(decisions: list[Decision]) -> list[tuple[str, str, tuple[str, ...], str]]:
    """(day, rule, invoices, amount) of every ladder action (rule ids of the risk ladders)."""
    return [
        (str(d.state.decided_at.date()), a.rule_id, a.invoice_ids, str(a.amount_outstanding))  # type: ignore[union-attr]
        for d in decisions
        for a in d.actions
        if a.rule_id.split(".")[0] in {"low", "medium", "high"}
    ]


def tasks(decisions: list[Decision], action: str) -> list[tuple[str, tuple[str, ...], str]]:
    """(day, invoices, reason) of every action of one kind."""
    return [
        (str(d.state.decided_at.date()), a.invoice_ids, a.reason)  # type: ignore[union-attr]
        for d in decisions
        for a in d.actions
        if a.action == action
    ]


def flags(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(f.invoice_id, f.detected_by) for d in decisions for f in d.flags]


def statuses(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(s.commitment_id, s.status) for d in decisions for s in d.statuses]


@pytest.fixture
def low(policy: Policy) -> Policy:
    return fixed_risk(policy, "low")


# --- the money: credits, voids, write-offs, due-date changes, reversals -----------------------


def test_a_voided_invoice_is_owed_by_nobody_and_never_chased(low: Policy) -> None:
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (void("A", on=10), at(10)),
        until=at(200),
    )
    assert state.ledger.balances["A"].voided and state.ledger.outstanding_by_currency() == {}
    assert chasing(decisions) == [] and flags(decisions) == []
    assert state.segment is not None and state.segment.aging_bucket == "current"


def test_a_void_frees_what_was_paid_on_the_invoice_for_the_oldest_due(low: Policy) -> None:
    state, _ = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (inv("B", issued=1, due=20), at(1)),
        (pay("P", "100.00", on=5, invoice_id="A"), at(5)),
        (void("A", on=10), at(10)),
        until=at(12),
    )
    assert state.ledger.balances["B"].outstanding == D("0.00")
    assert state.ledger.balances["B"].settled_on == day(10)


def test_a_credit_note_reduces_what_is_chased_and_named_in_the_reason(low: Policy) -> None:
    _, decisions = timeline(
        low,
        (inv("A", "100.00", issued=0, due=30), at(0)),
        (credit("CN1", "40.00", on=5, invoice_id="A"), at(5)),
        (due("A", on=30), at(31, hour=8)),
        until=at(32),
    )
    assert chasing(decisions) == [("2026-02-01", "low.d1.reminder", ("A",), "60.00")]


def test_a_full_credit_before_the_due_date_leaves_nothing_late_and_no_behaviour(
    low: Policy,
) -> None:
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (credit("CN1", "100.00", on=5, invoice_id="A"), at(5)),
        until=at(100),
    )
    assert flags(decisions) == [] and chasing(decisions) == []
    assert state.ledger.balances["A"].closed_by == "credited"


def test_a_write_off_stops_the_ladder_and_counts_as_not_paid(low: Policy) -> None:
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        (write_off("A", on=50), at(50)),
        until=at(200),
    )
    rules = [rule for _, rule, _, _ in chasing(decisions)]
    assert rules == ["low.d1.reminder", "low.d15.reminder"]
    assert state.ledger.balances["A"].closed_by == "written_off"
    assert ledger_facts(state.ledger).settlements == ((day(50).toordinal(), 20),)


def test_a_partial_write_off_leaves_the_rest_owed(low: Policy) -> None:
    state, _ = timeline(
        low,
        (inv("A", "100.00", issued=0, due=30), at(0)),
        (write_off("A", on=40, amount="30.00"), at(40)),
        until=at(41),
    )
    balance = state.ledger.balances["A"]
    assert (balance.written_off, balance.outstanding) == (D("30.00"), D("70.00"))


def test_an_agreed_extension_moves_lateness_and_the_ladder_to_the_new_date(low: Policy) -> None:
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (move_due("A", to=60, on=20), at(20)),
        until=at(63),
    )
    assert flags(decisions) == [("A", "clock")]
    first_flag = next(d for d in decisions if d.flags)
    assert first_flag.state.decided_at == at(62, hour=0)
    assert state.ledger.invoices["A"].due_date == day(60)
    assert state.ledger.invoices["A"].issued_due == day(30)
    # The ladder counts from the new date: nothing before it, the day-1 rung once it is late.
    assert [(c[0], c[1]) for c in chasing(decisions)] == [(str(day(62)), "low.d1.reminder")]


def test_a_bounced_payment_reopens_the_invoice_and_the_ladder(low: Policy) -> None:
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (pay("P", "100.00", on=25, invoice_id="A"), at(25)),
        (reverse("P", on=40), at(40)),
        until=at(44),
    )
    assert state.ledger.balances["A"].outstanding == D("100.00")
    assert flags(decisions) == [("A", "clock")]
    assert [rule for _, rule, _, _ in chasing(decisions)] == ["low.d1.reminder"]


def test_a_reversal_undoes_what_an_unnamed_payment_paid_on_every_invoice() -> None:
    state = CustomerState(customer_id=CUSTOMER)
    for fact in [
        inv("A", "60.00", issued=0, due=10),
        inv("B", "60.00", issued=0, due=20),
        pay("P", "100.00", on=5),
        reverse("P", on=30),
    ]:
        state = apply(state, fact)
    assert state.ledger.outstanding_by_currency() == {"USD": D("120.00")}
    assert state.ledger.credit == {}


# --- order tolerance: companions before their invoice or payment ------------------------------

ORDER_SCENARIOS = {
    "credit note before its invoice": [inv("A"), credit("CN", "30.00", on=5, invoice_id="A")],
    "void before its invoice": [inv("A"), void("A", on=5)],
    "write-off before its invoice": [inv("A"), write_off("A", on=40, amount="10.00")],
    "due-date change before its invoice": [inv("A"), move_due("A", to=45, on=5)],
    "reversal before its payment": [
        inv("A"),
        pay("P", "100.00", on=10, invoice_id="A"),
        reverse("P", on=20),
    ],
    "resolution before its dispute": [
        inv("A"),
        dispute("D1", "A", on=35),
        resolve("D1", "rejected", on=40),
    ],
    "release before its hold": [inv("A"), hold("H", on=35, invoice_id="A"), release("H", on=40)],
}


def money_view(state: CustomerState) -> object:
    ledger = state.ledger
    return (
        sorted((k, b) for k, b in ledger.balances.items()),
        ledger.credit,
        ledger.held,
        sorted(state.collection.disputes.items()),
        sorted(state.collection.holds.items()),
    )


@pytest.mark.parametrize("scenario", sorted(ORDER_SCENARIOS))
def test_every_arrival_order_ends_in_the_in_order_state(scenario: str) -> None:
    facts = ORDER_SCENARIOS[scenario]
    results = set()
    for order in permutations(facts):
        state = CustomerState(customer_id=CUSTOMER)
        for fact in order:
            state = apply(state, fact)
        results.add(repr(money_view(state)))
    assert len(results) == 1, scenario


def test_a_contradicting_due_notice_before_its_invoice_is_retracted_and_the_invoice_stands(
    low: Policy,
) -> None:
    early = due("A", on=31)  # the invoice says day 30
    state = on_event(CustomerState(customer_id=CUSTOMER), early, now=at(32), policy=low).state
    progress = on_event(state, inv("A", issued=0, due=30), now=at(33), policy=low)
    [retraction] = progress.decisions[-1].retracted
    assert retraction.fact == early and retraction.field == "due_date"
    assert "A" in progress.state.ledger.invoices and "A" not in progress.state.ledger.due_notices


def test_of_two_versions_of_an_invoice_the_earlier_in_business_time_stands(low: Policy) -> None:
    first = inv("A", "100.00", issued=0, due=30)
    later = replace(inv("A", "150.00", issued=0, due=30, event_id="e-A-v2"), occurred_at=at(2))
    state = on_event(CustomerState(customer_id=CUSTOMER), later, now=at(2), policy=low).state
    progress = on_event(state, first, now=at(3), policy=low)
    [retraction] = progress.decisions[-1].retracted
    assert retraction.fact.event_id == "e-A-v2" and retraction.field == "invoice_id"
    assert progress.state.ledger.invoices["A"].amount == D("100.00")
    assert not on_event(progress.state, later, now=at(4), policy=low).applied  # a repeat
    third = replace(inv("A", "170.00", issued=0, due=30, event_id="e-A-v3"), occurred_at=at(5))
    with pytest.raises(DomainError) as raised:
        on_event(progress.state, third, now=at(5), policy=low)
    assert raised.value.field == "invoice_id"


def test_an_event_id_reused_by_another_invoice_is_refused_naming_event_id(low: Policy) -> None:
    state = on_event(CustomerState(customer_id=CUSTOMER), inv("A"), now=at(0), policy=low).state
    with pytest.raises(DomainError) as raised:
        on_event(state, inv("B", event_id="e-A"), now=at(1), policy=low)
    assert raised.value.field == "event_id"


# --- what may be chased: disputes, promises, plans, holds -------------------------------------


def test_a_disputed_invoice_is_not_chased_and_raises_a_review_then_an_overdue_review(
    low: Policy,
) -> None:
    _, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (dispute("D1", "A", on=20), at(20)),
        (due("A", on=30), at(31, hour=8)),
        until=at(200),
    )
    assert chasing(decisions) == []
    assert flags(decisions) == [("A", "due_date_event")]  # a flag is a fact, not chasing
    reviews = tasks(decisions, "dispute_review")
    assert [r[0] for r in reviews] == ["2026-01-21", "2026-02-20"]
    assert "D1" in reviews[0][2] and "open after 30 days" in reviews[1][2]


def test_a_rejected_dispute_resumes_with_one_action_at_the_rung_reached(low: Policy) -> None:
    _, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (dispute("D1", "A", on=20), at(20)),
        (due("A", on=30), at(31, hour=8)),
        (resolve("D1", "rejected", on=80), at(80)),
        until=at(81),
    )
    assert chasing(decisions) == [("2026-03-22", "low.d45.call", ("A",), "100.00")]


def test_an_upheld_dispute_keeps_its_part_out_of_collection(low: Policy) -> None:
    _, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (dispute("D1", "A", on=20, amount="30.00"), at(20)),
        (resolve("D1", "upheld", on=25), at(25)),
        (due("A", on=30), at(31, hour=8)),
        until=at(32),
    )
    [(_day, _rule, _ids, amount)] = chasing(decisions)
    assert amount == "70.00"
    reason = next(a.reason for d in decisions for a in d.actions if a.rule_id.startswith("low"))
    assert "dispute D1 for 30.00 USD (upheld" in reason


def test_a_promise_pauses_chasing_and_when_kept_is_published_and_thanked(low: Policy) -> None:
    _, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        (promise("PR1", "100.00", by=50, on=35, invoice_ids=("A",)), at(35)),
        (pay("P", "100.00", on=49, invoice_id="A"), at(49)),
        until=at(100),
    )
    assert [rule for _, rule, _, _ in chasing(decisions)] == ["low.d1.reminder"]
    assert statuses(decisions) == [("PR1", "kept")]
    assert [t[0] for t in tasks(decisions, "thank_you")][-1] == "2026-02-19"


def test_a_broken_promise_is_published_followed_up_at_once_and_counts_against_risk(
    low: Policy, policy: Policy
) -> None:
    state, decisions = timeline(
        policy,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        (promise("PR1", "100.00", by=40, on=35, invoice_ids=("A",)), at(35)),
        until=at(45),
    )
    assert statuses(decisions) == [("PR1", "broken")]
    [(on, ids, reason)] = tasks(decisions, "promise_follow_up")
    assert (on, ids) == ("2026-02-13", ("A",)) and "broken" in reason  # day 40 + 2 of grace
    broke = next(d for d in decisions if d.statuses)
    assert broke.assessment.figures.broken_commitments == 1
    assert state.segment is not None and state.segment.behavior != "new"


def test_a_plan_chases_only_instalments_that_are_due_and_follows_up_a_broken_one(
    low: Policy,
) -> None:
    _, decisions = timeline(
        low,
        (inv("A", "300.00", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        (plan("PL", ("A",), [(40, "100.00"), (70, "100.00"), (100, "100.00")], on=32), at(32)),
        (pay("P1", "100.00", on=39, invoice_id="A"), at(39)),
        until=at(80),
    )
    assert statuses(decisions) == [("PL#1", "kept"), ("PL#2", "broken")]
    followed = tasks(decisions, "promise_follow_up")
    assert [f[0] for f in followed] == ["2026-03-15"]  # day 70 + 2 days' grace
    chased = [c for c in chasing(decisions) if c[0] > "2026-02-02"]
    assert chased and all(amount == "100.00" for *_, amount in chased)


def test_a_hold_pauses_the_invoice_and_its_release_resumes_with_one_action(low: Policy) -> None:
    _, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (hold("H1", on=20, invoice_id="A"), at(20)),
        (due("A", on=30), at(31, hour=8)),
        (release("H1", on=100), at(100)),
        until=at(101),
    )
    assert sorted((c[0], c[1]) for c in chasing(decisions)) == [
        ("2026-04-11", "low.d61.final_notice"),
        ("2026-04-11", "low.d61.payment_plan"),
    ]


def test_a_customer_hold_until_a_date_ends_by_itself(low: Policy) -> None:
    _, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (hold("H1", on=20, until=40), at(20)),
        (due("A", on=30), at(31, hour=8)),
        until=at(44),
    )
    assert [c[0] for c in chasing(decisions)] == ["2026-02-11"]


# --- residues, unapplied cash, first-seen-late, releases, withdrawals, outcomes ---------------


def test_a_one_cent_residue_is_not_chased_or_aged_and_raises_one_write_off_review(
    policy: Policy,
) -> None:
    state, decisions = timeline(
        policy,
        (inv("A", "100.00", issued=0, due=30), at(0)),
        (pay("P", "99.99", on=20, invoice_id="A"), at(20)),
        (due("A", on=30), at(31, hour=8)),
        until=at(300),
    )
    assert chasing(decisions) == []
    [(_on, ids, reason)] = tasks(decisions, "write_off_review")
    assert ids == ("A",) and "0.01 USD" in reason and "tolerance" in reason
    assert state.segment is not None and state.segment.aging_bucket == "current"
    assert state.segment.risk_bucket == "low"


def test_one_fils_residue_respects_three_decimals(policy: Policy) -> None:
    _, decisions = timeline(
        policy,
        (inv("A", "10.000", issued=0, due=30, currency="KWD"), at(0)),
        (pay("P", "9.999", on=20, invoice_id="A", currency="KWD"), at(20)),
        until=at(100),
    )
    assert chasing(decisions) == []
    assert len(tasks(decisions, "write_off_review")) == 1


def test_a_payment_naming_an_unknown_invoice_is_unapplied_cash_reconciled_and_limits_to_reminders(
    low: Policy,
) -> None:
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (pay("P", "100.00", on=25, invoice_id="A-TYPO"), at(25)),
        (due("A", on=30), at(31, hour=8)),
        until=at(200),
    )
    [unapplied] = state.ledger.unapplied()
    assert (unapplied.amount, unapplied.reason) == (D("100.00"), "unknown_invoice")
    [(on, ids, reason)] = tasks(decisions, "reconcile_payment")
    assert on == "2026-01-29" and ids == ("A-TYPO",) and "A-TYPO" in reason
    actions = {a.action for d in decisions for a in d.actions if a.rule_id.startswith("low")}
    assert actions == {"reminder"}  # covered by the unapplied cash: never escalated


def test_a_payment_in_another_currency_is_reconciled_not_dead_lettered(low: Policy) -> None:
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (pay("P", "90.00", on=25, invoice_id="A", currency="EUR"), at(25)),
        until=at(40),
    )
    [(_, ids, reason)] = tasks(decisions, "reconcile_payment")
    assert ids == ("A",) and "in USD" in reason
    assert state.ledger.balances["A"].outstanding == D("100.00")


def test_an_invoice_first_seen_long_past_due_starts_before_escalation(policy: Policy) -> None:
    high = fixed_risk(policy, "high")
    _, decisions = timeline(
        high,
        (inv("A", issued=0, due=30), at(180)),
        until=at(200),
    )
    first, *rest = [a for d in decisions for a in d.actions]
    assert first.action not in {"agency_referral", "credit_hold"}
    assert "first seen this late" in first.reason
    assert "held by the contact rules" not in first.reason
    escalations = [a for a in rest if a.action in {"agency_referral", "credit_hold"}]
    assert escalations and all(
        (d.state.decided_at.date() - day(180)).days >= 14  # type: ignore[union-attr]
        for d in decisions
        for a in d.actions
        if a in escalations
    )


def test_a_settled_debt_releases_its_credit_hold(policy: Policy) -> None:
    high = fixed_risk(policy, "high")
    _, decisions = timeline(
        high,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        (pay("P", "100.00", on=140, invoice_id="A"), at(140)),
        until=at(150),
    )
    kinds = [a.action for d in decisions for a in d.actions]
    assert "credit_hold" in kinds and "agency_referral" in kinds
    assert kinds.count("credit_hold_release") == 1 and kinds.count("agency_recall") == 1


def test_a_contact_still_ahead_is_withdrawn_when_the_payment_lands(low: Policy) -> None:
    # Saturday 2026-01-31 is quiet all day: the day-1 reminder decided then waits for Monday.
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=29), at(0)),
        (due("A", on=29), at(30, hour=10)),
        until=at(30, hour=11),
    )
    [reminder] = [a for d in decisions for a in d.actions]
    assert reminder.not_before is not None and reminder.not_before > at(30, hour=11)
    progress = on_event(state, pay("P", "100.00", on=31, invoice_id="A"), now=at(31), policy=low)
    [withdrawal] = [w for d in progress.decisions for w in d.withdrawals]
    assert withdrawal.withdraws == reminder.event_id and "paid in full" in withdrawal.reason


def test_a_bounced_email_is_not_used_again_and_a_reached_rung_is_not_repeated(
    low: Policy,
) -> None:
    state, decisions = timeline(
        low,
        (inv("A", issued=0, due=30), at(0)),
        (due("A", on=30), at(31, hour=8)),
        until=at(32),
    )
    [first] = [a for d in decisions for a in d.actions]
    progress = on_event(state, outcome(first.event_id, "bounced", on=33), now=at(33), policy=low)
    later = advance(progress.state, at(47), policy=low)
    rerouted = [a for d in later for a in d.actions]
    assert rerouted and {a.channel for a in rerouted} == {"internal"}
    assert "bounced" in rerouted[0].reason


def test_a_customer_reached_on_a_rung_is_not_contacted_again_on_it(policy: Policy) -> None:
    """The day-1 call reached the customer: the rung's steps still pending (here all of them,
    as if the contacts were still to go) are not taken; the next rung is."""
    high = fixed_risk(policy, "high")
    state, _ = timeline(high, (inv("A", issued=0, due=30), at(0)), until=at(1))
    state = apply(state, due("A", on=30))
    flagged = {"A": "due_date_event"}
    facts = ledger_facts(state.ledger)
    pending = due_steps(state, facts, flagged, "high", day(31), high)  # type: ignore[arg-type]
    assert {d.step.id for d in pending} == {"high.d1.call", "high.d1.reminder"}
    sent = outcome("action-x", "reached", on=31)
    state = replace(
        state,
        collection=replace(
            state.collection,
            sent={
                "action-x": Sent(
                    action="call_task",
                    channel="phone",
                    rule_id="high.d1.call",
                    invoice_ids=("A",),
                    offset=1,
                    not_before=None,
                )
            },
        ),
    )
    state = apply(state, sent)
    assert state.collection.reached == {"A": frozenset({1})}
    assert due_steps(state, facts, flagged, "high", day(31), high) == []  # type: ignore[arg-type]
    later = due_steps(state, facts, flagged, "high", day(38), high)  # type: ignore[arg-type]
    assert [d.step.id for d in later] == ["high.d8.call"]
