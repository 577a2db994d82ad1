"""A customer's whole state: the ledger plus what arpulse has already told the world about it.

The decision memory (flags raised, ladder steps done, last published segment) lives next to the
facts so that a flag is raised once and a step is taken once, across restarts and replays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal, cast

from processor.domain.collection import EMPTY, Collection, collection_date, record_collection
from processor.domain.errors import DomainError
from processor.domain.facts import (
    MONEY_FACTS,
    CollectionFact,
    Fact,
    InvoiceIssued,
    MoneyFact,
    ProfileUpdated,
)
from processor.domain.ledger import Ledger, Retraction, fact_date, record
from processor.domain.profile import NO_PROFILE, Profile, updated

DetectedBy = Literal["due_date_event", "clock", "late_payment"]


# The segmentation dimensions, in the contract's order (a segment change names those that moved).
SEGMENT_DIMENSIONS = (
    "aging_bucket",
    "behavior",
    "value_tier",
    "risk_bucket",
    "delinquency_type",
    "priority",
)
# The dimensions that are classes (not a number): transitions between them are counted.
CLASS_DIMENSIONS = SEGMENT_DIMENSIONS[:5]


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """A customer's place on every segmentation dimension."""

    aging_bucket: str
    behavior: str
    value_tier: str
    risk_bucket: str
    delinquency_type: str = "none"
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True, weakref_slot=True)
class CustomerState:
    """Everything arpulse knows and has decided about one customer. Never mutated: replaced."""

    customer_id: str
    customer_name: str | None = None
    ledger: Ledger = field(default_factory=Ledger)
    # Every applied event id, with the business date of its fact: retention forgets the ids of
    # archived facts, and of repeats dated as old, with the facts themselves.
    seen: Mapping[str, date] = field(default_factory=dict)
    flags: Mapping[str, DetectedBy] = field(default_factory=dict)
    done_steps: Mapping[str, frozenset[str]] = field(default_factory=dict)
    segment: Segment | None = None
    assessed_on: date | None = None
    last_reason: str | None = None
    # The instant of the last decision: decisions never go back in time for one customer.
    decided_at: datetime | None = None
    # Business date of the last contact per channel (cooldowns count from it).
    last_contact: Mapping[str, date] = field(default_factory=dict)
    # What the platform says of the customer (zone, country, limits, score, channels).
    profile: Profile = NO_PROFILE
    # Disputes, promises, plans, holds and what was sent (what may be chased, and when).
    collection: Collection = EMPTY
    # Commitment id -> the status published for it ("kept" / "broken").
    statuses: Mapping[str, str] = field(default_factory=dict)
    # Once-only tasks raised (dispute reviews, reconciliations, write-off reviews, releases).
    tasks: frozenset[str] = frozenset()
    # Invoice -> business date of its first customer-facing contact (escalation needs notice).
    first_contact: Mapping[str, date] = field(default_factory=dict)


def apply(state: CustomerState, fact: Fact) -> CustomerState:
    """`fold` without the retractions (tests and tools that only want the state)."""
    return fold(state, fact)[0]


def fold(state: CustomerState, fact: Fact) -> tuple[CustomerState, tuple[Retraction, ...]]:
    """Fold one fact into the state; an event id already applied returns the state unchanged.

    Returns the new state and the earlier facts it retracts (the shell dead-letters those).
    Raises DomainError when the fact contradicts what is held, or reuses the event id of
    another fact.
    """
    if fact.event_id in state.seen:
        check_repeat(state, fact)
        return state, ()
    retracted: tuple[Retraction, ...] = ()
    ledger, collection = state.ledger, state.collection
    profile = state.profile
    if isinstance(fact, MONEY_FACTS):
        money = cast(MoneyFact, fact)
        when = fact_date(ledger, money)
        ledger, retracted = record(ledger, money)
    elif isinstance(fact, ProfileUpdated):
        when = fact.occurred_at.date()
        profile = updated(profile, fact)
        restated = fact.channels if profile.channels is fact.channels else None
        if restated and collection.bounced & restated:
            # The platform restates a channel that bounced: its address was fixed.
            collection = replace(collection, bounced=collection.bounced - restated)
    else:
        update = cast(CollectionFact, fact)
        when = collection_date(update)
        collection = record_collection(collection, update)
    name = state.customer_name
    if isinstance(fact, InvoiceIssued):
        name = fact.customer_name or name
    return (
        CustomerState(
            customer_id=state.customer_id,
            customer_name=name,
            ledger=ledger,
            seen={**state.seen, fact.event_id: when},
            flags=state.flags,
            done_steps=state.done_steps,
            segment=state.segment,
            assessed_on=state.assessed_on,
            last_reason=state.last_reason,
            decided_at=state.decided_at,
            last_contact=state.last_contact,
            profile=profile,
            collection=collection,
            statuses=state.statuses,
            tasks=state.tasks,
            first_contact=state.first_contact,
        ),
        retracted,
    )


def check_repeat(state: CustomerState, fact: Fact) -> None:
    """A repeated event id must repeat its fact: an id reused by another invoice is refused."""
    if not isinstance(fact, InvoiceIssued):
        return
    for invoice in state.ledger.invoices.values():
        if invoice.event_id == fact.event_id and invoice.invoice_id != fact.invoice_id:
            raise DomainError(
                "event_id",
                f"{fact.event_id!r} is already the event id of invoice {invoice.invoice_id!r}; "
                f"invoice {fact.invoice_id!r} needs an id of its own",
            )
