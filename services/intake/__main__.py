"""Intake entry point.

    python -m services.intake serve                 HTTP API on ASSIST_INTAKE_HOST:ASSIST_INTAKE_PORT
    python -m services.intake forward-raw           validate assist.events.raw into assist.events / .dlq
    python -m services.intake tokens issue DEPARTMENT | revoke TOKEN | list
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from services.core.process import serve_until_signalled, until_signalled
from services.core.settings import Settings, load_settings
from services.intake.adapters.http import build_app
from services.intake.adapters.raw_forwarder import RawForwarder, raw_consumer
from services.intake.adapters.tokens import TokenFile
from services.intake.wiring import intake_parts


async def serve(settings: Settings) -> None:
    async with intake_parts(settings) as parts:
        app = build_app(parts.intake, parts.tokens, parts.contract, parts.metrics,
                        parts.pseudonymiser.person_id, settings.max_batch_events)
        await serve_until_signalled(app, settings.intake_host, settings.intake_port, "intake")


async def forward_raw(settings: Settings) -> None:
    async with intake_parts(settings, client_id="assist-intake-raw") as parts:
        consumer = raw_consumer(settings.kafka_bootstrap)
        await consumer.start()
        stop = asyncio.Event()
        forwarder = RawForwarder(consumer, parts.producer, parts.intake, parts.contract, parts.metrics,
                                 parts.pseudonymiser.person_id)
        task = asyncio.create_task(forwarder.run(stop))
        logging.info("forwarding assist.events.raw")
        await until_signalled()
        stop.set()
        await task
        await consumer.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.intake")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve")
    sub.add_parser("forward-raw")
    tokens = sub.add_parser("tokens")
    tokens.add_argument("action", choices=["issue", "revoke", "list"])
    tokens.add_argument("value", nargs="?")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings()
    if args.command == "serve":
        asyncio.run(serve(settings))
    elif args.command == "forward-raw":
        asyncio.run(forward_raw(settings))
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
        print(store.issue(value))
        return 0
    return 0 if store.revoke(value) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
