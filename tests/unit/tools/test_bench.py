"""The bench's pure parts: statistics, memory arithmetic, verdicts, the report, the load."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from processor.core.policy_file import load_policy
from processor.core.state_codec import decode_state, wake_of_raw
from schemas import topics
from tools.bench import load
from tools.bench.arpulse import App, Workers
from tools.bench.faust_peers import Tally
from tools.bench.raw import transform
from tools.bench.report import (
    RunFigures,
    Spread,
    document,
    latency_figures,
    memory_figures,
    percentile,
    ratio,
    ratios,
    render_table,
    render_verdicts,
    summarise,
    verdicts,
)
from tools.bench.run import QUICK, BenchSettings, history_customers, settings_from


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 0, 1.0),
        ([4.0, 1.0, 3.0, 2.0], 100, 4.0),
        ([float(n) for n in range(1, 101)], 99, 99.01),
        ([10.0, 20.0], 25, 12.5),
    ],
)
def test_percentiles_interpolate_between_closest_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_refuses_no_values_and_out_of_range_ranks(values: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        percentile(values, q)


def test_latency_figures_are_p50_p99_and_max() -> None:
    figures = latency_figures([float(n) for n in range(1, 1001)])
    assert figures == pytest.approx(
        {"latency_p50_ms": 500.5, "latency_p99_ms": 990.01, "latency_max_ms": 1000.0}
    )


@pytest.mark.parametrize(
    ("values", "median", "low", "high"),
    [([3.0], 3.0, 3.0, 3.0), ([3.0, 1.0, 2.0], 2.0, 1.0, 3.0), ([4.0, 1.0], 2.5, 1.0, 4.0)],
)
def test_a_spread_is_the_median_and_the_range_of_the_runs(
    values: list[float], median: float, low: float, high: float
) -> None:
    assert Spread.of(values) == Spread(median, low, high, tuple(values))


def test_memory_per_customer_is_the_difference_over_the_customers() -> None:
    # 195.3125 MB for 100,000 customers: 2 KB each (binary units, like VmRSS)
    figures = memory_figures(rss_loaded_mb=275.3125, rss_idle_mb=80.0, customers=100_000)
    assert figures == pytest.approx({"kb_per_customer": 2.0, "mb_per_100k": 195.3125})
    half = memory_figures(rss_loaded_mb=180.0, rss_idle_mb=80.0, customers=50_000)
    assert half["mb_per_100k"] == pytest.approx(200.0)
    with pytest.raises(ValueError):
        memory_figures(rss_loaded_mb=1.0, rss_idle_mb=1.0, customers=0)


def test_the_ratio_is_zero_when_the_raw_pass_measured_nothing() -> None:
    assert ratio(220.0, 19_000.0) == pytest.approx(0.011578947)
    assert ratio(220.0, 0.0) == 0.0


def _figures(**overrides: float) -> dict[str, float]:
    base = {
        "raw_events_per_s": 19_000.0,
        "arpulse_events_per_s": 9_500.0,
        "ratio": 0.5,
        "ledger_ratio": 2.0,
        "consume_ratio": 0.6,
        "domain_events_per_cpu_s": 50_000.0,
        "domain_flatness": 0.8,
        "logic_events_per_cpu_s": 15_000.0,
        "latency_p99_ms": 250.0,
        "kb_per_customer": 2.0,
        "restart_seconds": 30.0,
        "rocksdb_restart_seconds": 20.0,
        "rocksdb_rss_mb": 600.0,
    }
    return {**base, **overrides}


def test_targets_are_met_on_their_bounds_and_judged_on_the_median() -> None:
    found = {v.name: v for v in verdicts(summarise([_figures()]))}
    assert all(v.ok for v in found.values()), found
    runs = [
        _figures(ledger_ratio=0.5, latency_p99_ms=900.0, domain_flatness=0.7),
        _figures(ledger_ratio=3.0, latency_p99_ms=100.0, logic_events_per_cpu_s=14_999.0),
        _figures(
            ledger_ratio=1.5,
            consume_ratio=0.59,
            latency_p99_ms=240.0,
            kb_per_customer=2.5,
            restart_seconds=31.0,
            domain_events_per_cpu_s=49_000.0,
        ),
    ]
    found = {v.name: v for v in verdicts(summarise(runs))}
    assert found["against the naive ledger"].ok is False  # median 1.5
    assert found["against the runtime"].ok is True  # median 0.6
    assert found["pure domain"].ok is True and found["flat in history"].ok is True
    assert found["logic"].ok is True  # median 15,000
    assert found["latency"].ok is True  # median 240 ms
    assert found["memory"].ok is True and found["restart"].ok is True  # medians 2.0 and 30
    assert "median 1.5 (runs 0.5 to 3)" in found["against the naive ledger"].message
    found = {v.name: v for v in verdicts(summarise([_figures(domain_events_per_cpu_s=49_999.0)]))}
    assert found["pure domain"].ok is False
    runs = [_figures(rocksdb_restart_seconds=21.0), _figures(rocksdb_rss_mb=601.0)]
    runs.append(_figures(rocksdb_restart_seconds=25.0, rocksdb_rss_mb=700.0))
    found = {v.name: v for v in verdicts(summarise(runs))}
    assert found["rocksdb restart"].ok is False and found["rocksdb memory"].ok is False


def test_a_figure_no_run_measured_is_not_judged() -> None:
    found = {v.name: v for v in verdicts(summarise([{"latency_p99_ms": 10.0}]))}
    assert found["latency"].ok is True
    missing = found["against the naive ledger"]
    assert missing.ok is None and "not measured" in missing.message
    assert "n/a " in render_verdicts(list(found.values()))


def test_the_json_document_has_settings_targets_summary_verdicts_runs_and_errors() -> None:
    good = RunFigures(1, figures=_figures(), details={"latency": {"actions_ms": [1.0, 2.0]}})
    broken = RunFigures(2, figures={"raw_events_per_s": 18_000.0}, errors=["arpulse: died"])
    doc = document(
        settings={"runs": 2}, runs=[good, broken], state={"customers": 10}, elapsed_s=61.23
    )
    assert set(doc) == {
        "settings",
        "targets",
        "summary",
        "verdicts",
        "state",
        "runs",
        "errors",
        "elapsed_seconds",
    }
    assert doc["summary"]["raw_events_per_s"] == {
        "median": 18_500.0,
        "min": 18_000.0,
        "max": 19_000.0,
        "runs": (19_000.0, 18_000.0),
    }
    assert doc["summary"]["ratio"]["runs"] == (0.5,)
    assert doc["errors"] == ["run 2: arpulse: died"]
    assert [v["name"] for v in doc["verdicts"]] == [
        "against the naive ledger",
        "against the runtime",
        "pure domain",
        "flat in history",
        "logic",
        "latency",
        "memory",
        "restart",
        "rocksdb restart",
        "rocksdb memory",
    ]
    assert doc["targets"]["latency"]["target"] == 250.0
    assert doc["runs"][0]["details"]["latency"]["actions_ms"] == [1.0, 2.0]
    assert doc["elapsed_seconds"] == 61.2
    json.dumps(doc)  # serialisable as it is


def test_the_table_lists_measured_figures_with_median_and_range() -> None:
    table = render_table(summarise([_figures(), _figures(raw_events_per_s=17_000.0)]))
    lines = table.splitlines()
    assert lines[0].split() == ["figure", "median", "min", "max", "unit"]
    raw = next(line for line in lines if line.startswith("raw aiokafka"))
    assert raw.split()[-4:] == ["18,000", "17,000", "19,000", "events/s"]
    assert not any(line.startswith("end-to-end p50") for line in lines)  # not measured


def test_the_raw_transform_reencodes_json_and_passes_anything_else_on() -> None:
    out = json.loads(
        transform(
            b'{"event_id":"e1","event_type":"invoice.issued","customer_id":"c","amount":"1.50"}'
        )
    )
    assert out == {
        "customer_id": "c",
        "event_type": "invoice.issued",
        "source_event_id": "e1",
        "amount": "1.50",
    }
    assert transform(b"not json") == b"not json"
    assert transform(b"[1]") == b"[1]"


def test_the_backlog_is_the_soak_mix_with_some_bad_events() -> None:
    count = load.backlog_size(300, 2)
    assert count == round(300 * 2 * load.events_per_invoice())
    events = load.take(load.portfolio_mix(300, seed=5), count)
    assert len(events) == count
    kinds = Counter(e.kind for e in events)
    assert kinds["invoice.issued"] > kinds["payment.received"] > kinds["invoice.due_date_passed"]
    assert 0 < sum(n for k, n in kinds.items() if k.startswith("invalid:")) < 0.03 * count
    again = load.take(load.portfolio_mix(300, seed=5), count)
    assert [e.value for e in again] == [e.value for e in events]


def test_typical_states_are_cloned_under_new_ids_as_the_worker_stores_them() -> None:
    policy = load_policy(None)
    states, end = load.typical_states(sample=4, seed=3, policy=policy, days=120)
    assert len(states) == 4
    clones = list(load.clones(states, 6, policy))
    assert [c for c, _ in clones] == [load.clone_id(n) for n in range(6)]
    for n, (customer_id, raw) in enumerate(clones):
        assert raw == load.encoded(replace(states[n % 4], customer_id=customer_id), policy)
        decoded = decode_state(raw)
        assert decoded.customer_id == customer_id
        assert decoded.ledger == states[n % 4].ledger
        wake = wake_of_raw(raw)
        assert wake.policy_version == policy.version
        assert wake.at is None or wake.at > end  # nothing is due at the history's end


def test_an_app_names_its_own_topics_and_changelog() -> None:
    app = App("bench-r1", 4)
    assert app.topic(topics.INVOICE_ISSUED) == "bench-r1.ar.invoice-issued"
    assert app.inputs == {f"bench-r1.{t}" for t in topics.INPUT_TOPICS}
    assert app.changelog == "bench-r1-customers-changelog"
    env = app.env(start=load.START, frozen=True)
    assert env["ARPULSE_SIMULATED_END"] == env["ARPULSE_SIMULATED_START"]
    assert env["ARPULSE_TOPIC_COLLECTION_ACTIONS"] == "bench-r1.ar.collection-actions"
    assert "ARPULSE_SIMULATED_END" not in app.env(start=load.START)


def test_quick_overrides_the_sizes_and_bad_sizes_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert settings_from([]) == BenchSettings()
    quick = settings_from(["--quick", "--strict"])
    assert quick.strict and quick.runs == QUICK["runs"]
    assert quick.state_customers == QUICK["state_customers"]
    assert settings_from(["--quick", "--runs", "2"]).runs == 2
    assert settings_from(["--events", "500"]).backlog == 500
    assert settings_from(["--latency-rate", "450"]).latency_rate == 450
    assert settings_from([]).latency_rate == 2000  # the p99 target's load
    assert settings_from(["--latency-rate", "0"]).latency_rate is None  # half of the maximum
    bad_sizes = (["--runs", "0"], ["--events", "0"], ["--latency-seconds", "0"])
    for bad in (*bad_sizes, ["--latency-rate", "-1"]):
        with pytest.raises(SystemExit) as exited:
            settings_from(bad)
        assert exited.value.code == 2
    capsys.readouterr()


def test_worker_settings_reach_every_worker_and_must_be_arpulse_variables(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings = settings_from(
        ["--worker-setting", "ARPULSE_STATE_CACHE_CUSTOMERS=0", "--worker-setting", "ARPULSE_X=a=b"]
    )
    assert settings.worker_overrides == {"ARPULSE_STATE_CACHE_CUSTOMERS": "0", "ARPULSE_X": "a=b"}

    workers = Workers("127.0.0.1:1", "redis://127.0.0.1:1", tmp_path, overrides={"ARPULSE_X": "1"})
    own = {"ARPULSE_X": "0", "ARPULSE_APP_ID": "bench"}
    assert workers.env_for(own) == {"ARPULSE_X": "1", "ARPULSE_APP_ID": "bench"}

    for bad in (["--worker-setting", "STATE_CACHE=0"], ["--worker-setting", "ARPULSE_X"]):
        with pytest.raises(SystemExit) as exited:
            settings_from(bad)
        assert exited.value.code == 2
    capsys.readouterr()


def test_the_worker_is_compared_with_each_faust_peer_and_the_domain_with_its_own_default() -> None:
    found = ratios(
        {
            "arpulse_events_per_s": 6_000.0,
            "faust_consume_events_per_s": 12_000.0,
            "faust_ledger_events_per_s": 4_000.0,
            "domain_events_per_cpu_s": 50_000.0,
            "domain_events_per_cpu_s_32": 45_000.0,
        }
    )
    assert found == {"consume_ratio": 0.5, "ledger_ratio": 1.5, "domain_flatness": 0.9}


def test_longer_histories_are_measured_on_as_many_events_with_fewer_customers() -> None:
    settings = BenchSettings(customers=2000, invoices=4)
    assert [history_customers(settings, n) for n in (4, 8, 32)] == [2000, 1000, 250]
    events = [load.backlog_size(history_customers(settings, n), n) for n in (4, 8, 32)]
    assert max(events) - min(events) <= 1
    assert history_customers(BenchSettings(customers=3, invoices=1), 32) == 1


def test_a_peer_tallies_until_its_count_and_writes_its_figures_once(tmp_path: Path) -> None:
    result = tmp_path / "peer.json"
    tally = Tally(3, result)
    assert [tally.took() for _ in range(3)] == [False, False, True]
    assert tally.first is not None and tally.last >= tally.first
    tally.write()
    figures = json.loads(result.read_text())
    assert figures["events"] == 3 and figures["seconds"] == tally.last - tally.first
    assert not result.with_suffix(".part").exists()  # written whole, then renamed
