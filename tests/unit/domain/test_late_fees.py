"""Late fees and interest: each way the policy sets them, by day on what is owed, capped and
rounded down in currencies of 0, 2 and 3 decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from processor.domain.collection import EMPTY, Collection, record_collection
from processor.domain.late_fees import accrued, describe
from processor.domain.ledger import Ledger, record
from processor.domain.outputs import LateFee
from processor.domain.policy import LateFeePolicy
from tests.support.builders import (
    credit,
    day,
    dispute,
    inv,
    pay,
    resolve,
    reverse,
    void,
    write_off,
)

D = Decimal
DUE = 30  # every invoice here is issued on day 0 and due on day 30


def _ledger(*facts: object) -> Ledger:
    ledger = Ledger()
    for fact in facts:
        ledger, _ = record(ledger, fact)  # type: ignore[arg-type]
    return ledger


def fee(
    ledger: Ledger,
    on: int,
    invoice_id: str = "I",
    collection: Collection = EMPTY,
    **rules: Any,
) -> LateFee | None:
    invoice = ledger.invoices[invoice_id]
    return accrued(ledger, collection, invoice, day(DUE), day(on), LateFeePolicy(**rules))


def test_no_policy_states_no_fee() -> None:
    assert fee(_ledger(inv("I", "1000.00")), 90) is None


def test_a_fixed_fee_is_due_once_the_grace_has_passed() -> None:
    ledger = _ledger(inv("I", "1000.00", currency="EUR"))
    rules: dict[str, Any] = {"fixed": {"EUR": D("40.00")}, "grace_days": 5}
    assert fee(ledger, DUE + 5, **rules) is None  # still within the grace
    found = fee(ledger, DUE + 6, **rules)
    assert found is not None
    assert (found.fixed, found.interest, found.total, found.days_late) == (D(40), 0, D(40), 6)
    assert fee(ledger, DUE + 6, fixed={"USD": D("40.00")}) is None  # no fee in EUR


def test_paid_within_the_grace_nothing_is_due() -> None:
    ledger = _ledger(inv("I", "1000.00"), pay("P", "1000.00", on=DUE + 3, invoice_id="I"))
    assert fee(ledger, 90, fixed={"USD": D("40.00")}, grace_days=5) is None


def test_paid_late_the_fees_stop_when_it_is_settled() -> None:
    ledger = _ledger(inv("I", "1000.00"), pay("P", "1000.00", on=DUE + 10, invoice_id="I"))
    found = fee(ledger, 90, interest="daily", rate_percent=D("0.1"))
    # Days 31-39 owed 1000 (1.00 a day); on day 40 it was paid.
    assert found is not None
    assert (found.interest, found.days_late) == (D("9.00"), 10)


@pytest.mark.parametrize(
    ("rules", "interest"),
    [
        ({"interest": "daily", "rate_percent": D("0.05")}, "15.00"),  # 0.50 a day x 30
        ({"interest": "monthly", "rate_percent": D("1.5")}, "14.79"),  # 18 % a year / 365
        ({"interest": "annual", "rate_percent": D("36.5")}, "30.00"),  # 1.00 a day
        ({"interest": "annual", "rate_percent": D("36"), "day_count": 360}, "30.00"),
        (
            {"interest": "statutory", "reference_rate_percent": D("4.5")},
            "10.27",  # (4.5 + 8) % a year on 1000.00 for 30 days: 10.2739...
        ),
    ],
)
def test_each_interest_mode_accrues_by_day(rules: dict[str, Any], interest: str) -> None:
    found = fee(_ledger(inv("I", "1000.00")), DUE + 30, **rules)
    assert found is not None and str(found.interest) == interest


def test_interest_runs_on_what_is_left_after_a_partial_payment() -> None:
    ledger = _ledger(inv("I", "1000.00"), pay("P", "600.00", on=DUE + 10, invoice_id="I"))
    found = fee(ledger, DUE + 20, interest="daily", rate_percent=D("0.1"))
    # 9 days on 1000 (9.00), then 11 days on 400 (4.40).
    assert found is not None and found.interest == D("13.40")


def test_credit_corrects_the_invoice_from_the_start() -> None:
    ledger = _ledger(inv("I", "1000.00"), credit("C", "500.00", on=DUE + 15, invoice_id="I"))
    found = fee(ledger, DUE + 20, interest="daily", rate_percent=D("0.1"))
    assert found is not None and found.interest == D("10.00")  # 20 days on 500


def test_a_bounced_payment_owes_again_from_its_reversal() -> None:
    ledger = _ledger(
        inv("I", "1000.00"),
        pay("P", "1000.00", on=DUE - 5, invoice_id="I"),
        reverse("P", on=DUE + 10),
    )
    found = fee(ledger, DUE + 20, interest="daily", rate_percent=D("0.1"))
    assert found is not None and found.interest == D("11.00")  # days 40-50 on 1000


def test_voided_and_written_off_invoices_accrue_nothing() -> None:
    rules: dict[str, Any] = {"fixed": {"USD": D("40.00")}, "interest": "daily", "rate_percent": 1}
    voided = _ledger(inv("I", "1000.00"), void("I", on=DUE + 40))
    written = _ledger(inv("I", "1000.00"), write_off("I", on=DUE + 40))
    assert fee(voided, DUE + 60, **rules) is None
    assert fee(written, DUE + 60, **rules) is None


def test_the_cap_on_the_invoice_share_limits_the_total() -> None:
    ledger = _ledger(inv("I", "1000.00"))
    found = fee(ledger, DUE + 400, interest="daily", rate_percent=D("0.1"), cap_percent=D(10))
    assert found is not None
    assert (found.total, found.capped) == (D("100.00"), True)


def test_a_cap_in_the_currency_limits_fixed_fee_and_interest_together() -> None:
    ledger = _ledger(inv("I", "1000.00", currency="EUR"))
    found = fee(
        ledger,
        DUE + 100,
        fixed={"EUR": D("40.00")},
        interest="daily",
        rate_percent=D("0.1"),
        cap={"EUR": D("50.00")},
    )
    assert found is not None
    assert (found.fixed, found.interest, found.total, found.capped) == (
        D(40),
        D(10),
        D(50),
        True,
    )
    below = fee(ledger, DUE + 100, fixed={"EUR": D("40.00")}, cap={"EUR": D("30.00")})
    assert below is not None and (below.fixed, below.total) == (D(30), D(30))


@pytest.mark.parametrize(
    ("amount", "currency", "total"),
    [
        ("1000", "JPY", "8"),  # 8.219... yen, rounded down to whole yen
        ("1000.00", "USD", "8.21"),
        ("1000.000", "KWD", "8.219"),
    ],
)
def test_fees_are_rounded_down_to_the_minor_unit(amount: str, currency: str, total: str) -> None:
    ledger = _ledger(inv("I", amount, currency=currency))
    found = fee(ledger, DUE + 30, interest="annual", rate_percent=D(10))
    assert found is not None and str(found.total) == total


def test_bad_fee_settings_name_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="needs a rate_percent"):
        LateFeePolicy(interest="daily")
    with pytest.raises(ValidationError, match="more decimals than the currency allows"):
        LateFeePolicy(fixed={"JPY": D("40.5")})
    with pytest.raises(ValidationError, match="not ISO 4217"):
        LateFeePolicy(cap={"XXQ": D(5)})
    with pytest.raises(ValidationError, match="decimals as strings"):
        LateFeePolicy(interest="annual", rate_percent=8.5)  # type: ignore[arg-type]


def test_the_rules_are_described_in_words() -> None:
    text = describe(
        LateFeePolicy(
            fixed={"EUR": D("40.00")},
            interest="statutory",
            reference_rate_percent=D("2.15"),
            grace_days=3,
            cap_percent=D(10),
        )
    )
    assert text == (
        "a fixed fee per invoice and statutory interest of 10.15% a year (reference rate 2.15% "
        "plus 8 points) on what is owed, day by day (365-day year), from the day after the "
        "payable-by date plus 3 days' grace, at most 10% of the invoice"
    )


DAILY: dict[str, Any] = {"interest": "daily", "rate_percent": D("0.1")}


def _disputes(*facts: Any) -> Collection:
    collection = EMPTY
    for fact in facts:
        collection = record_collection(collection, fact)
    return collection


def test_a_disputed_part_accrues_nothing_while_the_dispute_is_open() -> None:
    ledger = _ledger(inv("I", "1000.00"))
    disputed = _disputes(dispute("D", "I", on=DUE + 10, amount="900.00"))
    found = fee(ledger, DUE + 20, collection=disputed, **DAILY)
    # 9 days on 1000 (9.00), then 11 days on the 100 not disputed (1.10).
    assert found is not None and found.interest == D("10.10")


def test_a_rejected_dispute_accrues_again_from_its_rejection_an_upheld_one_never() -> None:
    ledger = _ledger(inv("I", "1000.00"))
    opened = dispute("D", "I", on=DUE + 10)  # the whole invoice
    rejected = _disputes(opened, resolve("D", "rejected", on=DUE + 15))
    found = fee(ledger, DUE + 20, collection=rejected, **DAILY)
    assert found is not None and found.interest == D("15.00")  # days 31-39 and 45-50
    upheld = _disputes(opened, resolve("D", "upheld", on=DUE + 15))
    found = fee(ledger, DUE + 20, collection=upheld, **DAILY)
    assert found is not None and found.interest == D("9.00")


def test_an_invoice_disputed_before_its_grace_ended_owes_no_fixed_fee() -> None:
    ledger = _ledger(inv("I", "1000.00"))
    disputed = _disputes(dispute("D", "I", on=DUE - 2))
    assert fee(ledger, DUE + 40, collection=disputed, fixed={"USD": D("40.00")}) is None
