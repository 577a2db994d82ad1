"""A worker stopped and started again keeps every customer's state and re-sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.demo.devstack import DevStack
from schemas import topics
from tests.support import factories as f
from tests.support.harness import (
    Harness,
    WorkerProcess,
    input_env,
    notice_policy,
    own_inputs,
    unique,
)

pytestmark = pytest.mark.integration


def persisted_offsets(data_dir: Path) -> dict[str, int]:
    """The changelog offset each partition's RocksDB database holds (Faust's own record of it)."""
    import rocksdict

    found = {}
    for path in sorted(data_dir.rglob("customers-*.db")):
        db = rocksdict.Rdict(str(path), options=rocksdict.Options(raw_mode=True))
        try:
            offset = db.get(b"__faust\0offset__")
        finally:
            db.close()
        if offset is not None:
            found[path.name] = int(offset)
    return found


def about(harness: Harness, customer: str) -> int:
    return len([m for m in harness.outputs.messages if m.value.get("customer_id") == customer])


@pytest.mark.parametrize("store", ["memory", "rocksdb"])
async def test_clean_restart_recovers_state_and_resends_nothing(
    stack: DevStack, workdir: Path, harness: Harness, store: str
) -> None:
    """Memory recovers the whole changelog; RocksDB reopens its data dir and reads the tail."""
    app_id = unique(f"arpulse-restart-{store}")
    customer = unique("restart")
    # inputs of its own, so the session's shared worker does not process these events too
    inputs = own_inputs(app_id)
    issued_topic, due_topic = inputs[topics.INVOICE_ISSUED], inputs[topics.DUE_DATE_PASSED]
    data_dir = workdir / f"{app_id}-data"

    def worker() -> WorkerProcess:
        return WorkerProcess(
            kafka=stack.kafka_bootstrap,
            redis_url=stack.redis_url,
            workdir=workdir,
            app_id=app_id,
            **input_env(inputs),
            **notice_policy(workdir),
            ARPULSE_TABLE_STORE=store,
            ARPULSE_DATA_DIR=str(data_dir),
        )

    first = worker().start()
    first.wait_ready()
    try:
        issued, notice = f.late_invoice(customer)
        await harness.send(issued_topic, issued)
        await harness.send(due_topic, notice)
        await harness.wait_for(topics.COLLECTION_ACTIONS, customer_id=customer)
        await harness.settle(1.5)  # past the 1 s offset-commit interval
    finally:
        assert first.stop() == 0, first.log_tail()
    before_restart = about(harness, customer)
    if store == "rocksdb":  # the state is on disk, with the changelog offset it has reached
        assert persisted_offsets(data_dir), "no RocksDB database kept its changelog offset"

    second = worker().start()
    second.wait_ready()
    try:
        await harness.settle(1.5)
        assert about(harness, customer) == before_restart, "a clean restart re-sent outputs"

        # the recovered state still knows INV-1 was flagged: paying it late thanks the customer
        await harness.send(
            inputs[topics.PAYMENT_RECEIVED],
            f.payment(
                customer, "PAY-1", amount="1000.00", received_on=f.days_ago(0), invoice_id="INV-1"
            ),
        )
        [thanks] = await harness.wait_for(
            topics.COLLECTION_ACTIONS, customer_id=customer, action="thank_you"
        )
        assert thanks.value["invoice_ids"] == ["INV-1"]
        assert len(harness.outputs.where(topics.LATE_PAYMENT_FLAGS, customer_id=customer)) == 1
    finally:
        second.stop()
