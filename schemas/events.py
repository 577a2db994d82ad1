"""Pydantic models of every event in the wire contract (version 1, with the additions of 1.1).

Input models tolerate unknown fields (producers evolve first); output models forbid them so
arpulse can never publish something the contract does not describe. Every model is frozen.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.countries import ISO_COUNTRIES
from schemas.currencies import ISO_4217_CODES, minor_units

SCHEMA_VERSION: Literal[1] = 1
_Location = tuple[str | int, ...]
# ASCII digits only: `\d` would also match Arabic-Indic and other Unicode digits, which
# `Decimal` reads as numbers but no consumer of the contract would.
_DECIMAL_TEXT = re.compile(r"^-?[0-9]{1,18}(\.[0-9]{1,6})?$")


def _decimal_from_text(value: Any) -> Any:
    """Accept money only as a decimal string: a JSON float would already have lost precision."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "1250.00", not a JSON number')
    if not _DECIMAL_TEXT.fullmatch(value):  # fullmatch: `$` alone lets a trailing newline in
        raise ValueError(f'must be a decimal string such as "1250.00", got {value!r}')
    return Decimal(value)


def _known_currency(value: str) -> str:
    if value not in ISO_4217_CODES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def money_text(value: Decimal) -> str:
    """Render money in plain notation (never exponent form such as ``1E+2``)."""
    return format(value, "f")


def fits_minor_units(amount: Decimal, currency: str) -> bool:
    """True when `amount` has no more decimals than `currency`'s ISO 4217 minor unit.

    Value-based, like quantizing to the minor unit and comparing: ``100.000`` USD fits (it is
    100.00), ``100.005`` USD and ``1000.5`` JPY do not. Read off the digits, so no decimal
    context can round a long amount into fitting.
    """
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):  # NaN or infinity
        return False
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return amount == 0 or exponent + trailing_zeros >= -minor_units(currency)


def _problem(
    loc: _Location, kind: str, template: str, given: object, /, **context: Any
) -> InitErrorDetails:
    """One error at `loc`, for a check that needs several fields (see `_raise_at`)."""
    return InitErrorDetails(type=PydanticCustomError(kind, template, context), loc=loc, input=given)


def _raise_at(model: BaseModel, problems: list[InitErrorDetails]) -> None:
    """Raise field-located errors from a model validator.

    A ValueError raised there has an empty `loc`, so the dead letter could not name the field;
    pydantic-core merges a ValidationError raised in a validator into its own, locations kept.
    """
    if problems:
        raise ValidationError.from_exception_data(type(model).__name__, problems)


def _minor_units_problem(loc: _Location, amount: Decimal, currency: str) -> InitErrorDetails | None:
    if fits_minor_units(amount, currency):
        return None
    text = money_text(amount)
    template = "{amount} has more decimals than {currency} allows ({minor_units})"
    units = minor_units(currency)
    return _problem(
        loc, "minor_units", template, text, amount=text, currency=currency, minor_units=units
    )


def _date_problem(loc: _Location, template: str, value: date, other: date) -> InitErrorDetails:
    """A date out of order with another (`template` names them `{value}` and `{other}`)."""
    return _problem(loc, "date_order", template, str(value), value=str(value), other=str(other))


def _iana_zone(value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
    return value


def _no_repeats(values: list[str]) -> list[str]:
    """An id listed twice would be counted twice."""
    repeated = sorted(value for value, count in Counter(values).items() if count > 1)
    if repeated:
        raise ValueError(f"{', '.join(map(repr, repeated))} listed more than once")
    return values


Money = Annotated[
    Decimal,
    BeforeValidator(_decimal_from_text),
    PlainSerializer(money_text, return_type=str, when_used="always"),
    Field(
        description=(
            "Decimal string; no more decimals than the ISO 4217 minor unit of its currency"
            " (USD 2, JPY 0, KWD 3)"
        ),
        json_schema_extra={"type": "string", "pattern": _DECIMAL_TEXT.pattern},
    ),
]
PositiveMoney = Annotated[Money, Field(gt=0)]
NonNegativeMoney = Annotated[Money, Field(ge=0)]
Currency = Annotated[
    str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)
]
Identifier = Annotated[str, Field(min_length=1, max_length=128)]
CausedBy = Annotated[str, Field(min_length=1, max_length=160)]
PlanId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=120,
        description="At most 120 characters, so that an instalment's `<plan_id>#<n>` fits 128",
    ),
]
InvoiceIds = Annotated[
    list[Identifier],
    Field(min_length=1, max_length=100, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_no_repeats),
]
Reason = Annotated[str, Field(max_length=256)]

