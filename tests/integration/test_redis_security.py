"""The read model over TLS with an ACL user, against a real redis-server that speaks only TLS,
asks for a client certificate and has its default user off; wrong settings stop start-up."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from processor.demo.devstack import DevStack
from schemas import topics
from tests.support import factories as f
from tests.support.harness import Harness, WorkerProcess, input_env, own_inputs, unique
from tests.support.tls import TlsRedis, tls_redis

pytestmark = pytest.mark.integration

APP = unique("arpulse-tls")
# Least privilege, as docs/security.md gives it: the prefix's keys, no dangerous commands.
ACL_COMMANDS = "+@read +@write +@scripting +@connection +@transaction -@dangerous"
ARPULSE = Path(sys.executable).parent / "arpulse"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    with tls_redis(
        tmp_path_factory.mktemp("redis-tls"),
        user="arpulse",
        password=secrets.token_urlsafe(24),
        key_pattern=f"{APP}:*",
        commands=ACL_COMMANDS,
    ) as started:
        yield started


def tls_env(server: TlsRedis, **changes: str) -> dict[str, str]:
    certs = server.certificates
    env = {
        "ARPULSE_REDIS_USERNAME": server.user,
        "ARPULSE_REDIS_PASSWORD": server.password,
        "ARPULSE_REDIS_TLS_CA_FILE": str(certs.ca),
        "ARPULSE_REDIS_TLS_CERT_FILE": str(certs.client_cert),
        "ARPULSE_REDIS_TLS_KEY_FILE": str(certs.client_key),
    }
    env.update(changes)
    return {k: v for k, v in env.items() if v}


def worker_on(
    stack: DevStack, workdir: Path, server: TlsRedis, url: str | None = None, **env: str
) -> WorkerProcess:
    return WorkerProcess(
        kafka=stack.kafka_bootstrap,
        redis_url=url or server.url,
        workdir=workdir,
        app_id=APP,
        **input_env(own_inputs(APP)),
        **env,
    )


def cli(worker: WorkerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ARPULSE), *args],
        env={**os.environ, **worker.env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_a_worker_keeps_its_read_model_over_tls_as_an_acl_user(
    stack: DevStack, workdir: Path, server: TlsRedis
) -> None:
    worker = worker_on(stack, workdir, server, **tls_env(server)).start()
    try:
        await asyncio.to_thread(worker.wait_ready)
        harness = Harness(stack.kafka_bootstrap)
        await harness.start()
        try:
            customer = unique("c-tls")
            issued, _ = f.late_invoice(customer)
            inputs = own_inputs(APP)
            await harness.send(inputs[topics.INVOICE_ISSUED], issued)
            snapshot = await harness.snapshot(worker, customer, timeout=20)
        finally:
            await harness.stop()
        assert snapshot["customer_id"] == customer and snapshot["outstanding"] == {"USD": "1000.00"}
        status, health = await asyncio.to_thread(worker.http, "/healthz")
        assert status == 200 and health["redis_writes_ok"] is True
        printed = await asyncio.to_thread(cli, worker, "customer", customer)
        assert printed.returncode == 0, printed.stderr
        assert json.loads(printed.stdout)["customer_id"] == customer
    finally:
        worker.stop()
    assert server.password not in worker.log_path.read_text()
    rebuilt = await asyncio.to_thread(cli, worker, "projection", "rebuild")  # SCAN, DEL, the script
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    printed = await asyncio.to_thread(cli, worker, "customer", customer)
    assert printed.returncode == 0 and json.loads(printed.stdout)["customer_id"] == customer


def test_the_user_and_password_may_be_in_the_url_instead(
    stack: DevStack, workdir: Path, server: TlsRedis
) -> None:
    url = f"rediss://{server.user}:{server.password}@127.0.0.1:{server.port}/0"
    env = tls_env(server, ARPULSE_REDIS_USERNAME="", ARPULSE_REDIS_PASSWORD="")
    worker = worker_on(stack, workdir, server, url=url, **env)
    result = cli(worker, "customer", unique("nobody"))
    assert result.returncode == 1 and "not found" in result.stderr  # it connected and looked


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"ARPULSE_REDIS_PASSWORD": "not-the-password-at-all"}, "ARPULSE_REDIS_PASSWORD"),
        ({"ARPULSE_REDIS_USERNAME": "someone-else"}, "ARPULSE_REDIS_USERNAME"),
        ({"ARPULSE_REDIS_TLS_CA_FILE": "other_ca"}, "ARPULSE_REDIS_TLS_CA_FILE"),
    ],
    ids=["wrong-password", "unknown-user", "wrong-ca"],
)
def test_a_wrong_credential_or_certificate_stops_start_up_naming_the_setting(
    stack: DevStack, workdir: Path, server: TlsRedis, change: dict[str, str], named: str
) -> None:
    if change.get("ARPULSE_REDIS_TLS_CA_FILE") == "other_ca":
        change = {"ARPULSE_REDIS_TLS_CA_FILE": str(server.certificates.other_ca)}
    worker = worker_on(stack, workdir, server, **tls_env(server, **change))
    result = cli(worker, "worker")
    assert result.returncode == 2, result.stderr[-2000:]
    assert named in result.stderr, result.stderr[-2000:]
    assert server.password not in result.stderr


async def test_without_a_client_certificate_the_worker_runs_degraded_and_says_what_to_set(
    stack: DevStack, workdir: Path, server: TlsRedis
) -> None:
    """TLS 1.3 reports the missing certificate as a reset, which an outage also is: it runs."""
    env = tls_env(server, ARPULSE_REDIS_TLS_CERT_FILE="", ARPULSE_REDIS_TLS_KEY_FILE="")
    worker = worker_on(stack, workdir, server, **env).start()
    try:
        await asyncio.to_thread(worker.wait_ready)
        status, health = await asyncio.to_thread(worker.http, "/healthz")
        assert status == 200 and health["status"] == "degraded"
        status, body = await asyncio.to_thread(worker.http, f"/customers/{unique('c')}")
        assert (status, body) == (503, {"error": "read model unavailable"})
    finally:
        worker.stop()
    log = worker.log_path.read_text()
    assert "Redis is unreachable at start-up" in log and "ARPULSE_REDIS_TLS_CERT_FILE" in log


def test_tls_files_without_rediss_stop_start_up_naming_them(
    stack: DevStack, workdir: Path, server: TlsRedis
) -> None:
    url = f"redis://127.0.0.1:{server.port}/0"
    worker = worker_on(stack, workdir, server, url=url, **tls_env(server))
    result = cli(worker, "worker")
    assert result.returncode == 2
    assert "ARPULSE_REDIS_TLS_CA_FILE" in result.stderr and "rediss://" in result.stderr
