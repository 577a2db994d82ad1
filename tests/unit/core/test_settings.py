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
    ],
)
def test_a_bad_setting_names_its_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert variable in str(raised.value)
