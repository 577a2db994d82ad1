"""Kafka security settings: whole or refused by name, and one mapping for every client."""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest

from processor.core.kafka_security import kafka_client_options, kafka_ssl_context
from processor.core.settings import load_settings
from processor.errors import ConfigError
from processor.runtime.faust_app import broker_credentials
from tests.support.tls import Certificates, make_certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ARPULSE_KAFKA_SECURITY_PROTOCOL": "TLS"}, "ARPULSE_KAFKA_SECURITY_PROTOCOL"),
        ({"ARPULSE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs ARPULSE_KAFKA_SASL_USERNAME"),
        ({"ARPULSE_KAFKA_SASL_USERNAME": "u"}, "need ARPULSE_KAFKA_SECURITY_PROTOCOL SASL_"),
        ({"ARPULSE_KAFKA_TLS_CA_FILE": "{ca}"}, "need ARPULSE_KAFKA_SECURITY_PROTOCOL SSL"),
        (
            {"ARPULSE_KAFKA_SECURITY_PROTOCOL": "SSL", "ARPULSE_KAFKA_TLS_KEY_FILE": "{ca}"},
            "ARPULSE_KAFKA_TLS_CERT_FILE and ARPULSE_KAFKA_TLS_KEY_FILE go together",
        ),
        ({"ARPULSE_KAFKA_TLS_CA_FILE": "/nonexistent.pem"}, "ARPULSE_KAFKA_TLS_CA_FILE"),
        ({"ARPULSE_KAFKA_SASL_MECHANISM": "GSSAPI"}, "ARPULSE_KAFKA_SASL_MECHANISM"),
    ],
)
def test_an_incomplete_or_contradictory_setting_is_refused_by_name(
    env: dict[str, str], named: str, certs: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{ca}", str(certs.ca)))
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_plaintext_is_the_default_and_faust_gets_no_credentials() -> None:
    settings = load_settings()
    assert kafka_client_options(settings) == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert broker_credentials(settings) is None


def test_sasl_over_tls_gives_every_client_the_same_context_user_and_mechanism(
    certs: Certificates,
) -> None:
    settings = load_settings(
        kafka_security_protocol="SASL_SSL",
        kafka_tls_ca_file=certs.ca,
        kafka_tls_cert_file=certs.client_cert,
        kafka_tls_key_file=certs.client_key,
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="arpulse",
        kafka_sasl_password="s3cret-s3cret",
    )
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "arpulse",
        "s3cret-s3cret",
    )
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    credentials = broker_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (
        credentials.protocol.value == "SASL_SSL" and credentials.mechanism.value == "SCRAM-SHA-256"
    )
    assert "s3cret" not in repr(credentials) and "s3cret" not in repr(settings)


def test_tls_alone_is_faust_ssl_credentials(certs: Certificates) -> None:
    settings = load_settings(kafka_security_protocol="SSL", kafka_tls_ca_file=certs.ca)
    credentials = broker_credentials(settings)
    assert isinstance(credentials, faust.SSLCredentials)
    assert "sasl_mechanism" not in kafka_client_options(settings)


def test_a_file_that_is_no_ca_bundle_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    settings = load_settings(kafka_security_protocol="SSL", kafka_tls_ca_file=junk)
    with pytest.raises(ConfigError, match="ARPULSE_KAFKA_TLS_CA_FILE"):
        kafka_ssl_context(settings)
