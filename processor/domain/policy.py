"""The collections policy: every threshold and ladder step, validated, versioned, immutable.

The file format (TOML) and its loading live in the shell (`processor.core.policy_file`); this
module is only the model, so the domain can take a policy without touching the file system.
"""

from __future__ import annotations

import string
from datetime import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from processor.domain.money import ISO_CURRENCIES, fits, minor_unit

# The contract's aging buckets: (most days past due in the bucket, name); beyond the last, "120+".
AGING_EDGES = ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90"), (120, "91-120"))
AGING_BUCKETS = (*(name for _, name in AGING_EDGES), "120+")
BEHAVIORS = ("new", "on_time", "occasionally_late", "habitually_late")
VALUE_TIERS = ("small", "mid", "key")
RISK_BUCKETS = ("low", "medium", "high")
DELINQUENCY_TYPES = ("none", "accidental", "disorganized", "strategic", "distressed")
# How much is past due, against the currency's value-tier thresholds (see `ValueTierPolicy`).
STAKE_LEVELS = ("minor", "small", "mid", "key")
CustomerChannel = Literal["email", "sms", "phone", "letter"]
CUSTOMER_CHANNELS: tuple[CustomerChannel, ...] = ("email", "sms", "phone", "letter")

ActionName = Literal[
    "reminder", "call_task", "payment_plan_offer", "credit_hold", "agency_referral"
]
# When one contact covers several due steps, the most severe one leads it.
ACTION_SEVERITY = ("reminder", "call_task", "payment_plan_offer", "credit_hold", "agency_referral")
TONE_SEVERITY = ("friendly", "firm", "final")
Channel = Literal["email", "sms", "phone", "letter", "agency", "internal"]
Tone = Literal["friendly", "firm", "final"]
Stage = Literal["preventive", "early_delinquency", "late_delinquency"]


def _no_float(value: Any) -> Any:
    """Thresholds are exact: a TOML float (0.1) is refused, a string ("0.10") or int is not."""
    if isinstance(value, float):
        raise ValueError(f'write decimals as strings (e.g. "{value}"), not as a float')
    return value


Exact = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0)]
Share = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=1)]


# Points per aging bucket, behaviour class or stake level: every name once, 0-100 each.
AgingPoints = Annotated[dict[str, int], AfterValidator(lambda v: _complete(v, AGING_BUCKETS))]
BehaviorPoints = Annotated[dict[str, int], AfterValidator(lambda v: _complete(v, BEHAVIORS))]
StakePoints = Annotated[dict[str, int], AfterValidator(lambda v: _complete(v, STAKE_LEVELS))]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BehaviorPolicy(_Frozen):
    """How payment history becomes a behaviour class."""

    window_days: int = Field(
        365, gt=0, description="paid invoices settled within this many days count"
    )
    min_paid_invoices: int = Field(3, ge=1, description="fewer paid invoices than this: 'new'")
    late_tolerance_days: int = Field(
        0,
        ge=0,
        description="an invoice paid this many days after its due date still counts on time",
    )
    on_time_max_late_share: Share = Field(
        Decimal("0.10"), description="late share up to this: on_time"
    )
    habitual_min_late_share: Share = Field(
        Decimal("0.50"), description="late share from this: habitually_late"
    )
    habitual_min_avg_days_late: int = Field(
        30, ge=1, description="average days late (of late invoices) from this: habitually_late"
    )
    unpaid_late_after_days: int = Field(
        30,
        ge=0,
        description=(
            "an unpaid invoice more than this many days past due counts as paid late (by its "
            "days so far): a customer who pays nothing is not new, nor on time"
        ),
    )
    one_off_from_invoices: int = Field(
        6,
        ge=1,
        description=(
            "with at least this many invoices counted, a single late one is a one-off: the "
            "customer stays on_time (its delinquency is accidental)"
        ),
    )
    habitual_frequent_min_avg_days: int = Field(
        5,
        ge=0,
        description=(
            "a late share from habitual_min_late_share makes habitually_late only when the "
            "average days late reach this (paying a day late every time is occasionally_late)"
        ),
    )

    @model_validator(mode="after")
    def _ordered(self) -> BehaviorPolicy:
        if self.habitual_min_late_share <= self.on_time_max_late_share:
            raise ValueError("habitual_min_late_share must be above on_time_max_late_share")
        return self


