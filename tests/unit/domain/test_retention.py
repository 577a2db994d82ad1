"""Retention: archiving a customer's old history is exact, explainable and bounded."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from processor.core import translate
from processor.demo.portfolio import portfolio
from processor.domain.decide import Decision, advance, on_event, wake
from processor.domain.errors import DomainError
from processor.domain.facts import Fact, PaymentReceived
from processor.domain.ledger import ArchivedInvoice, Ledger, Opening, fact_date, settle
from processor.domain.policy import HistoryPolicy, Policy
from processor.domain.retention import archive_cutoff, compact
from processor.domain.schedule import next_wake
from processor.domain.state import CustomerState, apply
from schemas.validation import Rejected, parse_input
from tests.support.builders import CUSTOMER, ORIGIN, at, day, due, inv, pay

SHORT = HistoryPolicy(retain_days=100)


def fold(*facts: Fact, state: CustomerState | None = None) -> CustomerState:
    state = state or CustomerState(customer_id=CUSTOMER)
    for fact in facts:
        state = apply(state, fact)
    return state


def money(values: dict[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}


def money_view(ledger: Ledger) -> dict[str, object]:
    """What is owed and held, whatever history each ledger archived."""
    return {
        "open": [(i.invoice_id, ledger.balances[i.invoice_id]) for i in ledger.open_invoices()],
        "outstanding": money(ledger.outstanding_by_currency()),
        "credit": money(dict(ledger.credit)),
        "held": ledger.held,
    }


def assert_same_derivation(compacted: Ledger, full: Ledger) -> None:
    """The compacted ledger derives what the full one does, on everything it still holds."""
    assert settle(compacted) == compacted  # what the codec re-derives is what is stored
    assert set(compacted.invoices) <= set(full.invoices)
    for invoice_id in compacted.invoices:
        assert compacted.balances[invoice_id] == full.balances[invoice_id], invoice_id
    assert [i.invoice_id for i in compacted.open_invoices()] == [
        i.invoice_id for i in full.open_invoices()
    ]
    assert money(compacted.outstanding_by_currency()) == money(full.outstanding_by_currency())
    assert money(dict(compacted.credit)) == money(dict(full.credit))
    assert compacted.held == full.held


def assert_nothing_hangs_on_archived(state: CustomerState) -> None:
    ledger = state.ledger
    assert set(state.flags) <= set(ledger.invoices)
    assert set(state.done_steps) <= set(ledger.invoices)
    held_ids = {f.event_id for f in (*ledger.invoices.values(), *ledger.payments.values())}
    held_ids |= {n.event_id for n in ledger.due_notices.values()}
    assert held_ids <= set(state.seen)


# ---------------------------------------------------------------------------------------------
# Where the archive is cut, and what it carries forward
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "today", "through", "invoices", "payments", "opening"),
    [
        pytest.param(
            [inv("A", due=30), pay("PA", "100.00", on=20, invoice_id="A")],
            200,
            20,
            [],
            [],
            {},
            id="settled-history-archived-through-its-newest-fact",
        ),
        pytest.param(
            [inv("A", due=30), pay("PA", "100.00", on=20, invoice_id="A"), inv("B", issued=150)],
            200,
            20,
            ["B"],
            [],
            {},
            id="what-is-dated-after-the-cut-is-kept",
        ),
        pytest.param(
            [inv("A", due=30), pay("PA", "100.00", on=20, invoice_id="A"), inv("B", issued=50)],
            200,
            50,
            ["B"],
            [],
            {},
            id="an-invoice-unpaid-at-the-cut-is-kept",
        ),
        pytest.param(
            [inv("A", due=30), inv("B", issued=10), pay("PB", "100.00", on=40, invoice_id="B")],
            300,
            40,
            ["A"],
            [],
            {},
            id="an-older-unpaid-invoice-does-not-hold-back-later-settled-ones",
        ),
        pytest.param(
            [inv("A", due=30), pay("PA", "100.00", on=120, invoice_id="A")],
            200,
            None,
            ["A"],
            ["PA"],
            {},
            id="settled-after-the-limit-nothing-archived",
        ),
        pytest.param(
            [inv("A", due=30), pay("PA", "130.00", on=20, invoice_id="A")],
            200,
            20,
            [],
            [],
            {"USD": "30.00"},
            id="overpayment-carried-forward-as-opening-credit",
        ),
        pytest.param(
            [
                inv("A", due=30, currency="EUR"),
                pay("PA", "100.00", on=20, invoice_id="A", currency="EUR"),
                pay("PU", "70.00", on=25),
            ],
            200,
            25,
            [],
            [],
            {"USD": "70.00"},
            id="cash-on-account-kept-per-currency",
        ),
        pytest.param(
            [
                inv("A", due=30),
                pay("PA", "100.00", on=20, invoice_id="A"),
                pay("PX", "50.00", on=150, invoice_id="A"),
            ],
            200,
            20,
            [],
            ["PX"],
            {},
            id="a-later-payment-naming-an-archived-invoice-is-kept",
        ),
        pytest.param(
            [
                pay("H", "50.00", on=5, invoice_id="GHOST"),
                inv("A", due=30),
                pay("PA", "100.00", on=20, invoice_id="A"),
            ],
            200,
            20,
            [],
            ["H"],
            {},
            id="held-payment-carried-forward",
        ),
        pytest.param(
            [inv("A", due=60), pay("PA", "100.00", on=10, invoice_id="A"), due("A", on=60)],
            140,
            10,
            [],
            [],
            {},
            id="due-notice-of-an-early-paid-invoice-kept-until-its-date",
        ),
        pytest.param(
            [inv("A", due=30), pay("PA", "100.00", on=20, invoice_id="A")],
            110,
            None,
            ["A"],
            ["PA"],
            {},
            id="nothing-old-enough-yet",
        ),
    ],
)
def test_the_archive_cutoff_and_what_it_carries_forward(
    facts: list[Fact],
    today: int,
    through: int | None,
    invoices: list[str],
    payments: list[str],
    opening: dict[str, str],
) -> None:
    full = fold(*facts)
    compacted = compact(full, today=day(today), policy=SHORT)
    ledger = compacted.ledger
    assert ledger.archived_through == (None if through is None else day(through))
    assert sorted(ledger.invoices) == invoices
    assert sorted(ledger.payments) == payments
    assert money(dict(ledger.opening_credit)) == opening
    assert ledger.opening_paid == {}
    assert_same_derivation(ledger, full.ledger)
    assert_nothing_hangs_on_archived(compacted)
    if through is None:
        assert compacted is full


def test_what_was_paid_on_an_invoice_still_owing_is_carried_forward() -> None:
    full = fold(
        inv("A", "100.00", due=20),
        inv("B", issued=5, due=35),
        pay("U", "40.00", on=18),  # no invoice named: pays A, due first
        pay("PA1", "10.00", on=19, invoice_id="A"),
        pay("PB", "100.00", on=25, invoice_id="B"),
    )
    compacted = compact(full, today=day(200), policy=SHORT)
    ledger = compacted.ledger
    assert ledger.archived_through == day(25)
    # A is still owing: it stays with its own payment, on top of what U paid on it.
    assert list(ledger.invoices) == ["A"] and list(ledger.payments) == ["PA1"]
    assert ledger.opening_paid == {"A": Opening(paid=Decimal("40.00"), last_paid_on=day(18))}
    assert ledger.balances["A"] == full.ledger.balances["A"]
    rest = [pay("PA2", "50.00", on=130, invoice_id="A"), due("A", on=20)]
    assert_same_derivation(fold(*rest, state=compacted).ledger, fold(*rest, state=full).ledger)
    settled = fold(*rest, state=compacted).ledger.balances["A"]
    assert (settled.settled_on, settled.last_paid_on) == (day(130), day(130))


def test_the_cutoff_is_the_limit_once_something_is_dated_on_or_before_it() -> None:
    state = fold(
        inv("A", issued=0, due=30),
        pay("PA", "100.00", on=20, invoice_id="A"),
        pay("PX", "10.00", on=70, invoice_id="A"),  # names A, settled on day 20
        inv("C", issued=80, due=110),
    )
    assert archive_cutoff(state.ledger, day(100)) == day(100)
    assert archive_cutoff(state.ledger, day(20)) == day(20)
    assert archive_cutoff(state.ledger, day(19)) is None  # nothing settled or paid that early
    compacted = compact(state, today=day(185), policy=SHORT)
    # Cut at day 85, pulled back to the newest date it archives (C, issued day 80, unpaid).
    assert compacted.ledger.archived_through == day(80)
    assert sorted(compacted.ledger.invoices) == ["C"] and compacted.ledger.payments == {}
    assert compacted.ledger.archived_invoices == {
        "A": ArchivedInvoice(currency="USD", settled_on=day(20))
    }
    # PX went on account, then paid 10.00 of C when C was issued.
    assert compacted.ledger.opening_credit == {}
    assert compacted.ledger.opening_paid == {
        "C": Opening(paid=Decimal("10.00"), last_paid_on=day(80))
    }


def test_a_later_payment_naming_an_archived_invoice_goes_on_account_as_it_would_have(
    policy: Policy,
) -> None:
    history = [inv("A", due=30), pay("PA", "100.00", on=20, invoice_id="A"), inv("B", issued=150)]
    full = fold(*history)
    compacted = compact(full, today=day(200), policy=SHORT)
    assert list(compacted.ledger.invoices) == ["B"]
    again = pay("PX", "30.00", on=201, invoice_id="A")  # a duplicate payment, long after
    assert_same_derivation(apply(compacted, again).ledger, apply(full, again).ledger)
    assert apply(compacted, again).ledger.balances["B"].paid == Decimal("30.00")
    # A payment in another currency naming it is unapplied cash in both; its id cannot be
    # issued again.
    other = pay("PY", "30.00", on=201, invoice_id="A", currency="EUR")
    assert apply(compacted, other).ledger.held == apply(full, other).ledger.held == ("p:PY",)
    with pytest.raises(DomainError) as raised:
        apply(compacted, inv("A", issued=201, due=231, event_id="e-A2"))
    assert raised.value.field == "invoice_id"
    with pytest.raises(DomainError):
        apply(full, inv("A", issued=201, due=231, event_id="e-A2"))
    # It is remembered (ten years by default): a payment naming it years later goes on account
    # as the whole history sends it (it was held as unknown, out of sight, before).
    later = compact(apply(compacted, inv("C", issued=300)), today=day(310), policy=SHORT)
    forgotten = compact(
        apply(later, pay("PC", "100.00", on=320, invoice_id="C")), today=day(421), policy=SHORT
    )
    assert forgotten.ledger.archived_invoices.keys() == {"A", "C"}
    late = apply(forgotten, pay("PZ", "5.00", on=1422, invoice_id="A")).ledger
    assert late.held == ()
    assert late.balances["B"].paid == Decimal("5.00")  # B is the oldest due still owing


def test_flags_ladder_steps_and_seen_ids_of_archived_invoices_are_forgotten(
    policy: Policy,
) -> None:
    state = CustomerState(customer_id=CUSTOMER)
    for fact, now in [
        (inv("A", due=30), at(0)),
        (due("A", on=30), at(31)),
        (due("A", on=30, event_id="again"), at(32)),  # a repeat under a new event id
        (pay("PA", "100.00", on=40, invoice_id="A"), at(40)),
        (inv("B", issued=300, due=330), at(300)),
    ]:
        state = on_event(state, fact, now=now, policy=policy).state
    assert "A" in state.flags and "A" in state.done_steps and "again" in state.seen
    compacted = compact(state, today=day(300), policy=SHORT)
    assert compacted.ledger.archived_through == day(40)
    assert "A" not in compacted.flags and "A" not in compacted.done_steps
    assert set(compacted.seen) == {"e-B"}


# ---------------------------------------------------------------------------------------------
# Facts dated in the archived past are refused
# ---------------------------------------------------------------------------------------------


ARCHIVED: list[Fact] = [
    inv("A", due=30),
    pay("PA", "100.00", on=20, invoice_id="A"),
    inv("B", issued=150, due=180),
    pay("H", "5.00", on=3, invoice_id="GHOST"),
    inv("K", "100.00", issued=10, due=15),
    pay("PK", "30.00", on=12, invoice_id="K"),
]


@pytest.fixture
def archived() -> CustomerState:
    """Archived through day 20: A and its payment. Kept: B (issued day 150), the held payment
    H, and K (issued day 10, due day 15, 70.00 still owed) with its payment PK."""
    state = compact(fold(*ARCHIVED), today=day(200), policy=SHORT)
    assert state.ledger.archived_through == day(20)
    assert sorted(state.ledger.invoices) == ["B", "K"]
    assert sorted(state.ledger.payments) == ["H", "PK"]
    return state


@pytest.mark.parametrize(
    ("fact", "field", "value"),
    [
        pytest.param(inv("OLD", issued=20, due=50), "issued_on", day(20), id="invoice"),
        pytest.param(pay("LATE", "10.00", on=12), "received_on", day(12), id="payment"),
        pytest.param(
            pay("LATE", "10.00", on=3, invoice_id="NEVER"),
            "received_on",
            day(3),
            id="payment-for-an-unknown-invoice",
        ),
        pytest.param(due("GONE", on=15), "due_date", day(15), id="due-notice"),
        pytest.param(
            pay("PA", "100.00", on=20, invoice_id="A"),
            "received_on",
            day(20),
            id="re-delivery-of-an-archived-payment",
        ),
        pytest.param(
            inv("A", due=30), "issued_on", day(0), id="re-delivery-of-an-archived-invoice"
        ),
        pytest.param(
            pay("PK2", "70.01", on=14, invoice_id="K"),
            "received_on",
            day(14),
            id="payment-in-the-archived-past-overpaying-a-kept-invoice",
        ),
    ],
)
def test_a_fact_dated_in_the_archived_history_is_refused(
    archived: CustomerState, fact: Fact, field: str, value: date, policy: Policy
) -> None:
    with pytest.raises(DomainError) as raised:
        apply(archived, fact)
    assert raised.value.field == field
    assert str(raised.value).startswith(
        f"{field}: {value} is on or before {day(20)}, the end of this customer's archived history"
    )
    assert "re-delivery of an archived one" in raised.value.problem
    # The worker's step refuses it the same way (and the caller keeps the state it had).
    with pytest.raises(DomainError):
        on_event(archived, fact, now=at(200), policy=policy)


@pytest.mark.parametrize(
    "fact",
    [
        pytest.param(
            pay("EARLY", "30.00", on=12, invoice_id="B"), id="early-payment-naming-a-kept-invoice"
        ),
        pytest.param(pay("H", "5.00", on=3, invoice_id="GHOST", event_id="x"), id="held-repeat"),
        pytest.param(pay("NEW", "30.00", on=21), id="payment-after-the-archive"),
        pytest.param(inv("GHOST", issued=21, due=51), id="the-held-payments-invoice"),
        pytest.param(pay("PK2", "70.00", on=25, invoice_id="K"), id="payment-for-a-kept-invoice"),
        pytest.param(
            pay("PK2", "70.00", on=14, invoice_id="K"),
            id="payment-in-the-archived-past-for-a-kept-invoice-it-does-not-overpay",
        ),
        pytest.param(pay("PK", "30.00", on=12, invoice_id="K", event_id="x"), id="kept-repeat"),
        pytest.param(due("K", on=15), id="due-notice-of-a-kept-invoice-dated-in-the-archive"),
        pytest.param(inv("K", issued=10, due=15, event_id="x"), id="kept-invoice-repeat"),
    ],
)
def test_facts_after_the_archive_are_accepted_exactly(archived: CustomerState, fact: Fact) -> None:
    assert_same_derivation(apply(archived, fact).ledger, apply(fold(*ARCHIVED), fact).ledger)


def test_a_repeat_of_a_kept_fact_is_still_a_silent_duplicate(archived: CustomerState) -> None:
    assert apply(archived, inv("B", issued=150, due=180)) is archived
    assert apply(archived, inv("K", issued=10, due=15)) is archived
    assert apply(archived, pay("PK", "30.00", on=12, invoice_id="K")) is archived
    assert apply(archived, pay("H", "5.00", on=3, invoice_id="GHOST")) is archived


def test_a_payment_delivered_after_its_period_was_archived_still_settles_its_invoice(
    policy: Policy,
) -> None:
    """A and C are issued on days 0 and 1, A paid on day 5 and C on day 6; B comes on day 500.
    A's payment delivered last, after B's decision archived C: it still settles A."""
    a, c, b = inv("A", issued=0), inv("C", issued=1), inv("B", issued=500)
    paid_a = pay("P-A", "100.00", on=5, invoice_id="A")
    paid_c = pay("P-C", "100.00", on=6, invoice_id="C")
    in_order = late = CustomerState(customer_id=CUSTOMER)
    for fact in [a, c, paid_a, paid_c, b]:
        in_order = on_event(in_order, fact, now=fact.occurred_at, policy=policy).state
    for fact in [a, c, paid_c, b]:
        late = on_event(late, fact, now=fact.occurred_at, policy=policy).state
    assert late.ledger.archived_through == day(6) and "C" not in late.ledger.invoices
    late = on_event(late, paid_a, now=at(500, hour=13), policy=policy).state
    assert late.ledger.balances["A"].settled_on == day(5)
    assert money_view(late.ledger) == money_view(in_order.ledger)
    assert [i.invoice_id for i in late.ledger.open_invoices()] == ["B"]


# ---------------------------------------------------------------------------------------------
# Property: compact, then continue == continue without compacting
# ---------------------------------------------------------------------------------------------

CURRENCIES = ("USD", "EUR")


def cents(draw: st.DrawFn, low: int, high: int) -> str:
    return str(Decimal(draw(st.integers(low, high))).scaleb(-2))


@st.composite
def early_histories(draw: st.DrawFn) -> list[Fact]:
    """Invoices paid not, partly, fully or over, named or not; cash on account; held payments."""
    facts: list[Fact] = []
    for k in range(draw(st.integers(1, 6))):
        currency = draw(st.sampled_from(CURRENCIES))
        issued = draw(st.integers(0, 120))
        due_on = issued + draw(st.sampled_from([0, 14, 30]))
        facts.append(
            inv(f"I{k}", cents(draw, 100, 50_000), issued=issued, due=due_on, currency=currency)
        )
        for j in range(draw(st.integers(0, 2))):
            named = draw(st.booleans())
            facts.append(
                pay(
                    f"P{k}-{j}",
                    cents(draw, 100, 40_000),
                    on=issued + draw(st.integers(-5, 90)),
                    invoice_id=f"I{k}" if named else None,
                    currency=currency,
                )
            )
        if draw(st.booleans()):
            facts.append(due(f"I{k}", on=due_on))
    for j in range(draw(st.integers(0, 2))):
        ghost = draw(st.booleans())
        facts.append(
            pay(
                f"C{j}",
                cents(draw, 100, 20_000),
                on=draw(st.integers(0, 150)),
                invoice_id="GHOST" if ghost else None,
                currency="USD" if ghost else draw(st.sampled_from(CURRENCIES)),
            )
        )
    return facts


@st.composite
def later_facts(draw: st.DrawFn, state: CustomerState, after: int, tag: str) -> list[Fact]:
    """Facts dated after day `after`: new invoices; payments for kept, archived, new, held or no
    invoices; due notices of kept invoices (even ones dated in the archive) and of new ones;
    and payments dated in the archive for kept invoices (applied if they fit, else refused)."""
    ledger = state.ledger
    currencies = {i.invoice_id: i.currency for i in ledger.invoices.values()}
    currencies |= {k: v.currency for k, v in ledger.archived_invoices.items()}
    facts: list[Fact] = [
        due(i.invoice_id, on=(i.due_date - ORIGIN).days)
        for i in ledger.invoices.values()
        if draw(st.booleans())
    ]
    for j, invoice in enumerate(ledger.invoices.values()):
        issued = (invoice.issued_on - ORIGIN).days
        if issued <= after and draw(st.booleans()):
            on = draw(st.integers(issued, after))
            amount = cents(draw, 1, 20_000)
            facts.append(
                pay(
                    f"E{tag}{j}",
                    amount,
                    on=on,
                    invoice_id=invoice.invoice_id,
                    currency=invoice.currency,
                )
            )
    if tag == "a" and draw(st.booleans()):  # the invoice the held payments wait for, once
        issued = after + draw(st.integers(1, 60))
        facts.append(inv("GHOST", cents(draw, 100, 9_000), issued=issued, due=issued + 30))
        currencies["GHOST"] = "USD"
    for k in range(draw(st.integers(0, 4))):
        issued = after + draw(st.integers(1, 150))
        currency = draw(st.sampled_from(CURRENCIES))
        invoice_id = f"N{tag}{k}"
        amount = cents(draw, 100, 50_000)
        facts.append(inv(invoice_id, amount, issued=issued, due=issued + 14, currency=currency))
        currencies[invoice_id] = currency
        if draw(st.booleans()):
            facts.append(due(invoice_id, on=issued + 14))
    for j in range(draw(st.integers(0, 5))):
        target = draw(st.sampled_from([None, *sorted(currencies)]))
        currency = currencies[target] if target else draw(st.sampled_from(CURRENCIES))
        on = after + draw(st.integers(1, 200))
        amount = cents(draw, 100, 60_000)
        facts.append(pay(f"L{tag}{j}", amount, on=on, invoice_id=target, currency=currency))
    return draw(st.permutations(facts))


def fold_both(
    facts: list[Fact], compacted: CustomerState, full: CustomerState
) -> tuple[CustomerState, CustomerState]:
    """Apply each fact the archived state accepts to both; only facts dated on or before its
    archive may be refused (they are then left out of both, as the worker dead-letters them)."""
    through = compacted.ledger.archived_through
    for fact in facts:
        ledger = compacted.ledger
        if through is not None and fact_date(ledger, fact) <= through:
            event("a fact dated in the archive")
        if isinstance(fact, PaymentReceived) and fact.invoice_id in ledger.archived_invoices:
            event("a payment naming an archived invoice")
        try:
            compacted = apply(compacted, fact)
        except DomainError as refused:
            assert through is not None, refused
            assert fact_date(compacted.ledger, fact) <= through, refused
            event("refused a fact dated in the archive")
            continue
        full = apply(full, fact)
    return compacted, full


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_compact_then_continue_equals_continue_uncompacted(data: st.DataObject) -> None:
    """Two rounds of: archive on some day, then apply facts dated after the archive (and
    payments dated in it, for invoices still held) to the archived state and to the whole
    history alike. Every invoice still held, the credit and the held payments derive the same;
    an archived fact re-delivered is refused."""
    early = data.draw(early_histories(), label="early")
    full = compacted = fold(*early)
    policy = HistoryPolicy(retain_days=data.draw(st.integers(1, 120), label="retain_days"))
    today = data.draw(st.integers(60, 300), label="today")
    for tag in "ab":
        today += data.draw(st.integers(0, 150), label="days later")
        before = compacted
        compacted = compact(compacted, today=day(today), policy=policy)
        assert_same_derivation(compacted.ledger, full.ledger)
        assert_nothing_hangs_on_archived(compacted)
        through = compacted.ledger.archived_through
        event(f"round {tag}: archived" if through else f"round {tag}: nothing archived")
        if compacted.ledger.opening_paid:
            event(f"round {tag}: carries what was paid on invoices still owing")
        if compacted is not before:
            assert through is not None
            assert through <= day(today) - timedelta(days=policy.retain_days)
            for invoice_id in set(full.ledger.invoices) - set(compacted.ledger.invoices):
                settled_on = full.ledger.balances[invoice_id].settled_on
                assert settled_on is not None and settled_on <= through
        after = -1 if through is None else (through - ORIGIN).days
        later = data.draw(later_facts(compacted, after, tag), label="later")
        compacted, full = fold_both(later, compacted, full)
        assert_same_derivation(compacted.ledger, full.ledger)
        assert_nothing_hangs_on_archived(compacted)
    # An archived fact delivered again (same event id) is refused, never applied twice.
    for fact in early:
        if fact.event_id not in compacted.seen:
            with pytest.raises(DomainError):
                apply(compacted, fact)


# ---------------------------------------------------------------------------------------------
# In the decision step: no decision changes, and the state stops growing
# ---------------------------------------------------------------------------------------------

END = date(2026, 6, 30)


def long_history(customers: int, invoices: int, seed: int) -> list[Fact]:
    """A generated portfolio's events (three years and more) as domain facts."""
    facts = []
    for item in portfolio(customers=customers, today=END, seed=seed, invoices=invoices):
        parsed = parse_input(json.dumps(item.value).encode("utf-8"))
        assert not isinstance(parsed, Rejected)
        facts.append(translate.to_fact(parsed))
    return facts


