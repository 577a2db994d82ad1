"""Settings from the environment: a bad value stops start-up naming its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.core.settings import load_settings, redacted_url
from processor.errors import ConfigError
from processor.serving.redis_client import redis_options


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ARPULSE_PARTITIONS", "zero"),
        ("ARPULSE_WEB_PORT", "70000"),
        ("ARPULSE_LOG_LEVEL", "loud"),
        ("ARPULSE_SESSION_TIMEOUT_SECONDS", "0.5"),
        ("ARPULSE_KAFKA_BROKER", "http://host:9092"),
        ("ARPULSE_KAFKA_BROKER", "host"),
        ("ARPULSE_KAFKA_BROKER", "host:99999"),
        ("ARPULSE_KAFKA_BROKER", " , "),
    ],
)
def test_a_bad_setting_names_its_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert variable in str(raised.value)


@pytest.mark.parametrize(
    ("value", "servers"),
    [
        ("127.0.0.1:9092", "127.0.0.1:9092"),
        ("kafka://host:9092", "host:9092"),
        ("kafka://a:9092;kafka://b:9093", "a:9092,b:9093"),
        ("KAFKA://a:9092/, b:9093", "a:9092,b:9093"),
    ],
)
def test_the_broker_is_host_port_or_faust_s_kafka_url(
    value: str, servers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARPULSE_KAFKA_BROKER", value)
    assert load_settings().kafka_broker == servers


def test_another_scheme_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARPULSE_KAFKA_BROKER", "ssl://host:9093")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "ARPULSE_KAFKA_BROKER" in str(raised.value) and "ssl://" in str(raised.value)


@pytest.fixture
def pem(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return path


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ARPULSE_REDIS_URL": "http://cache:6379"}, "ARPULSE_REDIS_URL"),
        ({"ARPULSE_REDIS_URL": "cache:6379"}, "ARPULSE_REDIS_URL"),
        ({"ARPULSE_REDIS_TLS_CA_FILE": "/nonexistent/ca.pem"}, "ARPULSE_REDIS_TLS_CA_FILE"),
        ({"ARPULSE_REDIS_TLS_CA_FILE": "{pem}"}, "ARPULSE_REDIS_TLS_CA_FILE need a rediss://"),
        (
            {"ARPULSE_REDIS_URL": "rediss://cache:6380", "ARPULSE_REDIS_TLS_CERT_FILE": "{pem}"},
            "ARPULSE_REDIS_TLS_KEY_FILE go together",
        ),
        (
            {"ARPULSE_REDIS_URL": "rediss://u:pw@cache:6380", "ARPULSE_REDIS_PASSWORD": "pw2"},
            "ARPULSE_REDIS_USERNAME/ARPULSE_REDIS_PASSWORD; keep one",
        ),
    ],
)
def test_a_bad_redis_setting_names_it_and_shows_no_secret(
    env: dict[str, str], named: str, pem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{pem}", str(pem)))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert named in str(raised.value)
    assert "pw" not in str(raised.value).replace("ARPULSE_REDIS_PASSWORD", "")


def test_a_redis_url_without_a_scheme_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARPULSE_REDIS_URL", "default:s3cret-pw@cache:6379/0")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "ARPULSE_REDIS_URL" in str(raised.value) and "s3cret" not in str(raised.value)


def test_rediss_takes_its_certificates_and_a_separate_user(
    pem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARPULSE_REDIS_URL", "rediss://cache:6380/0")
    monkeypatch.setenv("ARPULSE_REDIS_USERNAME", "arpulse")
    monkeypatch.setenv("ARPULSE_REDIS_PASSWORD", "s3cret-s3cret")
    for name in ("CA", "CERT", "KEY"):
        monkeypatch.setenv(f"ARPULSE_REDIS_TLS_{name}_FILE", str(pem))
    options = redis_options(load_settings())
    assert options == {
        "username": "arpulse",
        "password": "s3cret-s3cret",
        "ssl_cert_reqs": "required",
        "ssl_check_hostname": True,
        "ssl_ca_certs": str(pem),
        "ssl_certfile": str(pem),
        "ssl_keyfile": str(pem),
    }
    assert "s3cret" not in repr(load_settings())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("rediss://arpulse:pw-1@cache:6380/0", "rediss://arpulse:****@cache:6380/0"),
        ("redis://:pw-1@cache:6379", "redis://:****@cache:6379"),
        ("redis://arpulse@cache:6379", "redis://arpulse@cache:6379"),
    ],
)
def test_a_printed_redis_url_hides_its_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
