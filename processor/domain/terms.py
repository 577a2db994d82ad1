"""Payment terms (`invoice.issued`'s `terms`): the early-payment discount window they grant.

The invoice's `due_date` is authoritative; terms only add a discount window. The forms read
(case-insensitive; commas, hyphens and repeated spaces count as one space; `days` may follow a
number; `n/30`, `n30` and `net30` read as `net 30`):

- `net 30`: no discount;
- `2/10 net 30`, `2/10`, `2% 10 net 30`, `1% 15 net 45`, `1.5/10 net 30`: a discount of the
  percentage when paid within that many days of the issue date;
- `due on receipt` (or `due upon receipt`): no discount;
- `EOM`, `net 30 EOM`, `2/10 EOM`, `2/10 net 30 EOM`: days count from the end of the month the
  invoice was issued in.

The window includes its last day: `2/10` on an invoice issued on the 1st pays the discount for a
payment received on the 11th, not the 12th. It is in calendar days (a window ending on a weekend
does not move). Anything else is unreadable (`TermsError`, naming what is wrong).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from processor.domain.money import minor_unit

_HUNDRED = Decimal(100)
_NUMBER = r"\d{1,3}"
_FORM = re.compile(
    rf"^(?:(?P<pct>\d{{1,3}}(?:\.\d{{1,2}})?)(?: ?% ?/? ?| ?/ ?)(?P<within>{_NUMBER})(?: ?days?)?"
    rf"(?: |$))?"
    rf"(?:net (?P<net>{_NUMBER})(?: ?days?)?(?: |$)|(?P<receipt>due (?:on|upon) receipt)(?: |$))?"
    r"(?P<eom>eom|end of month)?$"
)


class TermsError(ValueError):
    """Terms arpulse cannot read (the invoice stands: its due date, no discount window)."""


@dataclass(frozen=True, slots=True)
class Terms:
    """What a terms text grants: a discount of `percent` within `within_days` (None: none)."""

    text: str
    percent: Decimal | None = None
    within_days: int | None = None
    net_days: int | None = None
    end_of_month: bool = False

    @property
    def has_discount(self) -> bool:
        """True when the terms grant an early-payment discount."""
        return self.percent is not None

    def discount_until(self, issued_on: date) -> date | None:
        """The last day a payment earns the discount (None: the terms grant none)."""
        if self.within_days is None:
            return None
        start = _end_of_month(issued_on) if self.end_of_month else issued_on
        return start + timedelta(days=self.within_days)

    def discount(self, base: Decimal, currency: str) -> Decimal:
        """The discount on `base` in `currency`, rounded half up to its minor unit."""
        if self.percent is None:
            return Decimal(0)
        exact = base * self.percent / _HUNDRED
        return exact.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def _end_of_month(day: date) -> date:
    following = day.replace(day=28) + timedelta(days=4)
    return following - timedelta(days=following.day)


def _normalized(text: str) -> str:
    value = re.sub(r"[\s,;_\-]+", " ", text.strip().lower())
    value = re.sub(r"\bn ?/ ?(\d)", r"net \1", value)
    value = re.sub(r"\bn(\d)", r"net \1", value)
    value = re.sub(r"\bnet(\d)", r"net \1", value)
    return re.sub(r"\s+", " ", value).strip()


@lru_cache(maxsize=1024)
def parse_terms(text: str) -> Terms:
    """The terms a text states; raises TermsError when it is not one of the forms read."""
    found = _FORM.match(_normalized(text))
    if found is None or not any(found.groupdict().values()):
        raise TermsError(
            f"{text!r} is not a form arpulse reads (for example 'net 30', '2/10 net 30', "
            "'1% 15 net 45', 'due on receipt', 'net 30 EOM')"
        )
    pct, within, net = found["pct"], found["within"], found["net"]
    percent = None if pct is None else Decimal(pct)
    if percent is not None and not Decimal(0) < percent < _HUNDRED:
        raise TermsError(f"{text!r}: a discount of {pct}% is not between 0 and 100")
    if within is not None and int(within) == 0:
        raise TermsError(f"{text!r}: a discount window of 0 days")
    if percent is not None and found["receipt"]:
        raise TermsError(f"{text!r}: a discount cannot go with payment due on receipt")
    if within is not None and net is not None and int(within) > int(net):
        raise TermsError(
            f"{text!r}: the discount window ({within} days) is longer than the net term "
            f"({net} days)"
        )
    return Terms(
        text=text,
        percent=percent,
        within_days=None if within is None else int(within),
        net_days=0 if found["receipt"] else None if net is None else int(net),
        end_of_month=found["eom"] is not None,
    )


def terms_of(text: str | None) -> Terms | None:
    """The terms an invoice's text grants a discount by, or None (none given, none, unreadable).

    The shell dead-letters unreadable terms (naming `terms`) and keeps the invoice.
    """
    if text is None:
        return None
    try:
        terms = parse_terms(text)
    except TermsError:
        return None
    return terms if terms.has_discount else None
