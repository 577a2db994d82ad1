"""Shortcuts that must give what the long way gives.

The ledger applies a fact that comes last on its timeline on top of the stored balances instead
of re-deriving them; the schedule and the rules read a ledger's derived facts (`domain.plan`);
the state codec stores balances and implies seen ids. Each must equal the full derivation, for
any delivery order (in order: the shortcut is taken; shuffled: the full pass is).
"""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.core.policy_file import load_policy
from processor.core.state_codec import FORMAT, Wake, decode_state, encode_state, wake_of_raw
from processor.domain.calendar import customer_calendar
from processor.domain.decide import on_event
from processor.domain.errors import DomainError
from processor.domain.facts import Fact
from processor.domain.ledger import ZERO, settle
from processor.domain.plan import earliest_archivable, ledger_facts
from processor.domain.policy import Policy
from processor.domain.schedule import next_wake
from processor.domain.segmentation import exposure
from processor.domain.state import CustomerState
from tests.support.replay import short_retention_policy
from tests.support.strategies import histories, redelivered

POLICY = load_policy(None)
SHORT = short_retention_policy()
DOMAIN = settings(max_examples=60, deadline=None)


def _states(facts: list[Fact], policy: Policy) -> list[CustomerState]:
    """Every state the pure step goes through, customer by customer."""
    states: dict[str, CustomerState] = {}
    seen = []
    for fact in facts:
        state = states.get(fact.customer_id) or CustomerState(customer_id=fact.customer_id)
        try:
            state = on_event(state, fact, now=fact.occurred_at, policy=policy).state
        except DomainError:
            continue
        states[fact.customer_id] = state
        seen.append(state)
    return seen


def _deliveries(data: st.DataObject) -> list[Fact]:
    facts: list[Fact] = data.draw(histories())
    if data.draw(st.booleans()):
        facts = data.draw(st.permutations(data.draw(redelivered(facts))))
    return facts


@DOMAIN
@given(st.data())
def test_balances_applied_on_top_equal_the_full_derivation(data: st.DataObject) -> None:
    for state in _states(_deliveries(data), POLICY):
        ledger = state.ledger
        assert settle(ledger) == ledger


@DOMAIN
@given(st.data())
def test_ledger_facts_agree_with_the_ledger(data: st.DataObject) -> None:
    for state in _states(_deliveries(data), POLICY):
        ledger = state.ledger
        facts = ledger_facts(ledger)
        assert [row.invoice for row in facts.open] == ledger.open_invoices()
        assert [row.outstanding for row in facts.open] == [
            ledger.balances[i.invoice_id].outstanding for i in ledger.open_invoices()
        ]
        assert facts.owed == ledger.outstanding_by_currency()
        settled = {k: b.settled_on for k, b in ledger.balances.items()}
        late_candidates = [
            i
            for i in ledger.invoices.values()
            if (on := settled[i.invoice_id]) is None or on > i.due_date
        ]
        assert list(facts.flaggable) == sorted(
            late_candidates, key=lambda i: (i.due_date, i.invoice_id)
        )
        assert all(b.outstanding >= ZERO for b in ledger.balances.values())


@DOMAIN
@given(st.data())
def test_format_3_records_round_trip_exactly(data: st.DataObject) -> None:
    policy = data.draw(st.sampled_from([POLICY, SHORT]))
    for state in _states(_deliveries(data), policy):
        wake = Wake(at=next_wake(state, policy), policy_version=policy.version)
        calendar = customer_calendar(state.profile, policy)
        raw = encode_state(state, contribution=exposure(state, calendar), wake=wake)
        back = decode_state(raw)
        assert back == state
        assert encode_state(back, contribution=exposure(back, calendar), wake=wake) == raw
        assert wake_of_raw(raw) == wake
        if raw[:1] == b"{":
            assert json.loads(raw)["v"] == FORMAT


@DOMAIN
@given(st.data())
def test_a_state_s_next_wake_is_derived_once_and_equals_a_fresh_derivation(
    data: st.DataObject,
) -> None:
    """`next_wake` is memoized per state object: a copy (a new object) derives it afresh."""
    policy = data.draw(st.sampled_from([POLICY, SHORT]))
    for state in _states(_deliveries(data), policy):
        first = next_wake(state, policy)
        assert next_wake(state, policy) is first  # held, not derived again
        assert next_wake(replace(state), policy) == first


@DOMAIN
@given(st.data())
def test_retention_s_earliest_date_equals_what_the_ledger_holds(data: st.DataObject) -> None:
    """The earliest archivable date, kept apart from the ledger's views, read off the facts."""
    for state in _states(_deliveries(data), SHORT):
        ledger = state.ledger
        held, archived = ledger.invoices, ledger.archived_invoices
        dates = [b.settled_on for b in ledger.balances.values() if b.settled_on is not None]
        dates += [n.due_date for k, n in ledger.due_notices.items() if k not in held]
        dates += [
            p.received_on
            for p in ledger.payments.values()
            if p.invoice_id is None or p.invoice_id in archived
        ]
        dates += [
            c.issued_on
            for c in ledger.credit_notes.values()
            if c.invoice_id is None or c.invoice_id in archived
        ]
        assert earliest_archivable(ledger) == min(dates, default=None)
