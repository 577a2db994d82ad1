"""The aging report and the collection figures agree across surfaces: a worker fed a history on
the real broker, its HTTP reports (JSON and CSV), `arpulse report` and its Prometheus gauges say
what `simulate` says, and what the events say when reckoned the long way
(tests/support/receivables_oracle.py), on the last day and on a day in the past."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from processor.core.policy_file import load_policy
from processor.demo.devstack import DevStack
from processor.demo.run import month_summary
from processor.simulation.simulate import simulate, summary
from tests.support.harness import Harness, own_inputs, unique
from tests.support.receivables_oracle import BUCKETS, Reckoning, history, reckon
from tests.support.timeline import Timeline, wait_until_quiet, worker_on

pytestmark = pytest.mark.integration

END = date(2026, 6, 30)


def _check_figures(figures: dict[str, str | None], want: Reckoning) -> None:
    assert Decimal(str(figures["receivables"])) == want.receivables
    assert Decimal(str(figures["current"])) == want.current
    assert Decimal(str(figures["credit_sales"])) == want.credit_sales
    assert Decimal(str(figures["dso_simple"])) == want.dso_simple
    assert Decimal(str(figures["dso_countback"])) == want.dso_countback
    assert Decimal(str(figures["cei_percent"])) == want.cei
    assert Decimal(str(figures["over_90_share"])) == want.over_90_share


async def test_the_reports_agree_with_simulate_and_with_the_events(
    stack: DevStack, workdir: Path, harness: Harness
) -> None:
    app_id = unique("arpulse-reports")
    inputs = own_inputs(app_id)
    events = history(unique("rep"), customers=40, end=END)
    start = datetime.combine(END, time(23), tzinfo=UTC)
    timeline = Timeline.starting_in(0, start=start, days=0, speed=1.0)
    worker = worker_on(timeline, stack=stack, workdir=workdir, app_id=app_id, inputs=inputs)
    worker.start()
    try:
        worker.wait_ready()
        await harness.send_all([(inputs[topic], event) for topic, event in events])
        await wait_until_quiet(harness, [worker], timeline)
        want = reckon(events, END)
        for _ in range(60):  # the projection writes within a moment of the last decision
            status, aging = worker.http(f"/reports/aging?as_of={END}")
            if status == 200 and aging["portfolio"].get("USD", {}).get("total") == str(
                want.receivables
            ):
                break
            await asyncio.sleep(0.5)
        assert status == 200, aging
        usd = aging["portfolio"]["USD"]
        assert {b: Decimal(usd[b]) for b in BUCKETS} == want.aging
        assert aging["columns"][: len(BUCKETS)] == list(BUCKETS)

        status, kpis = worker.http(f"/reports/kpis?as_of={END}")
        assert status == 200
        _check_figures(kpis["portfolio"]["USD"], want)
        segments = kpis["segments"]
        total = sum(Decimal(s["USD"]["receivables"]) for s in segments.values() if "USD" in s)
        assert total == want.receivables  # the segments add up to the portfolio

        first, second = month_summary(worker.url, END)  # what `make run` prints at month end
        assert first.startswith("=== 2026-06 outstanding USD") and "120+" in first
        assert f"DSO {want.dso_countback} days (countback)" in second
        assert f"CEI {want.cei} %" in second

        past = END - timedelta(days=45)  # read off the same sums for a day in the past
        status, then = worker.http(f"/reports/kpis?as_of={past}")
        assert status == 200
        _check_figures(then["portfolio"]["USD"], reckon(events, past))

        status, text = worker.http(f"/reports/aging?as_of={END}&format=csv")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows, text
        portfolio = next(r for r in rows if r["scope"] == "portfolio" and r["currency"] == "USD")
        assert {b: Decimal(portfolio[b]) for b in BUCKETS} == want.aging

        env = {**os.environ, **worker.env}
        command = [str(Path(sys.executable).parent / "arpulse"), "report", "kpis", "--as-of"]
        cli = subprocess.run(
            [*command, str(END), "--format", "json"], env=env, capture_output=True, text=True
        )
        assert cli.returncode == 0, cli.stderr
        _check_figures(json.loads(cli.stdout)["portfolio"]["USD"], want)

        lines = [json.dumps(e).encode() for _, e in events]
        simulated = summary(simulate(lines, load_policy(None), until=start))
        assert simulated["aging_at_horizon"]["USD"] == usd  # type: ignore[index]

        for _ in range(40):  # the gauges refresh from Redis every few seconds
            status, metrics = worker.http("/metrics")
            if 'arpulse_cei_percent{currency="USD",segment="all"}' in metrics:
                break
            await asyncio.sleep(0.5)
        latest = kpis if kpis["as_of"] == aging["as_of"] else worker.http("/reports/kpis")[1]
        cei = latest["portfolio"]["USD"]["cei_percent"]
        assert f'arpulse_cei_percent{{currency="USD",segment="all"}} {float(cei)}' in metrics
    finally:
        worker.stop()
