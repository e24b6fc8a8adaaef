"""The local stack's Prometheus scrapes every service on loopback at the ports the settings give."""

from __future__ import annotations

from services.core.settings import load_settings
from services.operations.scrape import local_scrape_config


def test_every_target_is_a_loopback_port_the_settings_give() -> None:
    settings = load_settings({"ASSIST_INTAKE_PORT": "29310", "ASSIST_CASEWORK_METRICS_PORT": "29314"})
    config = local_scrape_config(settings, raw_forwarder_port=8085, lag_exporter_port=9308, prometheus_port=9090,
                                 rule_files=["/rules/*.yml"], interval_seconds=5)
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets["intake"] == ["127.0.0.1:29310"]
    assert "127.0.0.1:29314" in targets["casework"]
    assert targets["matching"] == [f"127.0.0.1:{settings.matching_web_port}"]
    assert set(targets) == {"intake", "intake-raw", "matching", "notification", "casework", "vault", "outcomes",
                            "lag", "prometheus"}
    assert targets["outcomes"] == [f"127.0.0.1:{settings.outcomes_metrics_port}"]
    assert all(t.startswith("127.0.0.1:") for ts in targets.values() for t in ts)
    assert config["rule_files"] == ["/rules/*.yml"]
