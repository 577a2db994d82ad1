"""What a decision tells the world: late flags, segment changes and collection actions.

These are domain values; `processor.core.translate` turns them into the contract's output events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from processor.domain.state import DetectedBy, Segment

CLOCK_PREFIX = "clock:"


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """What triggered a decision: an input event, or the processor's clock."""

    id: str
    due_notice_for: str | None = None

    @classmethod
    def of_event(cls, event_id: str, *, due_notice_for: str | None = None) -> Cause:
        """A decision caused by an input event (`due_notice_for`: its invoice, for due notices)."""
        return cls(id=event_id, due_notice_for=due_notice_for)

    @classmethod
    def clock(cls, now: datetime) -> Cause:
        """A decision caused by time passing on the processor's clock."""
        return cls(id=f"{CLOCK_PREFIX}{now.isoformat()}")

    @property
    def is_clock(self) -> bool:
        """True for decisions the scheduler woke up."""
        return self.id.startswith(CLOCK_PREFIX)


@dataclass(frozen=True, slots=True, kw_only=True)
class LateFlag:
    """An invoice is known to be late."""

    event_id: str
    invoice_id: str
    due_date: date
    days_past_due: int
    amount_outstanding: Decimal
    currency: str
    detected_by: DetectedBy
    caused_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentChange:
    """The customer's segment moved."""

    event_id: str
    previous: Segment | None
    current: Segment
    changed: tuple[str, ...]
    reason: str
    caused_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LateFee:
    """What has accrued on one late invoice as of a day (stated, never invoiced by arpulse)."""

    invoice_id: str
    currency: str
    fixed: Decimal
    interest: Decimal
    total: Decimal
    as_of: date
    days_late: int  # days past its payable-by date on `as_of` (or when it was settled)
    capped: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscountOffer:
    """What paying one invoice by its terms' discount date saves (in its currency)."""

    invoice_id: str
    pay_by: date
    pay: Decimal
    saves: Decimal
    terms: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeAssessment:
    """A late invoice's fees to date, for the billing system (the latest per invoice stands)."""

    event_id: str
    fee: LateFee
    final: bool  # the invoice is settled: nothing more accrues
    rule: str  # the policy's terms, in words
    caused_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRequest:
    """A collection action to perform on one or more invoices of one currency."""

    event_id: str
    action: str
    channel: str
    tone: str
    stage: str
    invoice_ids: tuple[str, ...]
    amount_outstanding: Decimal
    currency: str
    segment: Segment
    priority: int
    rule_id: str
    policy_version: str
    reason: str
    caused_by: str
    not_before: datetime | None = None
    # Every (invoice, ladder step) this action carries out; a merged contact covers several.
    steps: tuple[tuple[str, str], ...] = ()
    # The payments (or credit notes) a reconcile_payment task is about.
    payment_ids: tuple[str, ...] = ()
    # Where the customer can pay (customer-facing actions, when the policy has a link).
    payment_url: str | None = None
    # What has accrued on its late invoices (chasing actions, when the policy states fees).
    late_fees: tuple[LateFee, ...] = ()
    # What paying early saves (preventive reminders, for customers the policy offers it to).
    discount_offers: tuple[DiscountOffer, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdrawal:
    """An action published with `not_before` still ahead that has become moot."""

    event_id: str
    withdraws: str
    invoice_ids: tuple[str, ...]
    reason: str
    caused_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitmentStatus:
    """A promise or a plan instalment was kept or broken."""

    event_id: str
    commitment_id: str
    kind: str
    status: str
    amount: Decimal
    currency: str
    due: date
    caused_by: str
