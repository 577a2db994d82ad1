"""Payment terms on the real broker, through a worker run with a policy that states late fees:
a discount taken settles the invoice (nothing is chased), a reminder states the fee accrued and
carries the payment link, the billing system gets late_fee.assessed with the same figure, and
unreadable terms are dead-lettered while the invoice is kept."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from processor.demo.devstack import DevStack
from schemas import topics
from tests.support import factories as f
from tests.support.harness import (
    Harness,
    WorkerProcess,
    input_env,
    notice_policy_text,
    own_inputs,
    unique,
)

pytestmark = pytest.mark.integration

ACTIONS, DEAD = topics.COLLECTION_ACTIONS, topics.DEAD_LETTER
APP = unique("arpulse-terms")
INPUTS = own_inputs(APP)
LINK = "https://pay.example.com/{customer_id}?invoices={invoice_ids}"


def _policy_text() -> str:
    text = notice_policy_text().replace('version = "2026.12-2"', 'version = "terms-it"')
    text = text.replace("fixed = {}", 'fixed = { USD = "40.00" }')
    text = text.replace('interest = "none"', 'interest = "statutory"\nreference_rate_percent = "2"')
    text = text.replace("assess = false", "assess = true")
    text = text.replace(
        f'# url_template = "{LINK.split("?")[0]}', f'url_template = "{LINK.split("?")[0]}'
    )
    assert 'url_template = "https' in text and "assess = true" in text
    return text


@pytest.fixture(scope="module")
def terms_worker(stack: DevStack, workdir: Path) -> Iterator[WorkerProcess]:
    policy = workdir / "terms-policy.toml"
    policy.write_text(_policy_text())
    process = WorkerProcess(
        kafka=stack.kafka_bootstrap,
        redis_url=stack.redis_url,
        workdir=workdir,
        app_id=APP,
        ARPULSE_POLICY_FILE=str(policy),
        **input_env(INPUTS),
    ).start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


async def test_a_discount_taken_settles_the_invoice_and_nothing_is_chased(
    harness: Harness, terms_worker: WorkerProcess
) -> None:
    customer = unique("terms-discount")
    issued = f.days_ago(5)
    invoice = f.invoice(
        customer,
        "INV-D",
        issued_on=issued,
        due_date=f.days_ago(-25),
        terms="2/10 net 30",
    )
    await harness.send(INPUTS[topics.INVOICE_ISSUED], invoice)
    await harness.send(
        INPUTS[topics.PAYMENT_RECEIVED],
        f.payment(
            customer, "PAY-D", invoice_id="INV-D", amount="980.00", received_on=f.days_ago(1)
        ),
    )
    snapshot = await harness.snapshot(
        terms_worker, customer, until=lambda s: not s["open_invoices"] and s["discounts_taken"]
    )
    assert snapshot["discounts_taken"] == [
        {
            "invoice_id": "INV-D",
            "discount": "20.00",
            "currency": "USD",
            "settled_on": f.days_ago(1).isoformat(),
        }
    ]
    assert snapshot["outstanding"] == {}
    assert snapshot["payment_behavior"]["late_invoices"] == 0  # counted as on time
    assert harness.outputs.where(ACTIONS, customer_id=customer) == []


async def test_a_reminder_states_the_fee_accrued_and_the_billing_system_gets_it(
    harness: Harness, terms_worker: WorkerProcess
) -> None:
    customer = unique("terms-fee")
    issued, notice = f.late_invoice(customer, "INV-F")
    await harness.send(INPUTS[topics.INVOICE_ISSUED], issued)
    await harness.send(INPUTS[topics.DUE_DATE_PASSED], notice)
    [reminder] = await harness.wait_for(ACTIONS, customer_id=customer, action="reminder")
    late = f.days_late(f.days_ago(1))
    rate = Decimal(10) / 100 / 365  # statutory: 2 % reference + 8 points, a year
    interest = (Decimal("1000.00") * late * rate).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    [fee] = reminder.value["late_fees"]
    assert fee == {
        "invoice_id": "INV-F",
        "fixed": "40.00",
        "interest": str(interest),
        "total": str(Decimal("40.00") + interest),
        "as_of": f.days_ago(0).isoformat(),
        "days_late": late,
        "capped": False,
    }
    assert reminder.value["amount_outstanding"] == "1000.00"
    assert "Late fees accrued to date (stated, not invoiced)" in reminder.value["reason"]
    assert reminder.value["payment_url"] == f"https://pay.example.com/{customer}?invoices=INV-F"
    [assessed] = await harness.wait_for(
        ACTIONS, customer_id=customer, event_type="late_fee.assessed"
    )
    assert (assessed.value["invoice_id"], assessed.value["amount"]) == ("INV-F", fee["total"])
    assert assessed.value["final"] is False and assessed.value["policy_version"] == "terms-it"
    snapshot = await harness.snapshot(terms_worker, customer, until=lambda s: s["late_fees"])
    assert snapshot["late_fees"] == {"USD": fee["total"]}
    _, metrics = terms_worker.http("/metrics")
    assert 'arpulse_late_fee_assessments_total{final="false"}' in metrics


async def test_unreadable_terms_are_dead_lettered_and_the_invoice_kept(
    harness: Harness, terms_worker: WorkerProcess
) -> None:
    customer = unique("terms-bad")
    invoice = f.invoice(
        customer, "INV-B", issued_on=f.days_ago(2), due_date=f.days_ago(-28), terms="net thirty"
    )
    await harness.send(INPUTS[topics.INVOICE_ISSUED], invoice)
    [letter] = await harness.wait_for(DEAD, key=customer)
    assert letter.value["error"].startswith("terms: 'net thirty' is not a form arpulse reads")
    assert "the invoice is kept" in letter.value["error"]
    snapshot = await harness.snapshot(terms_worker, customer, until=lambda s: s["open_invoices"])
    [row] = snapshot["open_invoices"]
    assert (row["invoice_id"], row["outstanding"]) == ("INV-B", "1000.00")
    assert "terms" not in row
