"""Synthetic population and department events.

  python -m services.simulator population --households N --seed S [--dry-run]
      generate the population, publish it to assist.registry, print its summary
  python -m services.simulator events --rate R --count N --via http|kafka --seed S [--bad-fraction F]
      replay the departments' change events about that population (same --households/--population-seed)
  python -m services.simulator story --via http|kafka
      publish the demo households to the registry and send their events, telling their story

Department tokens for --via http: a JSON object {"health": "<token>", ...} in the environment variable
ASSIST_SIMULATOR_TOKENS, or a file with that object given by --tokens-file.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from services.core.codec import Contract, load_contract
from services.core.identity import Pseudonymiser
from services.core.kafka import durable_producer
from services.core.logs import configure_logging
from services.core.progress_report import ProgressReport, counted, progress_report
from services.core.settings import Settings, load_settings
from services.core.topics import EVENTS_RAW, IDENTITIES, REGISTRY
from services.simulator.adapters.intake_http import DeliveryReport, IntakeClient
from services.simulator.adapters.raw_kafka import RawEventProducer
from services.simulator.adapters.registry import RegistryPublisher
from services.simulator.identities import identity_records
from services.simulator.pacing import Pacer
from services.simulator.population import Household, generate_population
from services.simulator.scenario import ScenarioClock, department_events
from services.simulator.story import demo_story

TOKENS_ENV = "ASSIST_SIMULATOR_TOKENS"


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    configure_logging("simulator", level=logging.WARNING)
    try:
        result: int = asyncio.run(args.run(args, load_settings()))
    except UsageError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    return result


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.simulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(required=True, dest="command")
    population = commands.add_parser("population", help="publish a synthetic registry")
    population.add_argument("--households", type=int, default=1_000)
    population.add_argument("--seed", type=int, default=1)
    population.add_argument("--dry-run", action="store_true", help="print the summary only, publish nothing")
    _census(population)
    population.set_defaults(run=_population)

    events = commands.add_parser("events", help="send department events about the population")
    events.add_argument("--rate", type=float, default=100.0, help="events per second (0: as fast as possible)")
    events.add_argument("--count", type=int, default=1_000)
    events.add_argument("--via", choices=("http", "kafka"), default="http")
    events.add_argument("--seed", type=int, default=None, help="event stream seed (default: a new one)")
    events.add_argument("--bad-fraction", type=float, default=0.0, help="share of deliberately broken events")
    events.add_argument("--households", type=int, default=1_000, help="as given to the population command")
    events.add_argument("--population-seed", type=int, default=1, help="as given to the population command")
    events.add_argument("--days", type=float, default=30.0, help="simulated days the events span, ending now")
    events.add_argument("--flood-after", type=int, default=None, help="event number of the flood (default count/3)")
    events.add_argument("--no-flood", action="store_true")
    events.add_argument("--single", action="store_true", help="one event per request instead of batches")
    _census(events)
    _delivery(events)
    events.set_defaults(run=_events)

    story = commands.add_parser("story", help="publish the demo households and send their events")
    story.add_argument("--via", choices=("http", "kafka"), default="http")
    _delivery(story)
    story.set_defaults(run=_story)
    return parser


def _census(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--census-date", type=dt.date.fromisoformat, default=dt.date(dt.date.today().year, 1, 1),
                        help="date the ages are drawn for (default 1 January of this year); "
                             "the same seed and date give the same residents")


def _delivery(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tokens-file", type=Path, default=None, help=f"JSON tokens (else ${TOKENS_ENV})")
    parser.add_argument("--intake-url", default=None, help="default http://<intake host>:<intake port>")


async def _population(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    population = generate_population(args.households, args.seed, args.census_date,
                                     Pseudonymiser(settings.pseudonym_key).person_id)
    print(f"population seed {args.seed}, census date {args.census_date} "
          f"(generated in {time.perf_counter() - started:.1f} s)")
    print("\n".join(population.summary().lines()))
    if args.dry_run:
        return 0
    with progress_report("publishing the registry", len(population.households), "households") as progress:
        households, persons = await _publish(settings, load_contract(), [(h, ()) for h in population.households],
                                             progress)
    print(f"published {households:,} households to {REGISTRY.name} and {persons:,} residents' identity details "
          f"to {IDENTITIES.name}")
    return 0


async def _events(args: argparse.Namespace, settings: Settings) -> int:
    tokens = _tokens(args.tokens_file) if args.via == "http" else {}
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    contract = load_contract()
    population = generate_population(args.households, args.population_seed, args.census_date,
                                     Pseudonymiser(settings.pseudonym_key).person_id)
    clock = ScenarioClock.ending(_now(), args.count, dt.timedelta(days=args.days))
    flood = None if args.no_flood else (args.flood_after if args.flood_after is not None else args.count // 3)
    stream = itertools.islice(department_events(population, contract, seed, clock, bad_fraction=args.bad_fraction,
                                                flood_after=flood), args.count)
    print(f"event seed {seed} (the same seed sends the same event ids again: duplicates), "
          f"population of {len(population.households):,} households, seed {args.population_seed}")
    started = time.perf_counter()
    with progress_report("sending events", args.count, "events") as progress:
        failed = await _send(args, settings, tokens, contract, counted(stream, progress), Pacer(args.rate))
    elapsed = time.perf_counter() - started
    print(f"{args.count:,} events in {elapsed:.1f} s ({args.count / max(elapsed, 1e-9):,.0f} events/s)")
    return 1 if failed else 0


async def _story(args: argparse.Namespace, settings: Settings) -> int:
    tokens = _tokens(args.tokens_file) if args.via == "http" else {}
    contract = load_contract()
    stories = demo_story(contract, Pseudonymiser(settings.pseudonym_key).person_id, _now())
    await _publish(settings, contract, [(s.household, s.names) for s in stories])
    for story in stories:
        print(f"\n== {story.title}")
        print("\n".join(f"   {line}" for line in story.narrative))
        print("   reported: " + ", ".join(e["type"] for e in story.events))
        print("   expected: " + "; ".join(story.expected_offers))
    print()
    events = [e for s in stories for e in s.events]
    with progress_report("sending the story's events", len(events), "events") as progress:
        failed = await _send(args, settings, tokens, contract, counted(events, progress), Pacer(0))
    return 1 if failed else 0


async def _publish(settings: Settings, contract: Contract, households: Sequence[tuple[Household, Sequence[str]]],
                   progress: ProgressReport | None = None) -> tuple[int, int]:
    """Publish the registry's records of `households` (with the residents' names, when given): the household
    records, then the identity details; the counts of both. `progress` counts the households published."""
    producer = durable_producer(settings.kafka_bootstrap, "assist-simulator-registry")
    await producer.start()
    now = _now()
    try:
        records = (h.record(now) for h, _ in households)
        published = await RegistryPublisher(producer, contract).publish(
            counted(records, progress) if progress else records)
        identities = (r for h, names in households for r in identity_records(h, now, names))
        return published, await RegistryPublisher.identities(producer, contract).publish(identities)
    finally:
        await producer.stop()


async def _send(args: argparse.Namespace, settings: Settings, tokens: dict[str, str], contract: Contract,
                events: Iterable[dict[str, Any]], pacer: Pacer) -> bool:
    """Deliver the events; True when some could not be delivered at all."""
    if args.via == "kafka":
        producer = durable_producer(settings.kafka_bootstrap, "assist-simulator-departments")
        await producer.start()
        try:
            count = await RawEventProducer(producer, contract).deliver(events, pacer)
        finally:
            await producer.stop()
        print(f"produced {count:,} events to {EVENTS_RAW.name}")
        return False
    url = args.intake_url or f"http://{settings.intake_host}:{settings.intake_port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.publish_timeout_seconds * 4)
                                     ) as session:
        client = IntakeClient(session, url, tokens, max_batch=settings.max_batch_events)
        report: DeliveryReport = await client.deliver(events, pacer, batch=not getattr(args, "single", False))
    print("\n".join(report.lines()))
    return bool(report.failed or report.refused)


def _tokens(path: Path | None) -> dict[str, str]:
    if path is not None:
        text, where = path.read_text(encoding="utf-8"), str(path)
    elif TOKENS_ENV in os.environ:
        text, where = os.environ[TOKENS_ENV], TOKENS_ENV
    else:
        raise UsageError(f"--via http needs department tokens: set {TOKENS_ENV} or pass --tokens-file")
    try:
        tokens = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where} is not JSON: {exc}") from None
    if not isinstance(tokens, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tokens.items()):
        raise UsageError(f'{where} must be a JSON object {{"<department>": "<token>", ...}}')
    return tokens


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
