"""The soak's event mix: a fixed population of customers that is billed, and pays, forever.

Why not `processor.demo.portfolio`: the demo plays a finite, pre-sorted history, while a soak
needs a never-ending stream at a chosen rate. The population is fixed on purpose: memory that keeps
growing then comes from history per customer, not from new customers arriving.

Each customer has a payment profile (as AR teams see them) and one or two currencies. It gets a
new invoice every `invoice_interval_days` on average (derived from the target rate), and each
invoice ends in one outcome: paid on time, paid late, paid partly then the rest later (or never),
or never paid. The platform sends a due-date notice for most invoices unpaid at their due date (the
rest are left for the worker's clock to flag). About `invalid_share` of all events break the
contract in one of several ways; they must end on the dead-letter topic and change nothing.

Everything is pure and seeded: the same arguments give the same events, in `occurred_at` order.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from schemas import topics

PROFILES: tuple[tuple[str, float], ...] = (
    ("on_time", 0.45),
    ("occasionally_late", 0.25),
    ("habitually_late", 0.18),
    ("delinquent", 0.12),
)
OUTCOME_NAMES = ("on_time", "late", "partial", "never")
# Weights of each invoice outcome per profile, in OUTCOME_NAMES order.
OUTCOMES: dict[str, tuple[float, float, float, float]] = {
    "on_time": (0.96, 0.04, 0.0, 0.0),
    "occasionally_late": (0.70, 0.22, 0.08, 0.0),
    "habitually_late": (0.25, 0.60, 0.15, 0.0),
    "delinquent": (0.05, 0.35, 0.25, 0.35),
}
# How many days after the due date a late payment (or a partial's remainder) arrives.
LATE_DAYS: dict[str, tuple[int, int]] = {
    "on_time": (1, 5),
    "occasionally_late": (3, 25),
    "habitually_late": (10, 60),
    "delinquent": (30, 120),
}
NOTICE_SHARE = 0.9  # invoices unpaid at their due date that get the platform's due notice
REMAINDER_SHARE = 0.8  # partly paid invoices whose remainder is paid later
# (code, weight, units per USD, decimal places, time zones its customers are in)
CURRENCIES: tuple[tuple[str, float, Decimal, int, tuple[str, ...]], ...] = (
    ("USD", 0.50, Decimal("1"), 2, ("America/New_York", "America/Chicago")),
    ("EUR", 0.20, Decimal("0.92"), 2, ("Europe/Berlin", "Europe/Paris")),
    ("GBP", 0.12, Decimal("0.79"), 2, ("Europe/London",)),
    ("CAD", 0.06, Decimal("1.36"), 2, ("America/Toronto",)),
    ("CHF", 0.05, Decimal("0.88"), 2, ("Europe/Zurich",)),
    ("JPY", 0.04, Decimal("150"), 0, ("Asia/Tokyo",)),
    ("AUD", 0.03, Decimal("1.52"), 2, ("Australia/Sydney",)),
)
SECOND_CURRENCY_SHARE = 0.10  # customers also billed in a second currency (a fifth of invoices)
TERMS = ((15, 0.15), (30, 0.55), (45, 0.15), (60, 0.15))
_NAMES = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Hooli", "Wonka")
_SUFFIXES = ("Ltd", "GmbH", "Inc", "BV", "SA", "plc", "LLC")
_METHODS = ("ach", "wire", "card", "check")


@dataclass(frozen=True, slots=True)
class Customer:
    """One member of the fixed population, and how it is billed and pays."""

    index: int
    customer_id: str
    name: str
    profile: str
    currencies: tuple[str, ...]
    terms_days: int
    median_usd: float  # typical invoice size, in US dollars
    timezone: str | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to produce: when (business time), where, the bytes, and what it is."""

    at: datetime
    topic: str
    key: str
    value: bytes
    valid: bool
    kind: str  # the event_type, or "invalid:<how>"


