"""Pydantic models of every event in the wire contract (version 1).

Input models tolerate unknown fields (producers evolve first); output models forbid them so
arpulse can never publish something the contract does not describe. Every model is frozen.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)

from schemas.currencies import ISO_4217_CODES

SCHEMA_VERSION: Literal[1] = 1
_DECIMAL_TEXT = re.compile(r"^-?\d{1,18}(\.\d{1,6})?$")


def _decimal_from_text(value: Any) -> Any:
    """Accept money only as a decimal string: a JSON float would already have lost precision."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "1250.00", not a JSON number')
    if not _DECIMAL_TEXT.match(value):
        raise ValueError(f'must be a decimal string such as "1250.00", got {value!r}')
    return Decimal(value)


def _known_currency(value: str) -> str:
    if value not in ISO_4217_CODES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def money_text(value: Decimal) -> str:
    """Render money in plain notation (never exponent form such as ``1E+2``)."""
    return format(value, "f")


Money = Annotated[
    Decimal,
    BeforeValidator(_decimal_from_text),
    PlainSerializer(money_text, return_type=str, when_used="always"),
    Field(json_schema_extra={"type": "string", "pattern": _DECIMAL_TEXT.pattern}),
]
PositiveMoney = Annotated[Money, Field(gt=0)]
NonNegativeMoney = Annotated[Money, Field(ge=0)]
Currency = Annotated[
    str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)
]
Identifier = Annotated[str, Field(min_length=1, max_length=128)]
CausedBy = Annotated[str, Field(min_length=1, max_length=160)]

AgingBucket = Literal["current", "1-30", "31-60", "61-90", "91-120", "120+"]
Behavior = Literal["new", "on_time", "occasionally_late", "habitually_late"]
ValueTier = Literal["small", "mid", "key"]
RiskBucket = Literal["low", "medium", "high"]
Dimension = Literal["aging_bucket", "behavior", "value_tier", "risk_bucket", "priority"]
ActionName = Literal[
    "reminder", "call_task", "payment_plan_offer", "credit_hold", "agency_referral", "thank_you"
]
Channel = Literal["email", "sms", "phone", "letter", "agency", "internal"]
Tone = Literal["friendly", "firm", "final"]
Stage = Literal["preventive", "early_delinquency", "late_delinquency"]
DetectedBy = Literal["due_date_event", "clock", "late_payment"]


class _Event(BaseModel):
    """Fields common to every event, in and out."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    event_id: Identifier
    occurred_at: AwareDatetime
    customer_id: Identifier


class _InputEvent(_Event):
    """Input events: every common field is required, unknown extra fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    schema_version: Literal[1]

    @field_validator("schema_version", mode="before")
    @classmethod
    def _the_integer_one(cls, value: object) -> object:
        """`Literal[1]` matches by equality, so `true` and `1.0` would pass as version 1."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be the integer 1")
        return value


class _OutputEvent(_Event):
    """Output events: arpulse fills `schema_version` and `event_type`; consumers see every field."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    schema_version: Literal[1] = SCHEMA_VERSION