class TierThreshold(_Frozen):
    """Invoiced amount over the window at which a customer becomes mid or key (one currency)."""

    mid: Exact
    key: Exact

    @model_validator(mode="after")
    def _ordered(self) -> TierThreshold:
        if self.key <= self.mid:
            raise ValueError("key must be above mid")
        return self


class ValueTierPolicy(_Frozen):
    """Value tier from the amount invoiced in the window, per currency, the highest tier wins.

    A currency with thresholds of its own uses them; any other uses the reporting currency's,
    converted at the policy's rate (reporting-currency units per unit of it) and rounded to its
    minor unit. Amounts of different currencies are never added: each is compared on its own.
    """

    window_days: int = Field(365, gt=0)
    thresholds: dict[str, TierThreshold] = Field(default_factory=dict)
    reporting_currency: str = Field("USD", description="the currency the rates are quoted in")
    rates: dict[str, Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0)]] = Field(
        default_factory=dict,
        description="per currency: reporting-currency units one unit of it is worth",
    )
    small_stake_share: Share = Field(
        Decimal("0.1"),
        description="a past-due amount from this share of the mid threshold is a small stake",
    )

    @model_validator(mode="after")
    def _every_currency_has_tiers(self) -> ValueTierPolicy:
        if not self.thresholds:
            return self
        if self.reporting_currency not in self.thresholds and self.rates:
            raise ValueError(
                f"rates need thresholds for the reporting currency {self.reporting_currency}"
            )
        unknown = sorted(c for c in (*self.thresholds, *self.rates) if c not in ISO_CURRENCIES)
        if unknown:
            raise ValueError(f"not ISO 4217 currencies: {', '.join(unknown)}")
        if self.rates:
            missing = sorted(
                c for c in ISO_CURRENCIES if c not in self.thresholds and c not in self.rates
            )
            if missing:
                raise ValueError(
                    "every ISO 4217 currency needs thresholds or a rate; missing: "
                    + ", ".join(missing)
                )
        return self

    def threshold_for(self, currency: str) -> TierThreshold | None:
        """The mid and key thresholds in `currency` (None: the policy sets no tiers for it)."""
        listed = self.thresholds.get(currency)
        if listed is not None:
            return listed
        rate = self.rates.get(currency)
        base = self.thresholds.get(self.reporting_currency)
        if rate is None or base is None:
            return None
        unit = minor_unit(currency)
        return TierThreshold(
            mid=(base.mid / rate).quantize(unit, rounding=ROUND_HALF_UP),
            key=(base.key / rate).quantize(unit, rounding=ROUND_HALF_UP),
        )

    def converted(self, amount: Decimal, currency: str) -> Decimal | None:
        """`amount` of `currency` in the reporting currency's minor unit (None: no rate)."""
        if currency == self.reporting_currency:
            return amount
        rate = self.rates.get(currency)
        if rate is None:
            return None
        unit = minor_unit(self.reporting_currency)
        return (amount * rate).quantize(unit, rounding=ROUND_HALF_UP)


