"""deploy/: the Grafana dashboard and the Prometheus rules and config are valid, name only
metrics a real confid exports, and docker-compose wires Prometheus (and Grafana) to it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from app.settings import Settings
from tests.support.api import ROOT, make_api, operation

DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "confid.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
COMPOSE = ROOT / "docker-compose.yml"

# Series Prometheus itself adds to every target; an alert on a dead process needs `up`.
PROMETHEUS_OWN = {"up"}
# Grafana's variables, replaced by what they stand for before the PromQL is parsed.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h",
                     "$job": "confid"}  # fmt: skip
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("", "_count", "_sum"),
    "gauge": ("",),
    "info": ("_info",),
}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def metric_names(expr: str) -> set[str]:
    """Every metric an expression reads, found by parsing it (not by pattern matching)."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(m.value for m in node.matchers.matchers if m.name == "__name__")

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


@pytest.fixture
async def exported(settings: Settings, raw_database: Any) -> set[str]:
    """Every sample name a real confid's /metrics declares (with metrics on)."""
    api = await make_api(replace(settings, metrics=True), raw_database)
    await api.data(operation("Viewer"))
    response = await api.client.get("/metrics")
    await api.client.aclose()
    names: set[str] = set()
    for family in text_string_to_metric_families(response.text):
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
        names.update(sample.name for sample in family.samples)
    return names


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs
    return exprs


def alert_rules() -> list[dict[str, Any]]:
    groups = load_yaml(ALERTS)["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_dashboard_is_a_grafana_dashboard_with_the_panels_promised() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in panels:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"
            assert set(re.findall(r"\$(\w+)", target["expr"])) - {"__rate_interval"} <= variables
    text = " ".join(dashboard_exprs())
    for promised in (
        "confid_graphql_requests_total",  # request rate
        "confid_graphql_request_duration_seconds_bucket",  # latency percentiles
        "confid_graphql_errors_total",  # errors by code
        "confid_conference_id_changes_total",  # changes by action
        "confid_outbox_backlog",
        "confid_audit_checkpoint_age_seconds",
    ):
        assert promised in text, promised


def test_every_dashboard_expression_parses_and_names_only_exported_metrics(
    exported: set[str],
) -> None:
    read = set().union(*(metric_names(expr) for expr in dashboard_exprs()))
    assert read <= exported, read - exported
    assert len(read) >= 10


def test_every_alert_is_complete_and_names_only_exported_metrics(exported: set[str]) -> None:
    rules = alert_rules()
    assert len({r["alert"] for r in rules}) == len(rules) >= 8
    read: set[str] = set()
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["for"]
        read |= metric_names(rule["expr"])
    assert read - PROMETHEUS_OWN <= exported, read - PROMETHEUS_OWN - exported


def test_a_metric_confid_does_not_export_would_be_caught(exported: set[str]) -> None:
    assert metric_names('rate(confid_no_such_total{job="confid"}[5m]) + up') == {
        "confid_no_such_total", "up",
    }  # fmt: skip
    assert "confid_no_such_total" not in exported
    with pytest.raises(ValueError):
        metric_names("rate(confid_graphql_requests_total[5m]")


def test_compose_runs_prometheus_on_confids_metrics_port() -> None:
    compose = load_yaml(COMPOSE)
    services = compose["services"]
    confid_env = services["confid"]["environment"]
    port = confid_env["CONFID_METRICS_PORT"]
    assert "9100" not in " ".join(services["confid"]["ports"])  # not published
    prometheus = services["prometheus"]
    mounts = dict(
        v.rsplit(":", 1)[0].split(":", 1) for v in prometheus["volumes"] if v.startswith("./")
    )
    for host_path in mounts:
        assert (ROOT / host_path).is_file(), host_path
    assert all(p.startswith("127.0.0.1:") for p in prometheus["ports"])
    config = load_yaml(ROOT / next(h for h, c in mounts.items() if c.endswith("prometheus.yml")))
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == [f"confid:{port}"]
    assert config["rule_files"] == [c for c in mounts.values() if c.endswith("alerts.yml")]
    assert load_yaml(PROMETHEUS) == config


def test_compose_grafana_is_optional_and_provisioned() -> None:
    grafana = load_yaml(COMPOSE)["services"]["grafana"]
    assert grafana["profiles"] == ["dashboards"]
    mounts = dict(
        v.rsplit(":", 1)[0].split(":", 1) for v in grafana["volumes"] if v.startswith("./")
    )
    for host_path in mounts:
        assert (ROOT / host_path).is_dir(), host_path
    provisioning = DEPLOY / "grafana" / "provisioning"
    [source] = load_yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert source["url"] == "http://prometheus:9090" and source["type"] == "prometheus"
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    current = next(v for v in dashboard["templating"]["list"] if v["name"] == "datasource")
    assert current["current"]["value"] == source["uid"]
    [provider] = load_yaml(provisioning / "dashboards" / "confid.yml")["providers"]
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
