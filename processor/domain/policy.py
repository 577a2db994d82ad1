"""The collections policy: every threshold and ladder step, validated, versioned, immutable.

The file format (TOML) and its loading live in the shell (`processor.policy_file`); this module is
only the model, so the domain can take a policy without touching the file system.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "120+")
BEHAVIORS = ("new", "on_time", "occasionally_late", "habitually_late")
VALUE_TIERS = ("small", "mid", "key")
RISK_BUCKETS = ("low", "medium", "high")

ActionName = Literal[
    "reminder", "call_task", "payment_plan_offer", "credit_hold", "agency_referral"
]
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
    """One rung of the collection ladder: what to do `offset_days` after the due date."""

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

    def first_delinquency_steps(self, risk_bucket: str) -> tuple[LadderStep, ...]:
        """The steps taken the moment an invoice becomes late: the earliest positive offset."""
        late = [s for s in self.for_risk(risk_bucket) if s.offset_days >= 1]
        if not late:
            return ()
        first = min(s.offset_days for s in late)
        return tuple(s for s in late if s.offset_days == first)


class ThankYouPolicy(_Frozen):
    """The courtesy sent when a late invoice is fully paid."""

    enabled: bool = True
    rule_id: str = Field("thank_you.late_invoice_paid", min_length=1, max_length=128)
    channel: Channel = "email"


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
    thank_you: ThankYouPolicy = ThankYouPolicy()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The business time zone."""
        return ZoneInfo(self.timezone)


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
