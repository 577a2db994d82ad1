"""The soak's worker: one `arpulse worker` subprocess, watched from outside like production.

It is configured only through ARPULSE_* variables (like the integration tests' WorkerProcess) and
observed only through its `/healthz` and `/metrics` and the kernel's view of the process
(/proc/PID/status for resident memory, /proc/PID/stat for CPU time), so the soak measures the
worker a deployment would run, not an instrumented copy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from processor.demo.devstack import free_port

READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0  # Faust stops in a few seconds; SIGKILL after this
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


class RunAborted(RuntimeError):
    """The run cannot go on: the worker or the broker exited, or stopped answering."""


@dataclass(frozen=True, slots=True)
class Scrape:
    """The figures the soak reads from the worker's /metrics."""

    processed: int
    lag: int
    dead_letters: int
    wakeups: int
    processing_seconds: float


# metric sample name -> Scrape field (summed over labels)
_FOLLOWED = {
    "arpulse_consumer_lag_messages": "lag",
    "arpulse_dead_letters_total": "dead_letters",
    "arpulse_wakeups_total": "wakeups",
    "arpulse_event_processing_seconds_sum": "processing_seconds",
}


def parse_metrics(text: str, input_topics: frozenset[str]) -> Scrape:
    """Sum the counters the soak follows out of a Prometheus text exposition.

    Only input topics count as processed: the worker also consumes its re-key and wake-up
    topics, which the soak did not produce.
    """
    totals = dict.fromkeys(["processed", *_FOLLOWED.values()], 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "arpulse_events_consumed_total":
                if sample.labels.get("topic") in input_topics:
                    totals["processed"] += sample.value
            elif sample.name in _FOLLOWED:
                totals[_FOLLOWED[sample.name]] += sample.value
    return Scrape(
        processed=int(totals["processed"]),
        lag=int(totals["lag"]),
        dead_letters=int(totals["dead_letters"]),
        wakeups=int(totals["wakeups"]),
        processing_seconds=totals["processing_seconds"],
    )


class ProcessStats:
    """Resident memory and CPU use of one process, as the kernel accounts them."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu_mark: tuple[float, float] | None = None

    def alive(self) -> bool:
        """False once the process has exited (gone, or a zombie not yet reaped)."""
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")

    def rss_mb(self) -> float:
        """Resident memory (VmRSS) in MB; the kernel's figure, not the process's own account.

        Raises ProcessLookupError once the process has exited: a zombie has no VmRSS line (and a
        StopIteration must never escape into asyncio.to_thread, which cannot carry it).
        """
        status = Path(f"/proc/{self.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise ProcessLookupError(f"process {self.pid} has exited")

    def cpu_percent(self) -> float:
        """CPU used since the previous call, in % of one core (user plus system time)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND  # utime, stime
        now = time.monotonic()
        previous, self._cpu_mark = self._cpu_mark, (now, cpu)
        if previous is None or now <= previous[0]:
            return 0.0
        return 100 * (cpu - previous[1]) / (now - previous[0])


def child_named(name: str) -> ProcessStats | None:
    """Our own child process called `name` (the broker DevStack started), if there is one."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue  # exited meanwhile
        if command.split("(", 1)[1] == name and int(rest.split()[1]) == os.getpid():
            return ProcessStats(int(stat.parent.name))
    return None


class SoakWorker:
    """One `arpulse worker` with its own app id, web port, data dir and log file."""

    def __init__(self, *, kafka: str, redis_url: str, workdir: Path, env: dict[str, str]) -> None:
        self.web_port = free_port()
        self.log_path = workdir / "worker.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ARPULSE_")},
            "ARPULSE_KAFKA_BROKER": kafka,
            "ARPULSE_REDIS_URL": redis_url,
            "ARPULSE_WEB_PORT": str(self.web_port),
            "ARPULSE_DATA_DIR": str(workdir / "worker-data"),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.stats: ProcessStats | None = None

    @property
    def url(self) -> str:
        """Base URL of the worker's HTTP API."""
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> SoakWorker:
        """Launch `arpulse worker` (the same entry point as the console script)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "processor.cli", "worker"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.stats = ProcessStats(self.process.pid)
        return self

    def log_tail(self, lines: int = 30) -> str:
        """The end of the worker's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def last_error(self) -> str | None:
        """The last exception line of the log (`module.Error: message`), if any."""
        for line in reversed(self.log_tail(200).splitlines()):
            head = line.split(": ", 1)[0]
            if ": " in line and head[:1].isalpha() and " " not in head and head != "Traceback":
                return line.strip()
        return None

    def check_alive(self) -> None:
        """Raise RunAborted, with the log's tail, if the process has exited."""
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise RunAborted(
                f"the worker exited (code {code}); log {self.log_path}:\n{self.log_tail()}"
            )

    def _get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        """Block until /healthz answers 200; returns the seconds it took."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            self.check_alive()
            try:
                if self._get("/healthz")[0] == 200:
                    return time.monotonic() - began
            except OSError:
                pass
            time.sleep(0.25)
        raise RunAborted(f"the worker was not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def scrape(self, input_topics: frozenset[str]) -> Scrape:
        """The worker's counters from /metrics."""
        status, body = self._get("/metrics")
        if status != 200:
            raise OSError(f"/metrics answered {status}")
        return parse_metrics(body, input_topics)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it has not stopped in STOP_TIMEOUT_S; its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode
