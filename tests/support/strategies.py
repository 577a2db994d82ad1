"""Hypothesis strategies for hostile-input property tests.

Three families:
- wire documents: valid input events as JSON-ready dicts (every field drawn at random within the
  contract), and hostile variants of them (fields dropped, mistyped, malformed, truncated...);
- hostile bytes: anything a broker could hand the worker;
- domain histories: a few customers' consistent invoice/payment/due-notice histories as domain
  facts, with realistic business dates and `occurred_at` instants (timezone-aware, offsets).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

from processor.core import translate
from processor.domain.facts import (
    CreditNoteIssued,
    CreditScore,
    DisputeOpened,
    DisputeResolved,
    DueDatePassed,
    Fact,
    HoldReleased,
    HoldSet,
    InvoiceIssued,
    InvoiceVoided,
    InvoiceWrittenOff,
    PaymentReceived,
    ProfileUpdated,
)
from schemas import events
from schemas.currencies import ISO_4217_CODES, minor_units

# ---------------------------------------------------------------------------------------------
# Wire documents
# ---------------------------------------------------------------------------------------------

MODEL_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(model.model_fields) for name, model in events.INPUT_MODELS.items()
}
ALL_FIELDS = frozenset().union(*MODEL_FIELDS.values())
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(n for n, f in model.model_fields.items() if f.is_required())
    for name, model in events.INPUT_MODELS.items()
}
CURRENCY_CODES = tuple(sorted(ISO_4217_CODES))
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")

# Identifiers: short ones, and ones at the 128-character limit (any Unicode but surrogates).
identifiers = st.one_of(
    st.text(min_size=1, max_size=12),
    st.tuples(st.text(min_size=1, max_size=4), st.integers(120, 128)).map(
        lambda t: (t[0] * 128)[: t[1]]
    ),
)
offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=offsets
)
calendar_dates = st.dates(min_value=date(1971, 1, 1), max_value=date(2099, 12, 31))


@st.composite
def amount_texts(draw: st.DrawFn, currency: str | None = None) -> str:
    """A positive decimal string the contract accepts: up to 18 digits, up to 6 places, and
    (with `currency`) no finer than its minor unit (semantics 8; trailing zeros are fine)."""
    whole = draw(st.integers(0, 10**18 - 1))
    places = draw(st.integers(0, 6))
    exact = 6 if currency is None else minor_units(currency)
    text = str(whole)
    if places:
        digits = str(draw(st.integers(0, 10 ** min(places, exact) - 1))).zfill(min(places, exact))
        text += "." + (digits + "0" * places)[:places] if exact else "." + "0" * places
    if Decimal(text) == 0:
        text = "1" + text[1:] if text[0] == "0" else text
    if draw(st.booleans()) and len(text.split(".")[0]) < 18:
        text = "0" + text  # leading zeros are allowed by the pattern
    return text


def _timestamp_text(moment: datetime, zulu: bool) -> str:
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if zulu else text


@st.composite
def _common(draw: st.DrawFn, event_type: str) -> dict[str, Any]:
    return {
        "event_id": draw(identifiers),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": _timestamp_text(draw(instants), draw(st.booleans())),
        "customer_id": draw(identifiers),
    }


def _optional(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Absent, explicit null, or a value."""
    return st.one_of(st.just({}), st.just({key: None}), values.map(lambda v: {key: v}))


def _long_text(limit: int) -> st.SearchStrategy[str]:
    """Text up to `limit` characters: usually short, sometimes right at the limit."""
    return st.one_of(
        st.text(max_size=12),
        st.text(min_size=1, max_size=4).map(lambda s: (s * limit)[:limit]),
    )


_UNKNOWN_KEYS = st.text(min_size=1, max_size=10).filter(lambda k: k not in ALL_FIELDS)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
extra_fields = st.dictionaries(_UNKNOWN_KEYS, json_values, max_size=2)


