"""Faults on demand: a TCP proxy that can cut a server off, and a broker reached only through one.

A cut closes every open connection and refuses new ones (the port is closed), which is what a
worker sees when a server goes down or the network between them fails; a restore listens again on
the same port. The server itself keeps its data, so a test can check that nothing was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from processor.demo.devstack import (
    _kafka_answers,
    die_with_parent,
    find_redis_server,
    find_tansu,
    free_port,
)


class TcpProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target`, on its own thread and event loop."""

    def __init__(self, target: int, *, port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *_: object) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _call(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)  # type: ignore[arg-type]

    def restore(self) -> None:
        """Listen again: new connections reach the server."""
        self._call(self._listen())

    def cut(self) -> None:
        """Close the port and every open connection."""
        self._call(self._close())

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, "127.0.0.1", self.port, reuse_address=True
            )

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True
        )
        self._writers -= {writer, up_writer}


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.transport.abort()


@contextlib.contextmanager
def broker_behind_proxy(workdir: Path) -> Iterator[tuple[str, TcpProxy]]:
    """A Tansu broker of its own that tells clients to reach it through a proxy (which can cut)."""
    port = free_port()
    with TcpProxy(port) as proxy:
        bootstrap = f"127.0.0.1:{proxy.port}"
        with tansu_advertising(workdir, port, bootstrap, "faults") as (process, cluster_id):
            _wait_for(lambda: _kafka_answers(bootstrap, cluster_id), process)
            yield bootstrap, proxy


@contextlib.contextmanager
def tansu_advertising(
    workdir: Path, port: int, advertised: str, name: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A Tansu broker on 127.0.0.1:`port` that tells clients to reach it at `advertised`.

    Yields the process and the cluster id; stops it on the way out.
    """
    cluster_id = f"arpulse-{name}-{port}"
    log = (workdir / f"tansu-{name}-{port}.log").open("ab")
    process = subprocess.Popen(
        [
            str(find_tansu()),
            "broker",
            "--cluster-id",
            cluster_id,
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://{advertised}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    log.close()
    try:
        yield process, cluster_id
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server we started, and kill it if it does not go within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _wait_for(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        if ready():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{process.args[0]} did not start")


@contextlib.contextmanager
def forgetful_redis(workdir: Path, port: int | None = None) -> Iterator[int]:
    """A redis-server of its own without persistence (a restart loses everything); its port."""
    port = port or free_port()
    log = (workdir / f"redis-forgetful-{port}.log").open("ab")
    process = subprocess.Popen(
        [
            str(find_redis_server()),
            *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--dir", str(workdir)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    log.close()
    try:
        _wait_for(lambda: _redis_answers(port), process)
        yield port
    finally:
        stop(process)


def _redis_answers(port: int) -> bool:
    import redis

    client = redis.Redis(port=port, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
