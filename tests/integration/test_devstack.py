"""DevStack against the real Tansu broker and a real redis-server (no mocks)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processor.demo.devstack import DevStack, StackError, free_port
from processor.runtime.faust_adapter import served_end_offsets

pytestmark = pytest.mark.integration

ENV_VARS = ("ARPULSE_KAFKA_BROKER", "ARPULSE_REDIS_URL", "ARPULSE_TANSU_BIN")


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1].split("/", 1)[0])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with pytest.MonkeyPatch.context() as mp:
        for name in ENV_VARS:  # the stack must start its own servers, whatever CI exports
            mp.delenv(name, raising=False)
        with DevStack() as started:
            yield started


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_starts_both_servers_on_private_ports(stack: DevStack) -> None:
    assert set(stack.started) == {"kafka", "redis"}
    assert stack.kafka_bootstrap.startswith("127.0.0.1:")
    assert stack.redis_url.startswith("redis://127.0.0.1:")
    kafka_port, redis_port = _port(stack.kafka_bootstrap), _port(stack.redis_url)
    assert kafka_port not in (9092, 6379) and redis_port not in (9092, 6379)
    assert kafka_port != redis_port


async def test_kafka_round_trip(stack: DevStack) -> None:
    topic = f"devstack-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, b'{"amount": 12.5}', key=b"cust-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, meta.partition)])
        record = await asyncio.wait_for(consumer.getone(), timeout=10)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"cust-1", b'{"amount": 12.5}')
    assert record.offset == meta.offset


async def test_end_offsets_cover_the_whole_last_record_batch(stack: DevStack) -> None:
    """Table recovery's end offsets: Tansu reports the end of a batch short, the probe does not."""
    topic = f"devstack-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, linger_ms=50)
    await producer.start()
    try:
        first = await producer.send_and_wait(topic, b"alone", partition=0)
        batch = [await producer.send(topic, b"batched", partition=0) for _ in range(3)]
        offsets = [(await delivery).offset for delivery in batch]
    finally:
        await producer.stop()
    tp = TopicPartition(topic, 0)
    assert offsets == [first.offset + 1, first.offset + 2, first.offset + 3]
    probe = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, enable_auto_commit=False)
    await probe.start()
    try:
        reported = await probe.end_offsets([tp])
        ends = await served_end_offsets(probe, reported)
    finally:
        await probe.stop()
    assert reported[tp] <= offsets[-1] + 1  # Tansu: after the batch's first record
    assert ends == {tp: offsets[-1] + 1}


async def test_redis_set_get(stack: DevStack) -> None:
    client = aioredis.Redis.from_url(stack.redis_url)
    try:
        key = f"devstack:{uuid.uuid4().hex}"
        await client.set(key, "42")
        assert await client.get(key) == b"42"
        info = await client.info("server")
        assert int(info["tcp_port"]) == _port(stack.redis_url)
    finally:
        await client.aclose()


def test_env_redis_url_is_honoured(stack: DevStack, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ARPULSE_REDIS_URL", stack.redis_url)
    with DevStack(kafka_bootstrap=stack.kafka_bootstrap) as reuse:
        assert reuse.started == ()
        assert reuse.redis_url == stack.redis_url
        assert reuse.kafka_bootstrap == stack.kafka_bootstrap
    # Leaving the reusing stack must not stop servers it did not start.
    assert _accepts(_port(stack.redis_url))
    assert _accepts(_port(stack.kafka_bootstrap))


def test_stop_releases_ports_and_is_idempotent(clean_env: pytest.MonkeyPatch) -> None:
    own = DevStack().start()
    kafka_port, redis_port = _port(own.kafka_bootstrap), _port(own.redis_url)
    workdir = own.workdir
    assert workdir is not None and workdir.is_dir()
    assert _accepts(kafka_port) and _accepts(redis_port)
    own.stop()
    own.stop()
    assert own.started == ()
    assert not _accepts(kafka_port)
    assert not _accepts(redis_port)
    assert not workdir.exists()


def test_missing_tansu_is_a_clear_error(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("ARPULSE_TANSU_BIN", str(tmp_path / "no-such-tansu"))
    clean_env.setenv("ARPULSE_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    stack = DevStack(workdir=tmp_path)
    with pytest.raises(StackError, match="ARPULSE_TANSU_BIN"):
        stack.start()
    assert stack.started == ()