@st.composite
def invoice_documents(draw: st.DrawFn) -> dict[str, Any]:
    issued_on = draw(calendar_dates)
    due_date = issued_on + timedelta(days=draw(st.integers(0, 120)))
    currency = draw(st.sampled_from(CURRENCY_CODES))
    return {
        **draw(_common("invoice.issued")),
        "invoice_id": draw(identifiers),
        "amount": draw(amount_texts(currency)),
        "currency": currency,
        "issued_on": issued_on.isoformat(),
        "due_date": due_date.isoformat(),
        **draw(_optional("customer_name", _long_text(256))),
        **draw(_optional("terms", _long_text(64))),
        **draw(_optional("customer_timezone", st.sampled_from(ZONES))),
        **draw(extra_fields),
    }


@st.composite
def payment_documents(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(CURRENCY_CODES))
    return {
        **draw(_common("payment.received")),
        "payment_id": draw(identifiers),
        "amount": draw(amount_texts(currency)),
        "currency": currency,
        "received_on": draw(calendar_dates).isoformat(),
        **draw(_optional("invoice_id", identifiers)),
        **draw(_optional("method", _long_text(64))),
        **draw(extra_fields),
    }


@st.composite
def due_notice_documents(draw: st.DrawFn) -> dict[str, Any]:
    return {
        **draw(_common("invoice.due_date_passed")),
        "invoice_id": draw(identifiers),
        "due_date": draw(calendar_dates).isoformat(),
        **draw(extra_fields),
    }


valid_documents = st.one_of(invoice_documents(), payment_documents(), due_notice_documents())


def encode(document: object, *, ascii_only: bool = False) -> bytes:
    """The JSON bytes of a document (non-ASCII as raw UTF-8 unless `ascii_only`)."""
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8")


