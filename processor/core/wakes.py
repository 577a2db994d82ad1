"""Wake-ups: the one place a customer's next wake-up is computed, and the wake-up message.

A customer's next wake-up (the instant time alone has something for it: a ladder rung, an aging
boundary) is computed by the domain (`next_wake`) when its state is stored, and stored with it,
so that a worker adopting a partition reads it back without decoding every state. A record
stored under another policy version is recomputed from its state: the policy decides the rungs.
Both the pipeline (after a store) and the worker (adopting a partition) go through `WakePlanner`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from processor.core.state_codec import Wake, decode_state, wake_of_raw
from processor.domain.policy import Policy
from processor.domain.schedule import next_wake
from processor.domain.state import CustomerState


@dataclass(frozen=True, slots=True)
class WakeCall:
    """A wake-up message read back: which customer, decided up to which instant."""

    customer_id: str
    at: datetime


class WakePlanner:
    """A customer's next wake-up under one policy, from its decided state or its stored record."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    def of_state(self, state: CustomerState) -> Wake:
        """The wake-up to store with a decided state."""
        return Wake(at=next_wake(state, self._policy), policy_version=self._policy.version)

    def of_stored(self, raw: bytes) -> datetime | None:
        """A stored customer's next wake-up (recomputed if stored under another policy)."""
        wake = wake_of_raw(raw)
        if wake.policy_version == self._policy.version:
            return wake.at
        return next_wake(decode_state(raw), self._policy)


def wake_message(customer_id: str, at: datetime) -> bytes:
    """The scheduler's wake-up message for one customer (internal topic)."""
    return json.dumps({"customer_id": customer_id, "at": at.isoformat()}).encode("utf-8")


def read_wake_message(value: bytes | None) -> WakeCall:
    """A wake-up message's customer and instant; ValueError when it cannot be read."""
    try:
        document = json.loads(value or b"")
        customer_id = str(document["customer_id"])
        at = datetime.fromisoformat(document["at"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable wake-up: {exc}") from None
    if at.tzinfo is None:
        raise ValueError("unreadable wake-up: naive instant")
    return WakeCall(customer_id=customer_id, at=at)
