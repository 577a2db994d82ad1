"""The customer's profile: who the platform says the customer is, field by field.

Profiles come from a compacted topic and may arrive before or after the customer's invoices,
and two updates may arrive in any order. Every field is sticky (an update that leaves it out keeps
it) and carries the business time of the update that set it: the latest in business time
(`occurred_at`, then `event_id`) wins whatever arrives first, so the profile a customer ends up
with depends only on its history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from processor.domain.facts import CreditScore, ProfileUpdated

PROFILE_FIELDS = (
    "name",
    "time_zone",
    "country",
    "customer_type",
    "credit_limit",
    "credit_score",
    "channels",
    "do_not_contact",
)
CUSTOMER_FACING = frozenset({"email", "sms", "phone", "letter"})

# (occurred_at, event_id) of the update that set a field.
Version = tuple[datetime, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """The customer's profile as its updates leave it (None: never stated)."""

    name: str | None = None
    time_zone: str | None = None
    country: str | None = None
    customer_type: str | None = None
    credit_limit: Mapping[str, Decimal] | None = None
    credit_score: CreditScore | None = None
    channels: frozenset[str] | None = None
    do_not_contact: bool | None = None
    versions: Mapping[str, Version] = field(default_factory=dict)

    @property
    def allowed_channels(self) -> frozenset[str]:
        """The customer-facing channels the customer may be contacted on."""
        if self.do_not_contact:
            return frozenset()
        return CUSTOMER_FACING if self.channels is None else self.channels

    @property
    def is_empty(self) -> bool:
        """True when no update has set anything."""
        return not self.versions


NO_PROFILE = Profile()


def updated(profile: Profile, fact: ProfileUpdated) -> Profile:
    """The profile with the fields `fact` states, where it is the latest to state them."""
    version: Version = (fact.occurred_at, fact.event_id)
    changes: dict[str, object] = {}
    versions = dict(profile.versions)
    for name in PROFILE_FIELDS:
        value = getattr(fact, name)
        if value is None:
            continue
        held = versions.get(name)
        if held is not None and held >= version:
            continue
        if name == "credit_limit":
            value = dict(value)
        changes[name] = value
        versions[name] = version
    if not changes:
        return profile
    return replace(profile, versions=versions, **changes)  # type: ignore[arg-type]