class CreditScorePoints(_Frozen):
    """Risk points for a weak credit score (0 worst, 100 best); an unknown score adds none."""

    poor_below: int = Field(40, ge=0, le=100, description="a score below this is poor")
    poor_points: int = Field(20, ge=0, le=100)
    fair_below: int = Field(60, ge=0, le=100, description="a score below this is fair")
    fair_points: int = Field(10, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> CreditScorePoints:
        if self.fair_below < self.poor_below:
            raise ValueError("fair_below must not be below poor_below")
        return self


class UtilisationPoints(_Frozen):
    """Risk points for what the customer owes against its credit limit (per currency)."""

    near_share: Share = Field(Decimal("0.8"), description="owing this share of the limit: near")
    near_points: int = Field(10, ge=0, le=100)
    over_points: int = Field(20, ge=0, le=100, description="owing more than the limit")
    hold_when_over: bool = Field(
        True, description="over the limit raises a credit_hold at once (and releases it after)"
    )


class RiskPolicy(_Frozen):
    """Risk score: what is at stake, how late, how the customer pays, and its credit standing.

    The score is the sum of the points below, capped at 100, cut into buckets (semantics 12:
    the amount at stake moves the bucket as much as the days late do).
    """

    aging_points: AgingPoints
    behavior_points: BehaviorPoints
    stake_points: StakePoints
    utilisation: UtilisationPoints = UtilisationPoints()
    credit_score: CreditScorePoints = CreditScorePoints()
    repeated_disputes_from: int = Field(
        2, ge=1, description="this many disputes opened in the behaviour window are repeated"
    )
    repeated_disputes_points: int = Field(10, ge=0, le=100)
    medium_from: int = Field(30, ge=1, le=100)
    high_from: int = Field(60, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> RiskPolicy:
        if self.high_from <= self.medium_from:
            raise ValueError("high_from must be above medium_from")
        return self


class PriorityPolicy(_Frozen):
    """Worklist priority: what a collector should do first (1-100 once anything is late).

    Stake points (how much is past due) + aging points (how late) + risk score x risk_weight
    + promise points when a promise or instalment falls due today; nothing past due: 0.
    """

    risk_weight: Share = Decimal("0.3")
    stake_points: StakePoints
    aging_points: AgingPoints
    promise_due_points: int = Field(
        10, ge=0, le=100, description="a promise or instalment due today: check it is kept"
    )


class LadderStep(_Frozen):
    """One rung of the collection ladder: what to do `offset_days` after the due date.

    A step with `offset_days` <= 0 is preventive (the invoice is not yet late); a later one
    waits until the invoice is known to be late (due-date notice, late payment or clock).
    """

    id: str = Field(min_length=1, max_length=128, pattern=r"^[a-z0-9_.\-]+$")
    offset_days: int = Field(
        ge=-60, le=365, description="days after the due date (negative: before)"
    )
    action: ActionName
    channel: Channel
    tone: Tone
    stage: Stage


class Ladder(_Frozen):
    """The ladder per risk bucket."""

    low: tuple[LadderStep, ...]
    medium: tuple[LadderStep, ...]
    high: tuple[LadderStep, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Ladder:
        ids = [step.id for bucket in (self.low, self.medium, self.high) for step in bucket]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"step ids must be unique, repeated: {', '.join(duplicates)}")
        return self

    def for_risk(self, risk_bucket: str) -> tuple[LadderStep, ...]:
        """The steps of one risk bucket."""
        steps: tuple[LadderStep, ...] = getattr(self, risk_bucket)
        return steps


class QuietHours(_Frozen):
    """When customers are not contacted, on their own clock: `not_before` moves past it."""

    start: time = Field(time(20, 0), description="quiet from this local time ...")
    end: time = Field(time(8, 0), description="... until this local time (may wrap midnight)")
    weekends: bool = Field(True, description="Saturday and Sunday are quiet all day")
    channels: tuple[Channel, ...] = Field(
        ("email", "sms", "phone"), description="channels that reach a person"
    )


class ContactPolicy(_Frozen):
    """How often and when customers may be contacted, and what is too small to chase."""

    channel_order: tuple[CustomerChannel, ...] = Field(
        CUSTOMER_CHANNELS,
        description=(
            "a step on a channel the customer does not allow moves to the next allowed one in "
            "this order (wrapping); a call task, or none left: an internal task"
        ),
    )

    cooldown_days: dict[Channel, int] = Field(
        default_factory=dict,
        description="per channel: no second contact within this many days (unlisted: 0)",
    )
    quiet_hours: QuietHours = QuietHours()
    minimum_amount: dict[str, Exact] = Field(
        default_factory=dict,
        description="per currency: a customer owing less in total is not chased (unlisted: 0)",
    )
    default_timezone: str | None = Field(
        None, description="customers' zone when their profile names none (unset: the policy's)"
    )

    @field_validator("cooldown_days")
    @classmethod
    def _non_negative(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(channel for channel, days in value.items() if days < 0)
        if bad:
            raise ValueError(f"cooldown days must be 0 or more ({', '.join(bad)})")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _zone_name(value)


class ThankYouPolicy(_Frozen):
    """The courtesy sent when a late invoice is fully paid."""

    enabled: bool = True
    rule_id: str = Field("thank_you.late_invoice_paid", min_length=1, max_length=128)
    channel: Channel = "email"


class FollowUpRule(_Frozen):
    """A task the lifecycle raises (not a ladder rung): its rule id, channel and tone."""

    rule_id: str = Field(min_length=1, max_length=128, pattern=r"^[a-z0-9_.\-]+$")
    channel: Channel
    tone: Tone = "firm"


class CollectionPolicy(_Frozen):
    """What may be chased (contract semantics 6, 9, 10) and the tasks the lifecycle raises."""

    tolerance: dict[str, Exact] = Field(
        default_factory=dict,
        description=(
            "per currency: an invoice's residue below this is not chased or aged and raises one "
            "write_off_review (unlisted: default_tolerance_minor_units of the currency)"
        ),
    )
    default_tolerance_minor_units: int = Field(
        100, ge=0, description="tolerance of a currency not listed, in its minor units"
    )
    promise_grace_days: int = Field(
        2, ge=0, description="a promise or instalment is broken this many days after its date"
    )
    dispute_review_days: int = Field(
        30, ge=1, description="a dispute open this long raises a second dispute_review"
    )
    reconcile_after_days: int = Field(
        3, ge=0, description="unapplied cash this old raises a reconcile_payment task"
    )
    escalation_notice_days: int = Field(
        14,
        ge=0,
        description=(
            "a credit hold or agency referral needs a customer-facing contact about the invoice "
            "at least this many days before (an invoice first seen late gets one first)"
        ),
    )
    broken_commitment_risk_points: int = Field(
        15, ge=0, le=100, description="risk points per broken promise or instalment in the window"
    )
    habitual_broken_commitments: int = Field(
        2, ge=1, description="broken commitments in the behaviour window that make habitually_late"
    )
    thank_you_when_kept: bool = Field(True, description="thank the customer for a kept promise")
    release_credit_hold: bool = Field(
        True, description="credit_hold_release once the debt is settled"
    )
    recall_agency: bool = Field(True, description="agency_recall once the referred debt is settled")
    dispute_review: FollowUpRule = FollowUpRule(rule_id="dispute.review", channel="internal")
    dispute_overdue: FollowUpRule = FollowUpRule(rule_id="dispute.overdue", channel="internal")
    reconcile_payment: FollowUpRule = FollowUpRule(rule_id="cash.reconcile", channel="internal")
    write_off_review: FollowUpRule = FollowUpRule(
        rule_id="residue.write_off_review", channel="internal"
    )
    promise_follow_up: FollowUpRule = FollowUpRule(rule_id="commitment.broken", channel="phone")
    commitment_kept: FollowUpRule = FollowUpRule(
        rule_id="thank_you.commitment_kept", channel="email", tone="friendly"
    )
    credit_hold_release: FollowUpRule = FollowUpRule(
        rule_id="release.credit_hold", channel="internal", tone="friendly"
    )
    agency_recall: FollowUpRule = FollowUpRule(
        rule_id="release.agency_recall", channel="agency", tone="friendly"
    )
    credit_limit_hold: FollowUpRule = FollowUpRule(
        rule_id="credit_limit.exceeded", channel="internal", tone="final"
    )
    credit_limit_release: FollowUpRule = FollowUpRule(
        rule_id="release.credit_limit", channel="internal", tone="friendly"
    )

    @field_validator("tolerance")
    @classmethod
    def _exact_tolerances(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = sorted(c for c, amount in value.items() if not fits(amount, c))
        if bad:
            raise ValueError(f"more decimals than the currency allows ({', '.join(bad)})")
        return value

    def tolerance_for(self, currency: str) -> Decimal:
        """The residue below which an invoice of `currency` is not worth chasing."""
        listed = self.tolerance.get(currency)
        if listed is not None:
            return listed
        return minor_unit(currency) * self.default_tolerance_minor_units


def _amounts_in_currency(value: dict[str, Decimal]) -> dict[str, Decimal]:
    """Per-currency amounts: ISO 4217 codes, exact to each currency's minor unit."""
    unknown = sorted(c for c in value if c not in ISO_CURRENCIES)
    if unknown:
        raise ValueError(f"not ISO 4217 currency codes: {', '.join(unknown)}")
    bad = sorted(c for c, amount in value.items() if not fits(amount, c))
    if bad:
        raise ValueError(f"more decimals than the currency allows ({', '.join(bad)})")
    return value


CurrencyAmounts = Annotated[dict[str, Exact], AfterValidator(_amounts_in_currency)]
Percent = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=100)]


class DiscountOfferPolicy(_Frozen):
    """Which customers' preventive reminders offer their terms' early-payment discount."""

    value_tiers: tuple[Literal["small", "mid", "key"], ...] = Field(
        (), description="customers in these value tiers are offered the discount"
    )
    customers: tuple[str, ...] = Field((), description="and these customers, whatever the tier")
    remind_days_before: int = Field(
        3,
        ge=0,
        le=60,
        description=(
            "a reminder this many days before the discount window closes, unless a ladder "
            "reminder already offered it (0: offers ride on the ladder's reminders only)"
        ),
    )
    reminder: FollowUpRule = FollowUpRule(
        rule_id="terms.discount_reminder", channel="email", tone="friendly"
    )

    def offered_to(self, customer_id: str, value_tier: str) -> bool:
        """True when a preventive reminder to this customer offers the discount."""
        return value_tier in self.value_tiers or customer_id in self.customers


class LateFeePolicy(_Frozen):
    """Late fees and interest arpulse states on chasing actions (it never invoices them).

    From the day after an invoice's payable-by date plus `grace_days`: a `fixed` fee per invoice
    in its currency, and interest on what it still owes day by day (`interest`: per day, per
    month or per year at `rate_percent`, or statutory: `reference_rate_percent` plus
    `margin_percent` a year), simple, on a `day_count`-day year. The total per invoice is capped
    at `cap_percent` of its amount and at `cap` in its currency, and rounded down to the minor
    unit: a customer is never told of more than the terms allow.
    """

    grace_days: int = Field(0, ge=0, le=365)
    fixed: CurrencyAmounts = Field(
        default_factory=dict, description="currency -> the fee per late invoice"
    )
    interest: Literal["none", "daily", "monthly", "annual", "statutory"] = "none"
    rate_percent: Percent = Field(
        Decimal(0), description="interest per day, month or year (as `interest` says)"
    )
    reference_rate_percent: Percent = Field(
        Decimal(0), description="statutory: the reference rate a year (e.g. a central bank's)"
    )
    margin_percent: Percent = Field(
        Decimal(8), description="statutory: points a year over the reference rate"
    )
    day_count: Literal[360, 365] = 365
    cap_percent: Percent = Field(
        Decimal(0), description="fees on an invoice never exceed this share of it (0: no cap)"
    )
    cap: CurrencyAmounts = Field(
        default_factory=dict, description="currency -> the most fees on one invoice"
    )
    assess: bool = Field(
        False, description="publish late_fee.assessed for the billing system to act on"
    )

    @model_validator(mode="after")
    def _rate_given(self) -> LateFeePolicy:
        if self.interest in ("daily", "monthly", "annual") and self.rate_percent == 0:
            raise ValueError(f"interest {self.interest!r} needs a rate_percent above 0")
        return self

    @property
    def enabled(self) -> bool:
        """True when any fee or interest is stated."""
        return bool(self.fixed) or self.interest != "none"

    def daily_rate(self) -> Decimal:
        """The interest a day, as a fraction of what is owed."""
        hundred = Decimal(100)
        if self.interest == "daily":
            return self.rate_percent / hundred
        if self.interest == "monthly":
            return self.rate_percent * 12 / hundred / self.day_count
        if self.interest == "annual":
            return self.rate_percent / hundred / self.day_count
        if self.interest == "statutory":
            return (self.reference_rate_percent + self.margin_percent) / hundred / self.day_count
        return Decimal(0)


# The placeholders a payment link may use (each URL-encoded when filled in).
PAYMENT_LINK_FIELDS = ("customer_id", "invoice_id", "invoice_ids", "currency", "amount")


class PaymentPolicy(_Frozen):
    """The way to pay every customer-facing action carries (internal tasks carry none)."""

    url_template: str | None = Field(
        None,
        description=(
            "an https URL with {customer_id}, {invoice_id} (the first), {invoice_ids} "
            "(comma-separated), {currency}, {amount}; None: actions carry no payment_url"
        ),
    )

    @field_validator("url_template")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL (a payment page is never sent in clear)")
        try:
            fields = [(n, spec, conv) for _, n, spec, conv in string.Formatter().parse(value)]
        except ValueError as exc:
            raise ValueError(f"is not a template: {exc}") from None
        names = [n for n, _, _ in fields if n is not None]
        if any(spec or conv for n, spec, conv in fields if n is not None):
            raise ValueError("placeholders take no conversion or format ({amount}, not {amount!r})")
        unknown = sorted({n for n in names if n not in PAYMENT_LINK_FIELDS})
        if unknown:
            raise ValueError(
                f"unknown placeholders {', '.join(unknown)} (known: "
                f"{', '.join(PAYMENT_LINK_FIELDS)})"
            )
        return value


class CalendarPolicy(_Frozen):
    """Business days (contract semantics 11): due dates on weekends and public holidays."""

    due_on_non_business_day: Literal["next_business_day", "as_is"] = Field(
        "next_business_day",
        description=(
            "next_business_day: a due date on a weekend or public holiday of the customer's "
            "country is payable on the next business day (not late before); as_is: it is not moved"
        ),
    )
    default_country: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        description="country whose holidays apply when the profile names none (unset: weekends)",
    )


class DelinquencyApproach(_Frozen):
    """How the ladder treats one delinquency type."""

    ladder: Literal["risk", "low", "medium", "high"] = Field(
        "risk", description="whose ladder to follow (risk: the customer's risk bucket's)"
    )
    early_tone: Tone | None = Field(
        None, description="tone of early-delinquency steps (unset: the ladder's)"
    )


class DelinquencyPolicy(_Frozen):
    """Delinquency types of a customer with anything past due; the first that fits wins.

    strategic (ignores contacts, breaks promises, loses disputes), distressed (a plan, partial
    payments, a large share of its business past due), disorganized (frequent small delays,
    pays after reminders), accidental (a reliable payer's one-off).
    """

    strategic_min_broken_commitments: int = Field(2, ge=1)
    strategic_min_rejected_disputes: int = Field(
        2, ge=1, description="disputes rejected in the behaviour window"
    )
    strategic_min_ignored_contacts: int = Field(
        3,
        ge=1,
        description="customer-facing contacts about one past-due invoice, with nothing paid on "
        "it, no reply, and no payment at all since the first",
    )
    distressed_when_on_plan: bool = Field(True, description="a payment plan means distressed")
    distressed_min_partly_paid: int = Field(2, ge=1, description="past-due invoices paid in part")
    distressed_min_overdue_share: Share = Field(
        Decimal("0.5"),
        description="past-due outstanding / invoiced in the value-tier window, in one currency",
    )
    disorganized_min_late_share: Share = Field(
        Decimal("0.3"), description="late share of the payment history"
    )
    disorganized_min_reminded_paid: int = Field(
        2, ge=1, description="invoices paid in the window only after a contact"
    )
    approach: dict[str, DelinquencyApproach] = Field(default_factory=dict)

    @field_validator("approach")
    @classmethod
    def _known_types(cls, value: dict[str, DelinquencyApproach]) -> dict[str, DelinquencyApproach]:
        unknown = sorted(t for t in value if t not in DELINQUENCY_TYPES[1:])
        if unknown:
            raise ValueError(
                f"unknown delinquency types {', '.join(unknown)} "
                f"(known: {', '.join(DELINQUENCY_TYPES[1:])})"
            )
        return value

    def approach_for(self, kind: str) -> DelinquencyApproach:
        """The approach to a delinquency type (the ladder's own when the policy names none)."""
        return self.approach.get(kind, _PLAIN_APPROACH)


_PLAIN_APPROACH = DelinquencyApproach()


class HistoryPolicy(_Frozen):
    """Retention: how much of a customer's history its state keeps (see `domain.retention`)."""

    retain_days: int = Field(
        400,
        gt=0,
        description=(
            "history older than this many days before the customer's business date is archived "
            "(what it leaves is carried forward); at least the behaviour and value-tier windows"
        ),
    )
    remember_archived_days: int = Field(
        3650,
        gt=0,
        description=(
            "an archived invoice's id and currency are kept this many days after it settled, so "
            "a late payment naming it goes on account as the whole history would send it; after "
            "that such a payment is unapplied cash with a reconcile_payment task"
        ),
    )


class ReportsPolicy(_Frozen):
    """The collection figures (DSO, CEI, ADD, share over 90 days): their window and convention."""

    window_days: int = Field(
        90,
        ge=30,
        le=365,
        description="the rolling window, in days, the figures are computed over (ending today)",
    )
    cei_convention: Literal["period", "monthly_average"] = Field(
        "period",
        description=(
            "CEI's credit sales: 'period' adds the window's credit sales to the beginning "
            "receivables; 'monthly_average' adds their monthly average (the window's sales over "
            "its months, window_days / 30)"
        ),
    )


class Policy(_Frozen):
    """The whole collections policy; `version` is stamped on every action it decides."""

    version: str = Field(min_length=1, max_length=64)
    timezone: str = Field("UTC", description="IANA zone whose calendar decides 'today'")
    clock_grace_days: int = Field(
        1, ge=0, description="flag by clock once this many days pass after the due date unnoticed"
    )
    late_delinquency_from_days: int = Field(61, ge=1)
    behavior: BehaviorPolicy = BehaviorPolicy()
    value_tier: ValueTierPolicy = ValueTierPolicy()
    risk: RiskPolicy
    priority: PriorityPolicy
    ladder: Ladder
    contact: ContactPolicy = ContactPolicy()
    thank_you: ThankYouPolicy = ThankYouPolicy()
    collection: CollectionPolicy = CollectionPolicy()
    calendar: CalendarPolicy = CalendarPolicy()
    delinquency: DelinquencyPolicy = DelinquencyPolicy()
    history: HistoryPolicy = HistoryPolicy()
    discount_offer: DiscountOfferPolicy = DiscountOfferPolicy()
    late_fees: LateFeePolicy = LateFeePolicy()
    payment: PaymentPolicy = PaymentPolicy()
    reports: ReportsPolicy = ReportsPolicy()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone_name(value)

    @field_validator("history")
    @classmethod
    def _retains_the_windows(cls, value: HistoryPolicy, info: ValidationInfo) -> HistoryPolicy:
        """Archived history must have left every segmentation window, or segments would change."""
        for section in ("behavior", "value_tier"):
            window = info.data.get(section)  # absent when that section itself is invalid
            if window is not None and value.retain_days < window.window_days:
                raise ValueError(
                    f"retain_days {value.retain_days} is shorter than {section}.window_days "
                    f"({window.window_days}): history still inside a segmentation window "
                    "must be kept"
                )
        return value

    @field_validator("reports")
    @classmethod
    def _reports_within_history(cls, value: ReportsPolicy, info: ValidationInfo) -> ReportsPolicy:
        """The figures re-read history within their window: it must not be archived yet."""
        history = info.data.get("history")  # absent when that section itself is invalid
        if history is not None and value.window_days > history.retain_days:
            raise ValueError(
                f"window_days {value.window_days} is longer than history.retain_days "
                f"({history.retain_days}): the figures need the history of their whole window"
            )
        return value

    @model_validator(mode="after")
    def _stages_match_offsets(self) -> Policy:
        """A step's stage must be what its offset means, or reasons would contradict actions."""
        for bucket in RISK_BUCKETS:
            for step in self.ladder.for_risk(bucket):
                expected = self.stage_for(step.offset_days)
                if step.stage != expected:
                    raise ValueError(
                        f"ladder.{bucket} step {step.id}: offset_days {step.offset_days} is "
                        f"stage {expected!r}, not {step.stage!r} (late_delinquency from day "
                        f"{self.late_delinquency_from_days})"
                    )
        return self

    def stage_for(self, days_past_due: int) -> Stage:
        """The collection stage of an invoice this many days past due."""
        if days_past_due <= 0:
            return "preventive"
        if days_past_due < self.late_delinquency_from_days:
            return "early_delinquency"
        return "late_delinquency"

    def customer_zone_name(self, customer_timezone: str | None) -> str:
        """The zone whose clock a customer's days and quiet hours are read on."""
        return customer_timezone or self.contact.default_timezone or self.timezone


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone") from None
    return value


def _complete(value: dict[str, int], names: tuple[str, ...]) -> dict[str, int]:
    missing = [n for n in names if n not in value]
    unknown = [n for n in value if n not in names]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown {', '.join(unknown)}")
        raise ValueError(f"must name exactly {', '.join(names)} ({'; '.join(parts)})")
    if any(points < 0 or points > 100 for points in value.values()):
        raise ValueError("points must be between 0 and 100")
    return value
