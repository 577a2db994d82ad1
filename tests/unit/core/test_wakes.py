"""Wake-ups: computed once, stored with the state, read back or recomputed under a new policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from processor.core.policy_file import load_policy
from processor.core.state_codec import Wake, decode_state, encode_state, wake_of_raw
from processor.domain.decide import on_event
from processor.domain.schedule import next_wake
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER, at, inv

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def test_the_wakeup_travels_with_the_stored_state() -> None:
    policy = load_policy(None)
    progress = on_event(
        CustomerState(customer_id=CUSTOMER), inv("A", issued=0, due=30), now=at(0), policy=policy
    )
    wake_at = next_wake(progress.state, policy)
    assert wake_at is not None
    raw = encode_state(progress.state, wake=Wake(at=wake_at, policy_version=policy.version))
    assert wake_of_raw(raw) == Wake(at=wake_at, policy_version=policy.version)
    assert decode_state(raw) == progress.state
