"""How every Kafka client arpulse makes connects: TLS, a client certificate, SASL.

One function maps the settings onto aiokafka's keyword arguments; the Faust app gets the same
through its broker credentials (`processor.runtime.faust_app`), so the worker's consumer and
producer, its admin client, its broker watch and `arpulse projection rebuild` all connect alike.
"""

from __future__ import annotations

import ssl
from typing import Any

from processor.core.settings import Settings
from processor.errors import ConfigError


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL (the brokers' certificates verified), else None."""
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    ca = settings.kafka_tls_ca_file
    try:
        context = ssl.create_default_context(cafile=str(ca) if ca is not None else None)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"ARPULSE_KAFKA_TLS_CA_FILE={ca}: not a CA bundle ({exc})") from None
    if settings.kafka_tls_cert_file is not None:
        try:
            context.load_cert_chain(
                str(settings.kafka_tls_cert_file), str(settings.kafka_tls_key_file)
            )
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                "ARPULSE_KAFKA_TLS_CERT_FILE/ARPULSE_KAFKA_TLS_KEY_FILE: not a certificate and"
                f" its key ({exc})"
            ) from None
    return context


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """Aiokafka's connection arguments (with the bootstrap servers) for these settings."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_broker,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = kafka_ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = None if password is None else password.get_secret_value()
    return options
