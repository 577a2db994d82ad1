"""The collections policy: every threshold and ladder step, validated, versioned, immutable.

The file format (TOML) and its loading live in the shell (`processor.core.policy_file`); this
module is only the model, so the domain can take a policy without touching the file system.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from processor.domain.money import fits, minor_unit

# The contract's aging buckets: (most days past due in the bucket, name); beyond the last, "120+".
AGING_EDGES = ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90"), (120, "91-120"))
AGING_BUCKETS = (*(name for _, name in AGING_EDGES), "120+")
BEHAVIORS = ("new", "on_time", "occasionally_late", "habitually_late")
VALUE_TIERS = ("small", "mid", "key")
RISK_BUCKETS = ("low", "medium", "high")

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
    """Value tier from the amount invoiced in the window, per currency, the highest tier wins."""

    window_days: int = Field(365, gt=0)
    thresholds: dict[str, TierThreshold] = Field(default_factory=dict)


class RiskPolicy(_Frozen):
    """Risk score = aging points + behaviour points (capped at 100), cut into buckets."""

    aging_points: dict[str, int]
    behavior_points: dict[str, int]
    medium_from: int = Field(30, ge=1, le=100)
    high_from: int = Field(60, ge=1, le=100)

    @field_validator("aging_points")
    @classmethod
    def _all_aging(cls, value: dict[str, int]) -> dict[str, int]:
        return _complete(value, AGING_BUCKETS)

    @field_validator("behavior_points")
    @classmethod
    def _all_behaviors(cls, value: dict[str, int]) -> dict[str, int]:
        return _complete(value, BEHAVIORS)

    @model_validator(mode="after")
    def _ordered(self) -> RiskPolicy:
        if self.high_from <= self.medium_from:
            raise ValueError("high_from must be above medium_from")
        return self


class PriorityPolicy(_Frozen):
    """Worklist priority = risk score x risk_weight + tier points (1-100 once anything is late)."""

    risk_weight: Share = Decimal("0.7")
    tier_points: dict[str, int]

    @field_validator("tier_points")
    @classmethod
    def _all_tiers(cls, value: dict[str, int]) -> dict[str, int]:
        return _complete(value, VALUE_TIERS)


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
        None, description="customers' zone when their invoices name none (unset: the policy's)"
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
    history: HistoryPolicy = HistoryPolicy()

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

    def customer_zone(self, customer_timezone: str | None) -> ZoneInfo:
        """The zone whose clock quiet hours are read on, for one customer."""
        return ZoneInfo(customer_timezone or self.contact.default_timezone or self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        """The business time zone."""
        return ZoneInfo(self.timezone)


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
