"""What can be checked of the deployment here: alert rules, dashboard, compose file."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from processor.core.metrics import build_metrics
from processor.core.settings import load_settings
from processor.errors import ConfigError
from processor.serving.report_gauges import GAUGE_NAMES

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
PROMQL_BUILTINS = {"up"}


def exported_names() -> set[str]:
    """Every sample name the worker can export (with the suffixes Prometheus adds)."""
    names: set[str] = set()
    for family in build_metrics().registry.collect():
        if family.type == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count", "created")}
        else:
            names.add(family.name)
    return names | GAUGE_NAMES  # the collection figures' gauges, registered by the worker


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b(arpulse_[a-z0-9_]+|up)\b", expr))


@pytest.fixture(scope="module")
def promtool() -> str:
    """Debian's promtool (`make test` installs the package prometheus when it is missing)."""
    found = shutil.which("promtool")
    if not found:
        pytest.fail("promtool is missing: run `make test`, or: sudo apt-get install -y prometheus")
    return found


@pytest.mark.parametrize(
    ("check", "path"),
    [
        ("rules", DEPLOY / "prometheus" / "alerts.yml"),
        ("config", DEPLOY / "prometheus" / "prometheus.yml"),
    ],
)
def test_prometheus_files_pass_promtool(promtool: str, check: str, path: Path) -> None:
    result = subprocess.run([promtool, "check", check, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_cover_what_operations_must_watch() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    exprs = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}
    watched = {
        "arpulse_consumer_lag_messages": "consumer lag growing",
        "arpulse_dead_letters_total": "dead-letter rate",
        "arpulse_last_event_timestamp_seconds": "no events for N minutes",
        "arpulse_processing_errors_total": "processing errors",
        "arpulse_projection_pending_snapshots": "projection lag",
    }
    used = set().union(*(metric_names(e) for e in exprs.values()))
    assert set(watched) <= used, {watched[m] for m in set(watched) - used}
    for rule in (r for g in rules["groups"] for r in g["rules"]):
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_every_metric_in_rules_and_dashboard_is_exported() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "arpulse.json").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(metric_names(e) for e in exprs)) - PROMQL_BUILTINS
    assert used, "no metric names found"
    assert used <= exported_names(), sorted(used - exported_names())


def test_dashboard_shows_the_operations_views() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "arpulse.json").read_text())
    shown = set().union(
        *(metric_names(t["expr"]) for p in dashboard["panels"] for t in p["targets"])
    )
    for needed in (
        "arpulse_events_consumed_total",
        "arpulse_end_to_end_latency_seconds_bucket",
        "arpulse_consumer_lag_messages",
        "arpulse_dead_letters_total",
        "arpulse_customers",
        "arpulse_outstanding",
        "arpulse_dso_days",
        "arpulse_cei_percent",
        "arpulse_add_days",
        "arpulse_over_90_share",
    ):
        assert needed in shown
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_compose_services_ports_and_volumes_are_consistent() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "redis", "worker-1", "worker-2", "prometheus", "grafana"} <= set(services)

    host_ports = [p.split(":")[0] for s in services.values() for p in s.get("ports", [])]
    assert len(host_ports) == len(set(host_ports)), f"host port used twice: {host_ports}"

    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on unknown {dependency}"

    for worker in ("worker-1", "worker-2"):
        spec = services[worker]
        assert (ROOT / spec["build"]["dockerfile"]).is_file()
        assert (ROOT / spec["env_file"]).is_file()
        assert any(p.endswith(":6066") for p in spec["ports"])

    env = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy/arpulse.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert env["ARPULSE_KAFKA_BROKER"].split(":")[0] == "kafka"
    assert env["ARPULSE_REDIS_URL"].startswith("redis://redis:")
    assert env["ARPULSE_WEB_HOST"] == "0.0.0.0" and env["ARPULSE_WEB_PORT"] == "6066"

    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        t for job in scrape["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    assert targets == {"worker-1:6066", "worker-2:6066"}


def test_the_compose_workers_settings_start_and_need_an_api_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["services"]["worker-1"]["environment"]
    assert environment["ARPULSE_API_TOKENS"].startswith("${ARPULSE_API_TOKENS:?")  # required
    for line in (ROOT / "deploy/arpulse.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            monkeypatch.setenv(name, value)
    for name, value in environment.items():  # as compose resolves them with nothing set
        if value.startswith("${") and ":-" in value:
            monkeypatch.setenv(name, value.split(":-", 1)[1].rstrip("}"))
        else:
            monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="ARPULSE_API_TOKENS"):
        load_settings()  # the image's 0.0.0.0 without a token: refused
    monkeypatch.setenv("ARPULSE_API_TOKENS", secrets.token_urlsafe(32))
    settings = load_settings()
    assert settings.web_host == "0.0.0.0" and settings.kafka_sasl_password is None
    assert settings.table_store == "rocksdb"  # with a volume of its own for each worker
    mounts = [compose["services"][w]["volumes"][0].split(":") for w in ("worker-1", "worker-2")]
    assert len({source for source, _ in mounts}) == 2
    assert {target for _, target in mounts} == {str(settings.data_dir)}


def test_dockerfile_runs_as_non_root_with_the_worker_entry_point() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER arpulse$", text, re.M)
    assert 'ENTRYPOINT ["arpulse"]' in text and 'CMD ["worker"]' in text
