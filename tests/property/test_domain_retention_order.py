"""Delivery order once history is archived (policy `history.retain_days`, `domain.retention`).

Archiving drops settled history from the state and carries forward what it leaves, so the raw
ledgers of two deliveries may hold different (archived or not yet archived) settled facts. What
must not differ is the money: every invoice still owing, what is paid and owed on it, the
outstanding per currency, the cash on account and the held payments, and the segment they give.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.core.policy_file import load_policy
from processor.domain.decide import on_event
from processor.domain.errors import DomainError
from processor.domain.facts import Fact
from processor.domain.policy import Policy
from processor.domain.segmentation import assess
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER, inv, pay
from tests.support.replay import deliver, short_retention_policy
from tests.support.strategies import histories

POLICY = load_policy(None)
SHORT = short_retention_policy()
RETAIN_DAYS = SHORT.history.retain_days
# Deliveries late by at most this many days (originals, and repeats after their original).
MAX_DELAY_DAYS = 12


def money_view(state: CustomerState) -> dict[str, object]:
    """What the customer owes and holds: identical whatever history was archived."""
    ledger = state.ledger
    return {
        "open_invoices": [
            (
                i.invoice_id,
                i.currency,
                str(i.amount),
                str(ledger.balances[i.invoice_id].paid),
                str(ledger.balances[i.invoice_id].outstanding),
                ledger.balances[i.invoice_id].last_paid_on,
            )
            for i in ledger.open_invoices()
        ],
        "outstanding": sorted(
            (currency, str(amount)) for currency, amount in ledger.outstanding_by_currency().items()
        ),
        "credit": sorted((currency, str(amount)) for currency, amount in ledger.credit.items()),
        "held": sorted(ledger.held),
    }


@st.composite
def late_deliveries(draw: st.DrawFn, facts: list[Fact]) -> list[Fact]:
    """`facts` delivered up to MAX_DELAY_DAYS late each, some repeated up to as late again."""
    keyed = []
    for fact in facts:
        due = fact.occurred_at + timedelta(hours=draw(st.integers(0, 24 * MAX_DELAY_DAYS)))
        keyed.append((due, fact))
        if draw(st.integers(0, 4)) == 0:
            keyed.append((due + timedelta(hours=draw(st.integers(0, 24 * MAX_DELAY_DAYS))), fact))
    return [fact for _, fact in sorted(keyed, key=lambda pair: pair[0])]


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_late_delivery_within_the_retention_period_ends_in_the_in_order_balances(
    data: st.DataObject,
) -> None:
    """With history archived after 30 days, facts delivered up to 12 days late (and repeats up
    to 24 days after their fact) end in the money the in-order delivery ends in, which is the
    money the same facts give with nothing archived; and the same segment on a common day."""
    assert 2 * MAX_DELAY_DAYS < RETAIN_DAYS - 1
    facts: list[Fact] = data.draw(histories())
    delivery = data.draw(late_deliveries(facts))
    horizon = max(f.occurred_at for f in facts) + timedelta(days=2 * RETAIN_DAYS)
    in_order = deliver(facts, SHORT, until=horizon).states
    late = deliver(delivery, SHORT, until=horizon).states
    unarchived = deliver(facts, POLICY, until=horizon).states
    for customer, state in in_order.items():
        assert money_view(late[customer]) == money_view(state), customer
        assert unarchived[customer].ledger.archived_through is None
        assert money_view(unarchived[customer]) == money_view(state), customer
        day = horizon.date()
        assert assess(late[customer].ledger, day, SHORT) == assess(state.ledger, day, SHORT)


def _deliver_as_the_worker(facts: list[Fact], policy: Policy) -> tuple[CustomerState, list[str]]:
    """One customer's facts through on_event; a DomainError is dead-lettered, state unchanged."""
    state, dead_letters = CustomerState(customer_id=CUSTOMER), []
    for fact in facts:
        try:
            state = on_event(state, fact, now=fact.occurred_at, policy=policy).state
        except DomainError as exc:
            dead_letters.append(f"{fact.event_id}: {exc}")
    return state, dead_letters


def test_a_payment_delivered_late_within_retention_counts_as_in_order() -> None:
    """Invoices A (day 0) and C (day 1); an unnamed payment on day 5 pays A; C is paid on day
    6; invoice B follows on day 300. Delivered last, the day-5 payment still settles A: order
    tolerance holds for facts up to `retain_days` (400) late."""
    a, c, b = inv("A", "100.00", issued=0), inv("C", "100.00", issued=1), inv("B", issued=300)
    paid_a, paid_c = pay("P-A", "100.00", on=5), pay("P-C", "100.00", on=6, invoice_id="C")
    in_order, _ = _deliver_as_the_worker([a, c, paid_a, paid_c, b], POLICY)
    late, dead_letters = _deliver_as_the_worker([a, c, paid_c, b, paid_a], POLICY)
    assert "A" not in [i.invoice_id for i in in_order.ledger.open_invoices()]  # paid
    assert dead_letters == []
    assert money_view(late) == money_view(in_order)


def test_a_fact_older_than_the_archived_history_is_dead_lettered_and_changes_nothing() -> None:
    """The documented limit of order tolerance: the same payment delivered 495 days late, after
    B's day-500 decision archived the history through day 6, could be a re-delivery of an
    archived fact. It is refused naming `received_on` (the worker dead-letters it with that
    reason, so nothing is lost silently) and the state is exactly what it was."""
    a, c, b = inv("A", "100.00", issued=0), inv("C", "100.00", issued=1), inv("B", issued=500)
    paid_a, paid_c = pay("P-A", "100.00", on=5), pay("P-C", "100.00", on=6, invoice_id="C")
    before, _ = _deliver_as_the_worker([a, c, paid_c, b], POLICY)
    assert before.ledger.archived_through is not None
    after, dead_letters = _deliver_as_the_worker([a, c, paid_c, b, paid_a], POLICY)
    [letter] = dead_letters
    assert "received_on" in letter and "archived history" in letter
    assert after == before
