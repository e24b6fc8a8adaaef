"""A worker process (casework, notification) whose loop dies anyway says so on /healthz (503 with the reason)
and exits non-zero for its supervisor to restart it. The failure is a real one: the dead-letter topic refuses every
dead letter (its size limit set below any record), so a poison record can be neither used nor parked, and the loop
may not skip it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from redis.asyncio import Redis

from services.core.kafka import commit_group_at_end, durable_producer
from services.core.process import EXIT_TASK_DIED
from services.core.settings import PROJECT_ROOT, Settings
from services.core.topics import CASEWORK_DLQ, NOTIFICATION_DLQ, OFFERS, TASKS, Topic
from services.notification.adapters.kafka_inbound import TOPICS as NOTIFICATION_INPUTS
from tests.integration.every_service.loop_probes import health
from tests.integration.matching.matching_harness import free_port


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=PROJECT_ROOT)


@asynccontextmanager
async def refusing_dead_letters(bootstrap: str, topic: Topic) -> AsyncIterator[None]:
    """`topic` takes no record larger than 64 bytes while inside; its declared configuration is restored after."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-admin")
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic.name,
                                                  {**topic.config(), "max.message.bytes": "64"})])
        yield
    finally:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic.name, topic.config())])
        await admin.close()


@dataclass(frozen=True)
class Case:
    command: list[str]
    inputs: tuple[Topic, ...]
    poisoned: Topic
    dead_letters: Topic
    reason: str


CASES = {
    "casework": Case(["services.casework", "worker"], (TASKS,), TASKS, CASEWORK_DLQ,
                     "casework worker died: DeadLetterRefused"),
    "notification": Case(["services.notification", "worker", "--key-prefix", f"test:notification:{uuid.uuid4().hex}"],
                         NOTIFICATION_INPUTS, OFFERS, NOTIFICATION_DLQ, "notification inputs died: DeadLetterRefused"),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_worker_whose_consume_loop_dies_answers_503_then_exits_non_zero(name: str, settings: Settings,
                                                                             tmp_path: Path):
    case = CASES[name]
    redis_url = urlunsplit(urlsplit(settings.redis_url)._replace(path="/13"))
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    group, port = f"assist-{name}-test-{uuid.uuid4().hex[:8]}", free_port()
    await commit_group_at_end(settings.kafka_bootstrap, group, case.inputs)
    env = {**os.environ, "ASSIST_REDIS_URL": redis_url, "ASSIST_DATA_DIR": str(tmp_path),
           "ASSIST_KAFKA_BOOTSTRAP": settings.kafka_bootstrap}
    log = tmp_path / f"{name}-worker.log"
    loop = asyncio.get_running_loop()
    async with refusing_dead_letters(settings.kafka_bootstrap, case.dead_letters):
        worker = start([*case.command, "--metrics-port", str(port), "--group", group], env, log)
        try:
            deadline = loop.time() + 60
            while (await asyncio.to_thread(health, port))[0] != 200:
                assert worker.poll() is None and loop.time() < deadline, log.read_text()[-3000:]
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)  # the loop has joined its group
            producer = durable_producer(settings.kafka_bootstrap, "test-poison")
            await producer.start()
            try:
                await producer.send_and_wait(case.poisoned.name, b"\x00\xff not a record", key=b"h-poison")
            finally:
                await producer.stop()

            answers = []
            deadline = loop.time() + 40
            while worker.poll() is None and loop.time() < deadline:
                answers.append(await asyncio.to_thread(health, port))
                await asyncio.sleep(0.1)
            code = await asyncio.to_thread(worker.wait, 15)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
            await redis.flushdb()
            await redis.aclose()
    text = log.read_text()
    assert code == EXIT_TASK_DIED, text[-3000:]
    assert (503, {"status": "failing", "reason": case.reason}) in answers
    assert " ERROR " in text and case.reason in text
