"""The production broker configuration (deploy/kafka/broker.properties.in) and the ACL commands
`python -m services.operations kafka-acls` prints, on a real Kafka 3.9 node on loopback: TLS and SASL/SCRAM are
required, and a service principal reads and writes its own topics and nothing else. The services themselves, run as
operators run them with ASSIST_KAFKA_SECURITY_PROTOCOL=SASL_SSL and their own principal
(services/core/kafka_security.py), create the topics, publish the catalogue, take an event over HTTP, match it and
queue its task over that listener."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError
from redis.asyncio import Redis

from services.core.codec import encode_record
from services.core.contract import load_contract
from services.core.identity import Pseudonymiser
from services.core.settings import PROJECT_ROOT, load_settings
from services.core.topics import EVENTS, EVENTS_DLQ, REGISTRY, TASKS
from tests.conftest import resident_id, structured_event
from tests.integration.core.secure_kafka import (
    SecureNode,
    counter,
    fetch,
    free_port,
    grant_principals,
    run,
    running,
    secure_node,
    tail,
    tasks_of,
    until,
)
from tests.integration.matching.matching_harness import household, member


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureNode]:
    with secure_node(tmp_path_factory.mktemp("secure-kafka")) as found:
        yield found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def granted(node: SecureNode) -> SecureNode:
    """The platform's topics and the principals of PASSWORDS, granted as printed; one task on assist.tasks."""
    await grant_principals(node)
    return node


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_intake_writes_its_topics_and_may_not_write_anothers(granted: SecureNode) -> None:
    producer = AIOKafkaProducer(**granted.client("assist-intake"))
    await producer.start()
    try:
        await producer.send_and_wait(EVENTS.name, b"an event")
        await producer.send_and_wait(EVENTS_DLQ.name, b"a dead letter")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(TASKS.name, b"not intake's")
    finally:
        await producer.stop()


async def test_casework_reads_tasks_in_its_group_and_no_other_group(granted: SecureNode) -> None:
    consumer = AIOKafkaConsumer(TASKS.name, group_id="assist-casework", auto_offset_reset="earliest",
                                **granted.client("assist-casework"))
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=15_000)
        assert [r.value for rs in batch.values() for r in rs] == [b"a task"]
    finally:
        await consumer.stop()
    foreign = AIOKafkaConsumer(TASKS.name, group_id="assist-intake-raw", **granted.client("assist-casework"))
    with pytest.raises(GroupAuthorizationFailedError):
        await foreign.start()
        await foreign.getmany(timeout_ms=10_000)
    await foreign.stop()


async def test_a_wrong_password_and_a_plaintext_client_are_refused(granted: SecureNode) -> None:
    wrong = AIOKafkaProducer(**granted.client("assist-intake", password="not the password"))
    with pytest.raises(KafkaError):
        await wrong.start()
    await wrong.stop()
    plaintext = AIOKafkaProducer(bootstrap_servers=granted.bootstrap, request_timeout_ms=5_000)
    with pytest.raises(KafkaError):
        await plaintext.start()
    await plaintext.stop()


# ---- the services themselves over SASL_SSL ---------------------------------------------------------------------

