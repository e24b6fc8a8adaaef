"""The demo: the whole pipeline on the local stack, as a fresh deployment, with a story to tell.

    python -m services.demo [--households 2000] [--events 600] [--keep]

1. starts intake (HTTP and the Kafka-native forwarder), a matching worker, notification (worker and citizen page),
   casework (worker and API/console) and local stand-ins for the SMS gateway and SMTP server, each its own process;
2. publishes the policy catalogue, a synthetic population to the registry with its consented contacts, and the
   demo households;
3. departments report the story's events over HTTP, a simulated stream of events over HTTP and Kafka, a few
   broken ones, and one re-sent batch;
4. the subsistence standard of Sichuan rises 8.5 % from today: matching re-evaluates everyone it monitors;
5. a caseworker in Mianning claims the Yang family's verification task, chooses "visit" and sees their names and
   address from the identity vault (the disclosure recorded first), approves the subsistence allowance through the
   casework API, and the family gets an SMS with a signed link to the citizen page;
6. prints what happened: each story household's offers and tasks with the reasons, what the family's page says
   (why, in Chinese; who saw their details), the totals and the outcome figures of this run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import replace
from pathlib import Path

import aiohttp

from services.core.codec import load_contract
from services.core.identity import Pseudonymiser
from services.core.kafka import commit_group_at_end, durable_producer
from services.core.logs import configure_logging
from services.core.settings import PROJECT_ROOT, Settings, load_settings
from services.core.topics import EVENTS_DLQ, MATCHING_INPUTS, OFFERS, TASKS
from services.demo.casework_scene import (
    caseworker_visits_and_approves,
    contacts_of,
    delivered,
    family_page,
    publish_contacts,
    wait_for_sms,
)
from services.demo.console_logins import Login, console_hint, create_logins
from services.demo.live_figures import print_live_figures
from services.demo.report import Outputs, notification_summary, print_report
from services.demo.watch import TopicWatch
from services.intake.adapters.tokens import TokenFile
from services.matching.adapters.catalogue_feed import publish_catalogue
from services.notification.adapters.kafka_inbound import TOPICS as NOTIFICATION_INPUTS
from services.outcomes.adapters.topics import read_outcomes
from services.outcomes.report import table
from services.simulator.adapters.intake_http import IntakeClient
from services.simulator.adapters.raw_kafka import RawEventProducer
from services.simulator.adapters.registry import RegistryPublisher
from services.simulator.identities import identity_records
from services.simulator.pacing import Pacer
from services.simulator.population import generate_population
from services.simulator.scenario import ScenarioClock, department_events
from services.simulator.story import demo_story

CATALOGUE = PROJECT_ROOT / "policies" / "national-demo.yaml"
SICHUAN = '{from: 2026-01-01, region: "510000", urban: 80000, rural: 65000}'


class Services:
    """The platform's processes for this demo run; logs go to the run's folder."""

    def __init__(self, run_dir: Path, env: dict[str, str]):
        self.run_dir, self.env = run_dir, env
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> None:
        log = (self.run_dir / f"{name}.log").open("ab")
        self.processes.append(subprocess.Popen([sys.executable, "-m", *args], env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT, cwd=PROJECT_ROOT))

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()
        for p in self.processes:
            p.wait(timeout=60)


async def wait_for(url: str, needle: str, seconds: float = 120) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        try:
            body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=2).read().decode())
            if needle in body:
                return
        except OSError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{url} did not become ready")


def raw_forwarder_port() -> int:
    """Where the raw forwarder serves /healthz, /readyz and /metrics (deploy/local/stack.sh scrapes the same)."""
    return int(os.environ.get("ASSIST_RAW_FORWARDER_PORT", "8085"))


def prometheus_port() -> int:
    """The local stack's Prometheus (deploy/local/stack.sh reads the same variable)."""
    return int(os.environ.get("ASSIST_PROMETHEUS_PORT", "9090"))


