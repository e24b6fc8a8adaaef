"""Matching entry point.

    python -m services.matching worker                       the faust worker (agents, tables, web on :6066 with
                                                             /healthz and /metrics); exits 70 when an agent died
    python -m services.matching publish-catalogue FILE       check a catalogue and publish it to assist.policies
    python -m services.matching check-catalogue FILE         check a catalogue and run its cases (policy authors)
    python -m services.matching explain PERSON               why or why not, for every policy (asks the worker)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.request
from pathlib import Path

from services.core.codec import load_contract
from services.core.identity import Pseudonymiser, resident_id_problem
from services.core.kafka import partition_counts, partition_mismatches
from services.core.logs import faust_logging, json_handler
from services.core.process import EXIT_TASK_DIED
from services.core.settings import PROJECT_ROOT, load_settings
from services.core.topics import HOUSEHOLD_TOPICS
from services.matching.domain.catalogue.cases import run_cases
from services.matching.domain.catalogue.policy_catalogue import CatalogueError, load_catalogue

EXIT_CONFIG = 78  # EX_CONFIG: the deployment is wrong; a restart does not help
DEMO_CATALOGUE = PROJECT_ROOT / "policies" / "national-demo.yaml"


def worker() -> None:
    import faust

    from services.matching.adapters.group_coordinator import wait_before_start
    from services.matching.wiring import matching_worker

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app, runtime = matching_worker(settings)
    logging_options = faust_logging("matching", settings)
    wait_before_start(settings.kafka_bootstrap, settings.matching_app_id, handler=json_handler("matching", settings))
    mismatched = partition_mismatches(HOUSEHOLD_TOPICS, asyncio.run(partition_counts(settings.kafka_bootstrap,
                                                                                     HOUSEHOLD_TOPICS)))
    if mismatched:
        # A household's records meet on one partition number only when every topic has as many partitions.
        print("matching: " + "; ".join(mismatched) + " (ASSIST_HOUSEHOLD_PARTITIONS); the worker does not start",
              file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    try:
        faust.Worker(app, **logging_options).execute_from_commandline()
    except SystemExit as stopped:
        # faust exits 0 after the orderly stop that follows a dead agent; the supervisor must see a failure.
        if not runtime.health.ok:
            sys.exit(EXIT_TASK_DIED)
        raise stopped from None


def check_catalogue(path: Path, cases_dir: Path) -> int:
    try:
        catalogue = load_catalogue(path.read_text(encoding="utf-8"), str(path))
    except CatalogueError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 1
    results = run_cases(catalogue, [(str(p), p.read_text(encoding="utf-8")) for p in sorted(cases_dir.glob("*.yaml"))])
    for result in results:
        mark = "ok  " if result.passed else "FAIL"
        print(f"{mark} {result.origin}:{result.line} {result.name}")
        for failure in result.failures:
            print(f"       {failure}")
    failed = sum(not r.passed for r in results)
    print(f"{catalogue.name} {catalogue.version}: {len(catalogue.policies)} policies, "
          f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def publish(path: Path) -> int:
    from services.matching.adapters.catalogue_feed import publish_catalogue

    settings = load_settings()
    try:
        catalogue = asyncio.run(publish_catalogue(settings.kafka_bootstrap, load_contract(),
                                                  path.read_text(encoding="utf-8"), str(path)))
    except CatalogueError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 1
    print(f"published {catalogue.name} {catalogue.version} (effective {catalogue.effective_from})")
    return 0


def explain(person: str) -> int:
    settings = load_settings()
    if resident_id_problem(person) is None:
        person = Pseudonymiser(settings.pseudonym_key).person_id(person)
    url = f"http://{settings.matching_web_host}:{settings.matching_web_port}/explain/{person}/"
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        print(answer["error"], file=sys.stderr)
        return 1
    print(f"household {answer['household_id']} — catalogue {answer['catalogue']} {answer['version']}, "
          f"{answer['on']}")
    for outcome in answer["outcomes"]:
        mark = "YES" if outcome["eligible"] else "no "
        who = f" ({outcome['person_id']})" if outcome["person_id"] else ""
        print(f"\n[{mark}] {outcome['policy_name']}{who} — {outcome['explanation']['summary']}")
        for condition in outcome["explanation"]["conditions"]:
            print(f"      {'✓' if condition['holds'] else '✗'} {condition['values']}")
        if outcome["explanation"]["computation"]:
            print(f"      = {outcome['explanation']['computation']}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.matching")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("worker")
    for name in ("publish-catalogue", "check-catalogue"):
        command = sub.add_parser(name)
        command.add_argument("file", type=Path, nargs="?", default=DEMO_CATALOGUE)
        command.add_argument("--cases", type=Path, default=PROJECT_ROOT / "policies" / "cases")
    sub.add_parser("explain").add_argument("person", help="pseudonymous person id or resident identity number")
    args = parser.parse_args(argv)
    if args.command == "worker":
        sys.argv = [sys.argv[0], "worker"]
        worker()
        return 0
    if args.command == "check-catalogue":
        return check_catalogue(args.file, args.cases)
    if args.command == "publish-catalogue":
        return publish(args.file)
    return explain(args.person)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
