"""The HTTP API's tokens, on a running worker: what a request without one learns, what a token
opens, rotation, the ops token, Faust's own pages turned off, and the API fuzzed from its OpenAPI
document with and without tokens (schemathesis)."""

from __future__ import annotations

import base64
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case

from processor.demo.devstack import DevStack
from processor.runtime.web_server import REFUSED
from processor.serving.openapi import openapi_document
from schemas import topics
from tests.support import factories as f
from tests.support.harness import WorkerProcess, own_worker, unique

pytestmark = pytest.mark.integration

OLD, NEW = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
OPS = secrets.token_urlsafe(32)
DATA_PATHS = [
    "/customers/{id}",
    "/customers/{id}/timeline",
    "/worklist",
    "/reports/aging",
    "/reports/aging?format=csv",
    "/reports/kpis",
    "/ui",
    "/ui/customers/{id}",
    "/ui/aging",
]
OPS_PATHS = ["/healthz", "/metrics"]
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class Guarded:
    """A worker with two API tokens (a rotation under way) and an ops token; one customer."""

    worker: WorkerProcess
    customer_id: str

    def get(self, path: str, headers: dict[str, str] | None = None) -> requests.Response:
        url = self.worker.url + path.replace("{id}", self.customer_id)
        return requests.get(url, headers=headers or {}, timeout=10)


@pytest_asyncio.fixture(scope="module")
async def guarded(stack: DevStack, workdir: Path) -> AsyncIterator[Guarded]:
    async with own_worker(
        kafka=stack.kafka_bootstrap,
        redis_url=stack.redis_url,
        workdir=workdir,
        prefix="arpulse-auth",
        ARPULSE_API_TOKENS=f"{OLD},{NEW}",
        ARPULSE_OPS_TOKENS=OPS,
    ) as own:
        customer = unique("c-auth")
        await own.send(
            topics.INVOICE_ISSUED,
            f.invoice(customer, "I-1", issued_on=f.days_ago(40), due_date=f.days_ago(10)),
        )
        await own.harness.snapshot(own.worker, customer)
        yield Guarded(worker=own.worker, customer_id=customer)


def basic(token: str, user: str = "collector") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


@pytest.mark.parametrize("path", DATA_PATHS + OPS_PATHS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer " + "x" * 43},
        {"Authorization": f"Bearer {OPS}"},  # the ops token opens no customer data (and vice versa)
        {"Authorization": f"Token {OLD}"},
        {"Authorization": f"Bearer {OLD[:-1]}"},
        basic("y" * 43),
    ],
    ids=["none", "unknown", "ops-or-data-swapped", "other-scheme", "truncated", "basic-unknown"],
)
def test_a_request_without_a_valid_token_is_refused_and_learns_nothing(
    guarded: Guarded, path: str, headers: dict[str, str]
) -> None:
    if path in OPS_PATHS and headers.get("Authorization") == f"Bearer {OPS}":
        headers = {"Authorization": f"Bearer {OLD}"}
    response = guarded.get(path, headers)
    assert response.status_code == 401, response.text
    assert response.json() == REFUSED
    challenge = "Basic" if path.startswith("/ui") else "Bearer"
    assert response.headers["WWW-Authenticate"] == f'{challenge} realm="arpulse"'
    assert guarded.customer_id not in response.text


def test_a_known_and_an_unknown_customer_get_the_same_refusal(guarded: Guarded) -> None:
    known = guarded.get(f"/customers/{guarded.customer_id}")
    unknown = guarded.get(f"/customers/{unique('nobody')}")
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert known.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]


@pytest.mark.parametrize("token", [OLD, NEW], ids=["old", "new"])
def test_either_token_of_a_rotation_opens_the_read_model(guarded: Guarded, token: str) -> None:
    customer = guarded.get("/customers/{id}", {"Authorization": f"Bearer {token}"})
    assert customer.status_code == 200
    assert customer.json()["customer_id"] == guarded.customer_id
    worklist = guarded.get("/worklist", {"Authorization": f"Bearer {token}"}).json()
    assert guarded.customer_id in {row["customer_id"] for row in worklist["items"]}


def test_a_browser_opens_the_collectors_page_with_the_token_as_its_password(
    guarded: Guarded,
) -> None:
    page = guarded.get("/ui/customers/{id}", basic(NEW))
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert guarded.customer_id in page.text
    assert guarded.get("/ui", basic(NEW, user="")).status_code == 200


def test_health_and_metrics_take_the_ops_token_only(guarded: Guarded) -> None:
    ops = {"Authorization": f"Bearer {OPS}"}
    assert guarded.get("/healthz", ops).json()["status"] == "ready"
    metrics = guarded.get("/metrics", ops)
    assert metrics.status_code == 200
    refused = [
        line
        for line in metrics.text.splitlines()
        if line.startswith("arpulse_http_unauthorized_total{")
    ]
    assert any('scope="data"' in line and not line.endswith(" 0.0") for line in refused), refused