# Values of a type no input field accepts ([] and {}), and values of the wrong JSON type for
# most fields (numbers and booleans where text is expected, null where a value is required).
WRONG_TYPED = (None, True, False, 0, 1, -7, 1.5, 1e300, [], {}, ["x"], {"a": 1})
# Text that looks like a field's value but is not valid for it.
TRICKY_TEXT = (
    "",
    " ",
    "1e3",
    "1,000.00",
    "-1.00",
    "0",
    "0.000",
    "+5",
    "NaN",
    "Infinity",
    " 1.00",
    "1.1234567",
    "1" * 19,
    "2026-02-30",
    "2026-13-01",
    "26-01-01",
    "2026-01-01T00:00:00",
    "2026-01-01T25:00:00+00:00",
    "2026-01-01T00:00:00+25:00",
    "usd",
    "US",
    "USDD",
    "XXX",
    "Mars/Olympus",
    "../etc/passwd",
    "invoice.issued",
    "payment.received",
    "invoice.due_date_passed",
    "dead_letter",
    "x" * 129,
    "\x00",
    "\u202e",
    "\U0001f4b8" * 129,
)
hostile_values = st.one_of(
    st.sampled_from(WRONG_TYPED), st.sampled_from(TRICKY_TEXT), json_values, identifiers
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document with 1-4 random fields dropped, replaced or added."""
    document = dict(draw(valid_documents))
    for _ in range(draw(st.integers(1, 4))):
        key = draw(st.sampled_from(sorted(set(document) | ALL_FIELDS)))
        if draw(st.booleans()):
            document.pop(key, None)
        else:
            document[key] = draw(hostile_values)
    return document


@st.composite
def single_fault_documents(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid document with exactly one required field dropped or given a wrong-typed value."""
    document = dict(draw(valid_documents))
    key = draw(st.sampled_from(sorted(REQUIRED_FIELDS[document["event_type"]])))
    if draw(st.booleans()):
        del document[key]
    else:
        # Every WRONG_TYPED value is of a type the field does not take, except the numbers 1 and
        # 1.0 for schema_version (JSON does not tell 1.0 from 1).
        document[key] = draw(
            st.sampled_from(
                [v for v in WRONG_TYPED if not (key == "schema_version" and _is_number_one(v))]
            )
        )
    return document, key


def _is_number_one(value: object) -> bool:
    return type(value) in (int, float) and value == 1


def _with_lone_surrogate(document: dict[str, Any], key: str) -> dict[str, Any]:
    # json.dumps writes a lone surrogate as a "\udXXX" escape: legal JSON text, not Unicode.
    return {**document, key: "\ud800" + str(document.get(key, ""))[:20]}


# Anything a broker could hand the worker as a message value.
hostile_payloads = st.one_of(
    st.binary(max_size=200),
    st.text(alphabet='{}[]":,0123456789.-truefalsn ', max_size=60).map(str.encode),
    json_values.filter(lambda v: not isinstance(v, dict)).map(encode),
    mutated_documents().map(encode),
    mutated_documents().map(lambda d: encode(d, ascii_only=True)),
    valid_documents.map(encode).flatmap(
        lambda whole: st.integers(0, len(whole) - 1).map(lambda n: whole[:n])
    ),
    st.tuples(valid_documents, st.sampled_from(["customer_id", "event_id", "currency"])).map(
        lambda t: encode(_with_lone_surrogate(*t), ascii_only=True)
    ),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    valid_documents.map(lambda d: json.dumps(d).encode("utf-16")),
)


# ---------------------------------------------------------------------------------------------
# Domain histories
# ---------------------------------------------------------------------------------------------

ORIGIN = date(2026, 1, 5)
HISTORY_CURRENCIES = ("USD", "EUR", "JPY")
# Local business hours in a few offsets: the UTC date is the local date (policy calendar: UTC).
_BUSINESS_OFFSETS = tuple(timezone(timedelta(hours=h)) for h in (-5, 0, 1, 9))


def day(n: int) -> date:
    return ORIGIN + timedelta(days=n)


@st.composite
def _moment(draw: st.DrawFn, on: date) -> datetime:
    zone = draw(st.sampled_from(_BUSINESS_OFFSETS))
    clock = time(draw(st.integers(9, 16)), draw(st.integers(0, 59)))
    return datetime.combine(on, clock, tzinfo=zone)


def _money(minor_units: int, currency: str) -> Decimal:
    return Decimal(minor_units) if currency == "JPY" else Decimal(minor_units).scaleb(-2)


@st.composite
def _split(draw: st.DrawFn, total: int) -> list[int]:
    """How an invoice of `total` minor units gets paid: not, partly, fully, in parts, or over."""
    plan = draw(st.sampled_from(["none", "partial", "full", "two_parts", "over"]))
    if plan == "none":
        return []
    if plan == "full" or total < 2:
        return [total]
    first = draw(st.integers(1, total - 1))
    if plan == "partial":
        return [first]
    if plan == "two_parts":
        return [first, total - first]
    return [total + draw(st.integers(1, total))]


@st.composite
def customer_history(draw: st.DrawFn, customer_id: str) -> list[Fact]:
    """One customer's consistent facts (no contradictions), in generation order."""
    facts: list[Fact] = []
    for k in range(draw(st.integers(1, 4))):
        currency = draw(st.sampled_from(HISTORY_CURRENCIES))
        issued = draw(st.integers(0, 60))
        due = issued + draw(st.sampled_from([0, 7, 14, 30]))
        total = draw(st.integers(1000, 900_000))
        invoice_id = f"{customer_id}-INV-{k}"
        terms = draw(st.sampled_from(HISTORY_TERMS))
        facts.append(
            InvoiceIssued(
                event_id=f"e-{invoice_id}",
                customer_id=customer_id,
                occurred_at=draw(_moment(day(issued))),
                invoice_id=invoice_id,
                amount=_money(total, currency),
                currency=currency,
                issued_on=day(issued),
                due_date=day(due),
                customer_name=f"Customer {customer_id}",
                terms=terms,
            )
        )
        paid_on = issued - draw(st.sampled_from([0, 0, 0, 5]))  # sometimes paid in advance
        parts = draw(_split(total))
        gaps = [draw(st.integers(0, 45)) for _ in parts]
        if terms in DISCOUNTS and draw(st.booleans()):
            # The customer takes the discount (or pays a minor unit short of it) around the
            # window's last day (day 10 or 15; EOM's is later, so mostly in time).
            discount = (Decimal(total) * DISCOUNTS[terms] / 100).quantize(1, ROUND_HALF_UP)
            parts = [total - int(discount) - draw(st.sampled_from([0, 0, 1]))]
            paid_on, gaps = issued, [draw(st.integers(8, 17))]
        for j, part in enumerate(parts):
            paid_on += gaps[j]
            payment_id = f"{customer_id}-PAY-{k}-{j}"
            facts.append(
                PaymentReceived(
                    event_id=f"e-{payment_id}",
                    customer_id=customer_id,
                    occurred_at=draw(_moment(day(paid_on))),
                    payment_id=payment_id,
                    amount=_money(part, currency),
                    currency=currency,
                    received_on=day(paid_on),
                    # Unnamed: the ledger applies it to the oldest due open invoice first.
                    invoice_id=invoice_id if draw(st.booleans()) else None,
                )
            )
        if draw(st.booleans()):
            facts.append(
                DueDatePassed(
                    event_id=f"e-due-{invoice_id}",
                    customer_id=customer_id,
                    occurred_at=draw(_moment(day(due + 1))),
                    invoice_id=invoice_id,
                    due_date=day(due),
                )
            )
    for n in range(draw(st.integers(0, 2))):  # profile updates, before or after the invoices
        facts.append(draw(profile_update(customer_id, n)))
    if draw(st.booleans()):  # cash on account, not for any invoice in particular
        currency = draw(st.sampled_from(HISTORY_CURRENCIES))
        on = draw(st.integers(0, 90))
        payment_id = f"{customer_id}-PAY-account"
        facts.append(
            PaymentReceived(
                event_id=f"e-{payment_id}",
                customer_id=customer_id,
                occurred_at=draw(_moment(day(on))),
                payment_id=payment_id,
                amount=_money(draw(st.integers(100, 100_000)), currency),
                currency=currency,
                received_on=day(on),
            )
        )
    return facts


# Terms an invoice of a history may carry: none, without a discount, with one, unreadable.
HISTORY_TERMS = (None, None, "net 30", "2/10 net 30", "1% 15 net 45", "2/10 EOM", "net thirty")
# The discount percentage of those that grant one (minor units: the money is drawn in them).
DISCOUNTS = {"2/10 net 30": Decimal(2), "1% 15 net 45": Decimal(1), "2/10 EOM": Decimal(2)}


PROFILE_ZONES = ("UTC", "America/Los_Angeles", "Europe/Berlin", "Asia/Tokyo")
PROFILE_COUNTRIES = ("US", "DE", "GB", "JP", "SA")


@st.composite
def profile_update(draw: st.DrawFn, customer_id: str, n: int) -> ProfileUpdated:
    """A `customer.profile_updated` stating a random subset of the profile's fields."""
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        fields["time_zone"] = draw(st.sampled_from(PROFILE_ZONES))
    if draw(st.booleans()):
        fields["country"] = draw(st.sampled_from(PROFILE_COUNTRIES))
    if draw(st.booleans()):
        limit = _money(draw(st.integers(0, 900_000)), "USD")
        fields["credit_limit"] = (("USD", limit),)
    if draw(st.booleans()):
        fields["credit_score"] = CreditScore(score=draw(st.integers(0, 100)))
    if draw(st.booleans()):
        fields["channels"] = frozenset(
            draw(st.sets(st.sampled_from(("email", "sms", "phone", "letter"))))
        )
    if draw(st.integers(0, 5)) == 0:
        fields["do_not_contact"] = draw(st.booleans())
    if draw(st.booleans()):
        fields["customer_type"] = draw(st.sampled_from(("smb", "enterprise", "government")))
    return ProfileUpdated(
        event_id=f"e-{customer_id}-profile-{n}",
        customer_id=customer_id,
        occurred_at=draw(_moment(day(draw(st.integers(-5, 90))))),
        **fields,
    )


def in_order(facts: list[Fact]) -> list[Fact]:
    """The platform's order: by `occurred_at` (ties keep generation order)."""
    return sorted(facts, key=lambda f: f.occurred_at)


@st.composite
def histories(draw: st.DrawFn, max_customers: int = 3) -> list[Fact]:
    """Consistent histories of 1..`max_customers` customers, in the platform's order."""
    count = draw(st.integers(1, max_customers))
    facts: list[Fact] = []
    for n in range(count):
        facts += draw(customer_history(f"cust-{n}"))
    return in_order(facts)


@st.composite
def redelivered(draw: st.DrawFn, facts: list[Fact]) -> list[Fact]:
    """`facts` with some of them delivered again, each repeat anywhere after its original."""
    delivery = list(facts)
    for index in draw(st.lists(st.integers(0, len(facts) - 1), max_size=6)):
        first = delivery.index(facts[index])
        delivery.insert(draw(st.integers(first + 1, len(delivery))), facts[index])
    return delivery


# ---------------------------------------------------------------------------------------------
# Facts on the wire, and facts that contradict what a history already holds
# ---------------------------------------------------------------------------------------------


def wire_event(fact: Fact) -> events.InputEvent:
    """The contract event stating a domain fact (any of contract 1.1's)."""
    return translate.fact_event(fact)


def _fields(fact: Fact) -> dict[str, Any]:
    return {f.name: getattr(fact, f.name) for f in fields(fact)}


def wire_bytes(fact: Fact) -> bytes:
    return wire_event(fact).model_dump_json().encode("utf-8")


@dataclass(frozen=True, slots=True)
class Contradiction:
    """A valid event that contradicts `target`, an earlier fact: the ledger must refuse it."""

    target: Fact
    fact: Fact
    field: str  # the field the DomainError names


def _reissued(target: InvoiceIssued) -> Contradiction:
    fact = replace(target, event_id=f"x-{target.event_id}", amount=target.amount + Decimal("1.00"))
    return Contradiction(target, fact, "invoice_id")


def _wrong_currency_payment(target: InvoiceIssued) -> Contradiction:
    fact = PaymentReceived(
        event_id=f"x-pay-{target.event_id}",
        customer_id=target.customer_id,
        occurred_at=target.occurred_at,
        payment_id=f"x-pay-{target.invoice_id}",
        amount=Decimal("10.00"),
        currency="CHF",  # never one of HISTORY_CURRENCIES
        received_on=target.issued_on,
        invoice_id=target.invoice_id,
    )
    return Contradiction(target, fact, "currency")


def _wrong_due_notice(target: InvoiceIssued) -> Contradiction:
    fact = DueDatePassed(
        event_id=f"x-due-{target.event_id}",
        customer_id=target.customer_id,
        occurred_at=target.occurred_at + timedelta(days=1),
        invoice_id=target.invoice_id,
        due_date=target.due_date + timedelta(days=1),
    )
    return Contradiction(target, fact, "due_date")


def _changed_payment(target: PaymentReceived) -> Contradiction:
    fact = replace(target, event_id=f"x-{target.event_id}", amount=target.amount + Decimal("1.00"))
    return Contradiction(target, fact, "payment_id")


_INVOICE_CONTRADICTIONS: tuple[Callable[[InvoiceIssued], Contradiction], ...] = (
    _reissued,
    _wrong_due_notice,
)


@st.composite
def contradictions(draw: st.DrawFn, facts: list[Fact]) -> Contradiction:
    """A contradiction of one fact of `facts` (an invoice or a payment)."""
    target = draw(
        st.sampled_from([f for f in facts if isinstance(f, InvoiceIssued | PaymentReceived)])
    )
    if isinstance(target, PaymentReceived):
        return _changed_payment(target)
    return draw(st.sampled_from(_INVOICE_CONTRADICTIONS))(target)


# ---------------------------------------------------------------------------------------------
# The rest of a receivable's life (contract 1.1)
# ---------------------------------------------------------------------------------------------


@st.composite
def invoice_life(draw: st.DrawFn, invoice: InvoiceIssued) -> list[Fact]:
    """What else happens to one invoice: nothing, or one story of its life."""
    story = draw(
        st.sampled_from(["none", "void", "credit", "dispute", "hold", "write_off", "customer_hold"])
    )
    base = invoice.occurred_at
    cid, inv_id = invoice.customer_id, invoice.invoice_id

    def at(days: int) -> datetime:
        return base + timedelta(days=days)

    later = draw(st.integers(1, 70))
    common = {"customer_id": cid}
    if story == "void":
        return [
            InvoiceVoided(
                event_id=f"e-void-{inv_id}",
                occurred_at=at(later),
                invoice_id=inv_id,
                voided_on=at(later).date(),
                **common,
            )
        ]
    if story == "credit":
        share = draw(st.sampled_from([Decimal("0.25"), Decimal("1")]))
        amount = (invoice.amount * share).quantize(invoice.amount)
        return [
            CreditNoteIssued(
                event_id=f"e-cn-{inv_id}",
                occurred_at=at(later),
                credit_note_id=f"CN-{inv_id}",
                amount=amount,
                currency=invoice.currency,
                issued_on=at(later).date(),
                invoice_id=inv_id,
                **common,
            )
        ]
    if story == "write_off":
        return [
            InvoiceWrittenOff(
                event_id=f"e-wo-{inv_id}",
                occurred_at=at(later),
                invoice_id=inv_id,
                written_off_on=at(later).date(),
                reason="bad_debt",
                **common,
            )
        ]
    if story == "dispute":
        part = draw(st.sampled_from([None, (invoice.amount / 2).quantize(invoice.amount)]))
        facts: list[Fact] = [
            DisputeOpened(
                event_id=f"e-d-{inv_id}",
                occurred_at=at(later),
                dispute_id=f"D-{inv_id}",
                invoice_id=inv_id,
                opened_on=at(later).date(),
                amount=part,
                **common,
            )
        ]
        outcome = draw(st.sampled_from([None, "upheld", "rejected"]))
        if outcome is not None:
            end = later + draw(st.integers(1, 60))
            facts.append(
                DisputeResolved(
                    event_id=f"e-dr-{inv_id}",
                    occurred_at=at(end),
                    dispute_id=f"D-{inv_id}",
                    resolved_on=at(end).date(),
                    outcome=outcome,
                    **common,
                )
            )
        return facts
    hold_id = f"H-{inv_id}"
    target = inv_id if story == "hold" else None
    until = draw(st.sampled_from([None, later + draw(st.integers(1, 60))]))
    facts = [
        HoldSet(
            event_id=f"e-h-{inv_id}",
            occurred_at=at(later),
            hold_id=hold_id,
            invoice_id=target,
            until=None if until is None else at(until).date(),
            reason="legal",
            **common,
        )
    ]
    if draw(st.booleans()):
        end = later + draw(st.integers(1, 80))
        facts.append(
            HoldReleased(event_id=f"e-hr-{inv_id}", occurred_at=at(end), hold_id=hold_id, **common)
        )
    return facts


@st.composite
def lifecycle_histories(draw: st.DrawFn) -> list[Fact]:
    """Histories with lifecycle facts, plus a control customer's unpaid, noticed invoice."""
    facts: list[Fact] = draw(histories())
    for invoice in [f for f in facts if isinstance(f, InvoiceIssued)]:
        facts += draw(invoice_life(invoice))
    control = InvoiceIssued(
        event_id="e-control",
        customer_id="control",
        occurred_at=facts[0].occurred_at,
        invoice_id="CTRL-1",
        amount=Decimal("500.00"),
        currency="USD",
        issued_on=facts[0].occurred_at.date(),
        due_date=facts[0].occurred_at.date(),
    )
    notice = DueDatePassed(
        event_id="e-control-due",
        customer_id="control",
        occurred_at=facts[0].occurred_at + timedelta(days=1),
        invoice_id="CTRL-1",
        due_date=control.due_date,
    )
    return in_order([*facts, control, notice])
