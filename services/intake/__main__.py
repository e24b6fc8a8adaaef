"""Intake entry point.

    python -m services.intake serve                 HTTP API on ASSIST_INTAKE_HOST:ASSIST_INTAKE_PORT
    python -m services.intake forward-raw [--health-port 8085]
                                                    validate assist.events.raw into assist.events / .dlq
    python -m services.intake rebuild-seen          rebuild the idempotency window in Redis from assist.events
    python -m services.intake tokens issue DEPARTMENT | revoke TOKEN | list
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from services.core.contract import load_contract
from services.core.logs import configure_logging
from services.core.process import Health, health_app, serve_until_signalled, start_site, supervise
from services.core.readiness import ConsumerProgress, Readiness, kafka_answers, redis_answers
from services.core.settings import Settings, load_settings
from services.intake.adapters.raw_forwarder import RawForwarder, raw_consumer
from services.intake.adapters.redis_seen import pooled_redis
from services.intake.adapters.seen_window import RebuildRunning, WindowRebuilder
from services.intake.adapters.tokens import TokenFile
from services.intake.wiring import intake_parts

RAW_HEALTH_PORT = 8085


async def serve(settings: Settings) -> None:
    async with intake_parts(settings) as parts:
        app = parts.http_app()
        app.router.add_get("/readyz", Readiness({"kafka": kafka_answers(parts.producer.client.fetch_all_metadata),
                                                 "redis": redis_answers(parts.redis)}).endpoint)
        await serve_until_signalled(app, settings.intake_host, settings.intake_port, "intake")


async def forward_raw(settings: Settings, health_port: int) -> int:
    """The raw forwarder under supervision; /healthz and /metrics on `health_port` (0: none)."""
    async with intake_parts(settings, client_id="assist-intake-raw") as parts:
        health = Health()
        consumer = raw_consumer(settings.kafka_bootstrap)
        ready = Readiness({"kafka": kafka_answers(consumer.topics), "redis": redis_answers(parts.redis),
                           "consumer": ConsumerProgress(consumer)})
        runner = await start_site(health_app(health, parts.metrics.registry, ready), settings.intake_host,
                                  health_port) if health_port else None
        await consumer.start()
        stop = asyncio.Event()
        forwarder = RawForwarder(consumer, parts.producer, parts.intake, parts.contract, parts.metrics,
                                 parts.pseudonymiser.person_id)
        logging.info("forwarding assist.events.raw")
        try:
            return await supervise({"raw forwarder": forwarder.run(stop)}, stop, health)
        finally:
            await consumer.stop()
            if runner:
                await runner.cleanup()


async def rebuild_seen(settings: Settings) -> int:
    """Rebuild the window even when it is there (it only adds keys, so intake keeps answering meanwhile)."""
    redis = pooled_redis(settings.redis_url, 2, settings.intake_redis_wait_seconds)
    try:
        report = await WindowRebuilder(redis, settings.idempotency_window_seconds, settings.kafka_bootstrap).rebuild()
    except RebuildRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
    print(f"idempotency window rebuilt: {report.events} events read, {report.remembered} remembered "
          f"({report.seconds:.2f} s)")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.intake")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve")
    sub.add_parser("rebuild-seen")
    raw = sub.add_parser("forward-raw")
    raw.add_argument("--health-port", type=int, default=RAW_HEALTH_PORT,
                     help=f"/healthz and /metrics of the forwarder (default {RAW_HEALTH_PORT}; 0: none)")
    tokens = sub.add_parser("tokens")
    tokens.add_argument("action", choices=["issue", "revoke", "list"])
    tokens.add_argument("value", nargs="?")
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging("intake", settings)
    if args.command == "serve":
        asyncio.run(serve(settings))
    elif args.command == "forward-raw":
        return asyncio.run(forward_raw(settings, args.health_port))
    elif args.command == "rebuild-seen":
        return asyncio.run(rebuild_seen(settings))
    else:
        return _tokens(TokenFile(settings.intake_tokens_file), args.action, args.value)
    return 0


def _tokens(store: TokenFile, action: str, value: str | None) -> int:
    if action == "list":
        for digest, entry in sorted(store.listing().items(), key=lambda kv: kv[1]["department"]):
            print(f"{entry['department']:<28} {entry['created_at']}  sha256:{digest[:16]}…")
        return 0
    if not value:
        print(f"tokens {action} needs a value", file=sys.stderr)
        return 2
    if action == "issue":
        known = sorted(load_contract().departments)
        if value not in known:
            print(f"unknown department {value!r}; the departments that own event types are: {', '.join(known)}",
                  file=sys.stderr)
            return 2
        print(store.issue(value))
        return 0
    return 0 if store.revoke(value) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
