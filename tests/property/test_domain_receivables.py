"""A customer's dated share of the receivables gives, on the day it is decided (or its newest
fact's date, if later), exactly what its open invoices say: each aging bucket, the total per
currency, the paused amounts. Whatever the history (every contract fact, shuffled, repeated,
with retention archiving some of it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.core.policy_file import load_policy
from processor.domain.calendar import customer_calendar
from processor.domain.decide import Decision, on_event
from processor.domain.errors import DomainError
from processor.domain.facts import Fact
from processor.domain.ledger import owed_changes
from processor.domain.plan import ledger_facts
from processor.domain.policy import Policy
from processor.domain.receivables import aging, level, share
from processor.domain.segmentation import aging_bucket
from processor.domain.state import CustomerState
from tests.support.replay import short_retention_policy
from tests.support.strategies import histories, redelivered

POLICY = load_policy(None)
SHORT = short_retention_policy()


def _decisions(facts: list[Fact], policy: Policy) -> list[Decision]:
    states: dict[str, CustomerState] = {}
    found = []
    for fact in facts:
        state = states.get(fact.customer_id) or CustomerState(customer_id=fact.customer_id)
        try:
            progress = on_event(state, fact, now=fact.occurred_at, policy=policy)
        except DomainError:
            continue
        states[fact.customer_id] = progress.state
        found += progress.decisions
    return found


def _expected(decision: Decision, policy: Policy, today: date) -> dict[str, dict[str, Decimal]]:
    """The aging rows the long way: each open invoice in its bucket, the paused amounts."""
    state = decision.state
    facts = ledger_facts(state.ledger, customer_calendar(state.profile, policy))
    rows: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for inv in state.ledger.open_invoices():
        outstanding = state.ledger.balances[inv.invoice_id].outstanding
        days = max(0, (today - facts.payable_by(inv)).days)
        rows[inv.currency][aging_bucket(days)] += outstanding
        rows[inv.currency]["total"] += outstanding
        owing = decision.owed.get(inv.invoice_id)
        for column, amount in () if owing is None else owing.paused_amounts:
            rows[inv.currency][column] += amount
    for item in state.ledger.unapplied():
        rows[item.currency]["unapplied"] += item.amount
    for currency, amount in state.ledger.credit.items():  # cash on account
        rows[currency]["unapplied"] += amount
    return {c: {k: v for k, v in row.items() if v} for c, row in rows.items()}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_dated_share_gives_the_open_invoices_aging_on_the_day_decided(
    data: st.DataObject,
) -> None:
    policy = data.draw(st.sampled_from([POLICY, SHORT]))
    facts: list[Fact] = data.draw(histories())
    if data.draw(st.booleans()):
        facts = data.draw(st.permutations(data.draw(redelivered(facts))))
    checked = 0
    for decision in _decisions(facts, policy):
        state = decision.state
        assert state.assessed_on is not None
        # A fact may be dated after the customer's business day (its time zone is behind the
        # platform's): the share dates it as the fact does, so read both on the later day.
        dated = [on for changes in owed_changes(state.ledger).values() for on, _ in changes]
        today = max([state.assessed_on, *dated])
        mine = share(state, decision.owed, customer_calendar(state.profile, policy))
        got = {
            currency: {k: v for k, v in aging(row, today).items() if v}
            for currency, row in mine.currencies.items()
        }
        assert {c: r for c, r in got.items() if r} == _expected(decision, policy, today)
        invoiced: dict[str, Decimal] = defaultdict(Decimal)
        for key, inv in state.ledger.invoices.items():
            if not state.ledger.balances[key].voided and inv.issued_on <= today:
                invoiced[inv.currency] += inv.amount
        sales = {c: level(row.sales, today) for c, row in mine.currencies.items()}
        assert {c: v for c, v in sales.items() if v} == {c: v for c, v in invoiced.items() if v}
        checked += 1
    assert checked > 0 or not facts
