"""The worker on a secured Kafka listener: TLS with a client certificate, and SASL over TLS with
each mechanism; a wrong CA, password or missing certificate stops start-up naming the setting.

Tansu serves plain TCP only, so each broker here is reached through a gateway that terminates
TLS and authenticates SASL as a secured listener does (`tests/support/kafka_gateway.py`).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from processor.core.kafka_security import kafka_client_options
from processor.core.settings import load_settings
from processor.demo.devstack import DevStack
from schemas import topics
from tests.support import factories as f
from tests.support.harness import Harness, WorkerProcess, notice_policy, unique
from tests.support.kafka_gateway import GatewayConfig, secured_broker
from tests.support.tls import Certificates, make_certificates

pytestmark = pytest.mark.integration

USER, PASSWORD = "arpulse", secrets.token_urlsafe(24)
ARPULSE = Path(sys.executable).parent / "arpulse"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("kafka-certs"))


def listener_tls(certs: Certificates) -> ssl.SSLContext:
    """A listener's TLS: its certificate, and a client certificate from the CA required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(certs.ca)
    return context


@pytest.fixture(scope="module")
def sasl_ssl(tmp_path_factory: pytest.TempPathFactory, certificates: Certificates) -> Iterator[str]:
    config = GatewayConfig(tls=listener_tls(certificates), users={USER: PASSWORD})
    with secured_broker(tmp_path_factory.mktemp("sasl-ssl"), config) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="module")
def mutual_tls(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[str]:
    config = GatewayConfig(tls=listener_tls(certificates))
    with secured_broker(tmp_path_factory.mktemp("ssl"), config) as bootstrap:
        yield bootstrap


def security_env(certs: Certificates, protocol: str, **changes: str) -> dict[str, str]:
    env = {
        "ARPULSE_KAFKA_SECURITY_PROTOCOL": protocol,
        "ARPULSE_KAFKA_TLS_CA_FILE": str(certs.ca),
        "ARPULSE_KAFKA_TLS_CERT_FILE": str(certs.client_cert),
        "ARPULSE_KAFKA_TLS_KEY_FILE": str(certs.client_key),
    }
    if protocol.startswith("SASL_"):
        env |= {"ARPULSE_KAFKA_SASL_USERNAME": USER, "ARPULSE_KAFKA_SASL_PASSWORD": PASSWORD}
    env.update(changes)
    return {k: v for k, v in env.items() if v}


def client_options(env: dict[str, str], bootstrap: str) -> dict[str, Any]:
    """The same connection a worker with `env` makes, for the test's own clients."""
    fields = {k.removeprefix("ARPULSE_").lower(): v for k, v in env.items()}
    options = kafka_client_options(load_settings(kafka_broker=bootstrap, **fields))
    options.pop("bootstrap_servers")
    return options


async def run_one_late_invoice(
    stack: DevStack, workdir: Path, bootstrap: str, env: dict[str, str]
) -> None:
    """A worker on `bootstrap` flags a late invoice and serves its snapshot; then a rebuild."""
    worker = WorkerProcess(
        kafka=bootstrap,
        redis_url=stack.redis_url,
        workdir=workdir,
        app_id=unique("arpulse-kafka-sec"),
        **notice_policy(workdir),
        **env,
    ).start()
    try:
        await asyncio.to_thread(worker.wait_ready, 90)
        harness = Harness(bootstrap, **client_options(env, bootstrap))
        await harness.start()
        try:
            customer = unique("c-kafka-sec")
            issued, notice = f.late_invoice(customer)
            await harness.send(topics.INVOICE_ISSUED, issued)
            await harness.send(topics.DUE_DATE_PASSED, notice)
            [flag] = await harness.wait_for(topics.LATE_PAYMENT_FLAGS, customer_id=customer)
            assert flag.value["detected_by"] == "due_date_event"
            snapshot = await harness.snapshot(worker, customer)
            assert snapshot["outstanding"] == {"USD": "1000.00"}
        finally:
            await harness.stop()
    finally:
        worker.stop()
    assert PASSWORD not in worker.log_path.read_text()
    rebuilt = await asyncio.to_thread(
        subprocess.run,
        [str(ARPULSE), "projection", "rebuild"],
        env={**os.environ, **worker.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_a_worker_runs_on_sasl_over_tls_with_each_mechanism(
    stack: DevStack, workdir: Path, sasl_ssl: str, certificates: Certificates, mechanism: str
) -> None:
    env = security_env(certificates, "SASL_SSL", ARPULSE_KAFKA_SASL_MECHANISM=mechanism)
    await run_one_late_invoice(stack, workdir, sasl_ssl, env)


async def test_a_worker_runs_on_tls_with_a_client_certificate(
    stack: DevStack, workdir: Path, mutual_tls: str, certificates: Certificates
) -> None:
    await run_one_late_invoice(stack, workdir, mutual_tls, security_env(certificates, "SSL"))


def start_up(bootstrap: str, stack: DevStack, workdir: Path, env: dict[str, str]) -> str:
    """`arpulse worker` with `env`; it must exit 2. Returns what it said."""
    worker = WorkerProcess(
        kafka=bootstrap,
        redis_url=stack.redis_url,
        workdir=workdir,
        app_id=unique("arpulse-kafka-refused"),
        **env,
    )
    result = subprocess.run(
        [str(ARPULSE), "worker"],
        env=worker.env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert PASSWORD not in result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"ARPULSE_KAFKA_SASL_PASSWORD": "not-the-password-at-all"}, "ARPULSE_KAFKA_SASL_PASSWORD"),
        ({"ARPULSE_KAFKA_SASL_USERNAME": "nobody"}, "ARPULSE_KAFKA_SASL_USERNAME"),
        ({"ARPULSE_KAFKA_TLS_CA_FILE": "other"}, "ARPULSE_KAFKA_TLS_CA_FILE"),
    ],
    ids=["wrong-password", "unknown-user", "wrong-ca"],
)
def test_a_wrong_credential_or_ca_stops_start_up_naming_the_setting(
    stack: DevStack,
    workdir: Path,
    sasl_ssl: str,
    certificates: Certificates,
    change: dict[str, str],
    named: str,
) -> None:
    if change.get("ARPULSE_KAFKA_TLS_CA_FILE") == "other":
        change = {"ARPULSE_KAFKA_TLS_CA_FILE": str(certificates.other_ca)}
    said = start_up(sasl_ssl, stack, workdir, security_env(certificates, "SASL_SSL", **change))
    assert named in said, said[-2000:]


def test_without_its_client_certificate_start_up_stops_naming_it(
    stack: DevStack, workdir: Path, mutual_tls: str, certificates: Certificates
) -> None:
    env = security_env(
        certificates, "SSL", ARPULSE_KAFKA_TLS_CERT_FILE="", ARPULSE_KAFKA_TLS_KEY_FILE=""
    )
    said = start_up(mutual_tls, stack, workdir, env)
    assert "ARPULSE_KAFKA_TLS_CERT_FILE" in said, said[-2000:]
