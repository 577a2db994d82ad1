"""Payment terms: every form read, the discount window's edges, and a discount taken settling the
invoice in the ledger (not a residue, not chased, counted as on time)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from processor.domain.errors import DomainError
from processor.domain.ledger import Ledger, record
from processor.domain.terms import TermsError, parse_terms, terms_of
from tests.support.builders import at, credit, day, inv, pay, reverse
from tests.support.replay import deliver, short_retention_policy

D = Decimal


@pytest.mark.parametrize(
    ("text", "percent", "within", "net", "eom"),
    [
        ("net 30", None, None, 30, False),
        ("Net 30", None, None, 30, False),
        ("NET30", None, None, 30, False),
        ("net-30", None, None, 30, False),
        ("n/30", None, None, 30, False),
        ("net 30 days", None, None, 30, False),
        ("net 30days", None, None, 30, False),
        ("2/10days net 30", D(2), 10, 30, False),
        ("2/10 net 30", D(2), 10, 30, False),
        ("2/10, n/30", D(2), 10, 30, False),
        ("2/10 n30", D(2), 10, 30, False),
        ("2% 10 net 30", D(2), 10, 30, False),
        ("2%/10 net 30", D(2), 10, 30, False),
        ("1% 15 net 45", D(1), 15, 45, False),
        ("1% 15 days net 45", D(1), 15, 45, False),
        ("1.5/10 net 30", D("1.5"), 10, 30, False),
        ("2/10", D(2), 10, None, False),
        ("due on receipt", None, None, 0, False),
        ("Due upon receipt", None, None, 0, False),
        ("EOM", None, None, None, True),
        ("net 30 EOM", None, None, 30, True),
        ("2/10 EOM", D(2), 10, None, True),
        ("2/10 net 30 eom", D(2), 10, 30, True),
        ("net 30 end of month", None, None, 30, True),
    ],
)
def test_every_documented_form_is_read(
    text: str, percent: Decimal | None, within: int | None, net: int | None, eom: bool
) -> None:
    terms = parse_terms(text)
    assert (terms.percent, terms.within_days, terms.net_days, terms.end_of_month) == (
        percent,
        within,
        net,
        eom,
    )
    assert terms.text == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("net thirty", "not a form arpulse reads"),
        ("", "not a form arpulse reads"),
        ("pay whenever", "not a form arpulse reads"),
        ("2/40 net 30", "longer than the net term"),
        ("0/10 net 30", "not between 0 and 100"),
        ("100/10 net 30", "not between 0 and 100"),
        ("2/0 net 30", "a discount window of 0 days"),
        ("2/10 due on receipt", "cannot go with payment due on receipt"),
    ],
)
def test_unreadable_terms_are_refused_with_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(TermsError, match=problem):
        parse_terms(text)
    assert terms_of(text) is None  # the ledger keeps the invoice, without a discount window


def test_terms_without_a_discount_grant_no_window() -> None:
    assert terms_of("net 30") is None
    assert terms_of(None) is None
    assert terms_of("2/10 net 30") == parse_terms("2/10 net 30")


def test_the_window_counts_from_the_issue_date_and_includes_its_last_day() -> None:
    issued = date(2026, 1, 1)
    assert parse_terms("2/10 net 30").discount_until(issued) == date(2026, 1, 11)
    assert parse_terms("1% 15 net 45").discount_until(issued) == date(2026, 1, 16)
    assert parse_terms("net 30").discount_until(issued) is None


@pytest.mark.parametrize(
    ("issued", "until"),
    [
        (date(2026, 1, 15), date(2026, 2, 10)),
        (date(2026, 2, 28), date(2026, 3, 10)),
        (date(2028, 2, 3), date(2028, 3, 10)),  # a leap year's February ends on the 29th
        (date(2026, 12, 31), date(2027, 1, 10)),
    ],
)
def test_eom_windows_count_from_the_end_of_the_issue_month(issued: date, until: date) -> None:
    assert parse_terms("2/10 EOM").discount_until(issued) == until


@pytest.mark.parametrize(
    ("amount", "currency", "percent", "discount"),
    [
        ("1001", "JPY", "2", "20"),  # 20.02 -> 20 (0 decimals)
        ("1025", "JPY", "2", "21"),  # 20.5 -> 21, half up
        ("1000.99", "USD", "2", "20.02"),  # 20.0198 -> 20.02
        ("1000.25", "USD", "2", "20.01"),  # 20.005 -> 20.01, half up
        ("100.005", "KWD", "1.5", "1.500"),  # 1.500075 -> 1.500 (3 decimals)
        ("33.333", "KWD", "2", "0.667"),  # 0.66666 -> 0.667
    ],
)
def test_the_discount_is_exact_to_the_currencys_minor_unit(
    amount: str, currency: str, percent: str, discount: str
) -> None:
    terms = parse_terms(f"{percent}/10 net 30")
    found = terms.discount(D(amount), currency)
    assert str(found) == discount


def _ledger(*facts: object) -> Ledger:
    ledger = Ledger()
    for fact in facts:
        ledger, _ = record(ledger, fact)  # type: ignore[arg-type]
    return ledger


TERMS = "2/10 net 30"


def test_paying_the_discounted_amount_on_the_windows_last_day_settles_the_invoice() -> None:
    ledger = _ledger(inv("I", "1000.00", terms=TERMS), pay("P", "980.00", on=10, invoice_id="I"))
    balance = ledger.balances["I"]
    assert (balance.outstanding, balance.discounted, balance.closed_by) == (D(0), D(20), "paid")
    assert balance.settled_on == day(10)
    assert ledger.open_invoices() == []


def test_the_same_payment_a_day_after_the_window_leaves_the_discount_owed() -> None:
    ledger = _ledger(inv("I", "1000.00", terms=TERMS), pay("P", "980.00", on=11, invoice_id="I"))
    balance = ledger.balances["I"]
    assert (balance.outstanding, balance.discounted, balance.closed_by) == (D(20), D(0), None)


def test_a_payment_short_of_the_discounted_amount_earns_no_discount() -> None:
    ledger = _ledger(inv("I", "1000.00", terms=TERMS), pay("P", "979.99", on=5, invoice_id="I"))
    assert ledger.balances["I"].outstanding == D("20.01")
    assert ledger.balances["I"].discounted == 0


def test_payments_in_parts_within_the_window_earn_the_discount_together() -> None:
    ledger = _ledger(
        inv("I", "1000.00", terms=TERMS),
        pay("P1", "500.00", on=3, invoice_id="I"),
        pay("P2", "480.00", on=9, invoice_id="I"),
    )
    assert ledger.balances["I"].discounted == D(20)
    assert ledger.balances["I"].settled_on == day(9)


def test_paying_more_than_the_discounted_price_leaves_the_rest_the_customers() -> None:
    ledger = _ledger(inv("I", "1000.00", terms=TERMS), pay("P", "990.00", on=5, invoice_id="I"))
    assert (ledger.balances["I"].outstanding, ledger.balances["I"].discounted) == (D(0), D(20))
    assert ledger.credit == {"USD": D(10)}  # cash on account, not swallowed by the invoice


def test_one_payment_for_two_discounted_invoices_settles_both() -> None:
    ledger = _ledger(
        inv("I", "1000.00", terms=TERMS),
        inv("J", "1000.00", issued=1, due=31, terms=TERMS),
        pay("P", "1960.00", on=8),
    )
    for invoice_id in ("I", "J"):
        balance = ledger.balances[invoice_id]
        assert (balance.outstanding, balance.discounted) == (D(0), D(20))
    assert ledger.credit == {}


def test_credit_after_cash_in_the_window_can_complete_the_discounted_price() -> None:
    # 49.00 paid on day 5 is the discounted price of the invoice once 50.00 of it is credited.
    ledger = _ledger(
        inv("I", "100.00", terms=TERMS),
        pay("P", "49.00", on=5, invoice_id="I"),
        credit("C", "50.00", on=6, invoice_id="I"),
    )
    balance = ledger.balances["I"]
    assert (balance.outstanding, balance.discounted, balance.credited) == (D(0), D(1), D(50))


def test_cash_on_account_earns_the_discount_whatever_order_it_arrives_in() -> None:
    facts = [
        pay("P0", "49.25", on=1),
        pay("P1", "2.00", on=2),
        inv("I0", "50.00", issued=5, due=10, terms=TERMS),
    ]
    results = set()
    for order in ([0, 1, 2], [1, 0, 2], [1, 2, 0], [2, 0, 1]):
        ledger = _ledger(*(facts[i] for i in order))
        balance = ledger.balances["I0"]
        results.add((balance.paid, balance.discounted, tuple(ledger.credit.items())))
    assert results == {(D("49.00"), D("1.00"), (("USD", D("2.25")),))}


def test_the_discount_is_on_what_the_invoice_asks_after_its_credit() -> None:
    ledger = _ledger(
        inv("I", "1000.00", terms=TERMS),
        credit("C", "500.00", on=2, invoice_id="I"),
        pay("P", "490.00", on=6, invoice_id="I"),
    )
    balance = ledger.balances["I"]
    assert (balance.credited, balance.discounted, balance.outstanding) == (D(500), D(10), D(0))


def test_an_unnamed_payment_earns_the_discount_of_the_invoice_it_pays() -> None:
    ledger = _ledger(inv("I", "1000.00", terms=TERMS), pay("P", "980.00", on=4))
    assert ledger.balances["I"].discounted == D(20)


def test_a_payment_before_its_invoice_earns_the_discount_when_the_invoice_arrives() -> None:
    ledger = _ledger(pay("P", "980.00", on=4, invoice_id="I"), inv("I", "1000.00", terms=TERMS))
    assert ledger.balances["I"].discounted == D(20)


def test_a_bounced_payment_takes_its_discount_back() -> None:
    ledger = _ledger(
        inv("I", "1000.00", terms=TERMS),
        pay("P", "980.00", on=4, invoice_id="I"),
        reverse("P", on=20),
    )
    balance = ledger.balances["I"]
    assert (balance.outstanding, balance.discounted, balance.closed_by) == (D(1000), D(0), None)


def test_a_reissue_with_other_discount_terms_is_another_version_of_the_invoice() -> None:
    ledger = _ledger(inv("I", "1000.00", terms=TERMS))
    same, _ = record(ledger, inv("I", "1000.00", terms="2/10, n/30"))
    assert same is ledger  # the same terms spelled otherwise: a repeat
    with pytest.raises(DomainError, match="different terms"):
        record(ledger, inv("I", "1000.00", terms="1% 15 net 45", event_id="e-other"))


def test_eom_discounts_run_past_the_issue_month() -> None:
    issued = 20  # 2026-01-21: the window ends on 2026-02-10, day 40
    ledger = _ledger(
        inv("I", "1000.00", issued=issued, due=issued + 40, terms="2/10 EOM"),
        pay("P", "980.00", on=40, invoice_id="I"),
    )
    assert day(40) == date(2026, 2, 10)
    assert ledger.balances["I"].discounted == D(20)


def test_archived_cash_on_an_invoice_still_owing_earns_no_discount_after_the_fact() -> None:
    # Paid a minor unit short of its discounted price in the window, the invoice owes 10.01;
    # cash on account after the window pays 10.00 of that. Once that cash is archived and
    # carried forward, replaying the kept payment on top must not take the discount either.
    facts = [
        inv("I", "499.75", currency="EUR", issued=4, due=4, terms=TERMS),
        pay("P", "489.74", on=12, invoice_id="I", currency="EUR"),
        inv("J", "10.00", currency="EUR", issued=15, due=15),
        pay("Q", "10.00", on=15, currency="EUR"),
        # Long after the cut: the ledger is derived again from what archiving left.
        credit("C", "5.00", on=110, invoice_id="J", currency="EUR"),
    ]
    short = short_retention_policy()
    archived = deliver(facts, short, until=at(130)).states["cust-1"].ledger
    whole = _ledger(*facts)
    assert archived.archived_through is not None
    assert archived.balances["I"].outstanding == whole.balances["I"].outstanding == D("0.01")
    assert archived.balances["I"].discounted == 0