class InvoiceIssued(_InputEvent):
    """An invoice was issued to a customer (`ar.invoice-issued`)."""

    event_type: Literal["invoice.issued"]
    invoice_id: Identifier
    amount: PositiveMoney
    currency: Currency
    issued_on: date
    due_date: date
    customer_name: Annotated[str, Field(max_length=256)] | None = None
    terms: Annotated[str, Field(max_length=64)] | None = None
    customer_timezone: (
        Annotated[
            str,
            Field(
                max_length=64,
                description="IANA zone of the customer (quiet hours); an arpulse extension",
            ),
        ]
        | None
    ) = None

    @field_validator("customer_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("due_date")
    @classmethod
    def _due_not_before_issue(cls, due_date: date, info: ValidationInfo) -> date:
        issued_on = info.data.get("issued_on")
        if issued_on is not None and due_date < issued_on:
            raise ValueError(f"{due_date} is before issued_on {issued_on}")
        return due_date


class PaymentReceived(_InputEvent):
    """A payment arrived (`ar.payment-received`); without `invoice_id`: oldest due first."""

    event_type: Literal["payment.received"]
    payment_id: Identifier
    amount: PositiveMoney
    currency: Currency
    received_on: date
    invoice_id: Identifier | None = None
    method: Annotated[str, Field(max_length=64)] | None = None


class DueDatePassed(_InputEvent):
    """The platform says an invoice's due date has passed (`ar.due-date-passed`)."""

    event_type: Literal["invoice.due_date_passed"]
    invoice_id: Identifier
    due_date: date


class Segment(BaseModel):
    """Where a customer stands on every segmentation dimension."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    aging_bucket: AgingBucket
    behavior: Behavior
    value_tier: ValueTier
    risk_bucket: RiskBucket
    priority: Annotated[int, Field(ge=0, le=100)]


class LatePaymentFlagged(_OutputEvent):
    """An invoice is known to be late; published once per invoice (`ar.late-payment-flags`)."""

    event_type: Literal["late_payment.flagged"] = "late_payment.flagged"
    invoice_id: Identifier
    due_date: date
    days_past_due: Annotated[int, Field(ge=0)]
    amount_outstanding: NonNegativeMoney
    currency: Currency
    detected_by: DetectedBy
    caused_by: CausedBy


class SegmentChanged(_OutputEvent):
    """A customer's segment moved on at least one dimension (`ar.customer-segments`)."""

    event_type: Literal["customer.segment_changed"] = "customer.segment_changed"
    previous: Segment | None
    current: Segment
    changed: Annotated[list[Dimension], Field(min_length=1)]
    reason: Annotated[str, Field(min_length=1)]
    caused_by: CausedBy


class CollectionActionRequested(_OutputEvent):
    """What the notification service or a collector should do next (`ar.collection-actions`)."""

    event_type: Literal["collection.action_requested"] = "collection.action_requested"
    action: ActionName
    channel: Channel
    tone: Tone
    stage: Stage
    invoice_ids: Annotated[list[Identifier], Field(min_length=1)]
    amount_outstanding: NonNegativeMoney
    currency: Currency
    segment: Segment
    priority: Annotated[int, Field(ge=0, le=100)]
    rule_id: Annotated[str, Field(min_length=1, max_length=128)]
    policy_version: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Annotated[str, Field(min_length=1)]
    caused_by: CausedBy
    not_before: AwareDatetime | None = None


class DeadLetter(_OutputEvent):
    """An input that could not be processed, and why (`ar.dead-letter`).

    `customer_id` is the input's own when it could be read, else its key, else ``"unknown"``.
    """

    event_type: Literal["dead_letter"] = "dead_letter"
    source_topic: str
    partition: Annotated[int, Field(ge=0)]
    offset: Annotated[int, Field(ge=0)]
    key: str | None
    payload: str
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    error: Annotated[str, Field(min_length=1)]
    failed_at: AwareDatetime


InputEvent = InvoiceIssued | PaymentReceived | DueDatePassed
OutputEvent = LatePaymentFlagged | SegmentChanged | CollectionActionRequested | DeadLetter

INPUT_MODELS: dict[str, type[InvoiceIssued] | type[PaymentReceived] | type[DueDatePassed]] = {
    "invoice.issued": InvoiceIssued,
    "payment.received": PaymentReceived,
    "invoice.due_date_passed": DueDatePassed,
}
OUTPUT_MODELS: dict[str, type[_OutputEvent]] = {
    "late_payment.flagged": LatePaymentFlagged,
    "customer.segment_changed": SegmentChanged,
    "collection.action_requested": CollectionActionRequested,
    "dead_letter": DeadLetter,
}
ALL_MODELS: dict[str, type[_Event]] = {**INPUT_MODELS, **OUTPUT_MODELS}
