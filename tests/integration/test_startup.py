"""Start-up refuses a broker whose topics would break co-partitioning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from processor.demo.devstack import DevStack
from tests.support.harness import WorkerProcess, unique

pytestmark = pytest.mark.integration


async def test_worker_refuses_an_input_topic_with_another_partition_count(
    stack: DevStack, workdir: Path
) -> None:
    app_id = unique("arpulse-parts")
    topic = f"{app_id}.invoice-issued"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    worker = WorkerProcess(
        kafka=stack.kafka_bootstrap,
        redis_url=stack.redis_url,
        workdir=workdir,
        app_id=app_id,
        ARPULSE_TOPIC_INVOICE_ISSUED=topic,
    )
    arpulse = Path(sys.executable).parent / "arpulse"
    result = subprocess.run(
        [str(arpulse), "worker"], env=worker.env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"{topic} has 2" in result.stderr and "ARPULSE_PARTITIONS=4" in result.stderr
