"""Settings from the environment: a bad value stops start-up naming its variable."""

from __future__ import annotations

import pytest

from processor.core.settings import load_settings
from processor.errors import ConfigError


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
