"""The one way arpulse connects to Redis: URL, ACL user and password, TLS and client certificates.

The worker, the rebuild and the command line all build their client here, so a setting added
once holds everywhere. `check_redis` tells a wrong credential or certificate (a setting to fix:
start-up stops) from an outage (the worker starts and writes once Redis is back).
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, ConnectionError, RedisError, ResponseError

from processor.core.settings import Settings
from processor.errors import ConfigError

log = logging.getLogger(__name__)
CHECK_TIMEOUT_SECONDS = 5.0
_CREDENTIALS = (
    "ARPULSE_REDIS_USERNAME and ARPULSE_REDIS_PASSWORD (or the user:password@ of ARPULSE_REDIS_URL)"
)


def redis_options(settings: Settings) -> dict[str, Any]:
    """The client's keyword arguments beyond the URL (credentials, TLS files)."""
    options: dict[str, Any] = {}
    if settings.redis_username is not None:
        options["username"] = settings.redis_username
    if settings.redis_password is not None:
        options["password"] = settings.redis_password.get_secret_value()
    if settings.redis_tls:
        options["ssl_cert_reqs"] = "required"
        options["ssl_check_hostname"] = True
        if settings.redis_tls_ca_file is not None:
            options["ssl_ca_certs"] = str(settings.redis_tls_ca_file)
        if settings.redis_tls_cert_file is not None:
            options["ssl_certfile"] = str(settings.redis_tls_cert_file)
            options["ssl_keyfile"] = str(settings.redis_tls_key_file)
    return options


def redis_client(settings: Settings, **extra: Any) -> Redis:
    """A client for the read model's Redis, as the settings say."""
    return Redis.from_url(settings.redis_url.get_secret_value(), **redis_options(settings), **extra)


async def check_redis(settings: Settings) -> None:
    """Ping Redis once at start-up; ConfigError when a setting is wrong, a warning when it is down.

    A refused password, a certificate that does not verify or a server that does not speak TLS
    will not mend by waiting; an unreachable Redis may, and the worker runs without it.
    """
    redis = redis_client(
        settings,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        await redis.ping()
    except AuthenticationError as exc:
        raise ConfigError(f"Redis refused the credentials ({exc}): check {_CREDENTIALS}") from None
    except ResponseError as exc:
        text = str(exc)
        if any(code in text for code in ("WRONGPASS", "NOAUTH", "NOPERM")):
            raise ConfigError(
                f"Redis refused the credentials ({text}): check {_CREDENTIALS}"
            ) from None
        raise ConfigError(f"Redis answered the first command with an error: {text}") from None
    except ConnectionError as exc:
        problem = _tls_problem(exc)
        if problem is not None:
            raise ConfigError(problem) from None
        hint = ""
        if settings.redis_tls and settings.redis_tls_cert_file is None:
            # TLS 1.3 reports a missing client certificate as a reset: it looks like an outage.
            hint = (
                "; if it asks for client certificates, set ARPULSE_REDIS_TLS_CERT_FILE and"
                " ARPULSE_REDIS_TLS_KEY_FILE"
            )
        log.warning("Redis is unreachable at start-up (%s): starting without it%s", exc, hint)
    except RedisError as exc:
        log.warning("Redis did not answer at start-up (%s): starting without it", exc)
    finally:
        await redis.aclose()


def _tls_problem(exc: BaseException) -> str | None:
    """What a TLS failure says about the settings, or None for another connection failure."""
    text = " ".join(str(e) for e in _chain(exc))
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in _chain(exc)) or (
        "CERTIFICATE_VERIFY_FAILED" in text
    ):
        return (
            f"Redis's certificate does not verify ({_reason(text)}): check"
            " ARPULSE_REDIS_TLS_CA_FILE (the CA that signed it) and that ARPULSE_REDIS_URL names"
            " the host the certificate is for"
        )
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return (
            "Redis does not speak TLS on that port: ARPULSE_REDIS_URL is rediss:// but the server"
            " answers in plain text (use redis://, or its TLS port)"
        )
    if "unknown ca" in text.lower() or "bad certificate" in text.lower():
        return (
            f"Redis refused this worker's client certificate ({_reason(text)}): check"
            " ARPULSE_REDIS_TLS_CERT_FILE and ARPULSE_REDIS_TLS_KEY_FILE"
        )
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _reason(text: str) -> str:
    start = text.find("[SSL")
    return text[start:].split("(")[0].strip() if start >= 0 else text[:200]
