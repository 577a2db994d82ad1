"""Deliver domain facts to the pure step the worker runs, customer by customer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from processor.core.policy_file import default_policy_text, parse_policy
from processor.domain.decide import Decision, advance, on_event
from processor.domain.facts import Fact, PaymentReceived
from processor.domain.policy import Policy
from processor.domain.state import CustomerState


@dataclass(frozen=True, slots=True)
class Decided:
    """One decision, with the payments delivered for its customer when it was taken."""

    decision: Decision
    payments: tuple[PaymentReceived, ...]


@dataclass
class Replay:
    """Final states, and every decision in the order it was taken."""

    states: dict[str, CustomerState] = field(default_factory=dict)
    decided: list[Decided] = field(default_factory=list)


def deliver(facts: list[Fact], policy: Policy, *, until: datetime | None = None) -> Replay:
    """`on_event` for each fact in delivery order (decided at its `occurred_at`, as the worker
    does when replaying a backlog), then every customer advanced to `until`.

    A DomainError propagates: the histories under test are consistent, so none is expected.
    """
    replay = Replay()
    payments: dict[str, tuple[PaymentReceived, ...]] = {}
    for fact in facts:
        customer = fact.customer_id
        state = replay.states.get(customer) or CustomerState(customer_id=customer)
        progress = on_event(state, fact, now=fact.occurred_at, policy=policy)
        before = payments.get(customer, ())
        if progress.applied and isinstance(fact, PaymentReceived):
            payments[customer] = (*before, fact)
        wakes, last = progress.decisions[:-1], progress.decisions[-1:]
        # Wakes are decided before the fact is applied, the last decision after it.
        replay.decided += [Decided(d, before) for d in wakes]
        replay.decided += [Decided(d, payments.get(customer, ())) for d in last]
        replay.states[customer] = progress.state
    if until is not None:
        for customer, state in replay.states.items():
            decisions = advance(state, until, policy=policy)
            replay.decided += [Decided(d, payments.get(customer, ())) for d in decisions]
            if decisions:
                replay.states[customer] = decisions[-1].state
    return replay


def ledger_view(state: CustomerState) -> dict[str, object]:
    """The financial part of a customer's state, normalized for comparison.

    Money is compared as text as well as value, so a different scale ("100.0" / "100.00"),
    which would show on the wire, counts as a difference.
    """
    ledger = state.ledger

    def money(value: Decimal) -> str:
        return str(value)

    return {
        "invoices": sorted(
            (i.invoice_id, i.event_id, money(i.amount), i.currency, i.issued_on, i.due_date)
            for i in ledger.invoices.values()
        ),
        "payments": sorted(
            (
                p.payment_id,
                p.event_id,
                money(p.amount),
                p.currency,
                p.received_on,
                str(p.invoice_id),
            )
            for p in ledger.payments.values()
        ),
        "due_notices": sorted(
            (invoice_id, n.event_id, n.due_date) for invoice_id, n in ledger.due_notices.items()
        ),
        "balances": sorted(
            (
                invoice_id,
                money(b.paid),
                money(b.outstanding),
                b.last_paid_on,
                b.settled_on,
            )
            for invoice_id, b in ledger.balances.items()
        ),
        "open_invoices": [i.invoice_id for i in ledger.open_invoices()],
        "outstanding": sorted(
            (currency, money(amount))
            for currency, amount in ledger.outstanding_by_currency().items()
        ),
        "credit": sorted((currency, money(amount)) for currency, amount in ledger.credit.items()),
        "held": sorted(ledger.held),
        "seen": sorted(state.seen),
    }


def _replaced(text: str, old: str, new: str, count: int) -> str:
    assert text.count(old) == count, f"the default policy no longer has {count} x {old!r}"
    return text.replace(old, new)


def short_retention_policy() -> Policy:
    """The default policy with 30-day behaviour, value and report windows, history archived
    after 30."""
    text = _replaced(default_policy_text(), "window_days = 365", "window_days = 30", 2)
    text = _replaced(text, "window_days = 90", "window_days = 30", 1)
    text = _replaced(text, "retain_days = 400", "retain_days = 30", 1)
    return parse_policy(text, source="short retention")
