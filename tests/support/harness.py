"""Run `arpulse worker` as its own process and talk to it only through Kafka, Redis and HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processor.core.policy_file import default_policy_text
from processor.demo.devstack import die_with_parent, free_port
from schemas import topics

OUTPUT_TOPICS = topics.OUTPUT_TOPICS
PARTITIONS = 4


# A due date kept as it is, on a weekend too: an invoice due yesterday is made late by its notice
# today (within the clock's one day of grace), whatever day of the week the suite runs on. With
# the default (the next business day), a Friday due date is three days old on Monday and the
# clock has flagged it before any notice. Only workers on the real clock whose tests send
# `factories.late_invoice` take it; the ones compared with `simulate` keep the default policy.
NOTICE_POLICY_CHANGE = (
    'due_on_non_business_day = "next_business_day"',
    'due_on_non_business_day = "as_is"',
)


def notice_policy_text(text: str | None = None) -> str:
    """`text` (the default policy) with due dates kept as they are (see NOTICE_POLICY_CHANGE)."""
    text = default_policy_text() if text is None else text
    old, new = NOTICE_POLICY_CHANGE
    assert text.count(old) == 1, "the default policy no longer says " + old
    return text.replace(old, new)


def notice_policy(workdir: Path) -> dict[str, str]:
    """The worker setting that gives it `notice_policy_text`, written under `workdir`."""
    path = workdir / "notice-policy.toml"
    path.write_text(notice_policy_text(), encoding="utf-8")
    return {"ARPULSE_POLICY_FILE": str(path)}


class WorkerProcess:
    """One `arpulse worker` subprocess with its own web port, data dir and log file."""

    def __init__(
        self, *, kafka: str, redis_url: str, workdir: Path, app_id: str, **env: str
    ) -> None:
        self.web_port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"worker-{self.web_port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ARPULSE_")},
            "ARPULSE_KAFKA_BROKER": kafka,
            "ARPULSE_REDIS_URL": redis_url,
            "ARPULSE_REDIS_PREFIX": app_id,
            "ARPULSE_APP_ID": app_id,
            "ARPULSE_PARTITIONS": str(PARTITIONS),
            "ARPULSE_WEB_PORT": str(self.web_port),
            "ARPULSE_DATA_DIR": str(workdir / f"data-{self.web_port}"),
            "ARPULSE_SESSION_TIMEOUT_SECONDS": "6",
            "ARPULSE_HEARTBEAT_INTERVAL_SECONDS": "1",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the worker's HTTP API."""
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> WorkerProcess:
        """Launch the worker through its console script, as a user would."""
        arpulse = Path(sys.executable).parent / "arpulse"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(arpulse), "worker"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        log.close()
        return self

    def log_tail(self, lines: int = 40) -> str:
        """The end of the worker's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def token_for(self, path: str) -> str | None:
        """The worker's first token for `path` (ops or API), or None when it has none."""
        ops = path.split("?")[0] in ("/healthz", "/metrics")
        tokens = self.env.get("ARPULSE_OPS_TOKENS" if ops else "ARPULSE_API_TOKENS")
        return tokens.split(",")[0] if tokens else None

    def http(
        self, path: str, *, token: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """GET a path (with `token`, else the worker's own); returns (status, JSON or text)."""
        sent = dict(headers or {})
        token = token or self.token_for(path)
        if "Authorization" not in sent and token:
            sent["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                body = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read().decode(), exc.code
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Block until /healthz says ready; returns the seconds it took."""
        assert self.process is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                status, _ = self.http("/healthz")
                if status == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Stop the worker (SIGTERM by default, SIGKILL to simulate a crash)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


@dataclass
class Received:
    """One output message as seen by the test's consumer."""

    topic: str
    key: str | None
    value: dict[str, Any]
    at: float


@dataclass
class Outputs:
    """Every message on the output topics since the collector started."""

    messages: list[Received] = field(default_factory=list)

    def of(self, topic: str, customer_id: str) -> list[Received]:
        """Messages on `topic` about `customer_id`."""
        return [
            m
            for m in self.messages
            if m.topic == topic and m.value.get("customer_id") == customer_id
        ]

    def where(self, topic: str, **fields: Any) -> list[Received]:
        """Messages on `topic` whose fields equal `fields`."""
        return [
            m
            for m in self.messages
            if m.topic == topic and all(m.value.get(k) == v for k, v in fields.items())
        ]


class Harness:
    """A producer for inputs and a collector of outputs, on the real broker."""

    def __init__(self, kafka: str, **security: Any) -> None:
        """`security`: aiokafka's connection arguments for a secured broker (TLS, SASL)."""
        self.kafka = kafka
        self.outputs = Outputs()
        self._producer = AIOKafkaProducer(bootstrap_servers=kafka, linger_ms=0, **security)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka, fetch_max_wait_ms=20, enable_auto_commit=False, **security
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect; start collecting from the current end of every output topic."""
        await self._producer.start()
        await self._consumer.start()
        partitions = [TopicPartition(t, p) for t in OUTPUT_TOPICS for p in range(PARTITIONS)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        """Disconnect."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()
        await self._producer.stop()

    async def _collect(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=50)
            now = time.monotonic()
            for records in batch.values():
                for record in records:
                    self.outputs.messages.append(
                        Received(
                            topic=record.topic,
                            key=None if record.key is None else record.key.decode(),
                            value=json.loads(record.value),
                            at=now,
                        )
                    )

    async def send(self, topic: str, event: dict[str, Any], *, key: str | None = None) -> float:
        """Produce one event (keyed by its customer_id unless told); returns the ack time."""
        raw_key = event["customer_id"] if key is None else key
        await self._producer.send_and_wait(
            topic, key=raw_key.encode(), value=json.dumps(event).encode()
        )
        return time.monotonic()

    async def send_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Produce many events as fast as the client can (a backfill), keyed by customer_id:
        sent without waiting, then every acknowledgement awaited."""
        pending = [
            await self._producer.send(
                topic, key=event["customer_id"].encode(), value=json.dumps(event).encode()
            )
            for topic, event in events
        ]
        for delivery in pending:
            await delivery

    async def send_raw(self, topic: str, value: bytes, *, key: bytes | None = None) -> float:
        """Produce arbitrary bytes."""
        await self._producer.send_and_wait(topic, key=key, value=value)
        return time.monotonic()

    async def wait_for(
        self, topic: str, count: int = 1, *, timeout: float = 10.0, **fields: Any
    ) -> list[Received]:
        """Wait until at least `count` messages on `topic` match `fields`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.outputs.where(topic, **fields)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        found = self.outputs.where(topic, **fields)
        raise AssertionError(f"expected {count} on {topic} matching {fields}, got {len(found)}")

    async def snapshot(
        self, worker: WorkerProcess, customer_id: str, *, until: Any = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The customer's snapshot from the worker's HTTP API, once `until(snapshot)` holds."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            status, body = await asyncio.to_thread(worker.http, f"/customers/{customer_id}")
            if status == 200:
                last = body
                if until is None or until(body):
                    return dict(body)
            await asyncio.sleep(0.05)
        raise AssertionError(f"snapshot of {customer_id} never satisfied the condition: {last}")

    async def settle(self, seconds: float = 1.5) -> None:
        """Give the worker time to publish anything it still would."""
        await asyncio.sleep(seconds)


def unique(prefix: str) -> str:
    """A customer or app id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def own_inputs(app_id: str) -> dict[str, str]:
    """Input topics of a test's own (default name -> its name), so other workers ignore them."""
    return {t: f"{app_id}.{t.removeprefix('ar.')}" for t in topics.INPUT_TOPICS}


def input_env(inputs: dict[str, str]) -> dict[str, str]:
    """The worker settings that point it at `own_inputs`."""
    return {
        "ARPULSE_TOPIC_" + t.removeprefix("ar.").replace("-", "_").upper(): name
        for t, name in inputs.items()
    }


@dataclass
class OwnWorker:
    """A test's own worker, the input topics it alone reads, and a producer onto them."""

    worker: WorkerProcess
    inputs: dict[str, str]
    harness: Harness

    async def send(self, topic: str, event: dict[str, Any]) -> None:
        """Publish `event` on the worker's own name for the contract topic `topic`."""
        await self.harness.send(self.inputs[topic], event)


@contextlib.asynccontextmanager
async def own_worker(
    *, kafka: str, redis_url: str, workdir: Path, prefix: str, **env: str
) -> AsyncIterator[OwnWorker]:
    """Start a worker of a new app id on input topics of its own; ready, with a harness."""
    app_id = unique(prefix)
    inputs = own_inputs(app_id)
    worker = WorkerProcess(
        kafka=kafka,
        redis_url=redis_url,
        workdir=workdir,
        app_id=app_id,
        **input_env(inputs),
        **env,
    ).start()
    try:
        await asyncio.to_thread(worker.wait_ready)
        harness = Harness(kafka)  # after the worker made the output topics
        await harness.start()
        try:
            yield OwnWorker(worker=worker, inputs=inputs, harness=harness)
        finally:
            await harness.stop()
    finally:
        worker.stop()
