"""Identity vault entry point.

    python -m services.vault feed [--metrics-port 8087]   take assist.identities into the sealed store
    python -m services.vault reseal                      re-seal values of older keys with the sealing key
    python -m services.vault new-key ID                  print a fresh key entry for ASSIST_VAULT_KEYS
    python -m services.vault purge                       remove disclosures from the staff tally past
                                                         ASSIST_DISCLOSURE_RETENTION_DAYS (never within 3 years)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import logging
import os
import sys

from prometheus_client import REGISTRY
from redis.asyncio import Redis

from services.core.logs import configure_logging
from services.core.process import Health, health_app, start_site, supervise
from services.core.readiness import ConsumerProgress, Readiness, kafka_answers, redis_answers
from services.core.retention import RetentionRefused, cutoff_ms
from services.core.settings import Settings, load_settings
from services.vault.adapters.identity_feed import IdentityFeed, identities_consumer, vault_dead_letters
from services.vault.adapters.redis_store import PREFIX, TALLY_DAYS, RedisDisclosureTally
from services.vault.domain.sealing import Keyring, SealError
from services.vault.wiring import vault_parts

log = logging.getLogger("services.vault")


async def feed(settings: Settings, metrics_port: int) -> int:
    async with vault_parts(settings) as parts:
        health = Health()
        consumer = identities_consumer(settings.kafka_bootstrap)
        ready = Readiness({"kafka": kafka_answers(consumer.topics), "redis": redis_answers(parts.redis),
                           "consumer": ConsumerProgress(consumer)})
        # /metrics: the process's own figures (prometheus_client's default collectors), so Prometheus sees it up.
        runner = await start_site(health_app(health, REGISTRY, ready), settings.vault_metrics_host, metrics_port)
        await consumer.start()
        try:
            stop = asyncio.Event()
            loop = IdentityFeed(consumer, parts.vault, parts.contract, vault_dead_letters(parts.producer))
            return await supervise({"identity feed": loop.run(stop)}, stop, health)
        finally:
            await consumer.stop()
            await runner.cleanup()


async def reseal(settings: Settings) -> int:
    async with vault_parts(settings) as parts:
        count = await parts.vault.reseal()
    print(f"vault: {count} persons re-sealed with key {Keyring.parse(settings.vault_keys).sealing_key_id}")
    return 0


async def purge(settings: Settings, now: dt.datetime, prefix: str = PREFIX) -> tuple[int, int]:
    """Remove the tally's disclosures older than the retention window; the audit topic keeps its own three years."""
    before = cutoff_ms(now, settings.disclosure_retention_days, TALLY_DAYS, "ASSIST_DISCLOSURE_RETENTION_DAYS")
    redis = Redis.from_url(settings.redis_url)
    try:
        removed, kept = await RedisDisclosureTally(redis, prefix).purge(before)
    finally:
        await redis.aclose()
    print(f"vault purge: {removed} disclosures removed from the staff tally, {kept} kept "
          f"(window {settings.disclosure_retention_days} days)")
    return removed, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.vault")
    commands = parser.add_subparsers(dest="command", required=True)
    feed_cmd = commands.add_parser("feed")
    feed_cmd.add_argument("--metrics-port", type=int)
    commands.add_parser("reseal")
    commands.add_parser("purge")
    new_key = commands.add_parser("new-key")
    new_key.add_argument("id", help="letters and digits, e.g. 2027a")
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging("vault", settings)
    if args.command == "new-key":
        entry = f"{args.id}:{base64.b64encode(os.urandom(32)).decode()}"
        try:
            Keyring.parse(entry)
        except SealError as exc:
            print(f"vault: {exc}", file=sys.stderr)
            return 2
        print(entry)
        return 0
    if args.command == "purge":
        try:
            asyncio.run(purge(settings, dt.datetime.now(dt.UTC)))
        except RetentionRefused as refused:
            print(f"vault purge: {refused}", file=sys.stderr)
            return 2
        return 0
    try:
        Keyring.parse(settings.vault_keys)
    except SealError as exc:
        print(f"vault: ASSIST_VAULT_KEYS: {exc}", file=sys.stderr)
        return 2
    if args.command == "feed":
        return asyncio.run(feed(settings, args.metrics_port or settings.vault_metrics_port))
    return asyncio.run(reseal(settings))


if __name__ == "__main__":
    sys.exit(main())