def run(
    facts: list[Fact], policy: Policy, until: datetime
) -> tuple[dict[str, CustomerState], dict[str, list[Decision]]]:
    """The worker's step per event at its instant, then everyone advanced to `until`."""
    states: dict[str, CustomerState] = {}
    decisions: dict[str, list[Decision]] = defaultdict(list)
    for fact in facts:
        state = states.get(fact.customer_id) or CustomerState(customer_id=fact.customer_id)
        progress = on_event(state, fact, now=fact.occurred_at, policy=policy)
        decisions[fact.customer_id] += progress.decisions
        states[fact.customer_id] = progress.state
    for customer_id, state in states.items():
        wakes = advance(state, until, policy=policy)
        decisions[customer_id] += wakes
        states[customer_id] = wakes[-1].state if wakes else state
    return states, decisions


def observable(decision: Decision, policy: Policy) -> tuple[object, ...]:
    """Everything a decision tells the world or schedules (not the state's stored history)."""
    state = decision.state
    return (
        decision.assessment,  # segment, behaviour figures, value tier, risk score, oldest unpaid
        decision.flags,
        decision.segment_change,
        decision.actions,
        state.segment,
        state.decided_at,
        state.last_contact,
        next_wake(state, policy),
    )


def test_compaction_changes_no_decision_over_a_long_history(policy: Policy) -> None:
    facts = long_history(customers=8, invoices=40, seed=1)  # all four payer profiles
    unbounded = policy.model_copy(update={"history": HistoryPolicy(retain_days=36_500)})
    until = datetime.combine(END + timedelta(days=200), datetime.min.time(), tzinfo=at(0).tzinfo)
    kept, kept_decisions = run(facts, policy, until)
    everything, all_decisions = run(facts, unbounded, until)
    assert kept.keys() == everything.keys()
    for customer_id, full in everything.items():
        assert full.ledger.archived_through is None
        ours, theirs = kept_decisions[customer_id], all_decisions[customer_id]
        assert [observable(d, policy) for d in ours] == [observable(d, policy) for d in theirs]
        assert_same_derivation(kept[customer_id].ledger, full.ledger)
    # ... and the history really was bounded.
    compacted = [s for s in kept.values() if s.ledger.archived_through is not None]
    assert len(compacted) == len(kept)  # every profile, delinquent payers too
    held = sum(len(s.ledger.invoices) for s in kept.values())
    assert held < 0.6 * sum(len(s.ledger.invoices) for s in everything.values())


