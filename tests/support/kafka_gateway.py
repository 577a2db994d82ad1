"""A gateway in front of a Tansu broker that speaks TLS and SASL as a secured Kafka listener does.

Tansu serves plain TCP only, so the Kafka security tests put this in front of it (the broker
advertises the gateway's address). It terminates TLS (optionally asking for a client
certificate) and, when given users, authenticates each connection by SASL before it relays a
single byte more: the client's ApiVersions goes to the broker, its SaslHandshake and
SaslAuthenticate are answered here (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, per RFC 5802 and
KIP-84), anything else before authentication closes the connection, as a broker would.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from processor.demo.devstack import free_port
from tests.support.faults import pipe, tansu_advertising

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
NONE, UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 0, 33, 58
ITERATIONS = 4096
_HASHES = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}


@dataclass
class GatewayConfig:
    """What the gateway asks of a client: TLS (with a client certificate or not) and SASL users."""

    tls: ssl.SSLContext | None = None
    users: dict[str, str] = field(default_factory=dict)  # SASL user -> password
    mechanisms: tuple[str, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class _Refused(Exception):
    """The client failed authentication, or spoke out of turn: close its connection."""


async def _frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(size)


def _send(writer: asyncio.StreamWriter, correlation: int, body: bytes) -> None:
    payload = struct.pack(">i", correlation) + body
    writer.write(struct.pack(">i", len(payload)) + payload)


def _string(value: str | None) -> bytes:
    if value is None:
        return struct.pack(">h", -1)
    data = value.encode()
    return struct.pack(">h", len(data)) + data


def _header(request: bytes) -> tuple[int, int, int, int]:
    """(api key, version, correlation id, offset of the body) of a v1 request header."""
    key, version, correlation, client_length = struct.unpack(">hhih", request[:10])
    return key, version, correlation, 10 + max(client_length, 0)


class _Sasl:
    """One connection's SASL exchange, server side."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.mechanism: str | None = None
        self.done = False
        self._scram: dict[str, bytes | str] = {}

    def handshake(self, body: bytes) -> bytes:
        (length,) = struct.unpack(">h", body[:2])
        mechanism = body[2 : 2 + length].decode()
        known = self.config.mechanisms
        listed = struct.pack(">i", len(known)) + b"".join(_string(m) for m in known)
        if mechanism not in known:
            return struct.pack(">h", UNSUPPORTED_SASL_MECHANISM) + listed
        self.mechanism = mechanism
        return struct.pack(">h", NONE) + listed

    def authenticate(self, body: bytes, version: int) -> bytes:
        (length,) = struct.unpack(">i", body[:4])
        token = body[4 : 4 + length]
        try:
            reply = self._step(token)
        except _Refused as exc:
            return self._answer(SASL_AUTHENTICATION_FAILED, str(exc), b"", version)
        return self._answer(NONE, None, reply, version)

    @staticmethod
    def _answer(error: int, message: str | None, data: bytes, version: int) -> bytes:
        out = struct.pack(">h", error) + _string(message) + struct.pack(">i", len(data)) + data
        return out + (struct.pack(">q", 0) if version >= 1 else b"")

    def _step(self, token: bytes) -> bytes:
        if self.mechanism == "PLAIN":
            _, user, password = token.decode().split("\0")
            if not hmac.compare_digest(self.config.users.get(user, "\0"), password):
                raise _Refused(f"Authentication failed for user {user}")
            self.done = True
            return b""
        if self.mechanism in _HASHES:
            return self._scram_step(token.decode())
        raise _Refused("SaslAuthenticate before SaslHandshake")

    def _scram_step(self, message: str) -> bytes:
        digest = _HASHES[str(self.mechanism)]
        if "first" not in self._scram:
            bare = message.split(",", 2)[2]  # after the gs2 header "n,,"
            fields = dict(part.split("=", 1) for part in bare.split(","))
            user = fields["n"]
            if user not in self.config.users:
                raise _Refused(f"Authentication failed for user {user}")
            salt = os.urandom(16)
            salted = hashlib.pbkdf2_hmac(digest, self.config.users[user].encode(), salt, ITERATIONS)
            nonce = fields["r"] + base64.b64encode(os.urandom(18)).decode()
            first = f"r={nonce},s={base64.b64encode(salt).decode()},i={ITERATIONS}"
            self._scram = {"first": first, "bare": bare, "salted": salted, "nonce": nonce}
            return first.encode()
        fields = dict(part.split("=", 1) for part in message.split(","))
        without_proof = message.rsplit(",p=", 1)[0]
        if fields.get("r") != self._scram["nonce"]:
            raise _Refused("Authentication failed: nonce mismatch")
        auth_message = f"{self._scram['bare']},{self._scram['first']},{without_proof}".encode()
        salted = bytes(self._scram["salted"])  # type: ignore[arg-type]
        client_key = hmac.new(salted, b"Client Key", digest).digest()
        stored_key = hashlib.new(digest, client_key).digest()
        signature = hmac.new(stored_key, auth_message, digest).digest()
        proof = base64.b64decode(fields["p"])
        recovered = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.new(digest, recovered).digest(), stored_key):
            raise _Refused("Authentication failed: wrong password")
        server_key = hmac.new(salted, b"Server Key", digest).digest()
        verifier = hmac.new(server_key, auth_message, digest).digest()
        self.done = True
        return f"v={base64.b64encode(verifier).decode()}".encode()


class KafkaGateway:
    """Listens on 127.0.0.1:`port` (TLS and SASL per `config`), relays to 127.0.0.1:`target`."""

    def __init__(self, target: int, config: GatewayConfig, *, port: int | None = None) -> None:
        self.target = target
        self.config = config
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> KafkaGateway:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, ssl=self.config.tls, reuse_address=True
        )

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        try:
            if self.config.users:
                await self._authenticate(reader, writer, up_reader, up_writer)
            await asyncio.gather(
                pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True
            )
        except (_Refused, asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.transport.abort()
            up_writer.transport.abort()

    async def _authenticate(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        sasl = _Sasl(self.config)
        while not sasl.done:
            request = await _frame(reader)
            key, version, correlation, body_at = _header(request)
            if key == API_VERSIONS:
                up_writer.write(struct.pack(">i", len(request)) + request)
                response = await _frame(up_reader)
                writer.write(struct.pack(">i", len(response)) + response)
            elif key == SASL_HANDSHAKE:
                _send(writer, correlation, sasl.handshake(request[body_at:]))
            elif key == SASL_AUTHENTICATE:
                answer = sasl.authenticate(request[body_at:], version)
                _send(writer, correlation, answer)
                if struct.unpack(">h", answer[:2])[0] != NONE:
                    await writer.drain()
                    raise _Refused("authentication failed")
            else:
                raise _Refused(f"api key {key} before authentication")
            await writer.drain()


@contextlib.contextmanager
def secured_broker(workdir: Path, config: GatewayConfig) -> Iterator[str]:
    """A Tansu broker of its own, reached only through a gateway with `config`; its address."""
    port = free_port()
    with KafkaGateway(port, config) as gateway:
        bootstrap = f"127.0.0.1:{gateway.port}"
        with tansu_advertising(workdir, port, bootstrap, "secured") as (process, _):
            _wait_for_port(port, process)
            yield bootstrap


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tansu exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError("tansu did not start")
