"""The Grafana dashboards: every query is PromQL promtool accepts and reads only metrics the code exports, each
dashboard shows what operators need from it, and compose and Kubernetes provision the same files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.demo.live_figures import FIGURES
from services.operations.bundles import MANIFEST, configmaps, sources
from tests.unit.ops.promql import REPO, exported, metric_names, promtool

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
NEEDED = {
    "pipeline": {"assist_intake_events_accepted_total", "assist_intake_events_rejected_total",
                 "assist_kafka_partition_end_offset", "assist_kafka_consumer_lag_messages",
                 "assist_matching_processing_seconds_bucket", "assist_intake_http_responses_total"},
    "outcomes": {"assist_matching_offers_total", "assist_matching_tasks_total", "assist_casework_queue_depth",
                 "assist_matching_reevaluation_newly_eligible_total"},
    "casework": {"assist_casework_queue_depth", "assist_casework_unclaimed_tasks", "assist_casework_sla_breaches_total",
                 "assist_casework_claim_to_decision_seconds_bucket"},
    "notification": {"assist_notification_sent_total", "assist_notification_failed_total",
                     "assist_notification_deferred_total", "assist_notification_in_person_total"},
}
"""What each dashboard must show (issue: pipeline, outcomes, casework, notification), as the metrics it reads."""


def dashboard(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def queries() -> list[tuple[str, str]]:
    return [(f"{p.stem}: {panel['title']}", target["expr"]) for p in DASHBOARDS
            for panel in dashboard(p)["panels"] for target in panel["targets"]]


def test_the_four_dashboards_exist_with_their_own_uids() -> None:
    assert {p.stem for p in DASHBOARDS} == set(NEEDED)
    uids = [dashboard(p)["uid"] for p in DASHBOARDS]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize(("where", "expr"), queries(), ids=[w for w, _ in queries()])
def test_every_panel_reads_metrics_the_code_exports(where: str, expr: str) -> None:
    names = metric_names(expr)
    assert names, f"{where}: no metric in {expr!r}"
    assert names <= exported(), f"{where} queries metrics no service exports: {sorted(names - exported())}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_each_dashboard_shows_what_operators_need_from_it(path: Path) -> None:
    read = {n for panel in dashboard(path)["panels"] for t in panel["targets"] for n in metric_names(t["expr"])}
    assert NEEDED[path.stem] <= read, f"{path.stem} misses {sorted(NEEDED[path.stem] - read)}"


def test_every_panel_query_is_promql_promtool_accepts(tmp_path: Path) -> None:
    rules = [{"record": f"dashboard:query_{i}", "expr": expr.replace("$__rate_interval", "5m")}
             for i, (_, expr) in enumerate(queries())]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    done = promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_panels_read_the_provisioned_data_source() -> None:
    (source,) = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"]
    for path in DASHBOARDS:
        for panel in dashboard(path)["panels"]:
            assert panel["datasource"]["uid"] == source["uid"], f"{path.stem}: {panel['title']}"
    assert source["url"] == "http://prometheus:9090"


def test_compose_and_kubernetes_provision_the_same_files_at_the_path_grafana_reads() -> None:
    (provider,) = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "assist.yml").read_text())["providers"]
    path = provider["options"]["path"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    mounts = dict(v.rsplit(":", 2)[:2] for v in compose["grafana"]["volumes"] if v.startswith("./"))
    assert mounts == {"./deploy/grafana/provisioning": "/etc/grafana/provisioning", "./deploy/grafana/dashboards": path}
    assert "grafana" in compose["prometheus"]["depends_on"] or "prometheus" in compose["grafana"]["depends_on"]
    docs = [d for d in yaml.safe_load_all((REPO / "deploy" / "k8s" / "70-monitoring.yaml").read_text()) if d]
    (grafana,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "grafana"]
    (container,) = grafana["spec"]["template"]["spec"]["containers"]
    volumes = {v["name"]: v for v in grafana["spec"]["template"]["spec"]["volumes"]}
    mounted = {m["mountPath"]: volumes[m["name"]]["configMap"]["name"] for m in container["volumeMounts"]}
    assert mounted == {"/etc/grafana/provisioning": "grafana-provisioning", path: "grafana-dashboards"}


def test_the_kubernetes_config_maps_hold_the_rules_and_dashboards_as_they_are_in_deploy() -> None:
    assert MANIFEST.read_text(encoding="utf-8") == configmaps(sources()), (
        "deploy/k8s/71-monitoring-files.yaml is out of date: run `python -m services.operations k8s-config`")
    data = {d["metadata"]["name"]: d["data"] for d in yaml.safe_load_all(MANIFEST.read_text()) if d}
    assert set(data["grafana-dashboards"]) == {p.name for p in DASHBOARDS}
    pipeline = GRAFANA / "dashboards" / "pipeline.json"
    assert json.loads(data["grafana-dashboards"]["pipeline.json"]) == dashboard(pipeline)


def test_the_demos_live_figures_are_promql_promtool_accepts_on_exported_metrics(tmp_path: Path) -> None:
    for name, expr in FIGURES.items():
        assert metric_names(expr) and metric_names(expr) <= exported(), name
    path = tmp_path / "figures.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "demo", "rules": [
        {"record": f"demo:{name}", "expr": expr} for name, expr in FIGURES.items()]}]}), encoding="utf-8")
    done = promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