def expected_events_per_invoice(invalid_share: float) -> float:
    """Messages one invoice causes on average, invalid companions included (sets the pace)."""
    valid = 0.0
    for profile, weight in PROFILES:
        on_time, late, partial, never = OUTCOMES[profile]
        follow_ups = (
            on_time
            + late * (1 + NOTICE_SHARE)
            + partial * (1 + REMAINDER_SHARE + NOTICE_SHARE)
            + never * NOTICE_SHARE
        )
        valid += weight * (1 + follow_ups)
    return valid / (1 - invalid_share)


def make_population(count: int, rng: random.Random) -> list[Customer]:
    """`count` customers with profiles, currencies, terms and sizes drawn from the tables."""
    profiles, profile_weights = zip(*PROFILES, strict=True)
    codes = [c[0] for c in CURRENCIES]
    code_weights = [c[1] for c in CURRENCIES]
    zones = {c[0]: c[4] for c in CURRENCIES}
    people = []
    for index in range(count):
        primary = rng.choices(codes, code_weights)[0]
        currencies: tuple[str, ...] = (primary,)
        if rng.random() < SECOND_CURRENCY_SHARE:
            currencies += (rng.choice([c for c in codes if c != primary]),)
        people.append(
            Customer(
                index=index,
                customer_id=f"cust-{index + 1:05d}",
                name=f"{rng.choice(_NAMES)} {rng.choice(_SUFFIXES)} #{index + 1}",
                profile=rng.choices(profiles, profile_weights)[0],
                currencies=currencies,
                terms_days=rng.choices([t for t, _ in TERMS], [w for _, w in TERMS])[0],
                median_usd=math.exp(rng.uniform(math.log(200), math.log(40_000))),
                timezone=rng.choice(zones[primary]) if rng.random() < 0.6 else None,
            )
        )
    return people


def _business_hours(day: date, rng: random.Random) -> datetime:
    """A moment between 07:00 and 19:00 UTC on `day`, when invoices and payments happen."""
    start = datetime.combine(day, time(7), tzinfo=UTC)
    return start + timedelta(seconds=rng.randrange(12 * 3600))


def _notice_time(due: date, rng: random.Random) -> datetime:
    """Just after midnight on the day after the due date, when the platform's batch runs."""
    start = datetime.combine(due + timedelta(days=1), time(0, 5), tzinfo=UTC)
    return start + timedelta(seconds=rng.randrange(3600))


def _amount(customer: Customer, currency: str, rng: random.Random) -> Decimal:
    """An invoice amount near the customer's typical size, in `currency`'s minor units."""
    per_usd, places = next((c[2], c[3]) for c in CURRENCIES if c[0] == currency)
    usd = customer.median_usd * rng.lognormvariate(0, 0.4)
    minor = Decimal(1).scaleb(-places)
    return max(minor, (Decimal(repr(round(usd, 2))) * per_usd).quantize(minor))


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


