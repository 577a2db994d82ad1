"""The domain's minor units are the contract's: one ISO 4217 table, checked in two places."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processor.domain.money import ISO_CURRENCIES, fits, minor_unit, minor_units
from schemas import currencies
from schemas.events import fits_minor_units


def test_the_domain_knows_exactly_the_contract_s_currencies() -> None:
    assert ISO_CURRENCIES == currencies.ISO_4217_CODES


def test_the_domain_and_the_contract_agree_on_every_currency() -> None:
    for code in sorted(currencies.ISO_4217_CODES):
        assert minor_units(code) == currencies.minor_units(code), code


@pytest.mark.parametrize(
    ("amount", "currency", "fine"),
    [
        ("100.00", "USD", True),
        ("100.000", "USD", True),
        ("100.005", "USD", False),
        ("1000", "JPY", True),
        ("1000.5", "JPY", False),
        ("1.005", "KWD", True),
        ("1.0005", "KWD", False),
    ],
)
def test_an_amount_fits_its_currency_in_the_domain_as_at_the_edge(
    amount: str, currency: str, fine: bool
) -> None:
    assert fits(Decimal(amount), currency) is fine
    assert fits_minor_units(Decimal(amount), currency) is fine


def test_the_smallest_amount_of_a_currency() -> None:
    assert (minor_unit("USD"), minor_unit("JPY"), minor_unit("KWD")) == (
        Decimal("0.01"),
        Decimal("1"),
        Decimal("0.001"),
    )