def test_faust_pages_that_read_tables_or_describe_the_cluster_are_gone(guarded: Guarded) -> None:
    pages = ("/", "/table/", "/table/customers/", "/router/", "/router/customers/", "/graph/")
    for path in pages:
        response = guarded.get(path, {"Authorization": f"Bearer {OLD}"})
        assert response.status_code == 404, path


def test_the_openapi_document_is_served_and_says_which_routes_need_a_token(
    guarded: Guarded,
) -> None:
    document = guarded.get("/openapi.json").json()
    paths = document["paths"]
    assert paths["/worklist"]["get"]["security"] == [{"bearer": []}, {"basic": []}]
    assert paths["/metrics"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in paths["/openapi.json"]["get"]


def test_no_token_set_on_a_network_address_stops_start_up_naming_both_settings(
    stack: DevStack, workdir: Path
) -> None:
    worker = WorkerProcess(
        kafka=stack.kafka_bootstrap,
        redis_url=stack.redis_url,
        workdir=workdir,
        app_id=unique("arpulse-open"),
        ARPULSE_WEB_HOST="0.0.0.0",
    )
    arpulse = Path(sys.executable).parent / "arpulse"
    result = subprocess.run(
        [str(arpulse), "worker"], env=worker.env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "ARPULSE_WEB_HOST" in result.stderr and "ARPULSE_API_TOKENS" in result.stderr


def test_the_start_up_log_says_what_is_protected_and_shows_no_token(guarded: Guarded) -> None:
    log = guarded.worker.log_path.read_text()
    assert "customer data needs one of 2 API token(s)" in log
    assert "/healthz and /metrics need one of 1 ops token(s)" in log
    assert all(token not in log for token in (OLD, NEW, OPS))


def test_an_open_worker_says_it_listens_on_loopback_only(worker: WorkerProcess) -> None:
    log = worker.log_path.read_text()
    assert "customer data is open (no API token set), so it listens on loopback only" in log


# The fuzzer: every operation of the served document, positive and negative data.


# The documents these workers serve (checked above and below), so the fuzzer's cases exist when
# pytest collects them; each case is sent to the running worker.
guarded_schema = schemathesis.openapi.from_dict(
    openapi_document(data_guarded=True, ops_guarded=True)
)
tokenless_schema = schemathesis.openapi.from_dict(  # the same document, sent without a token
    openapi_document(data_guarded=True, ops_guarded=True)
)
open_schema = schemathesis.openapi.from_dict(
    openapi_document(data_guarded=False, ops_guarded=False)
)


def test_each_worker_serves_the_document_the_fuzzer_reads(
    guarded: Guarded, worker: WorkerProcess
) -> None:
    assert guarded.get("/openapi.json").json() == guarded_schema.raw_schema
    assert worker.http("/openapi.json")[1] == open_schema.raw_schema


def _token_for(case: Case) -> str:
    return OPS if case.path in ("/healthz", "/metrics") else OLD


@guarded_schema.auth()
class Tokens:
    """The right token for each case, as schemathesis's auth: it then generates no Authorization
    header of its own (a negative one, replaced by ours, would read as invalid data accepted)."""

    def get(self, case: Case, context: object) -> str:
        return _token_for(case)

    def set(self, case: Case, data: str, context: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@guarded_schema.parametrize()
@FUZZ
def test_fuzzed_with_a_token_no_request_is_a_server_error_and_auth_is_enforced(
    case: Case, guarded: Guarded
) -> None:
    case.call_and_validate(base_url=guarded.worker.url)


@tokenless_schema.parametrize()
@FUZZ
def test_fuzzed_without_a_token_every_guarded_request_is_refused(
    case: Case, guarded: Guarded
) -> None:
    response = case.call(base_url=guarded.worker.url)
    assert response.status_code < 500, response.text
    if case.method.upper() != "GET":  # the fuzzer tries other methods: refused before any data
        assert response.status_code == 405
    elif case.path == "/openapi.json":
        assert response.status_code == 200
    elif response.status_code != 404 or _route_exists(case):
        assert response.status_code == 401, (case.path, response.status_code, response.text)
        assert response.json() == REFUSED


@open_schema.parametrize()
@FUZZ
def test_fuzzed_on_a_worker_without_tokens_no_request_is_a_server_error(
    case: Case, worker: WorkerProcess
) -> None:
    case.call_and_validate(base_url=worker.url)


def _route_exists(case: Case) -> bool:
    """Whether the case's URL reaches its operation: an empty path segment routes nowhere (404)."""
    values: dict[str, Any] = case.path_parameters or {}
    return all(
        str(value) not in ("", ".", "..") and "/" not in str(value) for value in values.values()
    )
