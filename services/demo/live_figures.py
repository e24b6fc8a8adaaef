"""The demo's last words: a few live figures read back from the local stack's Prometheus (its HTTP API), and where
to look for more. Without a Prometheus the demo says so and ends as before."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIGURES: Mapping[str, str] = {
    # From the partition ends of assist.events (the lag exporter exports every partition all the time), so a burst
    # shorter than a scrape interval is counted too; the services' own counters appear only with their first event.
    "events_written": 'sum(max_over_time(assist_kafka_partition_end_offset{topic="assist.events"}[5m]) - '
                      'min_over_time(assist_kafka_partition_end_offset{topic="assist.events"}[5m]))',
    "peak_events_per_second": 'max_over_time(sum(rate(assist_kafka_partition_end_offset{topic="assist.events"}'
                              "[10s]))[5m:5s])",
    "offers_by_tier": "sum by (tier) (assist_matching_offers_total)",
    "queue_depth_by_band": "sum by (band) (assist_casework_queue_depth)",
    "dead_letters_per_minute_by_topic": '60 * sum by (topic) (rate(assist_kafka_partition_end_offset{topic=~".+[.]dlq"}'
                                        "[2m]))",
    "lag_by_group": "sum by (group) (assist_kafka_consumer_lag_messages)",
}
"""What the demo prints, as PromQL (every metric here is one the services or the lag exporter export)."""

Sample = tuple[dict[str, str], float]


@dataclass(frozen=True)
class Figures:
    url: str
    results: Mapping[str, Sequence[Sample]]


def samples(answer: Mapping[str, Any]) -> list[Sample]:
    """The samples of an instant-query answer of Prometheus' HTTP API (`/api/v1/query`)."""
    if answer.get("status") != "success":
        raise ValueError(f"Prometheus refused the query: {answer.get('error', answer.get('status'))}")
    data = answer["data"]
    if data["resultType"] == "scalar":
        return [({}, float(data["result"][1]))]
    return [(dict(r["metric"]), float(r["value"][1])) for r in data["result"]]


def _by(results: Sequence[Sample], label: str, mine: str = "") -> str:
    shown = sorted(((m.get(label, "?"), v) for m, v in results if mine in m.get(label, "")), key=lambda kv: kv[0])
    return ", ".join(f"{k} {v:,.0f}" for k, v in shown) or "none"


def describe(figures: Figures, groups_of_run: str) -> list[str]:
    """The lines the demo prints (pure)."""
    r = figures.results
    written = sum(v for _, v in r.get("events_written", ()))
    peak = sum(v for _, v in r.get("peak_events_per_second", ()))
    dlq = ", ".join(f"{m.get('topic', '?')} {v:.1f}" for m, v in sorted(
        r.get("dead_letters_per_minute_by_topic", ()), key=lambda s: s[0].get("topic", ""))) or "none"
    return [
        f"live figures from Prometheus ({figures.url}):",
        f"   events onto assist.events in the last 5 minutes (HTTP and Kafka): {written:,.0f}; "
        f"peak {peak:.1f} a second (10 s windows)",
        f"   offers by tier: {_by(r.get('offers_by_tier', ()), 'tier')}",
        f"   casework queue depth by priority band: {_by(r.get('queue_depth_by_band', ()), 'band')}",
        f"   dead letters per minute by topic: {dlq}",
        f"   consumer lag of this run's groups (messages): {_by(r.get('lag_by_group', ()), 'group', groups_of_run)}",
        f"   more: {figures.url}/graph, alerts at {figures.url}/alerts",
    ]


def started_by_the_stack(config_file: str, stack_folder: Path) -> bool:
    """Whether a Prometheus reading `config_file` is the local stack's, whose configuration lives in its data folder
    (pure: paths compared as text, relative ones from the project folder where ./run starts both)."""
    config, folder = os.path.abspath(config_file), os.path.abspath(stack_folder)
    return bool(config_file) and os.path.commonpath([config, folder]) == folder


class PrometheusApi:
    """Instant queries against one Prometheus (loopback only)."""

    def __init__(self, port: int, timeout_seconds: float = 3.0):
        self.url = f"http://127.0.0.1:{port}"
        self._timeout = timeout_seconds

    def _get(self, path: str, query: str | None = None) -> Any:
        url = self.url + path + ("?" + urllib.parse.urlencode({"query": query}) if query else "")
        with urllib.request.urlopen(url, timeout=self._timeout) as answer:
            body = answer.read().decode()
        return json.loads(body) if query else body

    async def ready(self) -> bool:
        try:
            await asyncio.to_thread(self._get, "/-/ready")
            return True
        except OSError:
            return False

    async def config_file(self) -> str:
        """The configuration file this Prometheus was started with (its /api/v1/status/flags)."""
        flags = await asyncio.to_thread(self._get_json, "/api/v1/status/flags")
        return str(flags.get("data", {}).get("config.file", ""))

    def _get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=self._timeout) as answer:
            return json.loads(answer.read().decode())

    async def query(self, promql: str) -> list[Sample]:
        return samples(await asyncio.to_thread(self._get, "/api/v1/query", promql))

    async def scraped_since(self, moment: float, job: str, seconds: float = 20.0) -> bool:
        """Wait (at most `seconds`) until `job` was scraped after `moment` (Unix time), so the figures include
        what the demo just did."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = await self.query(f'max(timestamp(up{{job="{job}"}}))')
            if found and found[0][1] > moment:
                return True
            await asyncio.sleep(1.0)
        return False


async def read_figures(api: PrometheusApi, finished_at: float) -> Figures:
    await api.scraped_since(finished_at, "matching")
    results = {name: await api.query(promql) for name, promql in FIGURES.items()}
    return Figures(api.url, results)


async def print_live_figures(port: int, groups_of_run: str, stack_folder: Path) -> None:
    """Print the figures, or say why there are none; never fails the demo. Only the local stack's Prometheus
    (started with a configuration in `stack_folder`) scrapes the demo's services."""
    api = PrometheusApi(port)
    if not await api.ready():
        print(f"Prometheus does not answer on {api.url}: no live figures (`./run stack up` starts it)")
        return
    try:
        config = await api.config_file()
        if not started_by_the_stack(config, stack_folder):
            print(f"the Prometheus on {api.url} is not the local stack's (it reads {config or 'another file'}): no "
                  "live figures; give the stack another ASSIST_PROMETHEUS_PORT")
            return
        figures = await read_figures(api, time.time())
    except (OSError, ValueError, KeyError) as exc:
        print(f"live figures could not be read from {api.url} ({type(exc).__name__})")
        return
    for line in describe(figures, groups_of_run):
        print(line)