async def test_intake_matching_and_casework_exchange_records_over_sasl_ssl_as_their_own_principals(
        granted: SecureNode, tmp_path: Path) -> None:
    redis_url = urlunsplit(urlsplit(load_settings().redis_url)._replace(path="/11"))
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    base = {**os.environ, "ASSIST_DATA_DIR": str(tmp_path), "ASSIST_REDIS_URL": redis_url}
    contract = load_contract()
    await asyncio.to_thread(run, [sys.executable, "-m", "services.matching", "publish-catalogue"],
                            env={**base, **granted.env("assist-matching")})
    subject = resident_id("510107", dt.date(1985, 4, 2))
    earner = Pseudonymiser(load_settings(base).pseudonym_key).person_id(subject)
    hid = f"h-secure-{uuid.uuid4().hex[:8]}"
    registry = AIOKafkaProducer(**granted.client("assist-civil-registry-feed"))
    await registry.start()
    try:
        await registry.send_and_wait(REGISTRY.name, encode_record(contract, "household", household(
            hid, [member(earner, "1985-04-02", 300_000), member(f"p-{uuid.uuid4().hex[:8]}", "1987-09-10"),
                  member(f"p-{uuid.uuid4().hex[:8]}", "2016-06-01")])), key=hid.encode())
    finally:
        await registry.stop()
    token = (await asyncio.to_thread(run, [sys.executable, "-m", "services.intake", "tokens", "issue",
                                           "human_resources"], env=base)).strip().splitlines()[-1]
    matching_port, casework_port, intake_port = free_port(), free_port(), free_port()
    with running(["services.matching", "worker"], {**base, **granted.env("assist-matching"),
                                                   "ASSIST_MATCHING_WEB_PORT": str(matching_port)},
                 tmp_path / "matching.log") as matching, \
         running(["services.casework", "worker", "--metrics-port", str(casework_port), "--group",
                  "assist-casework-secure"], {**base, **granted.env("assist-casework")},
                 tmp_path / "casework.log") as casework, \
         running(["services.intake", "serve"], {**base, **granted.env("assist-intake"),
                                                "ASSIST_INTAKE_PORT": str(intake_port)},
                 tmp_path / "intake.log") as intake:
        try:
            await until(f"http://127.0.0.1:{matching_port}/metrics",
                        lambda _, text: "assist_matching_catalogue_info{" in text, matching, tmp_path / "matching.log")
            await until(f"http://127.0.0.1:{casework_port}/readyz", lambda status, _: status == 200, casework,
                        tmp_path / "casework.log")
            await until(f"http://127.0.0.1:{intake_port}/readyz", lambda status, _: status == 200, intake,
                        tmp_path / "intake.log")
            lost = structured_event("job.lost", {"lost_on": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
                                                 "unemployment_registered": True,
                                                 "previous_monthly_income_fen": 300_000},
                                    subject=subject, department="human_resources")
            status, text = await asyncio.to_thread(
                fetch, f"http://127.0.0.1:{intake_port}/v1/events", json.dumps(lost).encode(),
                {"Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents+json"})
            assert (status, json.loads(text)["accepted"]) == (202, 1), text
            new = 'assist_casework_tasks_taken_in_total{outcome="new"}'

            def taken_in(metrics: str) -> float:  # the household's task records; the fixture's one is invalid
                return sum(counter(metrics, f'assist_casework_tasks_taken_in_total{{outcome="{outcome}"}}')
                           for outcome in ("new", "revised", "duplicate"))
            wanted = ("VERIFY_ELIGIBILITY", "subsistence_allowance")
            tasks: list[dict[str, Any]] = []
            kinds: set[tuple[str, str | None]] = set()
            metrics = ""
            deadline = asyncio.get_running_loop().time() + 90
            while asyncio.get_running_loop().time() < deadline:  # every task of the event, each queued once
                tasks = await tasks_of(granted, hid)
                _, metrics = await asyncio.to_thread(fetch, f"http://127.0.0.1:{casework_port}/metrics")
                kinds = {(t["kind"], t["offer"]["policy_id"] if t["offer"] else None) for t in tasks}
                if wanted in kinds and taken_in(metrics) == len(tasks):
                    break
                await asyncio.sleep(1)
            assert wanted in kinds, (tasks, tail(tmp_path / "matching.log"))
            assert taken_in(metrics) == len(tasks), (metrics, tail(tmp_path / "casework.log"))
            assert counter(metrics, new) >= 1
        finally:
            await redis.flushdb()
            await redis.aclose()
    logs = await asyncio.to_thread(lambda: " ".join((tmp_path / f"{name}.log").read_text(errors="replace")
                                                    for name in ("matching", "casework", "intake")))
    assert subject not in logs


async def test_a_service_with_a_wrong_password_stops_saying_kafka_refused_its_principal(
        granted: SecureNode, tmp_path: Path) -> None:
    env = {**os.environ, "ASSIST_DATA_DIR": str(tmp_path), **granted.env("assist-casework", password="not it")}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.casework", "worker",
                                                    "--metrics-port", str(free_port())],
                                   env=env, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    said = done.stdout + done.stderr
    assert done.returncode != 0, said[-3000:]
    assert "Kafka over SASL_SSL as assist-casework (SCRAM-SHA-512)" in said, said[-3000:]
    assert "SaslAuthenticationFailed" in said and "invalid credentials" in said, said[-3000:]
    assert "not it" not in said