AgingBucket = Literal["current", "1-30", "31-60", "61-90", "91-120", "120+"]
Behavior = Literal["new", "on_time", "occasionally_late", "habitually_late"]
ValueTier = Literal["small", "mid", "key"]
RiskBucket = Literal["low", "medium", "high"]
DelinquencyType = Literal["none", "accidental", "disorganized", "strategic", "distressed"]
Dimension = Literal[
    "aging_bucket", "behavior", "value_tier", "risk_bucket", "delinquency_type", "priority"
]
CustomerType = Literal["enterprise", "smb", "government", "reseller", "institution"]
ContactChannel = Literal["email", "sms", "phone", "letter"]
ActionName = Literal[
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
]
Channel = Literal["email", "sms", "phone", "letter", "agency", "internal"]
Tone = Literal["friendly", "firm", "final"]
Stage = Literal["preventive", "early_delinquency", "late_delinquency"]
DetectedBy = Literal["due_date_event", "clock", "late_payment"]
WriteOffReason = Literal["bad_debt", "small_balance", "settlement", "other"]
ReversalReason = Literal["nsf", "chargeback", "refund", "error"]
DisputeOutcome = Literal["upheld", "rejected"]
PromiseSource = Literal["collector", "portal", "email"]
HoldReason = Literal["legal", "bankruptcy", "account_manager", "other"]
ContactResult = Literal["delivered", "bounced", "opened", "replied", "no_answer", "reached"]
CommitmentKind = Literal["promise", "instalment"]
CommitmentStatus = Literal["kept", "broken"]


class _Event(BaseModel):
    """Fields common to every event, in and out."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    event_id: Identifier
    occurred_at: AwareDatetime
    customer_id: Identifier

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        """Each amount the event carries in a currency it names: (location, amount, currency)."""
        return ()

    @model_validator(mode="after")
    def _money_fits_its_currency(self) -> Self:
        """Contract semantics 8: more decimals than the currency has are refused, not rounded."""
        problems = [
            problem
            for loc, amount, currency in self._money()
            if (problem := _minor_units_problem(loc, amount, currency)) is not None
        ]
        _raise_at(self, problems)
        return self


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
    terms: (
        Annotated[
            str,
            Field(
                max_length=64,
                description=(
                    "Payment terms: 'net 30', '2/10 net 30', '1% 15 net 45', 'due on receipt', "
                    "'net 30 EOM' (docs/contract.md). A discount they grant is recognized; "
                    "unreadable terms are dead-lettered (naming `terms`) and the invoice is kept "
                    "with its due_date and no discount window"
                ),
            ),
        ]
        | None
    ) = None
    customer_timezone: (
        Annotated[
            str,
            Field(
                max_length=64,
                description=(
                    "Deprecated and ignored: the customer's zone comes from "
                    "customer.profile_updated's time_zone"
                ),
            ),
        ]
        | None
    ) = None

    @field_validator("customer_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _iana_zone(value)

    @field_validator("due_date")
    @classmethod
    def _due_not_before_issue(cls, due_date: date, info: ValidationInfo) -> date:
        issued_on = info.data.get("issued_on")
        if issued_on is not None and due_date < issued_on:
            raise ValueError(f"{due_date} is before issued_on {issued_on}")
        return due_date

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        return [(("amount",), self.amount, self.currency)]


class PaymentReceived(_InputEvent):
    """A payment arrived (`ar.payment-received`); without `invoice_id`: oldest due first."""

    event_type: Literal["payment.received"]
    payment_id: Identifier
    amount: PositiveMoney
    currency: Currency
    received_on: date
    invoice_id: Identifier | None = None
    method: Annotated[str, Field(max_length=64)] | None = None

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        return [(("amount",), self.amount, self.currency)]


class DueDatePassed(_InputEvent):
    """The platform says an invoice's due date has passed (`ar.due-date-passed`)."""

    event_type: Literal["invoice.due_date_passed"]
    invoice_id: Identifier
    due_date: date


