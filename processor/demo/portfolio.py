"""A synthetic, reproducible portfolio of customers and their event history.

Profiles follow what AR teams see: reliable payers, occasional slips, chronic late payers and
customers who stop paying. Dates are relative to `today`, so the history always looks current.
On top of invoices, payments and due notices, a receivable's other facts (contract 1.1) happen
at the rates AR teams see them: partial credit notes, voids, disputes (upheld with a credit,
or rejected), bounced payments paid again, promises kept and broken, a payment plan for some
customers who stopped paying, write-offs of old bad debt, and a few account holds. They come
from a random stream of their own, so the invoices and their dates are the same with or
without them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from processor.demo.accounts import forgot_one, key_account, with_profile
from processor.demo.events import PortfolioEvent, stamp
from processor.demo.terms import with_terms
from schemas import topics

__all__ = ["PROFILES", "PortfolioEvent", "customer_history", "portfolio", "with_lifecycle"]

PROFILES = (
    ("on_time", 0.45),
    ("occasionally_late", 0.25),
    ("habitually_late", 0.18),
    ("delinquent", 0.12),
)
_CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP")
_NAMES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Massive Dynamic",
    "Aperture",
)
_SUFFIXES = ("Ltd", "GmbH", "Inc", "BV", "SA", "plc", "LLC")


def _late_days(profile: str, rng: random.Random) -> int | None:
    """Days after the due date the invoice gets paid (negative: early); None: never."""
    roll = rng.random()
    if profile == "on_time":
        return -rng.randint(0, 10) if roll < 0.97 else rng.randint(1, 4)
    if profile == "occasionally_late":
        return rng.randint(3, 25) if roll < 0.3 else -rng.randint(0, 5)
    if profile == "habitually_late":
        return rng.randint(15, 60) if roll < 0.75 else rng.randint(0, 5)
    return None if roll < 0.6 else rng.randint(30, 90)


def customer_history(
    customer_id: str, profile: str, *, today: date, rng: random.Random, invoices: int = 8
) -> list[PortfolioEvent]:
    """Invoices issued every ~30 days up to today, their payments and due-date notices."""
    currency = rng.choice(_CURRENCIES)
    name = f"{rng.choice(_NAMES)} {rng.choice(_SUFFIXES)} #{customer_id[-4:]}"
    history: list[PortfolioEvent] = []
    start = today - timedelta(days=30 * invoices + rng.randint(0, 20))
    for n in range(invoices):
        issued = start + timedelta(days=30 * n + rng.randint(0, 5))
        if issued > today:
            break
        due = issued + timedelta(days=30)
        invoice_id = f"INV-{customer_id[-4:]}-{n + 1:03d}"
        amount = Decimal(rng.randint(20_000, 4_000_000)).scaleb(-2)
        common = {"schema_version": 1, "customer_id": customer_id}
        history.append(
            PortfolioEvent(
                topics.INVOICE_ISSUED,
                customer_id,
                {
                    **common,
                    "event_id": f"evt-{invoice_id}-issued",
                    "event_type": "invoice.issued",
                    "occurred_at": stamp(issued, n),
                    "invoice_id": invoice_id,
                    "amount": str(amount),
                    "currency": currency,
                    "issued_on": issued.isoformat(),
                    "due_date": due.isoformat(),
                    "customer_name": name,
                    "terms": "net-30",
                },
                issued,
            )
        )
        delay = _late_days(profile, rng)
        paid_on = None if delay is None else due + timedelta(days=delay)
        if paid_on is not None and paid_on <= today:
            history.append(
                PortfolioEvent(
                    topics.PAYMENT_RECEIVED,
                    customer_id,
                    {
                        **common,
                        "event_id": f"evt-{invoice_id}-paid",
                        "event_type": "payment.received",
                        "occurred_at": stamp(paid_on, 60 + n),
                        "payment_id": f"PAY-{invoice_id[4:]}",
                        "amount": str(amount),
                        "currency": currency,
                        "received_on": paid_on.isoformat(),
                        "invoice_id": invoice_id,
                        "method": rng.choice(("ach", "wire", "card")),
                    },
                    paid_on,
                )
            )
        notice_on = due + timedelta(days=1)
        if notice_on <= today and (paid_on is None or paid_on > due):
            history.append(
                PortfolioEvent(
                    topics.DUE_DATE_PASSED,
                    customer_id,
                    {
                        **common,
                        "event_id": f"evt-{invoice_id}-due",
                        "event_type": "invoice.due_date_passed",
                        "occurred_at": stamp(notice_on, 30 + n),
                        "invoice_id": invoice_id,
                        "due_date": due.isoformat(),
                    },
                    notice_on,
                )
            )
    return history


def portfolio(
    *, customers: int, today: date, seed: int = 7, invoices: int = 8, lifecycle: bool = True
) -> Iterator[PortfolioEvent]:
    """Every customer's history, merged in business-date order (as the platform would emit it).

    `lifecycle` False: only invoices, payments and due notices (contract 1.0's facts); True adds
    the rest of contract 1.1: the lifecycle's facts and customer profiles (`accounts`).
    """
    rng = random.Random(seed)
    life = random.Random(seed * 7919 + 1)
    accounts = random.Random(seed * 104729 + 3)
    terms = random.Random(seed * 15485863 + 5)
    events: list[PortfolioEvent] = []
    names = [p for p, _ in PROFILES]
    weights = [w for _, w in PROFILES]
    for index in range(customers):
        profile = rng.choices(names, weights)[0]
        customer_id = f"cust-{index + 1:05d}"
        history = customer_history(customer_id, profile, today=today, rng=rng, invoices=invoices)
        if lifecycle:
            if accounts.random() < 0.04:
                history = key_account(history)
            if profile != "delinquent" and accounts.random() < 0.12:
                history = forgot_one(history, today=today, rng=accounts)
            history = with_terms(history, profile, today=today, rng=terms)
            history = with_lifecycle(history, profile, today=today, rng=life)
            history = with_profile(history, profile, today=today, rng=accounts)
        events += [replace(event, profile=profile) for event in history]
    events.sort(key=lambda e: (e.on, e.value["occurred_at"], e.key))
    yield from events


def _event(
    topic: str, base: PortfolioEvent, on: date, seconds: int, kind: str, key: str, **fields: Any
) -> PortfolioEvent:
    """A lifecycle event of `base`'s customer on `on`."""
    customer_id = base.key
    return PortfolioEvent(
        topic,
        customer_id,
        {
            "schema_version": 1,
            "customer_id": customer_id,
            "event_id": f"evt-{key}",
            "event_type": kind,
            "occurred_at": stamp(on, seconds),
            **fields,
        },
        on,
    )


def with_lifecycle(
    history: list[PortfolioEvent], profile: str, *, today: date, rng: random.Random
) -> list[PortfolioEvent]:
    """One customer's history with the rest of a receivable's life added (module docstring)."""
    by_invoice: dict[str, dict[str, PortfolioEvent]] = {}
    for event in history:
        invoice_id = event.value.get("invoice_id")
        if invoice_id is not None:
            by_invoice.setdefault(invoice_id, {})[event.value["event_type"]] = event
    out: list[PortfolioEvent] = []
    dropped: set[str] = set()
    for invoice_id, facts in by_invoice.items():
        issued = facts["invoice.issued"]
        paid = facts.get("payment.received")
        roll = rng.random()
        added, drop = _invoice_life(invoice_id, issued, paid, profile, roll, today, rng)
        out += added
        dropped |= drop
    kept = [e for e in history if e.value["event_id"] not in dropped]
    if rng.random() < 0.03 and history:
        out += _customer_hold(history[0], today, rng)
    if profile == "delinquent" and rng.random() < 0.3:
        touched = {e.value.get("invoice_id") for e in out}
        unpaid = [
            facts["invoice.issued"]
            for invoice_id, facts in by_invoice.items()
            if "payment.received" not in facts and invoice_id not in touched
        ]
        if len(unpaid) >= 2:
            out += _plan(unpaid, today, rng)
    return [e for e in (*kept, *out) if e.on <= today]


@dataclass(frozen=True, slots=True)
class _Story:
    """One invoice whose life is being written: its events and figures."""

    invoice_id: str
    issued: PortfolioEvent
    paid: PortfolioEvent | None
    rng: random.Random

    @property
    def amount(self) -> Decimal:
        return Decimal(self.issued.value["amount"])

    @property
    def currency(self) -> str:
        return str(self.issued.value["currency"])

    @property
    def issued_on(self) -> date:
        return date.fromisoformat(self.issued.value["issued_on"])

    @property
    def due(self) -> date:
        return date.fromisoformat(self.issued.value["due_date"])

    @property
    def n(self) -> int:
        return int(self.invoice_id.rsplit("-", 1)[1])

    @property
    def tag(self) -> str:
        return self.invoice_id[4:]

    def event(
        self, topic: str, on: date, offset: int, kind: str, key: str, **fields: Any
    ) -> PortfolioEvent:
        return _event(
            topic, self.issued, on, offset + self.n, kind, f"{self.invoice_id}-{key}", **fields
        )


_Written = tuple[list[PortfolioEvent], set[str]]


def _voided(story: _Story) -> _Written:
    """Voided a few days after issue: never owed, so neither paid nor noticed."""
    on = story.issued_on + timedelta(days=3)
    void = story.event(
        topics.INVOICE_ADJUSTMENTS,
        on,
        120,
        "invoice.voided",
        "void",
        invoice_id=story.invoice_id,
        voided_on=on.isoformat(),
        reason="issued in error",
    )
    return [void], {*_ids(story.paid), f"evt-{story.invoice_id}-due"}


def _credited(story: _Story) -> _Written:
    """A partial credit note; the customer pays the rest."""
    part = (story.amount * Decimal(story.rng.choice((10, 20, 25))) / 100).quantize(Decimal("0.01"))
    on = story.issued_on + timedelta(days=5)
    events = [
        story.event(
            topics.INVOICE_ADJUSTMENTS,
            on,
            130,
            "credit_note.issued",
            "cn",
            credit_note_id=f"CN-{story.tag}",
            amount=str(part),
            currency=story.currency,
            issued_on=on.isoformat(),
            invoice_id=story.invoice_id,
            reason="pricing adjustment",
        )
    ]
    if story.paid is None:
        return events, set()
    return [*events, _repaid(story.paid, story.amount - part)], set(_ids(story.paid))


def _disputed(story: _Story) -> _Written:
    """Disputed before the due date: upheld (credited in full) or rejected (paid after)."""
    opened = story.due - timedelta(days=5)
    resolved = opened + timedelta(days=story.rng.randint(10, 40))
    upheld = story.rng.random() < 0.5
    events = [
        story.event(
            topics.COLLECTION_UPDATES,
            opened,
            140,
            "dispute.opened",
            "dispute",
            dispute_id=f"DSP-{story.tag}",
            invoice_id=story.invoice_id,
            opened_on=opened.isoformat(),
            reason="goods not received",
        ),
        story.event(
            topics.COLLECTION_UPDATES,
            resolved,
            150,
            "dispute.resolved",
            "resolved",
            dispute_id=f"DSP-{story.tag}",
            resolved_on=resolved.isoformat(),
            outcome="upheld" if upheld else "rejected",
        ),
    ]
    if upheld:
        credit = story.event(
            topics.INVOICE_ADJUSTMENTS,
            resolved,
            160,
            "credit_note.issued",
            "dispute-cn",
            credit_note_id=f"CN-D-{story.tag}",
            amount=str(story.amount),
            currency=story.currency,
            issued_on=resolved.isoformat(),
            invoice_id=story.invoice_id,
            reason="dispute upheld",
        )
        return [*events, credit], set(_ids(story.paid))
    if story.paid is None:
        return events, set()
    paid_on = max(date.fromisoformat(story.paid.value["received_on"]), resolved)
    return [*events, _repaid(story.paid, story.amount, on=paid_on)], set(_ids(story.paid))


def _bounced(story: _Story, paid: PortfolioEvent) -> _Written:
    """The payment bounces and is paid again a week later."""
    paid_on = date.fromisoformat(paid.value["received_on"])
    bounced, again = paid_on + timedelta(days=4), paid_on + timedelta(days=12)
    reversal = story.event(
        topics.PAYMENT_RECEIVED,
        bounced,
        170,
        "payment.reversed",
        "reversed",
        payment_id=paid.value["payment_id"],
        reversed_on=bounced.isoformat(),
        reason="nsf",
    )
    return [reversal, _repaid(paid, story.amount, on=again, suffix="-again")], set()


def _paid_short(story: _Story, paid: PortfolioEvent) -> _Written:
    """Paid a cent short: a residue nobody should chase."""
    return [_repaid(paid, story.amount - Decimal("0.01"))], set(_ids(paid))


def _mistyped(story: _Story, paid: PortfolioEvent) -> _Written:
    """The remittance names a mistyped invoice id: unapplied cash to reconcile."""
    typo = dict(paid.value, invoice_id=story.invoice_id.replace("INV-", "INV-0"))
    return [replace(paid, value=typo)], set(_ids(paid))


def _written_off(story: _Story) -> _Written:
    """Bad debt written off 150 days after its due date."""
    on = story.due + timedelta(days=150)
    off = story.event(
        topics.INVOICE_ADJUSTMENTS,
        on,
        180,
        "invoice.written_off",
        "wo",
        invoice_id=story.invoice_id,
        written_off_on=on.isoformat(),
        reason="bad_debt",
    )
    return [off], set()


# (roll below, story) for every invoice; those that need a payment come after.
_STORIES = ((0.03, _voided), (0.09, _credited), (0.13, _disputed))
_PAID_STORIES = ((0.16, _bounced), (0.18, _paid_short), (0.19, _mistyped))


def _invoice_life(
    invoice_id: str,
    issued: PortfolioEvent,
    paid: PortfolioEvent | None,
    profile: str,
    roll: float,
    today: date,
    rng: random.Random,
) -> _Written:
    """What else happens to one invoice (at most one story each), and the events it replaces."""
    story = _Story(invoice_id, issued, paid, rng)
    for below, write in _STORIES:
        if roll < below:
            return write(story)
    if paid is not None:
        for below, write_paid in _PAID_STORIES:
            if roll < below:
                return write_paid(story, paid)
    late = paid is None or date.fromisoformat(paid.value["received_on"]) > story.due
    if late and roll < 0.30 and profile in ("habitually_late", "delinquent"):
        return _promise(story), set()
    if paid is None and profile == "delinquent" and (today - story.due).days > 150 and roll < 0.5:
        return _written_off(story)
    return [], set()


def _promise(story: _Story) -> list[PortfolioEvent]:
    """A promise made after the due date: kept when the payment comes by its date, else broken."""
    rng, paid = story.rng, story.paid
    made = story.due + timedelta(days=rng.randint(5, 12))
    paid_on = None if paid is None else date.fromisoformat(paid.value["received_on"])
    if paid_on is not None and paid_on > made and rng.random() < 0.7:
        by = paid_on + timedelta(days=rng.randint(0, 3))  # kept
    else:
        by = made + timedelta(days=rng.randint(5, 10))  # broken unless paid by then
    promise = story.event(
        topics.COLLECTION_UPDATES,
        made,
        190,
        "promise_to_pay.made",
        "promise",
        promise_id=f"PTP-{story.tag}",
        amount=str(story.amount),
        currency=story.currency,
        promised_on=by.isoformat(),
        made_on=made.isoformat(),
        invoice_ids=[story.invoice_id],
        source="collector",
    )
    return [promise]


def _plan(unpaid: list[PortfolioEvent], today: date, rng: random.Random) -> list[PortfolioEvent]:
    """A payment plan over unpaid invoices: three monthly instalments, the first one paid."""
    first = unpaid[0]
    currency = first.value["currency"]
    total = sum((Decimal(e.value["amount"]) for e in unpaid), Decimal(0))
    part = (total / 3).quantize(Decimal("0.01"))
    parts = [part, part, total - 2 * part]
    agreed = today - timedelta(days=rng.randint(45, 70))
    dues = [agreed + timedelta(days=10 + 30 * k) for k in range(3)]
    plan_id = f"PLAN-{first.key[-4:]}"
    invoice_ids = [e.value["invoice_id"] for e in unpaid]
    paid_on = dues[0] - timedelta(days=1)
    return [
        _event(
            topics.COLLECTION_UPDATES,
            first,
            agreed,
            220,
            "payment_plan.agreed",
            plan_id,
            plan_id=plan_id,
            currency=currency,
            invoice_ids=invoice_ids,
            instalments=[
                {"due_date": d.isoformat(), "amount": str(a)}
                for d, a in zip(dues, parts, strict=True)
            ],
            agreed_on=agreed.isoformat(),
        ),
        _event(
            topics.PAYMENT_RECEIVED,
            first,
            paid_on,
            230,
            "payment.received",
            f"{plan_id}-1",
            payment_id=f"PAY-{plan_id}-1",
            amount=str(parts[0]),
            currency=currency,
            received_on=paid_on.isoformat(),
            invoice_id=invoice_ids[0],
            method="ach",
        ),
    ]


def _customer_hold(first: PortfolioEvent, today: date, rng: random.Random) -> list[PortfolioEvent]:
    """An account manager's hold on the whole customer, released a month later."""
    on = today - timedelta(days=rng.randint(40, 200))
    hold_id = f"HOLD-{first.key[-4:]}"
    return [
        _event(
            topics.COLLECTION_UPDATES,
            first,
            on,
            200,
            "collection.hold_set",
            f"{hold_id}-set",
            hold_id=hold_id,
            reason="account_manager",
        ),
        _event(
            topics.COLLECTION_UPDATES,
            first,
            on + timedelta(days=30),
            210,
            "collection.hold_released",
            f"{hold_id}-released",
            hold_id=hold_id,
        ),
    ]


def _ids(event: PortfolioEvent | None) -> list[str]:
    return [] if event is None else [event.value["event_id"]]


def _repaid(
    paid: PortfolioEvent, amount: Decimal, *, on: date | None = None, suffix: str = ""
) -> PortfolioEvent:
    """The invoice's payment, for another amount, on another day or under another id."""
    when = on or paid.on
    value = dict(paid.value)
    value.update(
        event_id=value["event_id"] + suffix,
        payment_id=value["payment_id"] + suffix,
        amount=str(amount),
        received_on=when.isoformat(),
        occurred_at=stamp(when, 60 + int(value["invoice_id"].rsplit("-", 1)[1])),
    )
    return PortfolioEvent(paid.topic, paid.key, value, when)


def bad_events() -> list[tuple[str, str | None, bytes]]:
    """A few invalid inputs (topic, key, raw bytes) so the demo shows the dead letters."""
    return [
        (topics.INVOICE_ISSUED, "cust-bad", b"this is not json"),
        (
            topics.PAYMENT_RECEIVED,
            "cust-00001",
            b'{"event_id":"evt-bad-float","event_type":"payment.received","schema_version":1,'
            b'"occurred_at":"2026-01-01T00:00:00+00:00","customer_id":"cust-00001",'
            b'"payment_id":"PAY-X","amount":12.5,"currency":"USD","received_on":"2026-01-01"}',
        ),
        (topics.DUE_DATE_PASSED, None, b'{"event_type":"invoice.lost"}'),
    ]
