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
