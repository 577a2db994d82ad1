"""The arpulse command: start-up errors are one line naming the field, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.cli import main
from processor.core.policy_file import default_policy_text


def test_worker_start_up_stops_on_a_bad_policy_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(default_policy_text().replace('channel = "email"', 'channel = "pigeon"', 1))
    monkeypatch.setenv("ARPULSE_POLICY_FILE", str(policy))
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "ladder.low.0.channel" in err and str(policy) in err
