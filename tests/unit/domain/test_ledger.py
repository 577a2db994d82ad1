"""The ledger fold: allocations, credit, held payments, duplicates and order tolerance."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from processor.domain.errors import DomainError
from processor.domain.facts import Fact
from processor.domain.state import CustomerState, apply
from tests.support.builders import CUSTOMER, day, due, inv, pay


def fold(*facts: Fact) -> CustomerState:
    state = CustomerState(customer_id=CUSTOMER)
    for fact in facts:
        state = apply(state, fact)
    return state


def owed(state: CustomerState) -> dict[str, str]:
    return {i: str(b.outstanding) for i, b in sorted(state.ledger.balances.items())}


@pytest.mark.parametrize(
    ("facts", "expected_owed", "expected_credit"),
    [
        pytest.param([inv("A")], {"A": "100.00"}, {}, id="unpaid"),
        pytest.param(
            [inv("A"), pay("P", "100.00", on=10, invoice_id="A")], {"A": "0.00"}, {}, id="full"
        ),
        pytest.param(
            [inv("A"), pay("P", "40.00", on=10, invoice_id="A")], {"A": "60.00"}, {}, id="partial"
        ),
        pytest.param(
            [inv("A"), pay("P", "130.00", on=10, invoice_id="A")],
            {"A": "0.00"},
            {"USD": "30.00"},
            id="overpayment-kept-as-credit",
        ),
        pytest.param(
            [inv("A", due=40), inv("B", due=20, issued=1), pay("P", "150.00", on=10)],
            {"A": "50.00", "B": "0.00"},
            {},
            id="no-invoice-id-oldest-due-first",
        ),
        pytest.param(
            [inv("A"), pay("P", "100.00", on=10, currency="EUR")],
            {"A": "100.00"},
            {"EUR": "100.00"},
            id="other-currency-becomes-its-own-credit",
        ),
        pytest.param(
            [pay("P", "100.00", on=1), inv("A", issued=5, due=35)],
            {"A": "0.00"},
            {},
            id="prepayment-credit-applied-to-next-invoice",
        ),
        pytest.param(
            [inv("A"), inv("B", issued=2), pay("P", "150.00", on=10, invoice_id="A")],
            {"A": "0.00", "B": "50.00"},
            {},
            id="excess-on-named-invoice-pays-the-next-open-one",
        ),
    ],
)
def test_allocation(
    facts: list[Fact], expected_owed: dict[str, str], expected_credit: dict[str, str]
) -> None:
    state = fold(*facts)
    assert owed(state) == expected_owed
    assert {c: str(a) for c, a in state.ledger.credit.items()} == expected_credit


def test_payment_for_an_unseen_invoice_is_held_then_applied_when_it_arrives() -> None:
    waiting = fold(pay("P", "100.00", on=10, invoice_id="A"))
    assert waiting.ledger.held == ("p:P",)
    [unapplied] = waiting.ledger.unapplied()
    assert (unapplied.amount, unapplied.reason) == (Decimal("100.00"), "unknown_invoice")
    assert waiting.ledger.credit == {}

    arrived = apply(waiting, inv("A"))
    assert arrived.ledger.held == ()
    assert arrived.ledger.balances["A"].outstanding == Decimal("0.00")
    assert arrived.ledger.balances["A"].settled_on == day(10)


@pytest.mark.parametrize("first", ["invoice", "payment"])
def test_a_payment_in_another_currency_is_unapplied_cash_and_the_invoice_stands(first: str) -> None:
    """Semantics 7 and 10: whichever arrives first, the invoice is kept owing in full and the
    EUR payment naming it is the customer's unapplied cash, shown with its amount."""
    facts = [inv("A"), pay("P", "5.00", on=3, invoice_id="A", currency="EUR")]
    state = fold(*(facts if first == "invoice" else reversed(facts)))
    assert state.ledger.balances["A"].outstanding == Decimal("100.00")
    [unapplied] = state.ledger.unapplied()
    assert (unapplied.source_id, unapplied.amount, unapplied.currency, unapplied.reason) == (
        "P",
        Decimal("5.00"),
        "EUR",
        "currency",
    )


def test_settled_on_is_the_date_of_the_payment_that_completed_the_invoice() -> None:
    state = fold(
        inv("A"),
        pay("P1", "60.00", on=20, invoice_id="A"),
        pay("P2", "40.00", on=45, invoice_id="A"),
    )
    balance = state.ledger.balances["A"]
    assert balance.settled_on == day(45)
    assert balance.last_paid_on == day(45)


def test_an_applied_event_id_is_ignored_the_second_time() -> None:
    once = fold(inv("A"), pay("P", "40.00", on=10))
    assert apply(once, pay("P", "40.00", on=10)) is once


def test_the_same_invoice_under_a_new_event_id_changes_nothing() -> None:
    once = fold(inv("A"))
    again = apply(once, inv("A", event_id="other-id"))
    assert again.ledger == once.ledger
    assert "other-id" in again.seen


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        pytest.param(
            [inv("A"), inv("A", "999.00", event_id="x")],
            "invoice_id",
            id="reissued-different-amount",
        ),
        pytest.param(
            [pay("P", "5.00", on=3), pay("P", "6.00", on=3, event_id="y")],
            "payment_id",
            id="payment-id-reused",
        ),
        pytest.param(
            [inv("A", due=30), due("A", on=31)], "due_date", id="notice-due-date-mismatch"
        ),
    ],
)
def test_contradictions_are_refused_naming_the_field(facts: list[Fact], field: str) -> None:
    *ok, bad = facts
    state = fold(*ok)
    with pytest.raises(DomainError) as raised:
        apply(state, bad)
    assert raised.value.field == field


HISTORY: list[Fact] = [
    inv("A", "100.00", issued=0, due=30),
    inv("B", "250.00", issued=5, due=35),
    inv("C", "80.00", issued=40, due=70, currency="EUR"),
    pay("P1", "120.00", on=31),
    pay("P2", "50.00", on=36, invoice_id="B"),
    pay("P3", "100.00", on=41, currency="EUR"),
    due("A", on=30),
    due("B", on=35),
]


@pytest.mark.parametrize(
    "order", list(itertools.islice(itertools.permutations(range(len(HISTORY))), 0, None, 997))
)
def test_any_arrival_order_gives_the_in_order_ledger(order: tuple[int, ...]) -> None:
    in_order = fold(*HISTORY)
    shuffled = fold(*(HISTORY[i] for i in order))
    assert shuffled.ledger == in_order.ledger
    assert owed(in_order) == {"A": "0.00", "B": "180.00", "C": "0.00"}
    assert in_order.ledger.credit == {"EUR": Decimal("20.00")}
