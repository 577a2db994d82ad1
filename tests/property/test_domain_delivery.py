"""Delivery order and repeats: what the domain ends with does not depend on how facts arrive.

Histories are a few customers' consistent facts (invoices in USD, EUR and JPY; partial, full,
split and over-payments, named or applied oldest-due-first; cash on account; due-date-passed
notices), each at a realistic `occurred_at` (local business hours, several UTC offsets).
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.core.policy_file import load_policy
from processor.domain.facts import Fact
from processor.domain.segmentation import assess
from tests.support.replay import deliver, ledger_view
from tests.support.strategies import histories, lifecycle_histories, redelivered

POLICY = load_policy(None)
DOMAIN = settings(max_examples=80, deadline=None)


@DOMAIN
@given(st.data())
def test_redelivered_events_change_nothing_and_emit_nothing(data: st.DataObject) -> None:
    """At-least-once delivery: a repeat (same event_id), wherever it lands after its original,
    leaves the whole state (ledger and decision memory) as it was and decides nothing, so the
    run with repeats is identical, decision by decision, to the run without."""
    facts: list[Fact] = data.draw(histories())
    delivery = data.draw(redelivered(facts))
    once, repeated = deliver(facts, POLICY), deliver(delivery, POLICY)
    assert repeated.states == once.states
    assert [d.decision for d in repeated.decided] == [d.decision for d in once.decided]


@DOMAIN
@given(st.data())
def test_shuffled_and_repeated_delivery_ends_in_the_in_order_ledger(data: st.DataObject) -> None:
    """Order tolerance: any arrival order, with repeats, ends in the ledger in-order delivery
    gives (invoices, payments, due notices, per-invoice paid and outstanding amounts, settle
    dates, open invoices, outstanding per currency, cash on account, held payments, seen ids),
    and that ledger is assessed the same on a common day (segment, risk score, behaviour
    figures: what the query surface shows).

    Only the ledger is compared. The decision memory (late flags and how they were detected,
    ladder steps done, contacts, segment, decided_at) legitimately differs: each decision is
    taken at its own instant with the facts delivered by then, and one customer's decisions
    never go back in time, so e.g. a due notice delivered before the payment that settled the
    invoice on time raises a flag that in-order delivery never raises.

    These histories span far less than the default `history.retain_days`, so nothing is
    archived; test_domain_retention_order.py covers delivery order once history is archived.
    """
    facts: list[Fact] = data.draw(histories())
    delivery = data.draw(st.permutations(data.draw(redelivered(facts))))
    horizon = max(f.occurred_at for f in facts) + timedelta(days=1)
    expected = deliver(facts, POLICY, until=horizon)
    actual = deliver(delivery, POLICY, until=horizon)
    assert actual.states.keys() == expected.states.keys()
    for customer, state in expected.states.items():
        assert ledger_view(actual.states[customer]) == ledger_view(state), customer
        assert assess(actual.states[customer].ledger, horizon.date(), POLICY) == assess(
            state.ledger, horizon.date(), POLICY
        ), customer


@DOMAIN
@given(st.data())
def test_lifecycle_facts_in_any_order_end_in_the_in_order_ledger_and_collection(
    data: st.DataObject,
) -> None:
    """The same with contract 1.1's facts mixed in (voids, credit notes, write-offs, disputes and
    their resolutions, holds and their releases, shuffled with repeats): the ledger, what is
    owed, and the disputes and holds held end as the in-order delivery leaves them."""
    facts: list[Fact] = data.draw(lifecycle_histories())
    delivery = data.draw(st.permutations(data.draw(redelivered(facts))))
    horizon = max(f.occurred_at for f in facts) + timedelta(days=1)
    expected = deliver(facts, POLICY, until=horizon)
    actual = deliver(delivery, POLICY, until=horizon)
    for customer, state in expected.states.items():
        got = actual.states[customer]
        assert ledger_view(got) == ledger_view(state), customer
        assert sorted(got.ledger.balances.items()) == sorted(state.ledger.balances.items())
        assert got.collection.disputes == state.collection.disputes, customer
        assert got.collection.holds == state.collection.holds, customer