async def run(settings: Settings, households: int, events: int, keep: bool) -> int:
    contract = load_contract()
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = settings.data_dir / "demo" / run_id
    run_dir.mkdir(parents=True)
    catalogue_name = f"demo-{run_id}"
    app_id = f"assist-matching-demo-{run_id}"
    tokens_file = run_dir / "tokens.json"
    tokens = {d: TokenFile(tokens_file).issue(d) for d in contract.departments}
    env = {**os.environ, "ASSIST_MATCHING_APP_ID": app_id, "ASSIST_MATCHING_CATALOGUE": catalogue_name,
           "ASSIST_INTAKE_TOKENS_FILE": str(tokens_file), "ASSIST_DATA_DIR": str(run_dir)}
    demo_settings = replace(settings, intake_tokens_file=tokens_file)
    print(f"demo run {run_id}: logs and state in {run_dir}")

    document = CATALOGUE.read_text(encoding="utf-8").replace("catalogue: national-demo", f"catalogue: {catalogue_name}")
    await publish_catalogue(settings.kafka_bootstrap, contract, document, str(CATALOGUE))
    await commit_group_at_end(settings.kafka_bootstrap, app_id, MATCHING_INPUTS)
    notification_group = f"assist-notification-demo-{run_id}"
    await commit_group_at_end(settings.kafka_bootstrap, notification_group, NOTIFICATION_INPUTS)
    watch = await TopicWatch.at_end(settings.kafka_bootstrap, (OFFERS, TASKS, EVENTS_DLQ))
    logins: list[Login] = []
    services = Services(run_dir, env)
    services.start("gateways", "services.notification", "dev-gateways")
    services.start("matching", "services.matching", "worker")
    services.start("intake", "services.intake", "serve")
    services.start("intake-raw", "services.intake", "forward-raw", "--health-port", str(raw_forwarder_port()))
    services.start("notification", "services.notification", "worker", "--group", notification_group)
    services.start("citizen", "services.notification", "citizen-api")
    services.start("casework", "services.casework", "worker")
    services.start("casework-api", "services.casework", "api")
    services.start("vault", "services.vault", "feed")
    services.start("outcomes", "services.outcomes", "serve")
    try:
        base = f"http://{settings.intake_host}:{settings.intake_port}"
        matching_metrics = f"http://{settings.matching_web_host}:{settings.matching_web_port}/metrics"
        casework = f"http://{settings.casework_web_host}:{settings.casework_web_port}"
        await wait_for(f"{base}/healthz", "ok")
        await wait_for(f"{casework}/healthz", "ok")
        await wait_for(f"http://{settings.citizen_web_host}:{settings.citizen_web_port}/healthz", "ok")
        await wait_for(matching_metrics, "assist_matching_catalogue_info{")
        print("intake, matching, notification and casework are up; publishing the registry and contacts")

        pseudonymise = Pseudonymiser(settings.pseudonym_key).person_id
        now = dt.datetime.now(dt.UTC)
        # Each run tells the story to new households: the registry and the casework view outlive a run.
        story = tuple(replace(s, household=replace(s.household, household_id=f"{s.household.household_id}-{run_id}"))
                      for s in demo_story(contract, pseudonymise, now))
        # Console accounts in the run's staff file, which the run's casework API reads (ASSIST_DATA_DIR=run_dir).
        logins = create_logins(run_dir, [s.household.district.code for s in story])
        population = generate_population(households, seed=int(run_id[-6:]), census_date=now.date(),
                                         person_id=pseudonymise)
        producer = durable_producer(settings.kafka_bootstrap, "assist-demo")
        await producer.start()
        try:
            await publish_contacts(producer, contract, contacts_of(
                [*(s.household for s in story), *population.households], now.date()))
            registry = RegistryPublisher(producer, contract)
            await registry.publish([s.household.record(now - dt.timedelta(days=60)) for s in story])
            await registry.publish(population.records(now - dt.timedelta(days=60)))
            await RegistryPublisher.identities(producer, contract).publish(
                [r for s in story for r in identity_records(s.household, now, s.names)]
                + [r for h in population.households for r in identity_records(h, now)])
            await asyncio.sleep(5)  # matching reads the registry before the departments report

            print("departments report the story's events and a stream of others")
            async with aiohttp.ClientSession() as session:
                client = IntakeClient(session, base, tokens, max_batch=demo_settings.max_batch_events)
                story_events = [e for s in story for e in s.events]
                report = await client.deliver(story_events, Pacer(1000))
                resent = await client.deliver(story_events[:2], Pacer(1000))  # a department retries a batch
                stream = department_events(population, contract, seed=7, clock=ScenarioClock.ending(
                    now, events, dt.timedelta(days=20)), bad_fraction=0.03)
                listed = [next(stream) for _ in range(events)]
                http_part, kafka_part = listed[: events * 2 // 3], listed[events * 2 // 3:]
                stream_report = await client.deliver(http_part, Pacer(400))
            raw_sent = await RawEventProducer(producer, contract).deliver(kafka_part, Pacer(400))
            await asyncio.sleep(8)

            today = now.date().isoformat()
            print("the Sichuan subsistence standard rises 8.5 % from today: matching re-evaluates the population")
            raised = document.replace('version: "2026.1"', 'version: "2026.2"').replace(
                "effective_from: 2026-01-01", f"effective_from: {today}", 1).replace(
                SICHUAN, f'{SICHUAN}\n      - {{from: {today}, region: "510000", urban: 86800, rural: 70525}}')
            await publish_catalogue(settings.kafka_bootstrap, contract, raised, "raised standard")
            await asyncio.sleep(8)
        finally:
            await producer.stop()

        outputs = Outputs.read(contract, await watch.drain())
        print("a caseworker in Mianning claims the Yang family's task, chooses 'visit', and approves the allowance")
        yang = story[0]
        verification = next(t for t in outputs.of(yang.household.household_id)[1]
                            if t["offer"] and t["offer"]["policy_id"] == "subsistence_allowance")
        visit = await caseworker_visits_and_approves(casework, settings.staff_token_key, verification)
        steps = visit.steps
        earner = yang.household.members[0]
        phone = f"+86139{0:08d}"  # contacts_of numbers story people first; the Yang earner is number 0
        gateways = run_dir / "dev-gateways"
        sms = await wait_for_sms(gateways / "sms.jsonl", phone, mentioning="subsistence")
        await asyncio.sleep(3)
        metrics = await asyncio.to_thread(lambda: urllib.request.urlopen(matching_metrics).read().decode())
        intake_metrics = await asyncio.to_thread(lambda: urllib.request.urlopen(f"{base}/metrics").read().decode())
        print_report(story, outputs, report, resent, stream_report, raw_sent, metrics, intake_metrics)
        sent_sms, sent_mail = delivered(gateways / "sms.jsonl", gateways / "mail")
        notified = await asyncio.to_thread(lambda: urllib.request.urlopen(
            f"http://{settings.citizen_web_host}:{settings.notification_metrics_port}/metrics").read().decode())
        print(f"notification: {sent_sms} SMS through the gateway, {sent_mail} e-mails through SMTP "
              f"(local stand-ins in {gateways}); {notification_summary(notified)}")
        print(f"casework: {'; '.join(steps)} — task {verification['task_id']} for {earner.person_id[:12]}…")
        for person in visit.persons:
            print(f"   the vault showed the caseworker, for the visit: {person.get('name', '?')}, "
                  f"{person.get('address', '?')}" + (f", {person['phone']}" if person.get("phone") else ""))
        if sms:
            print(f"   the family's phone received: {sms['text']}")
            page = await family_page(str(sms["text"]), "subsistence_allowance")
            if page is not None:
                for reason in page.reasons:
                    print(f"   the family's page explains: {reason}")
                for use in page.contact_uses:
                    print(f"   the family's data-use log: {use}")
        else:
            print("   no SMS reached the family within 30 s (see notification.log)")
        print("outcomes of this run (python -m services.outcomes report reads the same from the topics):")
        for line in table(await read_outcomes(settings.kafka_bootstrap, contract, since=now), "policy"):
            print(f"   {line}")
        (run_dir / "summary.json").write_text(json.dumps(outputs.totals(), indent=2))
        await print_live_figures(prometheus_port(), run_id, settings.data_dir)
    finally:
        await watch.close()
        if keep:
            print(f"services keep running (pids {', '.join(str(p.pid) for p in services.processes)})")
            console = f"http://{settings.casework_web_host}:{settings.casework_web_port}"
            for line in console_hint(console, run_dir, logins):
                print(line)
        else:
            services.stop()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.demo")
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--keep", action="store_true", help="leave the services running afterwards")
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging("demo", settings)
    return asyncio.run(run(settings, args.households, args.events, args.keep))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
