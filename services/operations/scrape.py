"""The local stack's Prometheus configuration: every service's metrics port on loopback, as the settings give them
(pure; deploy/local/stack.sh writes it to the stack's data folder). The job names are those of
deploy/prometheus/prometheus.yml, so the alert rules in deploy/prometheus/rules read the same in both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.core.settings import Settings

LOOPBACK = "127.0.0.1"


def service_ports(settings: Settings, raw_forwarder_port: int) -> dict[str, list[int]]:
    """The ports each job's processes serve /metrics on."""
    return {
        "intake": [settings.intake_port],
        "intake-raw": [raw_forwarder_port],
        "matching": [settings.matching_web_port],
        "notification": [settings.notification_metrics_port, settings.citizen_web_port],
        "casework": [settings.casework_metrics_port, settings.casework_web_port],
        "vault": [settings.vault_metrics_port],
        "outcomes": [settings.outcomes_metrics_port],
    }


def local_scrape_config(settings: Settings, *, raw_forwarder_port: int, lag_exporter_port: int,
                        prometheus_port: int, rule_files: Sequence[str], interval_seconds: int) -> dict[str, Any]:
    """A prometheus.yml for the local stack."""
    jobs = {**service_ports(settings, raw_forwarder_port), "lag": [lag_exporter_port], "prometheus": [prometheus_port]}
    return {
        "global": {"scrape_interval": f"{interval_seconds}s", "evaluation_interval": f"{interval_seconds}s",
                   "scrape_timeout": f"{max(interval_seconds - 1, 1)}s"},
        "rule_files": list(rule_files),
        "scrape_configs": [{"job_name": job, "metrics_path": "/metrics",
                            "static_configs": [{"targets": [f"{LOOPBACK}:{port}" for port in ports]}]}
                           for job, ports in jobs.items()],
    }
