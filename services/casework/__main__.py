"""Casework entry point.

    python -m services.casework worker [--metrics-port 8084] [--group assist-casework]
                                                               tasks in, outbox out, leases, escalations
    python -m services.casework api                            API and console on ASSIST_CASEWORK_WEB_HOST:PORT
    python -m services.casework rebuild                        rebuild the Redis queues from the topics
    python -m services.casework purge                          remove tasks closed longer ago than
                                                               ASSIST_DECIDED_TASK_RETENTION_DAYS (docs/retention.md)
    python -m services.casework staff add USER --role caseworker --districts 110105,110108 [--password-stdin]
    python -m services.casework staff add USER --role supervisor --region 110000
    python -m services.casework staff list | remove USER
    python -m services.casework token issue --sub SUB --role ... [--districts ...|--region ...] [--ttl SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import logging
import sys

from redis.asyncio import Redis

from services.casework.adapters.redis_layout import DEFAULT_PREFIX, Keys
from services.casework.adapters.redis_purge import PurgeRefused, RedisTaskPurge, TaskPurge
from services.casework.adapters.staff_file import StaffFile, WeakPassword
from services.casework.adapters.task_feed import GROUP, tasks_consumer
from services.casework.adapters.tokens import StaffTokens
from services.casework.adapters.web import build_app
from services.casework.domain.retention import MINIMUM_DAYS
from services.casework.domain.scope import InvalidStaff, Staff, staff
from services.casework.wiring import casework_parts, staff_file_path
from services.casework.worker import run_worker
from services.core.logs import configure_logging
from services.core.process import Health, health_app, serve_until_signalled, start_site, supervise
from services.core.progress_report import progress_report
from services.core.readiness import ConsumerProgress, Readiness, kafka_answers, redis_answers
from services.core.retention import RetentionRefused, cutoff_ms
from services.core.settings import Settings, load_settings
from services.outcomes.adapters.topics import read_outcomes
from services.outcomes.region import RegionOutcomes
from services.vault.wiring import vault_parts

log = logging.getLogger("services.casework")


async def serve_api(settings: Settings) -> None:
    async with casework_parts(settings, kafka=False) as parts, vault_parts(settings) as vault:
        outcomes = RegionOutcomes(lambda since: read_outcomes(settings.kafka_bootstrap, parts.contract, since))
        app = build_app(parts.casework, parts.tokens, parts.staff, parts.metrics, settings.staff_token_key,
                        parts.redis.ping, applying=parts.applying, disclosing=parts.disclosing(vault.vault),
                        outcomes=outcomes)
        app.router.add_get("/readyz", Readiness({"kafka": kafka_answers(vault.producer.client.fetch_all_metadata),
                                                 "redis": redis_answers(parts.redis)}).endpoint)
        await serve_until_signalled(app, settings.casework_web_host, settings.casework_web_port,
                                    "casework API and console")


async def work(settings: Settings, metrics_port: int, group: str) -> int:
    """The worker's loops under supervision; /healthz on the metrics port answers 503 once one of them died."""
    async with casework_parts(settings) as parts:
        health = Health()
        consumer = tasks_consumer(settings.kafka_bootstrap, group)
        ready = Readiness({"kafka": kafka_answers(consumer.topics), "redis": redis_answers(parts.redis),
                           "consumer": ConsumerProgress(consumer)})
        runner = await start_site(health_app(health, parts.metrics.registry, ready), settings.casework_web_host,
                                  metrics_port)
        await consumer.start()
        stop = asyncio.Event()
        log.info("casework worker running; metrics on http://%s:%d/metrics", settings.casework_web_host, metrics_port)
        try:
            return await supervise({"casework worker": run_worker(parts, consumer, settings.kafka_bootstrap, stop)},
                                   stop, health)
        finally:
            await consumer.stop()
            await runner.cleanup()


