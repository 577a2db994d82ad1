"""Contract semantics 6 and 11 by oracles that do not use the domain's calendar or profile code.

- A profile is the latest update (in business time) per field, whatever order updates arrive in.
- An invoice is late exactly when the oracle says so on the customer's own calendar: its due date
  moved to the next weekday that is not a public holiday of its country (from the `holidays`
  library directly), counted in its time zone; the late flag says how many days.
- Nothing customer-facing goes to a customer marked do-not-contact.

Each test counts what it checked and fails if an example checked nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.core.policy_file import load_policy
from processor.domain.decide import advance, on_event
from processor.domain.facts import Fact, InvoiceIssued, PaymentReceived, ProfileUpdated
from processor.domain.profile import PROFILE_FIELDS
from processor.domain.state import CustomerState, apply
from tests.support.strategies import (
    PROFILE_COUNTRIES,
    PROFILE_ZONES,
    lifecycle_histories,
    profile_update,
)

POLICY = load_policy(None)
EXAMPLES = settings(max_examples=60, deadline=None)
ORIGIN = date(2026, 1, 5)
CUSTOMER_FACING = frozenset({"email", "sms", "phone", "letter"})


@EXAMPLES
@given(st.data())
def test_a_profile_is_the_latest_update_per_field_whatever_the_arrival_order(
    data: st.DataObject,
) -> None:
    updates = [data.draw(profile_update("cust-p", n)) for n in range(data.draw(st.integers(1, 6)))]
    order = data.draw(st.permutations(updates))
    state = CustomerState(customer_id="cust-p")
    for update in order:
        state = apply(state, update)
    checked = 0
    for name in PROFILE_FIELDS:
        stating = [u for u in updates if getattr(u, name) is not None]
        latest = max(stating, key=lambda u: (u.occurred_at, u.event_id), default=None)
        expected = None if latest is None else getattr(latest, name)
        if name == "credit_limit" and expected is not None:
            expected = dict(expected)
        assert getattr(state.profile, name) == expected, name
        checked += 1
    assert checked == len(PROFILE_FIELDS)


def _payable(due: date, country: str | None) -> date:
    """The oracle's payable-by date: the next weekday that is not a public holiday."""
    if country is None:
        calendar: holidays.HolidayBase | dict[date, str] = {}
        weekend = {5, 6}
    else:
        calendar = holidays.country_holidays(country)
        weekend = set(calendar.weekend)
    day = due
    while day.weekday() in weekend or day in calendar:
        day += timedelta(days=1)
    return day


@EXAMPLES
@given(st.data())
def test_an_invoice_is_late_exactly_when_the_customer_s_calendar_says(data: st.DataObject) -> None:
    checked = 0
    for n in range(data.draw(st.integers(1, 4))):
        customer = f"cust-{n}"
        zone = data.draw(st.sampled_from(PROFILE_ZONES))
        country = data.draw(st.sampled_from((None, *PROFILE_COUNTRIES)))
        due = ORIGIN + timedelta(days=data.draw(st.integers(0, 370)))
        paid_after = data.draw(st.one_of(st.none(), st.integers(0, 6)))
        local = ZoneInfo(zone)
        facts: list[Fact] = [
            ProfileUpdated(
                event_id=f"p-{customer}",
                customer_id=customer,
                occurred_at=datetime.combine(ORIGIN - timedelta(days=40), time(9), tzinfo=UTC),
                time_zone=zone,
                country=country,
            ),
            InvoiceIssued(
                event_id=f"i-{customer}",
                customer_id=customer,
                occurred_at=datetime.combine(due - timedelta(days=30), time(10), tzinfo=local),
                invoice_id="A",
                amount=Decimal("500.00"),
                currency="USD",
                issued_on=due - timedelta(days=30),
                due_date=due,
            ),
        ]
        if paid_after is not None:
            paid = due + timedelta(days=paid_after)
            facts.append(
                PaymentReceived(
                    event_id=f"pay-{customer}",
                    customer_id=customer,
                    occurred_at=datetime.combine(paid, time(11), tzinfo=local),
                    payment_id="P",
                    amount=Decimal("500.00"),
                    currency="USD",
                    received_on=paid,
                    invoice_id="A",
                )
            )
        horizon = datetime.combine(due + timedelta(days=12), time(12), tzinfo=local)
        state = CustomerState(customer_id=customer)
        flags = []
        for fact in facts:
            progress = on_event(state, fact, now=fact.occurred_at, policy=POLICY)
            state = progress.state
            flags += [f for d in progress.decisions for f in d.flags]
        flags += [f for d in advance(state, horizon, policy=POLICY) for f in d.flags]
        payable = _payable(due, country)
        # Grace 1 day: the clock flags it at the customer's midnight two days after payable-by
        became_late = datetime.combine(payable + timedelta(days=2), time(0), tzinfo=local)
        paid_on = None if paid_after is None else due + timedelta(days=paid_after)
        if paid_on is not None and paid_on <= payable:
            assert flags == [], (zone, country, due, paid_after)
        elif paid_on is not None and paid_on < payable + timedelta(days=2):
            [flag] = flags  # paid late, before the clock looked
            assert (flag.detected_by, flag.days_past_due) == (
                "late_payment",
                (paid_on - payable).days,
            )
        else:
            [flag] = flags
            assert flag.detected_by == "clock", (zone, country, due, paid_after, flag)
            assert flag.caused_by == f"clock:{became_late.astimezone(UTC).isoformat()}"
            assert flag.days_past_due == 2
        checked += 1
    assert checked > 0


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_nothing_customer_facing_goes_to_a_customer_marked_do_not_contact(
    data: st.DataObject,
) -> None:
    # The history's own profile updates keep their other fields but say nothing of
    # do_not_contact, so the marking below is the only word on it
    facts = [
        replace(f, do_not_contact=None) if isinstance(f, ProfileUpdated) else f
        for f in data.draw(lifecycle_histories())
    ]
    customers = sorted({f.customer_id for f in facts})
    first = min(f.occurred_at for f in facts) - timedelta(days=1)
    marked = [
        ProfileUpdated(event_id=f"dnc-{c}", customer_id=c, occurred_at=first, do_not_contact=True)
        for c in customers
    ]
    states: dict[str, CustomerState] = {}
    checked = 0
    horizon = max(f.occurred_at for f in facts) + timedelta(days=150)
    for fact in [*marked, *facts]:
        state = states.get(fact.customer_id) or CustomerState(customer_id=fact.customer_id)
        try:
            progress = on_event(state, fact, now=fact.occurred_at, policy=POLICY)
        except Exception as exc:  # a contradiction the history holds on purpose
            assert type(exc).__name__ == "DomainError"
            continue
        states[fact.customer_id] = progress.state
        for decision in progress.decisions:
            for action in decision.actions:
                assert action.channel not in CUSTOMER_FACING, action
                checked += 1
    for customer, state in states.items():
        for decision in advance(state, horizon, policy=POLICY):
            for action in decision.actions:
                assert action.channel not in CUSTOMER_FACING, (customer, action)
                checked += 1
    assert checked > 0, "no action was decided: the example checked nothing"


def test_the_oracle_s_calendar_moves_weekends_and_holidays() -> None:
    year = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    moved = [d for d in year if _payable(d, "US") != d]
    weekends = [d for d in year if d.weekday() >= 5]
    assert len(moved) > len(weekends)  # and the US holidays on weekdays
    assert _payable(date(2026, 12, 25), "US") == date(2026, 12, 28)
