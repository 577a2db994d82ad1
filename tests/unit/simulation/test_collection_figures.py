"""`simulate`'s aging report and collection figures agree with the events reckoned the long way
(tests/support/receivables_oracle.py), and the what-if chart is written as a PNG."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from processor.cli import main
from processor.core.policy_file import default_policy_text, load_policy
from processor.simulation.simulate import simulate, summary
from tests.support.receivables_oracle import BUCKETS, history, reckon

END = date(2026, 6, 30)


@pytest.fixture(scope="module")
def events() -> list[tuple[str, dict[str, object]]]:
    return history("fig", customers=60, end=END)


def _simulated(events: list[tuple[str, dict[str, object]]]) -> dict[str, object]:
    lines = [json.dumps(e).encode() for _, e in events]
    until = datetime.combine(END, time(23, 0), tzinfo=UTC)
    return summary(simulate(lines, load_policy(None), until=until))


def test_the_aging_and_the_figures_at_the_horizon_agree_with_the_events(
    events: list[tuple[str, dict[str, object]]],
) -> None:
    got = _simulated(events)
    want = reckon(events, END)
    aging = got["aging_at_horizon"]["USD"]  # type: ignore[index]
    assert {b: Decimal(aging[b]) for b in BUCKETS} == want.aging
    assert Decimal(aging["total"]) == want.receivables
    figures = got["collection_figures"]  # type: ignore[index]
    assert figures["as_of"] == END.isoformat()
    usd = figures["currencies"]["USD"]
    assert Decimal(usd["receivables"]) == want.receivables
    assert Decimal(usd["current"]) == want.current
    assert Decimal(usd["credit_sales"]) == want.credit_sales
    assert Decimal(usd["beginning_receivables"]) == want.beginning
    assert Decimal(usd["dso_simple"]) == want.dso_simple
    assert Decimal(usd["dso_countback"]) == want.dso_countback
    assert Decimal(usd["cei_percent"]) == want.cei
    assert Decimal(usd["over_90_share"]) == want.over_90_share
    assert want.receivables > 0 and want.aging["1-30"] > 0 and want.aging["current"] > 0


def test_dso_and_cei_at_each_month_end_agree_with_the_events(
    events: list[tuple[str, dict[str, object]]],
) -> None:
    by_month = _simulated(events)["collection_by_month"]
    assert set(by_month) >= {"2026-03", "2026-04", "2026-05"}  # type: ignore[arg-type]
    for month, day in (("2026-03", date(2026, 3, 31)), ("2026-05", date(2026, 5, 31))):
        want = reckon(events, day)
        row = by_month[month]["USD"]  # type: ignore[index]
        assert Decimal(row["dso_countback"]) == want.dso_countback
        assert Decimal(row["cei_percent"]) == want.cei


def test_compare_writes_the_what_if_chart_as_a_png(
    events: list[tuple[str, dict[str, object]]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(json.dumps(e) for _, e in events))
    chart = tmp_path / "what-if.png"
    other = tmp_path / "other.toml"
    other.write_text(default_policy_text())
    assert main(["simulate", str(source), "--compare", str(other), "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "DSO countback (days) USD" in out and "CEI (%) USD" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 20_000