class CreditNoteIssued(_InputEvent):
    """Part of what a customer owes is credited (`ar.invoice-adjustments`).

    Without `invoice_id` it is a customer credit, applied like cash on account.
    """

    event_type: Literal["credit_note.issued"]
    credit_note_id: Identifier
    amount: PositiveMoney
    currency: Currency
    issued_on: date
    invoice_id: Identifier | None = None
    reason: Reason | None = None

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        return [(("amount",), self.amount, self.currency)]


class InvoiceVoided(_InputEvent):
    """An invoice is cancelled: never owed, never paid, no sign of behaviour (adjustments)."""

    event_type: Literal["invoice.voided"]
    invoice_id: Identifier
    voided_on: date
    reason: Reason | None = None


class InvoiceWrittenOff(_InputEvent):
    """What is left of an invoice is no longer chased (`ar.invoice-adjustments`)."""

    event_type: Literal["invoice.written_off"]
    invoice_id: Identifier
    written_off_on: date
    amount: PositiveMoney | None = Field(
        None,
        description=(
            "In the invoice's currency (the processor checks its minor unit);"
            " absent: all still outstanding"
        ),
    )
    reason: WriteOffReason | None = None


class DueDateChanged(_InputEvent):
    """An invoice's due date moved, earlier or later (`ar.invoice-adjustments`)."""

    event_type: Literal["invoice.due_date_changed"]
    invoice_id: Identifier
    due_date: Annotated[date, Field(description="The new due date")]
    changed_on: date
    reason: Reason | None = None


class PaymentReversed(_InputEvent):
    """A payment bounced or was refunded: what it paid is owed again (`ar.payment-received`)."""

    event_type: Literal["payment.reversed"]
    payment_id: Identifier
    reversed_on: date
    reason: ReversalReason


class DisputeOpened(_InputEvent):
    """The customer contests an invoice, or part of it (`ar.collection-updates`)."""

    event_type: Literal["dispute.opened"]
    dispute_id: Identifier
    invoice_id: Identifier
    opened_on: date
    amount: PositiveMoney | None = Field(
        None,
        description=(
            "The disputed part, in the invoice's currency (the processor checks its minor unit);"
            " absent: all outstanding"
        ),
    )
    reason: Reason | None = None


class DisputeResolved(_InputEvent):
    """A dispute ended: `upheld` (an adjustment follows) or `rejected` (collection resumes)."""

    event_type: Literal["dispute.resolved"]
    dispute_id: Identifier
    resolved_on: date
    outcome: DisputeOutcome


class PromiseToPayMade(_InputEvent):
    """The customer promised to pay `amount` by `promised_on` (`ar.collection-updates`)."""

    event_type: Literal["promise_to_pay.made"]
    promise_id: Identifier
    amount: PositiveMoney
    currency: Currency
    promised_on: Annotated[date, Field(description="The date the customer will pay by")]
    made_on: date
    invoice_ids: InvoiceIds | None = None
    source: PromiseSource | None = None

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        return [(("amount",), self.amount, self.currency)]

    @model_validator(mode="after")
    def _paid_by_not_before_made(self) -> Self:
        """A promise to have paid in the past is no promise."""
        if self.promised_on < self.made_on:
            template = "{value} is before made_on {other}"
            _raise_at(
                self, [_date_problem(("promised_on",), template, self.promised_on, self.made_on)]
            )
        return self