async def rebuild(settings: Settings) -> None:
    async with casework_parts(settings) as parts:
        with progress_report("rebuilding the casework view", unit="records") as progress:
            report = await parts.rebuilder(settings.kafka_bootstrap).rebuild(progress)
        print(f"rebuilt {report.tasks} tasks with {report.transitions} transitions in {report.seconds:.1f} s "
              f"({report.drained} outbox decisions sent first; {report.inconsistent} with gaps)")


async def purge(settings: Settings, now: dt.datetime, prefix: str = DEFAULT_PREFIX) -> TaskPurge:
    """Remove the tasks closed before the retention window (never an open one) and say what was removed."""
    cutoff = cutoff_ms(now, settings.decided_task_retention_days, MINIMUM_DAYS, "ASSIST_DECIDED_TASK_RETENTION_DAYS")
    redis = Redis.from_url(settings.redis_url)
    try:
        report = await RedisTaskPurge(redis, Keys(prefix)).purge(cutoff)
    finally:
        await redis.aclose()
    print(f"casework purge: {report.removed} closed tasks removed (closed more than "
          f"{settings.decided_task_retention_days} days ago); kept {report.kept_closed} closed within the window "
          f"and {report.kept_open} open")
    return report


def _member(args: argparse.Namespace, sub: str) -> Staff:
    districts = [d.strip() for d in (args.districts or "").split(",") if d.strip()]
    return staff(sub, args.role, districts, args.region)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise WeakPassword("the passwords differ")
    return first


def _staff_command(args: argparse.Namespace, store: StaffFile) -> int:
    if args.action == "list":
        for member in store.listing():
            scope = member.region if member.is_supervisor else ",".join(sorted(member.districts))
            print(f"{member.sub:<24} {member.role.value:<11} {scope}")
        return 0
    if not args.user:
        print(f"staff {args.action} needs a user name", file=sys.stderr)
        return 2
    if args.action == "remove":
        return 0 if store.remove(args.user) else 1
    member = _member(args, args.user)
    try:
        store.add(member, _password(args.password_stdin), replace=args.replace)
    except KeyError:
        print(f"{args.user} exists; pass --replace to change the account", file=sys.stderr)
        return 1
    scope = f"region {member.region}" if member.is_supervisor else "districts " + ", ".join(sorted(member.districts))
    print(f"staff {member.sub} saved: {member.role.value}, {scope}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.casework")
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker")
    worker.add_argument("--metrics-port", type=int, default=None, help="default ASSIST_CASEWORK_METRICS_PORT (8084)")
    worker.add_argument("--group", default=GROUP, help="consumer group of assist.tasks")
    sub.add_parser("api")
    sub.add_parser("rebuild")
    sub.add_parser("purge")
    for name, actions in (("staff", ["add", "list", "remove"]), ("token", ["issue"])):
        p = sub.add_parser(name)
        p.add_argument("action", choices=actions)
        if name == "staff":
            p.add_argument("user", nargs="?")
            p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
            p.add_argument("--replace", action="store_true")
        else:
            p.add_argument("--sub", required=True)
            p.add_argument("--ttl", type=int, default=3600, help="seconds the token is valid")
        p.add_argument("--role", choices=["caseworker", "supervisor"])
        p.add_argument("--districts", help="comma-separated district codes (caseworkers)")
        p.add_argument("--region", help="region code, e.g. 110000 (supervisors)")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    configure_logging("casework", settings)
    try:
        if args.command == "api":
            asyncio.run(serve_api(settings))
        elif args.command == "worker":
            port = settings.casework_metrics_port if args.metrics_port is None else args.metrics_port
            return asyncio.run(work(settings, port, args.group))
        elif args.command == "rebuild":
            asyncio.run(rebuild(settings))
        elif args.command == "purge":
            asyncio.run(purge(settings, dt.datetime.now(dt.UTC)))
        elif args.command == "staff":
            return _staff_command(args, StaffFile(staff_file_path(settings)))
        else:
            print(StaffTokens(settings.staff_token_key).issue(_member(args, args.sub), args.ttl))
    except (InvalidStaff, WeakPassword, RetentionRefused, PurgeRefused) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
