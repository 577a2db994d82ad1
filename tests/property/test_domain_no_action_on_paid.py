"""Contract semantics 4: no action is ever requested for an invoice fully paid at decision time.

An action names its invoices in `invoice_ids` and, per invoice, the ladder step it carries out
in `steps`; every invoice named either way is checked. "Fully paid at decision time" is judged
on what had been delivered for the customer when the decision was taken (the domain cannot know
a payment that has not arrived yet), two ways: by the ledger in the decision's state, and by an
independent count of the payments delivered so far that name the invoice (a named payment pays
its invoice first, so if they add up to the amount, the invoice is paid whatever else happened).

The exceptions are sent *because* an invoice is settled, or are about cash rather than a debt:
the thank-you (a late invoice was just paid), the credit-hold release and the agency recall (the
debt behind them is settled) and the reconcile task (a payment that could not be applied names
the invoice it was meant for).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.core.policy_file import load_policy
from processor.domain.facts import Fact, InvoiceIssued
from tests.support.replay import Decided, deliver, short_retention_policy
from tests.support.strategies import histories, redelivered

POLICY = load_policy(None)
# Sent because of a settlement, or about cash (module docstring): not chasing.
SETTLEMENT_ACTIONS = frozenset(
    {"thank_you", "credit_hold_release", "agency_recall", "reconcile_payment"}
)
SHORT = short_retention_policy()
# Long enough after the last fact for every ladder (agency referral at day 121) to run out.
LADDER_DAYS = 150


def assert_no_action_on_paid_invoices(decided: list[Decided], facts: list[Fact]) -> int:
    """Check every decided action; return how many collection actions were checked."""
    amounts = {f.invoice_id: f.amount for f in facts if isinstance(f, InvoiceIssued)}
    checked = 0
    for item in decided:
        decision = item.decision
        # The decision's state: what was known when it was taken (archiving, if any, only
        # drops invoices settled long before).
        balances = decision.state.ledger.balances
        for action in decision.actions:
            if action.action in SETTLEMENT_ACTIONS:
                continue
            checked += 1
            named = set(action.invoice_ids) | {invoice_id for invoice_id, _ in action.steps}
            assert named, action
            for invoice_id in named:
                at = decision.state.decided_at
                balance = balances.get(invoice_id)
                assert balance is not None and balance.outstanding > 0, (
                    f"{action.action} {action.rule_id} at {at} for {invoice_id}, "
                    f"paid in full per the ledger"
                )
                paid_to_it = sum(
                    (p.amount for p in item.payments if p.invoice_id == invoice_id), Decimal(0)
                )
                assert paid_to_it < amounts[invoice_id], (
                    f"{action.action} {action.rule_id} at {at} for {invoice_id}: payments "
                    f"naming it ({paid_to_it}) cover its amount ({amounts[invoice_id]})"
                )
            assert action.amount_outstanding > 0, action
    return checked


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_no_collection_action_for_an_invoice_paid_at_decision_time(data: st.DataObject) -> None:
    """In order, and shuffled with repeats, through the whole ladder after the last fact; and
    in order under a policy that archives settled history after 30 days."""
    facts: list[Fact] = data.draw(histories())
    until = max(f.occurred_at for f in facts) + timedelta(days=LADDER_DAYS)
    shuffled = data.draw(st.permutations(data.draw(redelivered(facts))))
    for delivery, policy in ((facts, POLICY), (shuffled, POLICY), (facts, SHORT)):
        assert_no_action_on_paid_invoices(deliver(delivery, policy, until=until).decided, facts)
