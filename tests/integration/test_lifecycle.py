"""Contract 1.1 on the real broker: a dispute pauses chasing, a broken promise is followed up, a
bounced payment reopens its invoice, and a contact still ahead is withdrawn when it becomes moot.
Each goes in through its own topic and is checked on the outputs, as a consumer sees them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas import topics
from tests.support import factories as f
from tests.support.harness import Harness, WorkerProcess, unique

pytestmark = pytest.mark.integration

FLAGS, ACTIONS = topics.LATE_PAYMENT_FLAGS, topics.COLLECTION_ACTIONS
LADDERS = ("low.", "medium.", "high.")


def chasing(harness: Harness, customer: str) -> list[dict[str, object]]:
    """The ladder actions published for a customer."""
    return [
        m.value
        for m in harness.outputs.of(ACTIONS, customer)
        if m.value["event_type"] == "collection.action_requested"
        and str(m.value["rule_id"]).startswith(LADDERS)
    ]


async def test_a_disputed_invoice_is_flagged_not_chased_and_resumes_when_rejected(
    harness: Harness,
) -> None:
    customer = unique("dispute")
    issued, notice = f.late_invoice(customer)
    await harness.send(topics.INVOICE_ISSUED, issued)
    await harness.send(
        topics.COLLECTION_UPDATES,
        f.event(
            customer,
            "dispute.opened",
            dispute_id="D-1",
            invoice_id="INV-1",
            opened_on=f.days_ago(3),
            reason="goods damaged",
        ),
    )
    [review] = await harness.wait_for(ACTIONS, customer_id=customer, action="dispute_review")
    assert "D-1" in review.value["reason"] and review.value["channel"] == "internal"
    await harness.send(topics.DUE_DATE_PASSED, notice)
    await harness.wait_for(FLAGS, customer_id=customer, invoice_id="INV-1")
    await harness.settle()
    assert chasing(harness, customer) == []  # a flag is a fact; chasing waits for the dispute

    await harness.send(
        topics.COLLECTION_UPDATES,
        f.event(
            customer,
            "dispute.resolved",
            dispute_id="D-1",
            resolved_on=f.days_ago(0),
            outcome="rejected",
        ),
    )
    await harness.wait_for(ACTIONS, customer_id=customer, rule_id="low.d1.reminder")
    await harness.settle()
    assert [a["rule_id"] for a in chasing(harness, customer)] == ["low.d1.reminder"]


async def test_a_broken_promise_publishes_its_status_and_a_follow_up_at_once(
    harness: Harness,
) -> None:
    customer = unique("promise")
    issued = f.invoice(
        customer, "INV-1", amount="800.00", issued_on=f.days_ago(50), due_date=f.days_ago(20)
    )
    await harness.send(topics.INVOICE_ISSUED, issued)
    await harness.send(
        topics.COLLECTION_UPDATES,
        f.event(
            customer,
            "promise_to_pay.made",
            promise_id="PTP-1",
            amount="800.00",
            currency="USD",
            promised_on=f.days_ago(6),
            made_on=f.days_ago(15),
            invoice_ids=["INV-1"],
            source="collector",
        ),
    )
    [status] = await harness.wait_for(
        ACTIONS, customer_id=customer, event_type="commitment.status_changed"
    )
    assert (status.value["commitment_id"], status.value["status"]) == ("PTP-1", "broken")
    [follow_up] = await harness.wait_for(ACTIONS, customer_id=customer, action="promise_follow_up")
    assert follow_up.value["invoice_ids"] == ["INV-1"] and "PTP-1" in follow_up.value["reason"]


async def test_a_bounced_payment_reopens_the_invoice_late(
    harness: Harness, worker: WorkerProcess
) -> None:
    customer = unique("bounce")
    # The payment (received before the due date) reaches the worker first: it waits for its
    # invoice, which arrives paid and is never late.
    await harness.send(
        topics.PAYMENT_RECEIVED,
        f.payment(
            customer, "PAY-1", amount="300.00", received_on=f.days_ago(8), invoice_id="INV-1"
        ),
    )
    issued = f.invoice(
        customer, "INV-1", amount="300.00", issued_on=f.days_ago(35), due_date=f.days_ago(5)
    )
    await harness.send(topics.INVOICE_ISSUED, issued)
    await harness.snapshot(worker, customer, until=lambda s: s["outstanding"] == {})
    assert harness.outputs.of(FLAGS, customer) == []
    await harness.send(
        topics.PAYMENT_RECEIVED,
        f.event(
            customer,
            "payment.reversed",
            payment_id="PAY-1",
            reversed_on=f.days_ago(0),
            reason="nsf",
        ),
    )
    [flag] = await harness.wait_for(FLAGS, customer_id=customer, invoice_id="INV-1")
    assert flag.value["detected_by"] == "clock" and flag.value["amount_outstanding"] == "300.00"
    snapshot = await harness.snapshot(
        worker, customer, until=lambda s: s["outstanding"] == {"USD": "300.00"}
    )
    assert snapshot["open_invoices"][0]["to_collect"] == "300.00"
    await harness.wait_for(ACTIONS, customer_id=customer, rule_id="low.d1.reminder")


def _night_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about 02:00 now (on the same weekday as UTC, or the next)."""
    offset = (2 - now.hour) % 24
    if offset > 14:
        offset -= 24
    # Etc/GMT-N is UTC+N (POSIX signs).
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