class EventMix:
    """Never-ending, time-ordered events of a fixed population at about `rate` messages a second.

    `rate` is in real seconds; with the clock at `days_per_second`, that is `rate /
    days_per_second` messages per business day. The interval between a customer's invoices is set
    so the whole population produces that many once payments and notices have caught up (about
    the first 30 to 60 business days are lighter: nothing is due yet).
    """

    def __init__(
        self,
        *,
        customers: int,
        rate: float,
        days_per_second: float,
        start: datetime,
        seed: int = 7,
        invalid_share: float = 0.01,
    ) -> None:
        if customers < 1 or rate <= 0 or days_per_second <= 0 or not 0 <= invalid_share < 0.5:
            raise ValueError("customers >= 1, rate > 0, days_per_second > 0, invalid_share < 0.5")
        self._rng = random.Random(seed)
        self.population = make_population(customers, self._rng)
        per_day = rate / days_per_second
        self.invoice_interval_days = (
            customers * expected_events_per_invoice(invalid_share) / per_day
        )
        self._companion = invalid_share / (1 - invalid_share)  # invalid per valid message
        self._heap: list[tuple[datetime, int, Customer | Outgoing]] = []
        self._seq = itertools.count()
        self._invoices = [0] * customers
        for customer in self.population:
            first = start + timedelta(days=self._rng.uniform(0, self.invoice_interval_days))
            self._push(first, customer)

    def __iter__(self) -> Iterator[Outgoing]:
        """The events, for ever, in `occurred_at` order."""
        while True:
            yield self.next_event()

    def next_event(self) -> Outgoing:
        """The next event in business time (issuing a new invoice schedules what follows it)."""
        at, _, item = heapq.heappop(self._heap)
        if isinstance(item, Customer):
            customer, first = item, self._invoices[item.index] == 0
            item = self._issue(customer, at)
            if first and customer.timezone:  # its profile (time zone), a second before
                self._push(at, item)  # its first invoice: no tie across topics to break
                item = _profile(customer, at - timedelta(seconds=1))
        if item.valid and self._rng.random() < self._companion:
            self._push(at, _invalid(self._rng, item.key, next(self._seq), at))
        return item

    def _push(self, at: datetime, item: Customer | Outgoing) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), item))

    def _issue(self, customer: Customer, at: datetime) -> Outgoing:
        """Issue the customer's next invoice, schedule its payments and notice, and the next one."""
        rng = self._rng
        self._invoices[customer.index] += 1
        invoice_id = f"INV-{customer.index + 1:05d}-{self._invoices[customer.index]:04d}"
        currency = customer.currencies[-1 if rng.random() < 0.2 else 0]
        amount = _amount(customer, currency, rng)
        issued = at.date()
        due = issued + timedelta(days=customer.terms_days)
        invoice = Invoice(customer, invoice_id, currency, amount, issued, due)
        for event in invoice.follow_ups(rng):
            self._push(event.at, event)
        gap = self.invoice_interval_days * rng.uniform(0.6, 1.4)
        self._push(_business_hours((at + timedelta(days=gap)).date(), rng), customer)
        return invoice.issued_event(at)


def _profile(customer: Customer, at: datetime) -> Outgoing:
    """The customer's `customer.profile_updated` naming its time zone."""
    document = {
        "event_id": f"soak-profile-{customer.customer_id}",
        "event_type": "customer.profile_updated",
        "schema_version": 1,
        "occurred_at": at.isoformat(),
        "customer_id": customer.customer_id,
        "time_zone": customer.timezone,
    }
    return Outgoing(
        at,
        topics.CUSTOMER_PROFILES,
        customer.customer_id,
        _encode(document),
        True,
        "customer.profile_updated",
    )


@dataclass(frozen=True, slots=True)
class Invoice:
    """One invoice of a customer, and the events its outcome leads to."""

    customer: Customer
    invoice_id: str
    currency: str
    amount: Decimal
    issued: date
    due: date

    def _common(self, event_type: str, suffix: str, at: datetime) -> dict[str, Any]:
        return {
            "event_id": f"soak-{self.invoice_id}-{suffix}",
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": at.isoformat(),
            "customer_id": self.customer.customer_id,
        }

    def _out(self, topic: str, at: datetime, document: dict[str, Any]) -> Outgoing:
        return Outgoing(
            at, topic, self.customer.customer_id, _encode(document), True, document["event_type"]
        )

    def issued_event(self, at: datetime) -> Outgoing:
        """The `invoice.issued` event."""
        document = {
            **self._common("invoice.issued", "issued", at),
            "invoice_id": self.invoice_id,
            "amount": str(self.amount),
            "currency": self.currency,
            "issued_on": self.issued.isoformat(),
            "due_date": self.due.isoformat(),
            "customer_name": self.customer.name,
            "terms": f"net-{self.customer.terms_days}",
        }
        return self._out(topics.INVOICE_ISSUED, at, document)

    def payment(self, suffix: str, day: date, amount: Decimal, rng: random.Random) -> Outgoing:
        """A `payment.received` naming this invoice."""
        at = _business_hours(day, rng)
        document = {
            **self._common("payment.received", suffix, at),
            "payment_id": f"PAY-{self.invoice_id[4:]}-{suffix}",
            "amount": str(amount),
            "currency": self.currency,
            "received_on": day.isoformat(),
            "invoice_id": self.invoice_id,
            "method": rng.choice(_METHODS),
        }
        return self._out(topics.PAYMENT_RECEIVED, at, document)

    def notice(self, rng: random.Random) -> Outgoing:
        """The platform's `invoice.due_date_passed`."""
        at = _notice_time(self.due, rng)
        document = {
            **self._common("invoice.due_date_passed", "due", at),
            "invoice_id": self.invoice_id,
            "due_date": self.due.isoformat(),
        }
        return self._out(topics.DUE_DATE_PASSED, at, document)

    def follow_ups(self, rng: random.Random) -> list[Outgoing]:
        """Payments and due notice for one outcome drawn from the customer's profile."""
        profile = self.customer.profile
        outcome = rng.choices(OUTCOME_NAMES, OUTCOMES[profile])[0]
        if outcome == "on_time":
            early = rng.randint(0, min(10, (self.due - self.issued).days - 1))
            return [self.payment("paid", self.due - timedelta(days=early), self.amount, rng)]
        events = [self.notice(rng)] if rng.random() < NOTICE_SHARE else []
        late_day = self.due + timedelta(days=rng.randint(*LATE_DAYS[profile]))
        if outcome == "late":
            events.append(self.payment("paid", late_day, self.amount, rng))
        elif outcome == "partial":
            events += self._partial(late_day, rng)
        return events

    def _partial(self, late_day: date, rng: random.Random) -> list[Outgoing]:
        """Part of the amount around the due date; the rest late, or never."""
        part = (self.amount * Decimal(rng.randint(30, 80)) / 100).quantize(self.amount)
        part = min(max(part, Decimal(1).scaleb(int(self.amount.as_tuple().exponent))), self.amount)
        day = self.due - timedelta(days=rng.randint(0, min(3, (self.due - self.issued).days)))
        events = [self.payment("part", day, part, rng)]
        if part < self.amount and rng.random() < REMAINDER_SHARE:
            events.append(self.payment("rest", late_day, self.amount - part, rng))
        return events


