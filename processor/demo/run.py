"""`arpulse demo` (what `make run` starts): broker, Redis, one worker and a live portfolio feed.

Everything started here is stopped on Ctrl-C; servers given through ARPULSE_KAFKA_BROKER or
ARPULSE_REDIS_URL are used and left alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processor.demo.portfolio import bad_events, portfolio
from processor.demo.render import render
from processor.devstack import DevStack, StackError, free_port
from schemas import topics

PARTITIONS = 4
RUN_DIR = Path("var/demo")


def run_demo(*, customers: int, rate: float) -> int:
    """Run the demo until Ctrl-C; returns the exit code."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    try:
        stack = DevStack(workdir=RUN_DIR / "servers").start()
    except StackError as exc:
        print(f"arpulse demo: {exc}", file=sys.stderr)
        return 1
    worker: subprocess.Popen[bytes] | None = None
    try:
        port = int(os.environ.get("ARPULSE_WEB_PORT") or free_port())
        for name, address in (("kafka", stack.kafka_bootstrap), ("redis", stack.redis_url)):
            origin = "started here" if name in stack.started else "given"
            print(f"{name:<7} {address}  ({origin})")
        worker = _start_worker(stack, port)
        _wait_ready(worker, port)
        base = f"http://127.0.0.1:{port}"
        print(
            f"\nmetrics   {base}/metrics\nworklist  {base}/worklist?limit=10\n"
            f"customer  {base}/customers/cust-00001\nworker log {RUN_DIR / 'worker.log'}\n"
        )
        print("Feeding the portfolio; Ctrl-C stops everything.\n")
        asyncio.run(
            _feed_and_watch(stack.kafka_bootstrap, customers=customers, rate=rate, base=base)
        )
    except KeyboardInterrupt:
        print("\nstopping...")
    except RuntimeError as exc:
        print(f"arpulse demo: {exc}", file=sys.stderr)
        return 1
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        stack.stop()
    return 0


def _start_worker(stack: DevStack, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ARPULSE_KAFKA_BROKER": stack.kafka_bootstrap,
        "ARPULSE_REDIS_URL": stack.redis_url,
        "ARPULSE_APP_ID": os.environ.get("ARPULSE_APP_ID", "arpulse-demo"),
        "ARPULSE_REDIS_PREFIX": os.environ.get("ARPULSE_REDIS_PREFIX", "arpulse-demo"),
        "ARPULSE_PARTITIONS": str(PARTITIONS),
        "ARPULSE_WEB_PORT": str(port),
        "ARPULSE_DATA_DIR": str(RUN_DIR / "worker-data"),
    }
    log = (RUN_DIR / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "processor.cli", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return process


def _wait_ready(worker: subprocess.Popen[bytes], port: int, timeout: float = 90.0) -> None:
    print("starting the worker ", end="", flush=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            tail = (RUN_DIR / "worker.log").read_text(errors="replace").splitlines()[-20:]
            raise RuntimeError("the worker exited:\n" + "\n".join(tail))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    print(" ready")
                    return
        except OSError:
            pass
        print(".", end="", flush=True)
        time.sleep(0.5)
    raise RuntimeError(
        f"the worker was not ready after {timeout:.0f}s; see {RUN_DIR / 'worker.log'}"
    )


async def _feed_and_watch(bootstrap: str, *, customers: int, rate: float, base: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=50)
    await producer.start()
    await consumer.start()
    counts: Counter[str] = Counter()
    try:
        partitions = [TopicPartition(t, p) for t in topics.OUTPUT_TOPICS for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        watcher = asyncio.create_task(_watch(consumer, counts))
        try:
            await _feed(producer, customers=customers, rate=rate, counts=counts)
            print(
                f"\nportfolio fed ({counts['fed']} events). Live from now on: an invoice falls "
                "due every few seconds; half get paid late, the rest are chased.\n"
            )
            await _live(producer, counts=counts, base=base)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    finally:
        await producer.stop()
        await consumer.stop()


async def _send(producer: AIOKafkaProducer, topic: str, key: str | None, value: bytes) -> None:
    await producer.send(topic, key=None if key is None else key.encode(), value=value)


async def _feed(
    producer: AIOKafkaProducer, *, customers: int, rate: float, counts: Counter[str]
) -> None:
    today = datetime.now(UTC).date()
    for topic, key, raw in bad_events():
        await _send(producer, topic, key, raw)
    interval = 1.0 / rate
    started = time.monotonic()
    for n, event in enumerate(portfolio(customers=customers, today=today)):
        await _send(producer, event.topic, event.key, json.dumps(event.value).encode())
        counts["fed"] += 1
        ahead = started + n * interval - time.monotonic()
        if ahead > 0:
            await asyncio.sleep(ahead)
    await producer.flush()


async def _live(producer: AIOKafkaProducer, *, counts: Counter[str], base: str) -> None:
    rng = random.Random(11)
    today = datetime.now(UTC).date()
    n = 0
    last_summary = time.monotonic()
    while True:
        n += 1
        customer = f"live-{n % 40:03d}"
        invoice_id = f"LIVE-{n:05d}"
        due = today - timedelta(days=1)
        stamp = datetime.now(UTC).isoformat()
        common = {"schema_version": 1, "customer_id": customer, "occurred_at": stamp}
        invoice = {
            **common,
            "event_id": f"live-{invoice_id}-issued",
            "event_type": "invoice.issued",
            "invoice_id": invoice_id,
            "amount": f"{rng.randint(300, 9000)}.00",
            "currency": "USD",
            "issued_on": (due - timedelta(days=30)).isoformat(),
            "due_date": due.isoformat(),
            "customer_name": f"Live Customer {n % 40:03d}",
        }
        await _send(producer, topics.INVOICE_ISSUED, customer, json.dumps(invoice).encode())
        notice = {
            **common,
            "event_id": f"live-{invoice_id}-due",
            "event_type": "invoice.due_date_passed",
            "invoice_id": invoice_id,
            "due_date": due.isoformat(),
        }
        await asyncio.sleep(0.5)
        await _send(producer, topics.DUE_DATE_PASSED, customer, json.dumps(notice).encode())
        if rng.random() < 0.5:
            await asyncio.sleep(1.0)
            payment = {
                **common,
                "event_id": f"live-{invoice_id}-paid",
                "event_type": "payment.received",
                "payment_id": f"LP-{n:05d}",
                "amount": invoice["amount"],
                "currency": "USD",
                "received_on": today.isoformat(),
                "invoice_id": invoice_id,
            }
            await _send(producer, topics.PAYMENT_RECEIVED, customer, json.dumps(payment).encode())
        await asyncio.sleep(1.0)
        if time.monotonic() - last_summary > 15:
            last_summary = time.monotonic()
            _summary(counts, base)


def _summary(counts: Counter[str], base: str) -> None:
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "fed")
    print(f"--- so far: {shown}   (metrics: {base}/metrics)")


async def _watch(consumer: AIOKafkaConsumer, counts: Counter[str]) -> None:
    color = sys.stdout.isatty()
    while True:
        batch = await consumer.getmany(timeout_ms=200)
        for records in batch.values():
            for record in records:
                event: dict[str, Any] = json.loads(record.value)
                counts[event.get("event_type", "?")] += 1
                line = render(event, color=color)
                if line:
                    print(line, flush=True)
