"""Wake-ups: computed once, stored with the state, read back or recomputed under a new policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from processor.core.policy_file import load_policy
from processor.core.state_codec import Wake, decode_state, encode_state, wake_of_raw
from processor.core.wakes import WakePlanner, read_wake_message, wake_message
from processor.domain.decide import on_event
from processor.domain.schedule import next_wake
from processor.domain.state import CustomerState
from tests.support.builders import CUSTOMER, at, inv

POLICY = load_policy(None)


def stored_invoice() -> tuple[CustomerState, bytes]:
    progress = on_event(
        CustomerState(customer_id=CUSTOMER), inv("A", issued=0, due=30), now=at(0), policy=POLICY
    )
    planner = WakePlanner(POLICY)
    return progress.state, encode_state(progress.state, wake=planner.of_state(progress.state))


def test_the_wakeup_travels_with_the_stored_state() -> None:
    state, raw = stored_invoice()
    wake_at = next_wake(state, POLICY)
    assert wake_at is not None
    assert wake_of_raw(raw) == Wake(at=wake_at, policy_version=POLICY.version)
    assert decode_state(raw) == state
    assert WakePlanner(POLICY).of_stored(raw) == wake_at


def test_a_record_stored_under_another_policy_is_recomputed_from_its_state() -> None:
    state, _ = stored_invoice()
    stale = encode_state(state, wake=Wake(at=at(999), policy_version="an-older-policy"))
    assert WakePlanner(POLICY).of_stored(stale) == next_wake(state, POLICY)


def test_a_wake_up_message_reads_back_what_was_sent() -> None:
    moment = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    call = read_wake_message(wake_message("cust-9", moment))
    assert (call.customer_id, call.at) == ("cust-9", moment)


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"[1, 2]",
        b'{"customer_id": "c"}',
        b'{"customer_id": "c", "at": "tomorrow"}',
        b'{"customer_id": "c", "at": "2026-03-01T08:00:00"}',  # no offset
    ],
)
def test_an_unreadable_wake_up_message_is_refused(value: bytes | None) -> None:
    with pytest.raises(ValueError, match="unreadable wake-up"):
        read_wake_message(value)