# --- invalid events: each breaks the contract in one way the worker must dead-letter ----------


def _invalid_document(customer_id: str, n: int, at: datetime) -> dict[str, Any]:
    return {
        "event_id": f"soak-bad-{n}",
        "event_type": "invoice.issued",
        "schema_version": 1,
        "occurred_at": at.isoformat(),
        "customer_id": customer_id,
        "invoice_id": f"BAD-{n}",
        "amount": "100.00",
        "currency": "USD",
        "issued_on": at.date().isoformat(),
        "due_date": (at.date() + timedelta(days=30)).isoformat(),
    }


def _float_amount(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return topics.INVOICE_ISSUED, {**doc, "amount": 100.5}


def _unknown_type(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return topics.INVOICE_ISSUED, {**doc, "event_type": "invoice.voided"}


def _missing_due_date(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return topics.INVOICE_ISSUED, {k: v for k, v in doc.items() if k != "due_date"}


def _bad_currency(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return topics.INVOICE_ISSUED, {**doc, "currency": "XYZ"}


def _wrong_topic(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return topics.PAYMENT_RECEIVED, doc


def _naive_timestamp(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return topics.INVOICE_ISSUED, {**doc, "occurred_at": doc["occurred_at"][:19]}


def _due_before_issue(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    issued = date.fromisoformat(doc["issued_on"])
    return topics.INVOICE_ISSUED, {**doc, "due_date": (issued - timedelta(days=1)).isoformat()}


INVALID_KINDS: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "float_amount": _float_amount,
    "unknown_type": _unknown_type,
    "missing_due_date": _missing_due_date,
    "bad_currency": _bad_currency,
    "wrong_topic": _wrong_topic,
    "naive_timestamp": _naive_timestamp,
    "due_before_issue": _due_before_issue,
}


def _invalid(rng: random.Random, customer_id: str, n: int, at: datetime) -> Outgoing:
    """One invalid message for `customer_id` (or bytes that are not JSON at all)."""
    kind = rng.choice([*INVALID_KINDS, "not_json"])
    if kind == "not_json":
        topic, value = topics.DUE_DATE_PASSED, b'{"event_id": "soak-bad-' + str(n).encode()
    else:
        topic, document = INVALID_KINDS[kind](_invalid_document(customer_id, n, at))
        value = _encode(document)
    return Outgoing(at, topic, customer_id, value, False, f"invalid:{kind}")