async def test_a_contact_still_ahead_is_withdrawn_when_the_invoice_is_paid(
    harness: Harness,
) -> None:
    customer = unique("withdraw")
    zone = _night_zone(datetime.now(UTC))
    # The customer's zone comes from its profile (contract 1.1), sent before its invoice
    await harness.send(
        topics.CUSTOMER_PROFILES, f.event(customer, "customer.profile_updated", time_zone=zone)
    )
    issued, notice = f.late_invoice(customer)
    await harness.send(topics.INVOICE_ISSUED, issued)
    await harness.send(topics.DUE_DATE_PASSED, notice)
    [reminder] = await harness.wait_for(ACTIONS, customer_id=customer, rule_id="low.d1.reminder")
    assert reminder.value["not_before"] is not None  # quiet hours in the customer's night
    await harness.send(
        topics.PAYMENT_RECEIVED,
        f.payment(
            customer, "PAY-1", amount="1000.00", received_on=f.days_ago(0), invoice_id="INV-1"
        ),
    )
    [withdrawn] = await harness.wait_for(
        ACTIONS, customer_id=customer, event_type="collection.action_withdrawn"
    )
    assert withdrawn.value["withdraws"] == reminder.value["event_id"]
    assert "paid in full" in withdrawn.value["reason"]


async def test_a_payment_in_another_currency_is_kept_as_unapplied_cash_and_reconciled(
    harness: Harness, worker: WorkerProcess
) -> None:
    customer = unique("fx")
    issued = f.invoice(
        customer, "INV-1", amount="500.00", issued_on=f.days_ago(20), due_date=f.days_ago(-10)
    )
    await harness.send(topics.INVOICE_ISSUED, issued)
    await harness.send(
        topics.PAYMENT_RECEIVED,
        f.payment(
            customer,
            "PAY-EUR",
            amount="460.00",
            currency="EUR",
            received_on=f.days_ago(5),
            invoice_id="INV-1",
        ),
    )
    [task] = await harness.wait_for(ACTIONS, customer_id=customer, action="reconcile_payment")
    assert task.value["payment_ids"] == ["PAY-EUR"] and "in USD" in task.value["reason"]
    snapshot = await harness.snapshot(worker, customer, until=lambda s: s["unapplied"])
    assert snapshot["unapplied"][0]["amount"] == "460.00"
    assert snapshot["outstanding"] == {"USD": "500.00"}
    assert harness.outputs.of(topics.DEAD_LETTER, customer) == []
