"""The collection facts: disputes, promises to pay, payment plans, holds and contact outcomes.

They change no balance; they say what may be chased and when (`processor.domain.owed`). Each is
folded order-tolerantly: a resolution before its dispute, a release before its hold, are kept
and take effect when their partner arrives. A fact that repeats one held (same id, same content)
changes nothing; the same id with other content is a contradiction (DomainError).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from processor.domain.errors import DomainError
from processor.domain.facts import (
    CollectionFact,
    ContactOutcome,
    DisputeOpened,
    DisputeResolved,
    HoldReleased,
    HoldSet,
    Instalment,
    PlanAgreed,
    PromiseMade,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dispute:
    """A dispute's opening and resolution, whichever came first (None: not seen yet)."""

    dispute_id: str
    invoice_id: str | None = None
    opened_on: date | None = None
    amount: Decimal | None = None
    reason: str | None = None
    resolved_on: date | None = None
    outcome: str | None = None

    def is_open(self) -> bool:
        """Opened and not resolved: its part of the invoice is not chased."""
        return self.opened_on is not None and self.resolved_on is None

    def pauses(self) -> bool:
        """Open, or upheld (the customer was right: nothing is chased until it is adjusted)."""
        return self.opened_on is not None and self.outcome != "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class Promise:
    """A promise to pay (a fact)."""

    promise_id: str
    amount: Decimal
    currency: str
    promised_on: date
    made_on: date
    invoice_ids: tuple[str, ...]
    source: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A payment plan (a fact)."""

    plan_id: str
    currency: str
    invoice_ids: tuple[str, ...]
    instalments: tuple[Instalment, ...]
    agreed_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """A hold's setting and release, whichever came first."""

    hold_id: str
    set_on: date | None = None
    invoice_id: str | None = None
    until: date | None = None
    reason: str | None = None
    released_on: date | None = None

    def active(self, today: date) -> bool:
        """Set, not released, and not past its `until`."""
        return (
            self.set_on is not None
            and self.released_on is None
            and (self.until is None or today <= self.until)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """A customer-facing action arpulse published, for withdrawals and contact outcomes."""

    action: str
    channel: str
    rule_id: str
    invoice_ids: tuple[str, ...]
    offset: int | None
    not_before: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Collection:
    """Everything a customer's collection facts say, and what was sent to it."""

    disputes: Mapping[str, Dispute] = field(default_factory=dict)
    promises: Mapping[str, Promise] = field(default_factory=dict)
    plans: Mapping[str, Plan] = field(default_factory=dict)
    holds: Mapping[str, Hold] = field(default_factory=dict)
    sent: Mapping[str, Sent] = field(default_factory=dict)
    # Channels a contact bounced on: not used again (until the profile changes).
    bounced: frozenset[str] = frozenset()
    # Invoice -> ladder offsets on which the customer was reached or replied (not re-contacted).
    reached: Mapping[str, frozenset[int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when nothing here can change a decision."""
        return not (
            self.disputes
            or self.promises
            or self.plans
            or self.holds
            or self.bounced
            or self.reached
        )


EMPTY = Collection()


def collection_date(fact: CollectionFact) -> date:
    """The business date of a collection fact (what retention dates its event id by)."""
    if isinstance(fact, DisputeOpened):
        return fact.opened_on
    if isinstance(fact, DisputeResolved):
        return fact.resolved_on
    if isinstance(fact, PromiseMade):
        return fact.made_on
    if isinstance(fact, PlanAgreed):
        return fact.agreed_on
    if isinstance(fact, ContactOutcome):
        return fact.at.date()
    return fact.occurred_at.date()


def record_collection(collection: Collection, fact: CollectionFact) -> Collection:
    """Fold one collection fact; raises DomainError when it contradicts one held."""
    if isinstance(fact, DisputeOpened):
        return _dispute_opened(collection, fact)
    if isinstance(fact, DisputeResolved):
        return _dispute_resolved(collection, fact)
    if isinstance(fact, PromiseMade):
        return _promise_made(collection, fact)
    if isinstance(fact, PlanAgreed):
        return _plan_agreed(collection, fact)
    if isinstance(fact, HoldSet | HoldReleased):
        return _hold(collection, fact)
    return _outcome(collection, fact)


def _promise_made(collection: Collection, fact: PromiseMade) -> Collection:
    promise = Promise(
        promise_id=fact.promise_id,
        amount=fact.amount,
        currency=fact.currency,
        promised_on=fact.promised_on,
        made_on=fact.made_on,
        invoice_ids=tuple(sorted(fact.invoice_ids)),
        source=fact.source,
    )
    known = collection.promises.get(fact.promise_id)
    if known is not None:
        if replace(known, source=promise.source) != promise:
            raise DomainError(
                "promise_id",
                f"promise {fact.promise_id!r} was already made with different terms "
                f"({known.amount} {known.currency} by {known.promised_on})",
            )
        return collection
    return replace(collection, promises={**collection.promises, fact.promise_id: promise})


def _plan_agreed(collection: Collection, fact: PlanAgreed) -> Collection:
    plan = Plan(
        plan_id=fact.plan_id,
        currency=fact.currency,
        invoice_ids=tuple(sorted(fact.invoice_ids)),
        instalments=fact.instalments,
        agreed_on=fact.agreed_on,
    )
    known = collection.plans.get(fact.plan_id)
    if known is not None:
        if known != plan:
            raise DomainError(
                "plan_id", f"plan {fact.plan_id!r} was already agreed with other instalments"
            )
        return collection
    return replace(collection, plans={**collection.plans, fact.plan_id: plan})


def _hold(collection: Collection, fact: HoldSet | HoldReleased) -> Collection:
    """A hold's setting or release, whichever comes first (each is taken once)."""
    held = collection.holds.get(fact.hold_id) or Hold(hold_id=fact.hold_id)
    if isinstance(fact, HoldSet):
        if held.set_on is not None:
            return collection
        hold = replace(
            held,
            set_on=fact.occurred_at.date(),
            invoice_id=fact.invoice_id,
            until=fact.until,
            reason=fact.reason,
        )
    else:
        if held.released_on is not None:
            return collection
        hold = replace(held, released_on=fact.occurred_at.date())
    return replace(collection, holds={**collection.holds, fact.hold_id: hold})


def _dispute_opened(collection: Collection, fact: DisputeOpened) -> Collection:
    known = collection.disputes.get(fact.dispute_id) or Dispute(dispute_id=fact.dispute_id)
    if known.opened_on is not None:
        if (known.invoice_id, known.amount) != (fact.invoice_id, fact.amount):
            raise DomainError(
                "dispute_id",
                f"dispute {fact.dispute_id!r} was already opened on invoice {known.invoice_id!r}",
            )
        return collection
    dispute = replace(
        known,
        invoice_id=fact.invoice_id,
        opened_on=fact.opened_on,
        amount=fact.amount,
        reason=fact.reason,
    )
    return replace(collection, disputes={**collection.disputes, fact.dispute_id: dispute})


def _dispute_resolved(collection: Collection, fact: DisputeResolved) -> Collection:
    known = collection.disputes.get(fact.dispute_id) or Dispute(dispute_id=fact.dispute_id)
    if known.resolved_on is not None:
        if known.outcome != fact.outcome:
            raise DomainError(
                "outcome",
                f"dispute {fact.dispute_id!r} was already resolved as {known.outcome!r}",
            )
        return collection
    dispute = replace(known, resolved_on=fact.resolved_on, outcome=fact.outcome)
    return replace(collection, disputes={**collection.disputes, fact.dispute_id: dispute})


def _outcome(collection: Collection, fact: ContactOutcome) -> Collection:
    """What a contact's outcome changes: a bounce, the channel; a reach, the rung.

    A bounce blocks the channel; a customer reached (or replying) is not contacted again on the
    same rung. An outcome for a contact this state no longer holds changes nothing.
    """
    sent = collection.sent.get(fact.action_event_id)
    if sent is None:
        return collection  # not a contact of this customer's that is still held: nothing to do
    if fact.outcome == "bounced":
        return replace(collection, bounced=collection.bounced | {sent.channel})
    if fact.outcome in ("reached", "replied") and sent.offset is not None:
        reached = dict(collection.reached)
        for invoice_id in sent.invoice_ids:
            reached[invoice_id] = reached.get(invoice_id, frozenset()) | {sent.offset}
        return replace(collection, reached=reached)
    return collection
