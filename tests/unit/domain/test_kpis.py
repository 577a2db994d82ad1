"""The collection figures against hand-worked examples published by AR practitioners, and their
edges (no sales, nothing owed, receivables older than the history looked at)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from processor.domain.kpis import Countback, cei, countback_dso, figures, simple_dso
from processor.domain.receivables import CurrencyShare

D = Decimal


def test_countback_dso_matches_the_worked_example_of_three_months() -> None:
    """Receivables of 212,000 against sales of 100,000 (this month), 80,000 and 70,000 in
    30-day months: 30 + 30 + 32,000 / 70,000 * 30 = 73.7 days."""
    assert countback_dso(D(212_000), [D(100_000), D(80_000), D(70_000)]) == Countback(
        days=D("73.7"), capped=False
    )


def test_countback_dso_stops_at_the_history_it_looks_at() -> None:
    assert countback_dso(D(500), [D(100), D(100)]) == Countback(days=D(60), capped=True)
    assert countback_dso(D(0), [D(100)]) == Countback(days=D(0), capped=False)


def test_simple_dso_matches_the_worked_example_of_a_year() -> None:
    """150,000 receivables on 1,800,000 annual credit sales: 150 / 1800 * 365 = 30.4 days."""
    assert simple_dso(D(150_000), D(1_800_000), 365) == D("30.4")
    assert simple_dso(D(10), D(0), 90) is None  # no sales: undefined, not zero


def test_cei_period_convention_matches_the_worked_example() -> None:
    """Beginning 100,000, credit sales 1,000,000, ending 120,000 of which 100,000 current:
    (100k + 1M - 120k) / (100k + 1M - 100k) = 98 %."""
    assert cei(D(100_000), D(1_000_000), D(120_000), D(100_000)) == D("98.0")


def test_cei_monthly_average_convention_matches_the_worked_example() -> None:
    """Beginning 6,200, three months' sales 10,890 (averaged: 3,630), ending 6,340 of which 3,590
    current: (6,200 + 3,630 - 6,340) / (6,200 + 3,630 - 3,590) = 55.9 %."""
    got = cei(D(6_200), D(10_890), D(6_340), D(3_590), convention="monthly_average", months=D(3))
    assert got == D("55.9")


def test_cei_is_undefined_when_nothing_was_collectible() -> None:
    assert cei(D(0), D(0), D(0), D(0)) is None


def _portfolio() -> tuple[CurrencyShare, date]:
    """Two invoices: 300 issued 100 days ago, due 70 days ago (unpaid); 600 issued 20 days ago,
    due in 10 days, 200 of it paid 5 days ago."""
    today = date(2026, 6, 30)
    ago = lambda n: today - timedelta(days=n)  # noqa: E731
    share = CurrencyShare()
    share.sales = {ago(100): D(300), ago(20): D(600)}
    share.owed = {ago(100): D(300), ago(20): D(600), ago(5): D(-200)}
    for age in share.over:  # each invoice enters an age with what it owes then
        first = ago(70) + timedelta(days=age + 1)
        second = today + timedelta(days=10 + age + 1)
        share.over[age] = {first: D(300), second: D(400)}
    return share, today


def test_figures_of_a_small_portfolio_worked_by_hand() -> None:
    share, today = _portfolio()
    got = figures(share, today, window_days=90, countback_days=360)
    assert (got.receivables, got.current, got.over_90, got.beginning, got.credit_sales) == (
        D(700),
        D(400),
        D(0),
        D(300),  # the day before the window: the first invoice only
        D(600),
    )
    assert got.dso_simple == D("105.0")  # 700 / 600 * 90
    assert got.best_possible_dso == D("60.0")  # 400 / 600 * 90
    assert got.add == D("45.0")
    assert got.cei == D("40.0")  # (300 + 600 - 700) / (300 + 600 - 400)
    # countback: this period's 600 covers 600 of 700 (30 days); then two empty periods; then
    # the period holding the 300 invoice covers the last 100: 90 + 100 / 300 * 30 = 100.0
    assert got.dso_countback == Countback(days=D("100.0"), capped=False)
    assert got.over_90_share == D("0.000")
    later = figures(share, today + timedelta(days=30), window_days=90, countback_days=360)
    assert (later.current, later.over_90, later.over_90_share) == (D(0), D(300), D("0.429"))
