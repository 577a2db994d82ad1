"""Customer profiles on the real broker (contract 1.1): a profile before or after the invoices
gives the customer the same zone, limits and channels, an over-limit debt raises a credit hold
at once, a channel not allowed is replaced, and a bad profile is dead-lettered with its field."""

from __future__ import annotations

from typing import Any

import pytest

from schemas import topics
from tests.support import factories as f
from tests.support.harness import Harness, WorkerProcess, unique

pytestmark = pytest.mark.integration

ACTIONS, DEAD = topics.COLLECTION_ACTIONS, topics.DEAD_LETTER


def _profile(customer: str) -> dict[str, Any]:
    return f.event(
        customer,
        "customer.profile_updated",
        name="Profiled Ltd",
        time_zone="America/Chicago",
        country="US",
        customer_type="smb",
        credit_limit={"USD": "500.00"},
        credit_score={"score": 35, "source": "bureau"},
        channels=["letter"],
    )


async def _invoice(harness: Harness, customer: str) -> None:
    issued, notice = f.late_invoice(customer)
    await harness.send(topics.INVOICE_ISSUED, issued)
    await harness.send(topics.DUE_DATE_PASSED, notice)


async def test_a_profile_before_or_after_the_invoices_gives_the_same_customer(
    harness: Harness, worker: WorkerProcess
) -> None:
    first, last = unique("profile-first"), unique("profile-last")
    await harness.send(topics.CUSTOMER_PROFILES, _profile(first))
    await _invoice(harness, first)
    await _invoice(harness, last)
    await harness.wait_for(ACTIONS, customer_id=last, action="reminder")
    await harness.send(topics.CUSTOMER_PROFILES, _profile(last))
    snapshots = {}
    for customer in (first, last):
        # Owing 1,000.00 USD against a 500.00 limit: a credit hold, with its reason, at once
        [hold] = await harness.wait_for(
            ACTIONS, customer_id=customer, rule_id="credit_limit.exceeded"
        )
        assert hold.value["action"] == "credit_hold" and hold.value["channel"] == "internal"
        assert "over its credit limit of 500.00 USD by 500.00" in hold.value["reason"]
        # The read model is written after the outputs: wait for the snapshot of this decision.
        snapshots[customer] = await harness.snapshot(
            worker, customer, until=lambda s: s.get("profile") is not None and s["outstanding"]
        )
    for snapshot in snapshots.values():
        assert snapshot["customer_name"] == "Profiled Ltd"
        profile = snapshot["profile"]
        assert (profile["time_zone"], profile["country"], profile["channels"]) == (
            "America/Chicago",
            "US",
            ["letter"],
        )
        assert snapshot["credit_limits"] == [
            {"currency": "USD", "owed": "1000.00", "limit": "500.00"}
        ]
        assert snapshot["risk_points"]["credit limit use"] == 20
        assert snapshot["risk_points"]["credit score"] == 20
    segment = {c: s["segment"] for c, s in snapshots.items()}
    assert segment[first] == segment[last]
    # Known first, the profile routes the first reminder by letter (email is not allowed), and
    # a poor score and the limit make a 1,000.00 USD debt medium risk (5 + 10 + 20 + 20 = 55)
    [reminder] = await harness.wait_for(ACTIONS, customer_id=first, action="reminder")
    assert reminder.value["channel"] == "letter"
    assert reminder.value["segment"]["risk_bucket"] == "medium"
    assert "does not allow email, so by letter instead" in reminder.value["reason"]


async def test_a_bad_profile_is_dead_lettered_with_its_field_and_changes_nothing(
    harness: Harness, worker: WorkerProcess
) -> None:
    customer = unique("profile-bad")
    await harness.send(
        topics.CUSTOMER_PROFILES,
        f.event(customer, "customer.profile_updated", country="XX", time_zone="UTC"),
    )
    [letter] = await harness.wait_for(DEAD, key=customer)
    assert letter.value["source_topic"].endswith("customer-profiles")
    assert letter.value["error"].startswith("country:")
    await harness.send(
        topics.CUSTOMER_PROFILES, f.event(customer, "customer.profile_updated", country="DE")
    )
    snapshot = await harness.snapshot(
        worker, customer, until=lambda s: s.get("profile") is not None
    )
    assert snapshot["profile"]["country"] == "DE"
    assert snapshot["profile"]["time_zone"] is None  # the bad update set nothing