class Instalment(BaseModel):
    """One instalment of a payment plan, in the plan's currency."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")

    due_date: date
    amount: PositiveMoney


class PaymentPlanAgreed(_InputEvent):
    """Invoices are to be paid in instalments (`ar.collection-updates`).

    Due dates strictly increase and none is before `agreed_on`, so `<plan_id>#<n>` (n from 1,
    in due-date order) names one instalment for good.
    """

    event_type: Literal["payment_plan.agreed"]
    plan_id: PlanId
    currency: Currency
    invoice_ids: InvoiceIds
    instalments: Annotated[list[Instalment], Field(min_length=1, max_length=120)]
    agreed_on: date

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        return [
            (("instalments", n, "amount"), instalment.amount, self.currency)
            for n, instalment in enumerate(self.instalments)
        ]

    @model_validator(mode="after")
    def _instalments_in_order(self) -> Self:
        """A plan's schedule runs forward from the day it was agreed."""
        problems = []
        previous: date | None = None
        for n, instalment in enumerate(self.instalments):
            due, loc = instalment.due_date, ("instalments", n, "due_date")
            if due < self.agreed_on:
                template = "{value} is before agreed_on {other}"
                problems.append(_date_problem(loc, template, due, self.agreed_on))
            elif previous is not None and due <= previous:
                template = "{value} is not after the previous instalment's {other}"
                problems.append(_date_problem(loc, template, due, previous))
            previous = due
        _raise_at(self, problems)
        return self


class HoldSet(_InputEvent):
    """Collection is paused for one invoice or, without `invoice_id`, the whole customer."""

    event_type: Literal["collection.hold_set"]
    hold_id: Identifier
    invoice_id: Identifier | None = None
    until: date | None = Field(None, description="Last day of the hold; absent: until released")
    reason: HoldReason


class HoldReleased(_InputEvent):
    """A hold ended; collection resumes at the rung the invoice has reached."""

    event_type: Literal["collection.hold_released"]
    hold_id: Identifier


class ContactOutcome(_InputEvent):
    """What became of a requested action's contact, as the notification service saw it."""

    event_type: Literal["contact.outcome"]
    action_event_id: Annotated[
        Identifier, Field(description="The `event_id` of the action it reports on")
    ]
    outcome: ContactResult
    at: AwareDatetime


class CreditScore(BaseModel):
    """A credit score of the customer: 0 worst, 100 best."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")

    score: Annotated[int, Field(ge=0, le=100)]
    source: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    as_of: date | None = None


class CustomerProfileUpdated(_InputEvent):
    """What the platform knows of a customer (`ar.customer-profiles`, compacted).

    Every field is optional: an absent one keeps the value an earlier update gave it.
    """

    event_type: Literal["customer.profile_updated"]
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    time_zone: (
        Annotated[
            str,
            Field(
                max_length=64,
                description="IANA zone: the customer's days, lateness and quiet hours",
            ),
        ]
        | None
    ) = None
    country: (
        Annotated[
            str,
            Field(
                description="ISO 3166-1 alpha-2: the customer's business days and holidays",
                # Checked against ISO_COUNTRIES below (which says what is wrong with `us`).
                json_schema_extra={"pattern": r"^[A-Z]{2}$"},
            ),
        ]
        | None
    ) = None
    customer_type: CustomerType | None = None
    credit_limit: (
        Annotated[
            dict[Currency, NonNegativeMoney],
            Field(
                description="Currency -> the credit allowed in it (replaced as a whole)",
                json_schema_extra={"additionalProperties": False},
            ),
        ]
        | None
    ) = None
    credit_score: CreditScore | None = None
    channels: (
        Annotated[
            list[ContactChannel],
            Field(
                json_schema_extra={"uniqueItems": True},
                description="The customer-facing channels allowed (empty: none)",
            ),
            AfterValidator(_no_repeats),
        ]
        | None
    ) = None
    do_not_contact: bool | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _iana_zone(value)

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and value not in ISO_COUNTRIES:
            upper = value.upper()
            hint = f" (codes are upper case: {upper!r})" if upper in ISO_COUNTRIES else ""
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code{hint}")
        return value

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        limits = self.credit_limit or {}
        return [(("credit_limit", c), a, c) for c, a in sorted(limits.items())]


class Segment(BaseModel):
    """Where a customer stands on every segmentation dimension."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    aging_bucket: AgingBucket
    behavior: Behavior
    value_tier: ValueTier
    risk_bucket: RiskBucket
    delinquency_type: Annotated[
        DelinquencyType,
        Field(description="What kind of delinquency the customer shows (none: nothing past due)"),
    ]
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

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        return [(("amount_outstanding",), self.amount_outstanding, self.currency)]


