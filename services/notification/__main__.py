"""Notification entry point.

    python -m services.notification worker        consume offers, tasks, decisions and contacts; deliver, retry
                                                  and fall back (metrics on --metrics-port)
    python -m services.notification citizen-api   the citizen page and API on ASSIST_CITIZEN_WEB_HOST:PORT
    python -m services.notification rebuild       rebuild the Redis state from the topics (running workers pause)
    python -m services.notification purge         remove inbox entries and data-use log entries past their
                                                  retention windows (docs/retention.md)
    python -m services.notification dev-gateways  LOCAL DEVELOPMENT ONLY: an SMTP server writing mail to a folder
                                                  and an HTTP SMS sink writing a JSONL file, on loopback

--group and --key-prefix let several deployments share one broker and one Redis (staging, tests).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from pathlib import Path

from redis.asyncio import Redis

from services.core.logs import configure_logging
from services.core.process import Health, health_app, serve_until_signalled, start_site, supervise, until_signalled
from services.core.readiness import ConsumerProgress, Readiness, kafka_answers, redis_answers
from services.core.retention import RetentionRefused, cutoff_ms
from services.core.settings import Settings, load_settings
from services.notification.adapters.citizen_http import build_citizen_app
from services.notification.adapters.dev_gateways import start_sms_sink, start_smtp
from services.notification.adapters.kafka_inbound import GROUP
from services.notification.adapters.rebuild import StoreMarker
from services.notification.adapters.redis_purge import NotificationPurge, RedisNotificationPurge
from services.notification.delivery import SEND_TIMEOUT_SECONDS
from services.notification.wiring import KEY_PREFIX, citizen, worker


async def run_worker(settings: Settings, args: argparse.Namespace) -> int:
    async with worker(settings, args.group, args.key_prefix, args.concurrency,
                      send_timeout_seconds=args.send_timeout) as parts:
        health = Health()
        runner = None
        metrics_port = settings.notification_metrics_port if args.metrics_port is None else args.metrics_port
        if metrics_port:
            consumer = parts.inbound.consumer
            ready = Readiness({"kafka": kafka_answers(consumer.topics), "redis": redis_answers(parts.redis),
                               "consumer": ConsumerProgress(consumer)})
            runner = await start_site(health_app(health, parts.metrics.registry, ready), settings.citizen_web_host,
                                      metrics_port)
        stop = asyncio.Event()
        logging.info("notification worker running (group %s)", args.group)
        try:
            return await supervise(parts.loops(stop), stop, health)
        finally:
            if runner:
                await runner.cleanup()


async def run_citizen_api(settings: Settings, args: argparse.Namespace) -> None:
    async with citizen(settings, args.key_prefix) as parts:
        app = build_citizen_app(parts.desk, parts.metrics, settings.citizen_link_base.startswith("https://"),
                                applications=parts.applications, data_use=parts.data_use,
                                consent=parts.consent, reviews=parts.reviews)
        app.router.add_get("/readyz", Readiness({"kafka": kafka_answers(parts.producer.client.fetch_all_metadata),
                                                 "redis": redis_answers(parts.redis)}).endpoint)
        await serve_until_signalled(app, settings.citizen_web_host, settings.citizen_web_port, "citizen API")


async def run_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    redis = Redis.from_url(settings.redis_url)
    try:
        since = await StoreMarker(redis, args.key_prefix).since()
    finally:
        await redis.aclose()
    if since is None:
        logging.warning("no marker of a complete build: rebuilding from the beginning of the topics")
    async with worker(settings, f"{GROUP}-rebuild", args.key_prefix) as parts:
        report = await parts.rebuilder.rebuild(since or {}, settle_seconds=args.settle)
    print(f"rebuilt: {report.records} records, {report.delivered} deliveries already made, "
          f"{report.inbox_items} inbox items ({report.seconds:.1f} s)")
    return 0


INBOX_MINIMUM_DAYS = 90
"""Never shorter than assist.notifications keeps statuses: a rebuild would write the removed entries again."""
DATA_USE_MINIMUM_DAYS = 3 * 365
"""Disclosures are audit records: the resident may see each one as long as the audit topic keeps it."""


async def purge(settings: Settings, now: dt.datetime, prefix: str = KEY_PREFIX) -> NotificationPurge:
    """Remove inbox entries and data-use log entries past their windows and say how many went and stayed."""
    inbox = cutoff_ms(now, settings.inbox_retention_days, INBOX_MINIMUM_DAYS, "ASSIST_INBOX_RETENTION_DAYS")
    uses = cutoff_ms(now, settings.data_use_retention_days, DATA_USE_MINIMUM_DAYS, "ASSIST_DATA_USE_RETENTION_DAYS")
    redis = Redis.from_url(settings.redis_url)
    try:
        report = await RedisNotificationPurge(redis, prefix).purge(inbox, uses)
    finally:
        await redis.aclose()
    print(f"notification purge: {report.inbox_removed} inbox entries removed, {report.inbox_kept} kept; "
          f"{report.uses_removed} data-use log entries removed, {report.uses_kept} kept")
    return report


async def run_purge(settings: Settings, args: argparse.Namespace) -> int:
    try:
        await purge(settings, dt.datetime.now(dt.UTC), args.key_prefix)
    except RetentionRefused as refused:
        print(f"notification purge: {refused}", file=sys.stderr)
        return 2
    return 0


async def run_dev_gateways(settings: Settings, args: argparse.Namespace) -> None:
    folder = args.mail_dir or settings.data_dir / "dev-gateways" / "mail"
    sms_log = args.sms_log or settings.data_dir / "dev-gateways" / "sms.jsonl"
    smtp = await start_smtp(settings.smtp_host, settings.smtp_port, folder)
    sms = await start_sms_sink(settings.sms_gateway_url, sms_log)
    logging.warning("LOCAL DEVELOPMENT ONLY: SMTP on %s:%d -> %s; SMS sink on %s -> %s", settings.smtp_host,
                    settings.smtp_port, folder, settings.sms_gateway_url, sms_log)
    await until_signalled()
    smtp.close()
    await smtp.wait_closed()
    await sms.cleanup()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.notification")
    sub = parser.add_subparsers(dest="command", required=True)
    work = sub.add_parser("worker")
    work.add_argument("--group", default=GROUP, help="Kafka consumer group")
    work.add_argument("--key-prefix", default=KEY_PREFIX, help="prefix of every Redis key")
    work.add_argument("--concurrency", type=int, default=32, help="delivery steps under way at once")
    work.add_argument("--send-timeout", type=float, default=SEND_TIMEOUT_SECONDS,
                      help="seconds a provider is given; after a crash, unfinished jobs resume after 3x this")
    work.add_argument("--metrics-port", type=int, default=None,
                      help="default ASSIST_NOTIFICATION_METRICS_PORT (8083); 0: no metrics endpoint")
    api = sub.add_parser("citizen-api")
    api.add_argument("--key-prefix", default=KEY_PREFIX, help="prefix of every Redis key")
    again = sub.add_parser("rebuild")
    again.add_argument("--key-prefix", default=KEY_PREFIX, help="prefix of every Redis key")
    again.add_argument("--settle", type=float, default=3.0,
                       help="seconds left to running workers to pause and finish the steps under way")
    purging = sub.add_parser("purge")
    purging.add_argument("--key-prefix", default=KEY_PREFIX, help="prefix of every Redis key")
    dev = sub.add_parser("dev-gateways")
    dev.add_argument("--mail-dir", type=Path, help="folder for received mail (default: DATA_DIR/dev-gateways/mail)")
    dev.add_argument("--sms-log", type=Path, help="JSONL file of SMS requests (default: .../sms.jsonl)")
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging("notification", settings)
    command = {"worker": run_worker, "citizen-api": run_citizen_api, "rebuild": run_rebuild,
               "dev-gateways": run_dev_gateways, "purge": run_purge}
    return asyncio.run(command[args.command](settings, args)) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
