"""Outcome figures from the topics.

    python -m services.outcomes report [--by policy|trigger|district] [--json]
    python -m services.outcomes serve [--port 8086] [--every 300]   the figures as metrics, folded every N seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time

from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry

from services.core.codec import load_contract
from services.core.logs import configure_logging
from services.core.process import Health, health_app, start_site, supervise
from services.core.settings import Settings, load_settings
from services.outcomes.adapters.topics import read_outcomes
from services.outcomes.metrics import OutcomeMetrics
from services.outcomes.report import BY, as_json, table

log = logging.getLogger("services.outcomes")


async def serve(settings: Settings, port: int, every_seconds: float) -> int:
    """Fold the topics every `every_seconds` into gauges on /metrics (and /healthz) until signalled. Each fold reads
    the topics from their start (bounded by their retention): simple, and costly on a large history, hence the
    long default interval."""
    contract, metrics, health = load_contract(), OutcomeMetrics(CollectorRegistry()), Health()
    stop = asyncio.Event()

    async def fold() -> None:
        while not stop.is_set():
            try:
                metrics.update(await read_outcomes(settings.kafka_bootstrap, contract), time.time())
            except (KafkaError, OSError) as exc:
                log.warning("outcomes: fold skipped (%s); the next one tries again", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_seconds)

    runner = await start_site(health_app(health, metrics.registry), settings.outcomes_metrics_host, port)
    try:
        return await supervise({"outcome fold": fold()}, stop, health)
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.outcomes")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="figures of everything on the topics now")
    report.add_argument("--by", choices=tuple(BY), default="policy")
    report.add_argument("--json", action="store_true")
    serving = commands.add_parser("serve", help="the figures as Prometheus gauges")
    serving.add_argument("--port", type=int, default=None, help="default ASSIST_OUTCOMES_METRICS_PORT (8086)")
    serving.add_argument("--every", type=float, default=300.0, help="seconds between folds")
    args = parser.parse_args(argv)
    configure_logging("outcomes")
    if args.command == "serve":
        settings = load_settings()
        return asyncio.run(serve(settings, args.port or settings.outcomes_metrics_port, args.every))
    result = asyncio.run(read_outcomes(load_settings().kafka_bootstrap, load_contract()))
    print(json.dumps(as_json(result), ensure_ascii=False, indent=1) if args.json else "\n".join(table(result, args.by)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
