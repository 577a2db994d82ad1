"""Payment terms: every form read, the discount window's edges, and a discount taken settling the
invoice in the ledger (not a residue, not chased, counted as on time)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from processor.domain.errors import DomainError
from processor.domain.ledger import Ledger, record
from processor.domain.terms import TermsError, parse_terms, terms_of
from tests.support.builders import credit, day, inv, pay, reverse

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
        ("100/10 net 30", "not a form arpulse reads"),
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


def test_paying_more_than_the_discounted_amount_takes_only_what_is_left() -> None:
    ledger = _ledger(inv("I", "1000.00", terms=TERMS), pay("P", "990.00", on=5, invoice_id="I"))
    assert (ledger.balances["I"].outstanding, ledger.balances["I"].discounted) == (D(0), D(10))


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