class SegmentChanged(_OutputEvent):
    """A customer's segment moved on at least one dimension (`ar.customer-segments`)."""

    event_type: Literal["customer.segment_changed"] = "customer.segment_changed"
    previous: Segment | None
    current: Segment
    changed: Annotated[list[Dimension], Field(min_length=1)]
    reason: Annotated[str, Field(min_length=1)]
    caused_by: CausedBy


class LateFeeAccrued(BaseModel):
    """What has accrued on one late invoice (in the action's or assessment's currency)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    invoice_id: Identifier
    fixed: NonNegativeMoney = Field(description="the policy's fixed fee for a late invoice")
    interest: NonNegativeMoney = Field(description="interest to date, rounded down")
    total: NonNegativeMoney = Field(description="fixed + interest, after the policy's caps")
    as_of: date = Field(description="accrued by the end of this day (the customer's)")
    days_late: Annotated[int, Field(ge=0)]
    capped: bool = Field(description="the policy's cap limited the total")


class DiscountOffered(BaseModel):
    """What paying one invoice by its terms' discount date saves (in the action's currency)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    invoice_id: Identifier
    pay_by: date = Field(description="the last day of the discount window")
    pay: PositiveMoney = Field(description="what settles the invoice until then")
    saves: PositiveMoney = Field(description="the discount")
    terms: Annotated[str, Field(min_length=1, max_length=64)]


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
    payment_ids: list[Identifier] | None = Field(
        None,
        description=(
            "The payments a `reconcile_payment` task is about (cash that could not be applied);"
            " null for every other action"
        ),
    )
    payment_url: Annotated[str, Field(min_length=1, max_length=2048)] | None = Field(
        None,
        description=(
            "Where the customer can pay (the policy's payment.url_template): on customer-facing "
            "actions about money owed; null on internal tasks, agency work and thank-yous"
        ),
    )
    late_fees: list[LateFeeAccrued] | None = Field(
        None,
        description=(
            "What has accrued on the action's late invoices (policy late_fees), in `currency`; "
            "stated, not invoiced. Null when nothing has or the policy states no fees"
        ),
    )
    discount_offers: list[DiscountOffered] | None = Field(
        None,
        description=(
            "A preventive reminder's early-payment offer per invoice whose terms grant a "
            "discount still open (policy discount_offer), in `currency`; null otherwise"
        ),
    )

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        found: list[tuple[_Location, Decimal, str]] = [
            (("amount_outstanding",), self.amount_outstanding, self.currency)
        ]
        for n, fee in enumerate(self.late_fees or ()):
            found += [
                (("late_fees", n, name), getattr(fee, name), self.currency)
                for name in ("fixed", "interest", "total")
            ]
        for n, offer in enumerate(self.discount_offers or ()):
            found += [
                (("discount_offers", n, name), getattr(offer, name), self.currency)
                for name in ("pay", "saves")
            ]
        return found


class ActionWithdrawn(_OutputEvent):
    """An action still waiting for its `not_before` became moot (`ar.collection-actions`)."""

    event_type: Literal["collection.action_withdrawn"] = "collection.action_withdrawn"
    withdraws: Annotated[Identifier, Field(description="The `event_id` of the withdrawn action")]
    invoice_ids: list[Identifier]
    reason: Annotated[str, Field(min_length=1)]
    caused_by: CausedBy


