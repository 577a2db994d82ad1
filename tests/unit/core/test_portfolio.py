"""Portfolio gauges: running totals that replace each customer's previous contribution exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processor.core.portfolio import Portfolio, pack, unpack
from processor.domain.segmentation import Exposure


def exposure(risk: str | None, *items: tuple[str, str, str]) -> Exposure:
    return Exposure(
        risk_bucket=risk,
        outstanding=tuple((bucket, cur, Decimal(amount)) for bucket, cur, amount in items),
    )


@pytest.mark.parametrize(
    "value",
    [
        exposure(None),
        exposure("low"),
        exposure("high", ("31-60", "EUR", "1234.50"), ("120+", "JPY", "700")),
        exposure("medium", ("current", "USD", "0.10"), ("current", "EUR", "99999999.99")),
    ],
)
def test_a_packed_contribution_unpacks_to_the_same_exact_amounts(value: Exposure) -> None:
    assert unpack(pack(value)) == value


def test_updates_replace_a_customers_previous_contribution() -> None:
    portfolio = Portfolio()
    portfolio.update(0, b"a", exposure("high", ("31-60", "EUR", "100.10")))
    portfolio.update(1, b"b", exposure("low", ("current", "EUR", "50.00")))
    portfolio.update(0, b"a", exposure("medium", ("61-90", "EUR", "40.05")))
    portfolio.update(0, b"a", exposure("medium", ("61-90", "EUR", "40.05")))  # unchanged
    assert portfolio.customers_by_risk() == {"low": 1, "medium": 1, "high": 0}
    totals = portfolio.outstanding_by_aging()
    assert totals[("61-90", "EUR")] == Decimal("40.05")
    assert totals[("31-60", "EUR")] == Decimal("0.00")
    assert totals[("current", "EUR")] == Decimal("50.00")

    portfolio.update(0, b"a", exposure(None))  # paid up and unassessed: adds nothing
    assert portfolio.customers_by_risk() == {"low": 1, "medium": 0, "high": 0}
    portfolio.drop(1)
    assert portfolio.customers_by_risk() == {"low": 0, "medium": 0, "high": 0}
