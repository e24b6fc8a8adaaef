"""One event followed through the services' JSON log lines by its CloudEvents id: intake accepts it, matching makes
an offer and a verification task of it, notification sends the offer, a caseworker approves the task. Every service
runs as the process operators run (python -m services.<name>), with ASSIST_LOG_FORMAT=json, on the real stack."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from services.casework.adapters.tokens import StaffTokens
from services.casework.domain.scope import Role, Staff
from services.core.identity import Pseudonymiser
from services.core.kafka import commit_group_at_end
from services.core.settings import PROJECT_ROOT, load_settings
from services.core.topics import APPLICATION_ANSWERS, CONTACTS, TASKS
from services.intake.adapters.tokens import TokenFile
from services.notification.adapters.kafka_inbound import TOPICS as NOTIFICATION_INPUTS
from tests.conftest import resident_id, structured_event
from tests.integration.matching.matching_harness import MatchingWorker, free_port, household, member
from tests.integration.matching.matching_harness import publish as publish_registry
from tests.integration.notification.notification_harness import SmsGatewayStub, contact_record
from tests.integration.notification.notification_harness import publish as publish_records

DISTRICT = "510107"
WAIT_SECONDS = 90.0


class Process:
    """One service process writing its lines to a file of its own."""

    def __init__(self, name: str, log: Path, process: subprocess.Popen[bytes]):
        self.name, self.log, self.process = name, log, process

    @classmethod
    def started(cls, name: str, argv: list[str], env: dict[str, str], folder: Path) -> Process:
        log = folder / f"{name}.log"
        with log.open("wb") as out:
            return cls(name, log, subprocess.Popen([sys.executable, "-m", *argv], env=env, stdout=out,
                                                   stderr=subprocess.STDOUT, cwd=PROJECT_ROOT))

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def answers(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


async def until(found: Callable[[], Any], what: str, processes: list[Process], seconds: float = WAIT_SECONDS) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        for p in processes:
            assert p.process.poll() is None, f"{p.name} exited:\n" + p.log.read_text()[-3000:]
        result = await asyncio.to_thread(found)
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"no {what} within {seconds} s:\n" + "\n".join(
        f"--- {p.name}\n{p.log.read_text()[-1500:]}" for p in processes))


def traced(process: Process, trace: str) -> list[dict[str, Any]]:
    return [line for line in process.lines() if line.get("trace") == trace]


async def test_one_event_is_followed_by_its_id_through_every_services_json_lines(tmp_path, monkeypatch):
    ports = {name: free_port() for name in ("intake", "casework_api", "casework_metrics", "notification")}
    gateway = SmsGatewayStub()
    await gateway.start()
    run = uuid.uuid4().hex[:8]
    settings = load_settings()
    for name, value in {"ASSIST_LOG_FORMAT": "json", "ASSIST_INTAKE_PORT": str(ports["intake"]),
                        "ASSIST_INTAKE_TOKENS_FILE": str(tmp_path / "tokens.json"),
                        "ASSIST_CASEWORK_WEB_PORT": str(ports["casework_api"]),
                        "ASSIST_CASEWORK_METRICS_PORT": str(ports["casework_metrics"]),
                        "ASSIST_SMS_GATEWAY_URL": gateway.url, "ASSIST_SMTP_PORT": str(free_port())}.items():
        monkeypatch.setenv(name, value)
    token = TokenFile(tmp_path / "tokens.json").issue("human_resources")
    notification_group, casework_group = f"assist-notification-trace-{run}", f"assist-casework-trace-{run}"
    await commit_group_at_end(settings.kafka_bootstrap, notification_group, NOTIFICATION_INPUTS)
    await commit_group_at_end(settings.kafka_bootstrap, casework_group, (TASKS, APPLICATION_ANSWERS))
    matching = MatchingWorker(tmp_path)
    await matching.publish_catalogue()
    await matching.start_at_topic_ends()
    env = {**matching.env(), "ASSIST_DATA_DIR": str(tmp_path / "data")}
    processes: list[Process] = []
    try:
        matching.start()
        assert matching.process is not None
        processes += [
            Process("matching", matching.log, matching.process),
            Process.started("intake", ["services.intake", "serve"], env, tmp_path),
            Process.started("notification", ["services.notification", "worker", "--group", notification_group,
                                             "--key-prefix", f"trace-{run}:", "--metrics-port",
                                             str(ports["notification"])], env, tmp_path),
            Process.started("casework", ["services.casework", "worker", "--group", casework_group], env, tmp_path),
            Process.started("casework-api", ["services.casework", "api"], env, tmp_path)]
        by_name = {p.name: p for p in processes}
        await matching.wait_ready()
        for url in (f"http://127.0.0.1:{ports['intake']}/healthz",
                    f"http://127.0.0.1:{ports['notification']}/readyz",
                    f"http://127.0.0.1:{ports['casework_metrics']}/readyz",
                    f"http://127.0.0.1:{ports['casework_api']}/healthz"):
            await until(lambda url=url: answers(url) == 200, url, processes)

        # A resident new to the broker's history: the offer and task ids are derived from the person.
        identity = resident_id(DISTRICT, dt.date(1960, 1, 1) + dt.timedelta(days=uuid.uuid4().int % 10_000))
        person = Pseudonymiser(settings.pseudonym_key).person_id(identity)
        household_id = f"h-trace-{run}"
        await publish_registry(registry=[household(household_id, [member(person, "1980-01-01", 200_000)],
                                                   district=DISTRICT)])
        contact = contact_record(person, ["SMS"])
        await publish_records(settings, [(CONTACTS.name, contact)])
        event = structured_event("job.lost", {"lost_on": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
                                              "unemployment_registered": True,
                                              "previous_monthly_income_fen": 200_000},
                                 subject=identity, department="human_resources")
        event["time"] = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        broken = {**event, "id": str(uuid.uuid4()), "data": {**event["data"], "unemployment_registered": "yes"}}
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/cloudevents+json"}) as session:
            for body, status in ((event, 202), (broken, 400)):
                async with session.post(f"http://127.0.0.1:{ports['intake']}/v1/events",
                                        data=json.dumps(body)) as response:
                    assert response.status == status, await response.text()
        trace = event["id"]

        [task, *_] = await until(lambda: [line for line in traced(by_name["matching"], trace)
                                          if line.get("kind") == "VERIFY_ELIGIBILITY"], "verification task",
                                 processes)
        staff = StaffTokens(settings.staff_token_key).issue(Staff("cw-trace", Role.CASEWORKER,
                                                                  frozenset({DISTRICT})))
        base = f"http://127.0.0.1:{ports['casework_api']}/api/v1/tasks/{task['task_id']}"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {staff}"}) as session:
            async def claimed() -> bool:
                async with session.post(f"{base}/claim") as response:
                    return response.status == 200
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_SECONDS
            while not await claimed():
                assert loop.time() < deadline, "the casework worker did not take the task in"
                await asyncio.sleep(0.5)
            async with session.post(f"{base}/decide", json={"action": "approve"}) as response:
                assert response.status == 200, await response.text()

        # The approval is told too: the verified offer's SMS carries the same trace.
        await until(lambda: [line for line in traced(by_name["notification"], trace)
                             if line["message"].startswith("notification sent")
                             and line["offer_id"] == task["offer_id"]], "notification of the approval", processes)
        await until(lambda: [line for line in traced(by_name["casework-api"], trace)
                             if line["message"] == "decision APPROVED recorded"], "decision line", processes)
    finally:
        for p in processes:
            p.stop()
        await gateway.stop()

    lines = {p.name: p.lines() for p in processes}  # every line of every service parses as JSON
    services = {line["service"] for name in lines for line in lines[name] if line.get("trace") == trace}
    assert {"intake", "matching", "notification", "casework"} <= services, services
    [accepted] = [line for line in lines["intake"] if line.get("event_id") == trace]
    assert accepted["message"] == "event accepted" and accepted["department"] == "human_resources"
    [rejected] = [line for line in lines["intake"] if line.get("event_id") == broken["id"]]
    assert rejected["message"].startswith("event rejected (invalid): data.unemployment_registered")
    [decided] = [line for line in lines["casework-api"] if line.get("trace") == trace]
    assert (decided["task_id"], decided["action"]) == (task["task_id"], "APPROVED") and decided["decision_id"]
    sent = [line for line in lines["notification"] if line.get("trace") == trace]
    assert all(line["notification_id"] and line["offer_id"] and line["channel"] == "SMS" for line in sent)
    assert len({line["offer_id"] for line in sent}) >= 2  # the direct offer and the approved one
    every = "".join(p.log.read_text(encoding="utf-8") for p in processes)
    assert identity not in every and contact["phone"] not in every and contact["email"] not in every
    assert gateway.delivered(), "the offer reached the phone"
