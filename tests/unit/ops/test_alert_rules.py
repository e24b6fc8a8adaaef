"""The alert rules: valid for promtool, each alert proven by a `promtool test rules` case that fires it, and
every metric they read one the code exports. promtool is Debian's (package prometheus, installed by ./run setup):
when it is missing these tests fail, they never skip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.core.settings import load_settings
from services.operations.scrape import local_scrape_config
from tests.unit.ops.promql import REPO, exported, metric_names, promtool

PROMETHEUS = REPO / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
TEST_FILES = sorted((PROMETHEUS / "tests").glob("*.yml"))


def rules() -> list[dict[str, Any]]:
    return [rule for f in RULE_FILES for group in yaml.safe_load(f.read_text(encoding="utf-8"))["groups"]
            for rule in group["rules"]]


def test_there_are_rules_and_tests_of_them() -> None:
    assert RULE_FILES and TEST_FILES
    assert len([r for r in rules() if "alert" in r]) >= 10


def test_promtool_accepts_the_rule_files() -> None:
    done = promtool("check", "rules", *map(str, RULE_FILES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_rule_tests_pass() -> None:
    done = promtool("test", "rules", *map(str, TEST_FILES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_stays_quiet() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for f in TEST_FILES:
        for case in yaml.safe_load(f.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    alerts = {r["alert"] for r in rules() if "alert" in r}
    assert alerts - fired == set(), "alerts no test fires"
    assert alerts - quiet == set(), "alerts no test shows quiet"


@pytest.mark.parametrize("rule", [r for r in rules() if "alert" in r], ids=lambda r: r["alert"])
def test_every_metric_an_alert_reads_is_exported_by_the_code(rule: dict[str, Any]) -> None:
    names = metric_names(rule["expr"])
    assert names, f"{rule['alert']}: no metric found in {rule['expr']!r}"
    assert names <= exported(), f"{rule['alert']} reads metrics no service exports: {sorted(names - exported())}"


def test_alerts_say_how_bad_and_what_happened() -> None:
    for rule in (r for r in rules() if "alert" in r):
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_promtool_accepts_the_compose_scrape_configuration() -> None:
    done = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 rule files found" in done.stdout


def test_promtool_accepts_the_local_stack_scrape_configuration(tmp_path: Path) -> None:
    config = local_scrape_config(load_settings({}), raw_forwarder_port=8085, lag_exporter_port=9308,
                                 prometheus_port=9090, rule_files=[str(PROMETHEUS / "rules" / "*.yml")],
                                 interval_seconds=5)
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    done = promtool("check", "config", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_metric_names_are_read_from_promql_the_way_operators_write_it() -> None:
    assert metric_names('sum by (group) (rate(a_total{topic=~"x.+"}[5m])) / on (x) b > 0 and up == 0') == {
        "a_total", "b", "up"}
    assert metric_names("histogram_quantile(0.99, sum by (le) (rate(c_seconds_bucket[$__rate_interval])))") == {
        "c_seconds_bucket"}