class CommitmentStatusChanged(_OutputEvent):
    """A promise or a plan instalment was kept or broken; once per status (collection actions)."""

    event_type: Literal["commitment.status_changed"] = "commitment.status_changed"
    commitment_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=160,
            description="A `promise_id`, or `<plan_id>#<n>` for a plan's n-th instalment",
        ),
    ]
    kind: CommitmentKind
    status: CommitmentStatus
    amount: NonNegativeMoney
    currency: Currency
    due: date
    caused_by: CausedBy

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        return [(("amount",), self.amount, self.currency)]


class LateFeeAssessed(_OutputEvent):
    """A late invoice's fees to date, for the billing system (`ar.collection-actions`).

    Published (policy `late_fees.assess`) with each chasing action that states fees, and once
    more with `final` when the invoice is settled. `amount` is the total to date, not an
    increment: the latest per invoice stands, and the id is the same for the same statement.
    """

    event_type: Literal["late_fee.assessed"] = "late_fee.assessed"
    invoice_id: Identifier
    currency: Currency
    fixed: NonNegativeMoney
    interest: NonNegativeMoney
    amount: NonNegativeMoney = Field(description="fixed + interest to date, after the caps")
    as_of: date
    days_late: Annotated[int, Field(ge=0)]
    capped: bool
    final: bool = Field(description="the invoice is settled: nothing more accrues")
    rule: Annotated[str, Field(min_length=1)] = Field(description="the policy's fees in words")
    policy_version: Annotated[str, Field(min_length=1, max_length=64)]
    caused_by: CausedBy

    def _money(self) -> Iterable[tuple[_Location, Decimal, str]]:
        names = ("fixed", "interest", "amount")
        return [((name,), getattr(self, name), self.currency) for name in names]


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


InputEvent = (
    InvoiceIssued
    | PaymentReceived
    | DueDatePassed
    | CreditNoteIssued
    | InvoiceVoided
    | InvoiceWrittenOff
    | DueDateChanged
    | PaymentReversed
    | DisputeOpened
    | DisputeResolved
    | PromiseToPayMade
    | PaymentPlanAgreed
    | HoldSet
    | HoldReleased
    | ContactOutcome
    | CustomerProfileUpdated
)
OutputEvent = (
    LatePaymentFlagged
    | SegmentChanged
    | CollectionActionRequested
    | ActionWithdrawn
    | CommitmentStatusChanged
    | LateFeeAssessed
    | DeadLetter
)

INPUT_MODELS: dict[str, type[InputEvent]] = {
    "invoice.issued": InvoiceIssued,
    "payment.received": PaymentReceived,
    "invoice.due_date_passed": DueDatePassed,
    "credit_note.issued": CreditNoteIssued,
    "invoice.voided": InvoiceVoided,
    "invoice.written_off": InvoiceWrittenOff,
    "invoice.due_date_changed": DueDateChanged,
    "payment.reversed": PaymentReversed,
    "dispute.opened": DisputeOpened,
    "dispute.resolved": DisputeResolved,
    "promise_to_pay.made": PromiseToPayMade,
    "payment_plan.agreed": PaymentPlanAgreed,
    "collection.hold_set": HoldSet,
    "collection.hold_released": HoldReleased,
    "contact.outcome": ContactOutcome,
    "customer.profile_updated": CustomerProfileUpdated,
}
OUTPUT_MODELS: dict[str, type[_OutputEvent]] = {
    "late_payment.flagged": LatePaymentFlagged,
    "customer.segment_changed": SegmentChanged,
    "collection.action_requested": CollectionActionRequested,
    "collection.action_withdrawn": ActionWithdrawn,
    "commitment.status_changed": CommitmentStatusChanged,
    "late_fee.assessed": LateFeeAssessed,
    "dead_letter": DeadLetter,
}
ALL_MODELS: dict[str, type[_Event]] = {**INPUT_MODELS, **OUTPUT_MODELS}
