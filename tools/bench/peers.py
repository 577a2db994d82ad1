"""The bench's peer phases: the Faust agents of tools/bench/faust_peers.py through the backlog.

Each peer gets a fresh copy of the backlog on its own topics (produced before it starts, as for
the worker) and runs in its own process; its events/s is from the first event it took to the
last, start-up excluded, as the worker's is.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from processor.demo.devstack import die_with_parent
from schemas import topics
from tools.bench import kafka
from tools.soak.mix import Outgoing

PEER_TIMEOUT_S = 600.0  # the slowest peer drains a default backlog in well under a minute
MODES = ("consume", "ledger")
LABELS = {"consume": "agent that only consumes", "ledger": "naive ledger"}


@dataclass(frozen=True, slots=True)
class PeerResult:
    """What one peer measured."""

    mode: str
    events: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        """Throughput."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def run_peer(
    mode: str,
    *,
    bootstrap: str,
    events: list[Outgoing],
    partitions: int,
    workdir: Path,
    name: str,
) -> PeerResult:
    """Produce the backlog to `name`'s topics, drain it with the `mode` peer, stop the peer."""
    prefix = f"{name}."
    inputs = [prefix + t for t in topics.INPUT_TOPICS]
    output = prefix + "out"
    asyncio.run(kafka.create_topics(bootstrap, [*inputs, output], partitions))
    asyncio.run(kafka.produce_all(bootstrap, kafka.backlog_records(events, prefix.__add__)))
    workdir.mkdir(parents=True, exist_ok=True)
    result = workdir / f"{name}.json"
    result.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "tools.bench.faust_peers",
        mode,
        f"--broker={bootstrap}",
        f"--app-id={name}",
        f"--inputs={','.join(inputs)}",
        f"--output={output}",
        f"--partitions={partitions}",
        f"--count={len(events)}",
        f"--result={result}",
    ]
    with (workdir / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )
        try:
            return _await_result(mode, process, result, workdir / f"{name}.log")
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _await_result(
    mode: str, process: subprocess.Popen[bytes], result: Path, log: Path
) -> PeerResult:
    deadline = time.monotonic() + PEER_TIMEOUT_S
    while not result.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the {mode} peer exited with {process.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"the {mode} peer did not drain the backlog in {PEER_TIMEOUT_S:.0f}s"
            )
        time.sleep(0.2)
    figures = json.loads(result.read_text())
    return PeerResult(mode=mode, events=figures["events"], seconds=figures["seconds"])
