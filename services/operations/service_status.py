"""`./run stack status` for the services the demo starts: whether each process is live (/healthz) and ready
(/readyz, where it has one) on the loopback port its settings give."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from services.core.settings import Settings

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Process:
    name: str
    port: int
    has_readiness: bool


def processes(settings: Settings, raw_forwarder_port: int) -> list[Process]:
    """The demo's processes with an HTTP endpoint, and whether they answer /readyz."""
    return [Process("intake", settings.intake_port, True), Process("intake-raw", raw_forwarder_port, True),
            Process("matching", settings.matching_web_port, False),
            Process("notification", settings.notification_metrics_port, True),
            Process("citizen-api", settings.citizen_web_port, True),
            Process("casework", settings.casework_metrics_port, True),
            Process("casework-api", settings.casework_web_port, True),
            Process("vault-feed", settings.vault_metrics_port, True),
            Process("outcomes", settings.outcomes_metrics_port, False)]


Probe = Callable[[str], tuple[int, str]]
"""GET a URL: (status, body); status 0 when nothing answers."""


def http_probe(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError:
        return 0, ""


def why_not(body: str) -> str:
    """The failing checks of a /readyz or /healthz answer (pure)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body[:80]
    checks = answer.get("checks")
    if isinstance(checks, dict):
        return "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    return str(answer.get("reason", answer.get("status", "")))


def status_lines(found: list[Process], probe: Probe = http_probe) -> list[str]:
    lines = []
    for p in found:
        base = f"http://{LOOPBACK}:{p.port}"
        live, body = probe(f"{base}/healthz")
        if live == 0:
            lines.append(f"{p.name:<13} not running ({base})")
            continue
        state = "live" if live == 200 else f"failing ({why_not(body)})"
        if p.has_readiness:
            ready, ready_body = probe(f"{base}/readyz")
            state += ", ready" if ready == 200 else f", not ready ({why_not(ready_body)})"
        lines.append(f"{p.name:<13} {state} ({base})")
    return lines
