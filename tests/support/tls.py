"""Certificates made with the openssl command, and a redis-server of the test's own that speaks
only TLS, asks for a client certificate and knows one ACL user (the default user is off)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from processor.demo.devstack import die_with_parent, find_redis_server, free_port
from tests.support.faults import stop

DAYS = "2"


@dataclass(frozen=True)
class Certificates:
    """A CA, a server certificate it signed (for 127.0.0.1), a client one, and an unrelated CA."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _openssl(*args: str, cwd: Path) -> None:
    found = shutil.which("openssl")
    if found is None:
        raise RuntimeError("openssl is missing: run `make test`, or: apt-get install -y openssl")
    result = subprocess.run([found, *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    _openssl(
        *("req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt"),
        *("ec_paramgen_curve:prime256v1", "-keyout", key.name, "-out", cert.name),
        *("-days", DAYS, "-subj", f"/CN=arpulse test {name}"),
        cwd=directory,
    )
    return cert, key


def _signed(directory: Path, name: str, ca: tuple[Path, Path], extensions: str) -> Path:
    key, csr, cert = (directory / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
    (directory / f"{name}.ext").write_text(extensions + "\n")
    _openssl(
        *("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
        *("-keyout", key.name, "-out", csr.name, "-subj", f"/CN={name}"),
        cwd=directory,
    )
    _openssl(
        *("x509", "-req", "-in", csr.name, "-CA", ca[0].name, "-CAkey", ca[1].name),
        *("-CAcreateserial", "-out", cert.name, "-days", DAYS, "-extfile", f"{name}.ext"),
        cwd=directory,
    )
    return cert


def make_certificates(directory: Path) -> Certificates:
    """Write a CA, server and client certificates and an unrelated CA under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca(directory, "ca")
    server = _signed(
        directory,
        "server",
        ca,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
    )
    client = _signed(directory, "client", ca, "extendedKeyUsage=clientAuth")
    other_ca, _ = _ca(directory, "other-ca")
    return Certificates(
        ca=ca[0],
        server_cert=server,
        server_key=directory / "server.key",
        client_cert=client,
        client_key=directory / "client.key",
        other_ca=other_ca,
    )


@dataclass(frozen=True)
class TlsRedis:
    """Where the TLS-only Redis listens, its ACL user and the certificates to reach it."""

    port: int
    user: str
    password: str
    key_pattern: str
    certificates: Certificates

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def tls_redis(
    directory: Path, *, user: str, password: str, key_pattern: str, commands: str
) -> Iterator[TlsRedis]:
    """A redis-server on a free port, TLS only, client certificates required, one ACL user.

    `key_pattern` and `commands` are the user's ACL (keys it may touch, command categories).
    """
    certificates = make_certificates(directory / "certs")
    port = free_port()
    config = directory / f"redis-tls-{port}.conf"
    config.write_text(
        "\n".join(
            [
                "port 0",
                f"tls-port {port}",
                "bind 127.0.0.1",
                f"tls-cert-file {certificates.server_cert}",
                f"tls-key-file {certificates.server_key}",
                f"tls-ca-cert-file {certificates.ca}",
                "tls-auth-clients yes",
                'save ""',
                "appendonly no",
                f"dir {directory}",
                "user default off",
                f"user {user} on >{password} ~{key_pattern} resetchannels {commands}",
            ]
        )
        + "\n"
    )
    log = (directory / f"redis-tls-{port}.log").open("ab")
    process = subprocess.Popen(
        [str(find_redis_server()), str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    log.close()
    server = TlsRedis(
        port=port,
        user=user,
        password=password,
        key_pattern=key_pattern,
        certificates=certificates,
    )
    try:
        _wait_for_tls(server, process)
        yield server
    finally:
        stop(process)


def _wait_for_tls(server: TlsRedis, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    certs = server.certificates
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server (TLS) exited with {process.returncode}")
        client = redis.Redis(
            host="127.0.0.1",
            port=server.port,
            ssl=True,
            ssl_ca_certs=str(certs.ca),
            ssl_certfile=str(certs.client_cert),
            ssl_keyfile=str(certs.client_key),
            username=server.user,
            password=server.password,
            socket_timeout=1,
        )
        try:
            if client.ping():
                return
        except redis.RedisError:
            time.sleep(0.1)
        finally:
            client.close()
    raise RuntimeError("redis-server (TLS) did not answer within 20 s")
