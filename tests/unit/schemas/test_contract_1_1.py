"""Contract 1.1: the new input events, customer profiles, minor units, topics and the outputs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from schemas import events, topics
from schemas.countries import ISO_COUNTRIES
from schemas.currencies import ISO_4217_CODES, MINOR_UNITS, minor_units
from schemas.events import fits_minor_units
from schemas.export import schema_documents
from schemas.validation import Rejected, parse_input

COMMON: dict[str, Any] = {
    "event_id": "evt-1",
    "schema_version": 1,
    "occurred_at": "2026-11-01T10:00:00+01:00",
    "customer_id": "c-1",
}

# Per new input type: its model, a valid body with every optional field, and the fields the
# contract requires (besides the common ones and `event_type`).
NEW_INPUTS: dict[str, tuple[type[BaseModel], dict[str, Any], tuple[str, ...]]] = {
    "credit_note.issued": (
        events.CreditNoteIssued,
        {
            "credit_note_id": "CN-1",
            "amount": "100.00",
            "currency": "USD",
            "issued_on": "2026-11-02",
            "invoice_id": "INV-1",
            "reason": "damaged goods",
        },
        ("credit_note_id", "amount", "currency", "issued_on"),
    ),
    "invoice.voided": (
        events.InvoiceVoided,
        {"invoice_id": "INV-1", "voided_on": "2026-11-02", "reason": "issued twice"},
        ("invoice_id", "voided_on"),
    ),
    "invoice.written_off": (
        events.InvoiceWrittenOff,
        {
            "invoice_id": "INV-1",
            "written_off_on": "2026-11-02",
            "amount": "0.40",
            "reason": "small_balance",
        },
        ("invoice_id", "written_off_on"),
    ),
    "invoice.due_date_changed": (
        events.DueDateChanged,
        {
            "invoice_id": "INV-1",
            "due_date": "2026-12-31",
            "changed_on": "2026-11-02",
            "reason": "extension",
        },
        ("invoice_id", "due_date", "changed_on"),
    ),
    "payment.reversed": (
        events.PaymentReversed,
        {"payment_id": "P-1", "reversed_on": "2026-11-03", "reason": "nsf"},
        ("payment_id", "reversed_on", "reason"),
    ),
    "dispute.opened": (
        events.DisputeOpened,
        {
            "dispute_id": "D-1",
            "invoice_id": "INV-1",
            "opened_on": "2026-11-02",
            "amount": "250.00",
            "reason": "short delivery",
        },
        ("dispute_id", "invoice_id", "opened_on"),
    ),
    "dispute.resolved": (
        events.DisputeResolved,
        {"dispute_id": "D-1", "resolved_on": "2026-11-09", "outcome": "rejected"},
        ("dispute_id", "resolved_on", "outcome"),
    ),
    "promise_to_pay.made": (
        events.PromiseToPayMade,
        {
            "promise_id": "PR-1",
            "amount": "500.00",
            "currency": "EUR",
            "promised_on": "2026-11-15",
            "made_on": "2026-11-02",
            "invoice_ids": ["INV-1", "INV-2"],
            "source": "collector",
        },
        ("promise_id", "amount", "currency", "promised_on", "made_on"),
    ),
    "payment_plan.agreed": (
        events.PaymentPlanAgreed,
        {
            "plan_id": "PLAN-1",
            "currency": "USD",
            "invoice_ids": ["INV-1", "INV-2"],
            "instalments": [
                {"due_date": "2026-12-01", "amount": "400.00"},
                {"due_date": "2027-01-01", "amount": "600.00"},
            ],
            "agreed_on": "2026-11-02",
        },
        ("plan_id", "currency", "invoice_ids", "instalments", "agreed_on"),
    ),
    "collection.hold_set": (
        events.HoldSet,
        {"hold_id": "H-1", "invoice_id": "INV-1", "until": "2026-12-31", "reason": "legal"},
        ("hold_id", "reason"),
    ),
    "collection.hold_released": (events.HoldReleased, {"hold_id": "H-1"}, ("hold_id",)),
    "contact.outcome": (
        events.ContactOutcome,
        {"action_event_id": "act-1", "outcome": "bounced", "at": "2026-11-02T09:30:00+01:00"},
        ("action_event_id", "outcome", "at"),
    ),
    "customer.profile_updated": (
        events.CustomerProfileUpdated,
        {
            "name": "Acme Tools GmbH",
            "time_zone": "Europe/Berlin",
            "country": "DE",
            "customer_type": "enterprise",
            "credit_limit": {"EUR": "50000.00", "JPY": "1000000", "KWD": "1500.125"},
            "credit_score": {"score": 72, "source": "bureau", "as_of": "2026-10-01"},
            "channels": ["email", "letter"],
            "do_not_contact": False,
        },
        (),
    ),
}


def document(event_type: str, **changes: Any) -> dict[str, Any]:
    """A valid event of `event_type` (every optional field set), with `changes` applied."""
    return {**COMMON, "event_type": event_type, **NEW_INPUTS[event_type][1], **changes}


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != field}


def encode(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def rejected(payload: bytes, **kwargs: Any) -> Rejected:
    result = parse_input(payload, **kwargs)
    assert isinstance(result, Rejected), f"accepted: {result!r}"
    return result


# --- the new input events -------------------------------------------------------------------


@pytest.mark.parametrize("event_type", sorted(NEW_INPUTS))
def test_a_valid_new_event_parses_with_every_field_read(event_type: str) -> None:
    model, body, _ = NEW_INPUTS[event_type]
    event = parse_input(encode({**document(event_type), "from_the_future": [1, 2]}))
    assert type(event) is model
    assert events.INPUT_MODELS[event_type] is model
    wire = json.loads(event.model_dump_json())
    assert {k: wire[k] for k in body} == body
    assert wire["event_type"] == event_type and "from_the_future" not in wire


@pytest.mark.parametrize("event_type", sorted(NEW_INPUTS))
def test_the_required_fields_alone_are_enough(event_type: str) -> None:
    model, body, required = NEW_INPUTS[event_type]
    minimal = {**COMMON, "event_type": event_type, **{k: body[k] for k in required}}
    event = parse_input(encode(minimal))
    assert type(event) is model
    assert all(getattr(event, name) is None for name in set(body) - set(required))


@pytest.mark.parametrize("event_type", sorted(NEW_INPUTS))
def test_each_model_requires_exactly_what_the_contract_requires(event_type: str) -> None:
    model, _, required = NEW_INPUTS[event_type]
    model_required = {name for name, f in model.model_fields.items() if f.is_required()}
    assert model_required == {*COMMON, "event_type", *required}


@pytest.mark.parametrize(
    ("event_type", "field"),
    [(t, f) for t, (_, _, required) in sorted(NEW_INPUTS.items()) for f in (*COMMON, *required)],
)
def test_a_missing_required_field_is_named(event_type: str, field: str) -> None:
    result = rejected(encode(without(document(event_type), field)))
    assert result.error.field == field
    assert "required" in result.error.problem
    assert result.customer_id == (None if field == "customer_id" else "c-1")


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("invoice.written_off", "reason", "bored"),
        ("payment.reversed", "reason", "changed_mind"),
        ("payment.reversed", "reason", "NSF"),
        ("dispute.resolved", "outcome", "withdrawn"),
        ("promise_to_pay.made", "source", "phone"),
        ("collection.hold_set", "reason", "holiday"),
        ("contact.outcome", "outcome", "read"),
    ],
)
def test_a_value_outside_an_enum_is_rejected_naming_the_field(
    event_type: str, field: str, value: str
) -> None:
    result = rejected(encode(document(event_type, **{field: value})))
    assert result.error.field == field
    assert "Input should be" in result.error.problem


def instalments(*due_dates: str, amount: str = "100.00") -> list[dict[str, str]]:
    return [{"due_date": due, "amount": amount} for due in due_dates]


@pytest.mark.parametrize(
    ("event_type", "changes", "field", "words"),
    [
        (
            "promise_to_pay.made",
            {"promised_on": "2026-11-01", "made_on": "2026-11-02"},
            "promised_on",
            "2026-11-01 is before made_on 2026-11-02",
        ),
        (
            "payment_plan.agreed",
            {"instalments": instalments("2027-01-01", "2026-12-01")},
            "instalments.1.due_date",
            "2026-12-01 is not after the previous instalment's 2027-01-01",
        ),
        (
            "payment_plan.agreed",
            {"instalments": instalments("2026-12-01", "2026-12-01")},
            "instalments.1.due_date",
            "not after the previous",
        ),
        (
            "payment_plan.agreed",
            {"instalments": instalments("2026-11-01", "2026-12-01")},
            "instalments.0.due_date",
            "2026-11-01 is before agreed_on 2026-11-02",
        ),
        (
            "payment_plan.agreed",
            {"invoice_ids": ["INV-1", "INV-2", "INV-1"]},
            "invoice_ids",
            "'INV-1' listed more than once",
        ),
        (
            "promise_to_pay.made",
            {"invoice_ids": ["INV-1", "INV-1"]},
            "invoice_ids",
            "listed more than once",
        ),
        ("payment_plan.agreed", {"invoice_ids": []}, "invoice_ids", "at least 1"),
        (
            "payment_plan.agreed",
            {"invoice_ids": [f"INV-{n}" for n in range(101)]},
            "invoice_ids",
            "at most 100",
        ),
        ("promise_to_pay.made", {"invoice_ids": []}, "invoice_ids", "at least 1"),
        ("promise_to_pay.made", {"invoice_ids": [""]}, "invoice_ids.0", "at least 1"),
        ("payment_plan.agreed", {"instalments": []}, "instalments", "at least 1"),
        (
            "payment_plan.agreed",
            {
                "instalments": instalments(
                    *(f"{y}-{m:02}-01" for y in range(2027, 2038) for m in range(1, 12))
                )
            },
            "instalments",
            "at most 120",
        ),
        (
            "payment_plan.agreed",
            {"instalments": instalments("2026-12-01", amount="0")},
            "instalments.0.amount",
            "greater than 0",
        ),
        (
            "payment_plan.agreed",
            {"instalments": [{"amount": "100.00"}]},
            "instalments.0.due_date",
            "required",
        ),
        ("payment_plan.agreed", {"instalments": ["100.00"]}, "instalments.0", "JSON object"),
        ("payment_plan.agreed", {"plan_id": "p" * 121}, "plan_id", "at most 120"),
        ("payment_plan.agreed", {"plan_id": ""}, "plan_id", "at least 1"),
        ("credit_note.issued", {"amount": "0"}, "amount", "greater than 0"),
        ("credit_note.issued", {"amount": 100.0}, "amount", "decimal string"),
        ("credit_note.issued", {"currency": "XAU"}, "currency", "ISO 4217"),
        ("credit_note.issued", {"reason": "x" * 257}, "reason", "at most 256"),
        ("invoice.written_off", {"amount": "-5.00"}, "amount", "greater than 0"),
        ("dispute.opened", {"amount": "0.00"}, "amount", "greater than 0"),
        ("invoice.due_date_changed", {"due_date": "2026-02-30"}, "due_date", "date"),
        ("collection.hold_set", {"until": "soon"}, "until", "date"),
        ("contact.outcome", {"at": "2026-11-02T09:30:00"}, "at", "timezone"),
        ("contact.outcome", {"action_event_id": "a" * 129}, "action_event_id", "at most 128"),
        ("payment.reversed", {"reversed_on": 20261103}, "reversed_on", "date"),
    ],
)
def test_a_bad_value_is_rejected_naming_the_field(
    event_type: str, changes: dict[str, Any], field: str, words: str
) -> None:
    result = rejected(encode(document(event_type, **changes)))
    assert result.error.field == field
    assert words in result.error.problem


@pytest.mark.parametrize(
    ("event_type", "changes"),
    [
        ("payment_plan.agreed", {"plan_id": "p" * 120}),
        (
            "payment_plan.agreed",
            {
                "instalments": instalments(
                    *(f"{y}-{m:02}-01" for y in range(2027, 2037) for m in range(1, 13))
                )
            },
        ),
        ("payment_plan.agreed", {"instalments": instalments("2026-11-02")}),
        ("promise_to_pay.made", {"promised_on": "2026-11-02", "made_on": "2026-11-02"}),
        ("collection.hold_set", {"invoice_id": None, "until": None}),
    ],
)
def test_edge_values_are_accepted(event_type: str, changes: dict[str, Any]) -> None:
    event = parse_input(encode(document(event_type, **changes)))
    assert type(event) is NEW_INPUTS[event_type][0]


# --- customer profiles -------------------------------------------------------------------


def profile(**fields: Any) -> dict[str, Any]:
    """A `customer.profile_updated` with the common fields and only `fields`."""
    return {**COMMON, "event_type": "customer.profile_updated", **fields}


def test_a_full_profile_parses_into_its_values() -> None:
    event = parse_input(encode(document("customer.profile_updated")))
    assert isinstance(event, events.CustomerProfileUpdated)
    assert event.credit_limit == {
        "EUR": Decimal("50000.00"),
        "JPY": Decimal("1000000"),
        "KWD": Decimal("1500.125"),
    }
    assert event.credit_score == events.CreditScore(
        score=72, source="bureau", as_of=date(2026, 10, 1)
    )
    assert event.channels == ["email", "letter"]
    assert event.do_not_contact is False


def test_a_profile_of_common_fields_only_states_nothing() -> None:
    event = parse_input(encode(profile()))
    assert isinstance(event, events.CustomerProfileUpdated)
    stated = set(events.CustomerProfileUpdated.model_fields) - {*COMMON, "event_type"}
    assert stated == set(NEW_INPUTS["customer.profile_updated"][1])
    assert all(getattr(event, name) is None for name in stated)


@pytest.mark.parametrize(
    "fields",
    [
        {"channels": []},  # no channel allowed
        {"credit_limit": {}},
        {"credit_limit": {"USD": "0"}},
        {"credit_limit": {"USD": "100.000", "JPY": "5.00"}},  # value-based minor units
        {"credit_score": {"score": 0}},
        {"credit_score": {"score": 100}},
        {"name": "n" * 200},
        {"country": "US", "time_zone": "America/New_York", "do_not_contact": True},
        {"customer_type": "institution", "channels": ["email", "sms", "phone", "letter"]},
    ],
)
def test_profile_edge_values_are_accepted(fields: dict[str, Any]) -> None:
    event = parse_input(encode(profile(**fields)))
    assert isinstance(event, events.CustomerProfileUpdated)
    assert {name: getattr(event, name) is not None for name in fields} == dict.fromkeys(
        fields, True
    )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": ""}, "name", "at least 1"),
        ({"name": "n" * 201}, "name", "at most 200"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "not an IANA time zone"),
        ({"time_zone": "../etc/passwd"}, "time_zone", "not an IANA time zone"),
        ({"country": "XX"}, "country", "'XX' is not an ISO 3166-1 alpha-2 country code"),
        ({"country": "us"}, "country", "not an ISO 3166-1 alpha-2 country code"),
        ({"country": "us"}, "country", "upper case: 'US'"),
        ({"country": "USA"}, "country", "not an ISO 3166-1 alpha-2"),
        ({"customer_type": "sole_trader"}, "customer_type", "Input should be"),
        ({"credit_limit": {"USD": "-1.00"}}, "credit_limit.USD", "greater than or equal to 0"),
        (
            {"credit_limit": {"JPY": "1000.5"}},
            "credit_limit.JPY",
            "1000.5 has more decimals than JPY allows (0)",
        ),
        (
            {"credit_limit": {"KWD": "1.0005"}},
            "credit_limit.KWD",
            "1.0005 has more decimals than KWD allows (3)",
        ),
        ({"credit_limit": {"USD": 5000}}, "credit_limit.USD", "decimal string"),
        ({"credit_limit": {"XAU": "10"}}, "credit_limit.XAU.[key]", "ISO 4217"),
        ({"credit_limit": {"usd": "10"}}, "credit_limit.usd.[key]", "should match pattern"),
        ({"credit_limit": ["USD", "10"]}, "credit_limit", "must be a JSON object"),
        ({"credit_score": 72}, "credit_score", "must be a JSON object"),
        ({"credit_score": {"score": 101}}, "credit_score.score", "less than or equal to 100"),
        ({"credit_score": {"score": -1}}, "credit_score.score", "greater than or equal to 0"),
        ({"credit_score": {"score": 50.0}}, "credit_score.score", "integer"),
        ({"credit_score": {"score": True}}, "credit_score.score", "integer"),
        ({"credit_score": {"source": "bureau"}}, "credit_score.score", "required"),
        ({"credit_score": {"score": 5, "source": ""}}, "credit_score.source", "at least 1"),
        ({"credit_score": {"score": 5, "as_of": "soon"}}, "credit_score.as_of", "date"),
        ({"channels": ["email", "sms", "email"]}, "channels", "'email' listed more than once"),
        ({"channels": ["fax"]}, "channels.0", "Input should be"),
        ({"channels": "email"}, "channels", "valid array"),
        ({"do_not_contact": "yes"}, "do_not_contact", "valid boolean"),
        ({"do_not_contact": 1}, "do_not_contact", "valid boolean"),
    ],
)
def test_a_bad_profile_value_is_rejected_naming_the_field(
    fields: dict[str, Any], field: str, words: str
) -> None:
    result = rejected(encode(profile(**fields)))
    assert result.error.field == field
    assert words in result.error.problem
    assert result.customer_id == "c-1"


def test_every_credit_limit_currency_is_checked_and_named() -> None:
    result = rejected(encode(profile(credit_limit={"USD": "1.00", "JPY": "1.5", "KWD": "1.0005"})))
    assert result.error.field == "credit_limit.JPY"
    assert "(also invalid: credit_limit.KWD)" in result.error.problem


def test_the_iso_3166_list_is_the_officially_assigned_codes() -> None:
    assert len(ISO_COUNTRIES) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in ISO_COUNTRIES)
    assert {"US", "DE", "JP", "GB", "AX", "SS", "BQ"} <= ISO_COUNTRIES
    assert not {"XX", "XK", "UK", "EU", "AN", "YU"} & ISO_COUNTRIES


def test_the_profile_schema_file_describes_the_checks() -> None:
    schema = schema_documents()["customer.profile_updated.schema.json"]
    assert schema["$id"] == "arpulse:customer.profile_updated:v1"
    assert set(schema["required"]) == {*COMMON, "event_type"}
    props = schema["properties"]
    assert props["country"]["anyOf"][0]["pattern"] == "^[A-Z]{2}$"
    assert props["channels"]["anyOf"][0]["uniqueItems"] is True
    assert props["credit_limit"]["anyOf"][0]["additionalProperties"] is False
    assert schema["$defs"]["CreditScore"]["required"] == ["score"]


# --- the deprecated invoice time zone and the new segment dimension --------------------------


def test_an_invoice_customer_timezone_is_still_accepted_and_checked_but_deprecated() -> None:
    invoice = _invoice("USD", "100.00")
    event = parse_input(encode({**invoice, "customer_timezone": "Asia/Tokyo"}))
    assert isinstance(event, events.InvoiceIssued) and event.customer_timezone == "Asia/Tokyo"
    result = rejected(encode({**invoice, "customer_timezone": "Mars/Olympus_Mons"}))
    assert result.error.field == "customer_timezone"
    assert "not an IANA time zone" in result.error.problem
    schema = schema_documents()["invoice.issued.schema.json"]
    description = schema["properties"]["customer_timezone"]["anyOf"][0]["description"]
    assert description.startswith("Deprecated and ignored")
    assert "customer.profile_updated" in description and "time_zone" in description


@pytest.mark.parametrize(
    "name", ["customer.segment_changed.schema.json", "collection.action_requested.schema.json"]
)
def test_a_segment_requires_its_delinquency_type(name: str) -> None:
    segment = schema_documents()[name]["$defs"]["Segment"]
    assert segment["required"] == [
        "aging_bucket",
        "behavior",
        "value_tier",
        "risk_bucket",
        "delinquency_type",
        "priority",
    ]
    delinquency = segment["properties"]["delinquency_type"]
    assert delinquency["enum"] == ["none", "accidental", "disorganized", "strategic", "distressed"]
    assert delinquency["description"] == (
        "What kind of delinquency the customer shows (none: nothing past due)"
    )


def test_a_segment_cannot_be_built_without_a_known_delinquency_type() -> None:
    fields = SEGMENT.model_dump(exclude={"delinquency_type"})
    with pytest.raises(ValidationError) as caught:
        events.Segment(**fields)
    assert [e["loc"] for e in caught.value.errors()] == [("delinquency_type",)]
    with pytest.raises(ValidationError) as caught:
        events.Segment(**{**fields, "delinquency_type": "chronic"})
    assert [e["loc"] for e in caught.value.errors()] == [("delinquency_type",)]


def test_delinquency_type_is_a_dimension_that_can_change() -> None:
    assert "delinquency_type" in get_args(events.Dimension)
    event = events.SegmentChanged(
        event_id="seg-1",
        occurred_at=AT,
        customer_id="c-1",
        previous=SEGMENT.model_copy(update={"delinquency_type": "none"}),
        current=SEGMENT,
        changed=["delinquency_type"],
        reason="delinquency_type none→accidental",
        caused_by="evt-1",
    )
    wire = json.loads(event.model_dump_json())
    assert wire["previous"]["delinquency_type"] == "none"
    assert wire["current"]["delinquency_type"] == "accidental"


# --- minor units -----------------------------------------------------------------------------


def _invoice(currency: str, amount: str) -> dict[str, Any]:
    return {
        **COMMON,
        "event_type": "invoice.issued",
        "invoice_id": "INV-1",
        "amount": amount,
        "currency": currency,
        "issued_on": "2026-11-01",
        "due_date": "2026-12-01",
    }


def _payment(currency: str, amount: str) -> dict[str, Any]:
    return {
        **COMMON,
        "event_type": "payment.received",
        "payment_id": "P-1",
        "amount": amount,
        "currency": currency,
        "received_on": "2026-11-02",
    }


def _plan(currency: str, amount: str) -> dict[str, Any]:
    return document(
        "payment_plan.agreed",
        currency=currency,
        instalments=[
            {"due_date": "2026-12-01", "amount": "1"},
            {"due_date": "2027-01-01", "amount": amount},
        ],
    )


CARRIERS = {
    "invoice": (_invoice, "amount"),
    "payment": (_payment, "amount"),
    "credit note": (lambda c, a: document("credit_note.issued", currency=c, amount=a), "amount"),
    "promise": (lambda c, a: document("promise_to_pay.made", currency=c, amount=a), "amount"),
    "instalment": (_plan, "instalments.1.amount"),
}
TOO_FINE = [
    ("USD", "100.005", 2),
    ("JPY", "1000.5", 0),
    ("KWD", "1.0005", 3),
    ("CLF", "1.00001", 4),
]
FINE = [
    ("USD", "100.00"),
    ("USD", "100.000"),
    ("JPY", "1000"),
    ("JPY", "1000.00"),
    ("KWD", "1.005"),
]


@pytest.mark.parametrize(("currency", "amount", "units"), TOO_FINE)
@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_more_decimals_than_the_currency_has_are_rejected_naming_the_amount(
    carrier: str, currency: str, amount: str, units: int
) -> None:
    build, field = CARRIERS[carrier]
    result = rejected(encode(build(currency, amount)))
    assert result.error.field == field
    assert result.error.problem == f"{amount} has more decimals than {currency} allows ({units})"
    assert result.customer_id == "c-1"


@pytest.mark.parametrize(("currency", "amount"), FINE)
@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_amounts_within_the_minor_unit_are_accepted(
    carrier: str, currency: str, amount: str
) -> None:
    build, _ = CARRIERS[carrier]
    assert not isinstance(parse_input(encode(build(currency, amount))), Rejected)


@pytest.mark.parametrize(
    "amount",
    [
        "\u0661\u0660\u0660.\u0660\u0660",  # Arabic-Indic 100.00, which Decimal reads
        "\u06f1\u06f0\u06f0",  # Extended Arabic-Indic 100
        "\uff11\uff10\uff10.\uff10\uff10",  # fullwidth 100.00
        "100.0\u0660",  # one non-ASCII digit among ASCII ones
        "100.00\n",  # `$` alone would let a trailing newline through
    ],
)
def test_money_takes_ascii_digits_only(amount: str) -> None:
    assert Decimal(amount) > 0  # what a permissive parser would have accepted
    result = rejected(encode(_invoice("USD", amount)))
    assert result.error.field == "amount"
    assert "decimal string" in result.error.problem


@pytest.mark.parametrize(
    ("amount", "currency", "fits"),
    [
        (Decimal("100.00"), "USD", True),
        (Decimal("100.000"), "USD", True),
        (Decimal("100.005"), "USD", False),
        (Decimal("-0.01"), "USD", True),
        (Decimal("-0.001"), "USD", False),
        (Decimal("1000"), "JPY", True),
        (Decimal("1E+2"), "JPY", True),
        (Decimal("1000.5"), "JPY", False),
        (Decimal("0.000000"), "JPY", True),
        (Decimal("1.005"), "KWD", True),
        (Decimal("1.0005"), "KWD", False),
        (Decimal("1.0001"), "CLF", True),
        (Decimal("100.00"), "EUR", True),
        (Decimal("1." + "0" * 40 + "1"), "USD", False),  # longer than the decimal context
        (Decimal("1" * 30 + ".00"), "USD", True),
        (Decimal("NaN"), "USD", False),
        (Decimal("Infinity"), "USD", False),
    ],
)
def test_fits_minor_units_is_value_based(amount: Decimal, currency: str, fits: bool) -> None:
    assert fits_minor_units(amount, currency) is fits


@pytest.mark.parametrize(
    ("code", "units"),
    [
        *[("USD", 2), ("EUR", 2), ("MGA", 2), ("MRU", 2)],
        *[("JPY", 0), ("KRW", 0), ("XOF", 0)],
        *[("KWD", 3), ("TND", 3)],
        *[("CLF", 4), ("UYW", 4)],
    ],
)
def test_minor_units_follow_iso_4217(code: str, units: int) -> None:
    assert minor_units(code) == units


def test_the_minor_unit_table_lists_only_active_codes_that_differ_from_two() -> None:
    assert set(MINOR_UNITS) <= ISO_4217_CODES
    assert set(MINOR_UNITS.values()) == {0, 3, 4}
    assert len(MINOR_UNITS) == 17 + 7 + 2


# --- topics ----------------------------------------------------------------------------------


def test_the_input_topics_of_1_1() -> None:
    assert topics.INPUT_TOPICS == (
        "ar.invoice-issued",
        "ar.payment-received",
        "ar.due-date-passed",
        "ar.invoice-adjustments",
        "ar.collection-updates",
        "ar.customer-profiles",
    )
    assert topics.INVOICE_ADJUSTMENTS == "ar.invoice-adjustments"
    assert topics.COLLECTION_UPDATES == "ar.collection-updates"
    assert topics.CUSTOMER_PROFILES == "ar.customer-profiles"
    assert topics.EVENT_TYPES[topics.CUSTOMER_PROFILES] == ("customer.profile_updated",)


def test_every_input_type_belongs_on_exactly_one_topic() -> None:
    assert tuple(topics.EVENT_TYPES) == topics.INPUT_TOPICS
    listed = [t for types in topics.EVENT_TYPES.values() for t in types]
    assert sorted(listed) == sorted(events.INPUT_MODELS)


@pytest.mark.parametrize(
    ("topic", "event_type"),
    [
        (topics.PAYMENT_RECEIVED, "payment.reversed"),
        (topics.INVOICE_ADJUSTMENTS, "credit_note.issued"),
        (topics.INVOICE_ADJUSTMENTS, "invoice.due_date_changed"),
        (topics.COLLECTION_UPDATES, "payment_plan.agreed"),
        (topics.COLLECTION_UPDATES, "contact.outcome"),
        (topics.CUSTOMER_PROFILES, "customer.profile_updated"),
    ],
)
def test_a_new_event_is_accepted_on_its_topic(topic: str, event_type: str) -> None:
    expected = frozenset(topics.EVENT_TYPES[topic])
    event = parse_input(encode(document(event_type)), expected_types=expected)
    assert type(event) is NEW_INPUTS[event_type][0]


@pytest.mark.parametrize(
    ("topic", "event_type"),
    [
        (topics.PAYMENT_RECEIVED, "credit_note.issued"),
        (topics.INVOICE_ISSUED, "invoice.voided"),
        (topics.INVOICE_ADJUSTMENTS, "payment.reversed"),
        (topics.COLLECTION_UPDATES, "invoice.written_off"),
        (topics.DUE_DATE_PASSED, "dispute.opened"),
        (topics.COLLECTION_UPDATES, "customer.profile_updated"),
        (topics.CUSTOMER_PROFILES, "contact.outcome"),
    ],
)
def test_a_new_event_on_another_topic_is_rejected(topic: str, event_type: str) -> None:
    expected = frozenset(topics.EVENT_TYPES[topic])
    result = rejected(encode(document(event_type)), expected_types=expected)
    assert result.error.field == "event_type"
    assert "does not belong on this topic" in result.error.problem


# --- outputs ---------------------------------------------------------------------------------

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SEGMENT = events.Segment(
    aging_bucket="1-30",
    behavior="on_time",
    value_tier="mid",
    risk_bucket="low",
    delinquency_type="accidental",
    priority=40,
)


def withdrawn(**changes: Any) -> events.ActionWithdrawn:
    fields: dict[str, Any] = {
        "event_id": "wd-1",
        "occurred_at": AT,
        "customer_id": "c-1",
        "withdraws": "act-1",
        "invoice_ids": ["INV-1"],
        "reason": "INV-1 was paid before the reminder went out",
        "caused_by": "evt-9",
    }
    return events.ActionWithdrawn(**{**fields, **changes})


def commitment(**changes: Any) -> events.CommitmentStatusChanged:
    fields: dict[str, Any] = {
        "event_id": "cm-1",
        "occurred_at": AT,
        "customer_id": "c-1",
        "commitment_id": "PLAN-1#2",
        "kind": "instalment",
        "status": "broken",
        "amount": Decimal("600.00"),
        "currency": "USD",
        "due": date(2027, 1, 1),
        "caused_by": "clock:2027-01-02T00:00:00+00:00",
    }
    return events.CommitmentStatusChanged(**{**fields, **changes})


def action(**changes: Any) -> events.CollectionActionRequested:
    fields: dict[str, Any] = {
        "event_id": "act-2",
        "occurred_at": AT,
        "customer_id": "c-1",
        "action": "reconcile_payment",
        "channel": "internal",
        "tone": "friendly",
        "stage": "early_delinquency",
        "invoice_ids": ["INV-1"],
        "amount_outstanding": Decimal("1000.00"),
        "currency": "USD",
        "segment": SEGMENT,
        "priority": 55,
        "rule_id": "reconcile-unapplied",
        "policy_version": "2026.1",
        "reason": "Payment P-7 names an invoice arpulse does not know.",
        "caused_by": "evt-7",
        "payment_ids": ["P-7"],
    }
    return events.CollectionActionRequested(**{**fields, **changes})


@pytest.mark.parametrize(
    ("build", "event_type", "wire_fields"),
    [
        (withdrawn, "collection.action_withdrawn", {"withdraws": "act-1"}),
        (lambda: withdrawn(invoice_ids=[]), "collection.action_withdrawn", {"invoice_ids": []}),
        (commitment, "commitment.status_changed", {"amount": "600.00", "due": "2027-01-01"}),
        (
            lambda: commitment(commitment_id="PR-1", kind="promise", status="kept"),
            "commitment.status_changed",
            {"commitment_id": "PR-1", "kind": "promise", "status": "kept"},
        ),
        (
            action,
            "collection.action_requested",
            {"action": "reconcile_payment", "payment_ids": ["P-7"]},
        ),
        (
            lambda: action(action="dispute_review", payment_ids=None),
            "collection.action_requested",
            {"action": "dispute_review", "payment_ids": None},
        ),
    ],
)
def test_new_outputs_round_trip_through_json(
    build: Any, event_type: str, wire_fields: dict[str, Any]
) -> None:
    event = build()
    text = event.model_dump_json()
    wire = json.loads(text)
    assert wire["event_type"] == event_type and wire["schema_version"] == 1
    assert {k: wire[k] for k in wire_fields} == wire_fields
    assert type(event).model_validate_json(text) == event
    assert events.OUTPUT_MODELS[event_type] is type(event)


@pytest.mark.parametrize(
    ("build", "changes", "field"),
    [
        (withdrawn, {"reason": ""}, "reason"),
        (withdrawn, {"withdraws": ""}, "withdraws"),
        (withdrawn, {"surprise": True}, "surprise"),
        (commitment, {"kind": "plan"}, "kind"),
        (commitment, {"status": "pending"}, "status"),
        (commitment, {"commitment_id": "x" * 161}, "commitment_id"),
        (commitment, {"amount": Decimal("-1")}, "amount"),
        (commitment, {"amount": Decimal("600.005")}, "amount"),
        (commitment, {"currency": "JPY", "amount": Decimal("600.5")}, "amount"),
        (action, {"action": "sue"}, "action"),
        (action, {"payment_ids": [""]}, "payment_ids.0"),
        (action, {"currency": "JPY", "amount_outstanding": Decimal("10.5")}, "amount_outstanding"),
    ],
)
def test_an_output_outside_the_contract_cannot_be_built(
    build: Any, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        build(**changes)
    assert [".".join(map(str, e["loc"])) for e in caught.value.errors()] == [field]


def test_a_late_flag_respects_the_minor_unit_too() -> None:
    fields: dict[str, Any] = {
        "event_id": "flag-1",
        "occurred_at": AT,
        "customer_id": "c-1",
        "invoice_id": "INV-1",
        "due_date": date(2026, 11, 1),
        "days_past_due": 1,
        "currency": "KWD",
        "detected_by": "clock",
        "caused_by": "clock:2026-11-02T00:00:00+00:00",
    }
    assert events.LatePaymentFlagged(**fields, amount_outstanding=Decimal("1.005"))
    with pytest.raises(ValidationError) as caught:
        events.LatePaymentFlagged(**fields, amount_outstanding=Decimal("1.0005"))
    (error,) = caught.value.errors()
    assert error["loc"] == ("amount_outstanding",)
    assert error["msg"] == "1.0005 has more decimals than KWD allows (3)"


@pytest.mark.parametrize(
    "name",
    [
        "reminder",
        "call_task",
        "payment_plan_offer",
        "credit_hold",
        "agency_referral",
        "thank_you",
        "dispute_review",
        "reconcile_payment",
        "promise_follow_up",
        "write_off_review",
        "credit_hold_release",
        "agency_recall",
    ],
)
def test_every_contract_action_name_is_accepted(name: str) -> None:
    assert action(action=name).action == name