def test_a_steady_payers_state_levels_off(policy: Policy) -> None:
    """Ten years of monthly invoices paid before the due date: what the state holds stops
    growing once `retain_days` have passed."""
    state = CustomerState(customer_id=CUSTOMER)
    held: list[tuple[int, int, int, int]] = []
    for n in range(120):
        issued = 30 * n
        for fact, now in [
            (inv(f"I{n}", issued=issued, due=issued + 30), at(issued)),
            (pay(f"P{n}", "100.00", on=issued + 25, invoice_id=f"I{n}"), at(issued + 25)),
        ]:
            state = on_event(state, fact, now=now, policy=policy).state
        ledger = state.ledger
        held.append(
            (len(ledger.invoices), len(ledger.payments), len(state.seen), len(state.done_steps))
        )
    bound = policy.history.retain_days // 30 + 2
    assert all(invoices <= bound and payments <= bound for invoices, payments, _, _ in held)
    assert max(held[30:60]) == max(held[90:120])  # year 3 holds what year 10 does
    assert state.ledger.archived_through is not None


def test_a_wake_on_a_new_business_day_archives_and_the_same_day_does_not_again(
    policy: Policy,
) -> None:
    state = CustomerState(customer_id=CUSTOMER)
    for fact, now in [
        (inv("A", due=30), at(0)),
        (pay("PA", "100.00", on=20, invoice_id="A"), at(20)),
        (inv("B", issued=500, due=530), at(500)),
    ]:
        state = on_event(state, fact, now=now, policy=policy).state
    # Day 500 was already decided (with A archived: settled on day 20, 480 days before).
    assert state.ledger.archived_through == day(20) and list(state.ledger.invoices) == ["B"]

    fresh = fold(inv("A", due=30), pay("PA", "100.00", on=20, invoice_id="A"))
    fresh = replace(fresh, assessed_on=day(500), decided_at=at(500, hour=1))
    same_day = wake(fresh, at(500, hour=9), policy=policy)
    assert same_day.state.ledger.archived_through is None  # the business date did not move
    next_day = wake(fresh, at(501), policy=policy)
    assert next_day.state.ledger.archived_through == day(20)
    assert list(next_day.state.ledger.invoices) == []
