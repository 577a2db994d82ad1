"""Contract semantics 6, by an oracle that does not use the ledger: nothing is chased that is
not owed.

Random histories get the rest of a receivable's life on some invoices (voids, full and partial
credit notes, disputes with and without an amount, resolved either way or not at all, holds on
an invoice or on the whole customer, released or not, full write-offs). They are delivered in
order and shuffled with repeats, and every chasing action decided is checked against the facts
delivered before it, counted independently of the domain: its invoices are not voided, credited
or paid in full, written off, under an open (or upheld) dispute without an amount, or on an
active hold, and what it asks for is at most what the named facts leave owed. A control customer
with one plain unpaid invoice makes sure every example checks something: the test fails if an
example checked no action at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.core.policy_file import load_policy
from processor.domain.decide import Decision, advance, on_event
from processor.domain.facts import (
    CreditNoteIssued,
    DisputeOpened,
    DisputeResolved,
    Fact,
    HoldReleased,
    HoldSet,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentReceived,
    ProfileUpdated,
)
from processor.domain.state import CustomerState
from tests.support.strategies import lifecycle_histories, redelivered

POLICY = load_policy(None)
CHASING = frozenset(
    {"reminder", "call_task", "payment_plan_offer", "credit_hold", "agency_referral"}
)
LADDER_DAYS = 150


@dataclass
class Known:
    """The facts delivered so far for one customer, as the oracle counts them."""

    facts: list[Fact]

    def zone(self) -> ZoneInfo:
        """The customer's zone: the latest profile update (in business time) that names one."""
        named = [f for f in self.facts if isinstance(f, ProfileUpdated) and f.time_zone]
        latest = max(named, key=lambda f: (f.occurred_at, f.event_id), default=None)
        return ZoneInfo(latest.time_zone if latest is not None and latest.time_zone else "UTC")

    def owed_bound(self, invoice_id: str, on: date) -> Decimal | None:
        """At most what the facts leave owed on the invoice (None: nothing may be chased)."""
        invoice = next(
            (f for f in self.facts if isinstance(f, InvoiceIssued) and f.invoice_id == invoice_id),
            None,
        )
        if invoice is None:
            return None
        left: Decimal | None = invoice.amount
        resolved = {f.dispute_id: f.outcome for f in self.facts if isinstance(f, DisputeResolved)}
        released = {f.hold_id for f in self.facts if isinstance(f, HoldReleased)}
        for fact in self.facts:
            left = _less(left, fact, invoice, resolved, released, on)
        return left if left is not None and left > 0 else None


def _less(
    left: Decimal | None,
    fact: Fact,
    invoice: InvoiceIssued,
    resolved: dict[str, str],
    released: set[str],
    on: date,
) -> Decimal | None:
    """What `fact` leaves of `left` owed on `invoice` (None: nothing may be chased)."""
    invoice_id = invoice.invoice_id
    if left is None:
        return None
    if isinstance(fact, InvoiceVoided) and fact.invoice_id == invoice_id:
        return None
    if isinstance(fact, InvoiceWrittenOff) and fact.invoice_id == invoice_id:
        return None if fact.amount is None else left - fact.amount
    if (
        isinstance(fact, PaymentReceived | CreditNoteIssued)
        and fact.invoice_id == invoice_id
        and fact.currency == invoice.currency
    ):
        return left - fact.amount
    if (
        isinstance(fact, DisputeOpened)
        and fact.invoice_id == invoice_id
        and resolved.get(fact.dispute_id) != "rejected"
    ):
        return None if fact.amount is None else left - fact.amount
    active_hold = (
        isinstance(fact, HoldSet)
        and fact.invoice_id in (None, invoice_id)
        and fact.hold_id not in released
        and (fact.until is None or on <= fact.until)
    )
    return None if active_hold else left


def check(decision: Decision, known: Known) -> int:
    """Assert every chasing action of a decision is owed; return how many were checked."""
    checked = 0
    at = decision.state.decided_at
    assert at is not None
    for action in decision.actions:
        if action.action not in CHASING:
            continue
        checked += 1
        bound = Decimal(0)
        today = at.astimezone(known.zone()).date()  # the customer's day (contract rule 11)
        for invoice_id in action.invoice_ids:
            owed = known.owed_bound(invoice_id, today)
            assert owed is not None, (
                f"{action.rule_id} at {at} chases {invoice_id}, which is not owed: {known.facts}"
            )
            bound += owed
        assert 0 < action.amount_outstanding <= bound, (action, bound)
    return checked


def play(delivery: list[Fact], until: datetime) -> int:
    """Deliver as the worker does, checking each decision; return the actions checked."""
    states: dict[str, CustomerState] = {}
    known: dict[str, Known] = {}
    checked = 0
    for fact in delivery:
        customer = fact.customer_id
        state = states.get(customer) or CustomerState(customer_id=customer)
        seen = known.setdefault(customer, Known([]))
        progress = on_event(state, fact, now=fact.occurred_at, policy=POLICY)
        if progress.applied:
            for wake in progress.decisions[:-1]:  # decided before the fact was applied
                checked += check(wake, seen)
            seen.facts.append(fact)
            checked += check(progress.decisions[-1], seen)
        states[customer] = progress.state
    for customer, state in states.items():
        for decision in advance(state, until, policy=POLICY):
            checked += check(decision, known[customer])
    return checked


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_no_chasing_action_asks_for_what_is_not_owed(data: st.DataObject) -> None:
    facts: list[Fact] = data.draw(lifecycle_histories())
    until = max(f.occurred_at for f in facts) + timedelta(days=LADDER_DAYS)
    shuffled = data.draw(st.permutations(data.draw(redelivered(facts))))
    for delivery in (facts, shuffled):
        assert play(delivery, until) > 0  # the control invoice is always chased
