"""Shared real parts: one Tansu broker and one Redis per session, and a running worker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from processor.demo.devstack import DevStack
from tests.support.harness import Harness, WorkerProcess, notice_policy, unique
from tests.support.timeline import REPORTS


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """The broker and Redis: from ARPULSE_KAFKA_BROKER / ARPULSE_REDIS_URL, else started here."""
    with DevStack(workdir=tmp_path_factory.mktemp("stack")) as started:
        yield started


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workers")


@pytest.fixture(scope="session")
def worker(stack: DevStack, workdir: Path) -> Iterator[WorkerProcess]:
    """One worker shared by the tests that only need a running processor.

    Its broker is given as Faust's kafka:// URL, which settings accept as well as host:port. Its
    policy keeps due dates as they are, so that `factories.late_invoice` is made late by its
    notice on any day of the week (`harness.notice_policy`).
    """
    process = WorkerProcess(
        kafka=f"kafka://{stack.kafka_bootstrap}",
        redis_url=stack.redis_url,
        workdir=workdir,
        app_id=unique("arpulse-it"),
        **notice_policy(workdir),
    ).start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest_asyncio.fixture(scope="session")
async def harness(stack: DevStack, worker: WorkerProcess) -> AsyncIterator[Harness]:
    """Producer and output collector, started once the worker has created the topics."""
    h = Harness(stack.kafka_bootstrap)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the crash and scale-out runs saw (actions re-sent, with the same ids)."""
    if REPORTS:
        terminalreporter.section("reliability runs")
        for line in REPORTS:
            terminalreporter.write_line(line)
