"""Readiness against the real broker and Redis: a consumer is ready once assigned, not ready when records wait and
its position stops moving; Redis that does not answer is named; each worker's /readyz turns 200 once it has its
partitions; the citizen and casework web apps' /readyz is 200 when Kafka and Redis answer and 503 naming Redis when it
does not."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from services.core.kafka import commit_group_at_end
from services.core.readiness import ConsumerProgress, Readiness, kafka_answers, redis_answers
from services.core.settings import PROJECT_ROOT, Settings
from services.core.topics import NOTIFICATIONS, TASKS, Topic
from services.notification.adapters.kafka_inbound import TOPICS as NOTIFICATION_INPUTS


async def test_a_consumer_is_ready_when_assigned_and_stalled_when_records_wait_unread(settings: Settings) -> None:
    consumer = AIOKafkaConsumer(NOTIFICATIONS.name, bootstrap_servers=settings.kafka_bootstrap,
                                group_id=f"assist-readiness-{uuid.uuid4().hex[:8]}", auto_offset_reset="latest",
                                enable_auto_commit=False)
    progress = ConsumerProgress(consumer, stall_seconds=1.0)
    ready = Readiness({"kafka": kafka_answers(consumer.topics), "consumer": progress}, check_seconds=5)
    assert await progress() == "no partitions assigned (yet)"  # before it joined its group
    await consumer.start()
    try:
        for _ in range(30):
            await consumer.getmany(timeout_ms=500)
            if consumer.assignment():
                break
        assert await ready.failing() == {}
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
        await producer.start()
        try:
            for partition in range(NOTIFICATIONS.partitions):
                await producer.send_and_wait(NOTIFICATIONS.name, b"waiting", partition=partition)
        finally:
            await producer.stop()
        failing: dict[str, str] = {}
        for _ in range(20):  # the fetcher sees the records arrive; the loop never takes them
            await asyncio.sleep(0.5)
            failing = await ready.failing()
            if failing:
                break
        assert "has not moved for" in failing["consumer"] and "records waiting" in failing["consumer"]
        for _ in range(10):
            await consumer.getmany(timeout_ms=500)  # reading again makes it ready again
        assert await ready.failing() == {}
    finally:
        await consumer.stop()


async def test_redis_that_does_not_answer_is_named(settings: Settings) -> None:
    up = Redis.from_url(settings.redis_url)
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    try:
        assert await Readiness({"redis": redis_answers(up)}).failing() == {}
        assert (await Readiness({"redis": redis_answers(down)}).failing())["redis"].startswith("Redis does not answer")
    finally:
        await up.aclose()
        await down.aclose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


@dataclass(frozen=True)
class Worker:
    command: list[str]
    inputs: tuple[Topic, ...]
    """Topics of its group, committed at their end first so the worker takes in nothing of other tests."""
    group: bool = True


WORKERS = {
    "raw forwarder": Worker(["services.intake", "forward-raw", "--health-port"], (), group=False),
    "notification worker": Worker(["services.notification", "worker", "--key-prefix",
                                   f"test:readiness:{uuid.uuid4().hex[:8]}", "--metrics-port"], NOTIFICATION_INPUTS),
    "casework worker": Worker(["services.casework", "worker", "--metrics-port"], (TASKS,)),
    "vault feed": Worker(["services.vault", "feed", "--metrics-port"], (), group=False),
}


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", *args], env=env, cwd=PROJECT_ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


@pytest.mark.parametrize("name", sorted(WORKERS))
async def test_a_workers_readyz_is_200_once_it_has_its_partitions(name: str, settings: Settings,
                                                                  tmp_path: Path) -> None:
    worker, port = WORKERS[name], free_port()
    args = [*worker.command, str(port)]
    if worker.group:
        group = f"assist-readiness-{uuid.uuid4().hex[:8]}"
        await commit_group_at_end(settings.kafka_bootstrap, group, worker.inputs)
        args += ["--group", group]
    # Redis database 12: the casework worker's view and the notification state stay apart from other tests'.
    env = {**os.environ, "ASSIST_DATA_DIR": str(tmp_path),
           "ASSIST_REDIS_URL": urlunsplit(urlsplit(settings.redis_url)._replace(path="/12"))}
    log = tmp_path / "worker.log"
    process = start(args, env, log)
    try:
        statuses = []
        for _ in range(180):
            statuses.append(await asyncio.to_thread(get, f"http://127.0.0.1:{port}/readyz"))
            if statuses[-1] == 200:
                break
            assert process.poll() is None, log.read_text()
            await asyncio.sleep(0.5)
        assert statuses[-1] == 200, (statuses[-5:], log.read_text()[-2000:])
        assert await asyncio.to_thread(get, f"http://127.0.0.1:{port}/healthz") == 200
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 60)


@dataclass(frozen=True)
class WebApp:
    command: list[str]
    port_setting: str


WEB_APPS = {
    "citizen web app": WebApp(["services.notification", "citizen-api", "--key-prefix",
                               f"test:readiness:{uuid.uuid4().hex[:8]}"], "ASSIST_CITIZEN_WEB_PORT"),
    "casework console and API": WebApp(["services.casework", "api"], "ASSIST_CASEWORK_WEB_PORT"),
}


def answer(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())
    except OSError:
        return 0, {}


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def readyz_once_serving(app: WebApp, env: dict[str, str], log: Path) -> tuple[int, dict[str, Any]]:
    """/readyz of the app once it serves (the first answer that is not a refused connection)."""
    port = free_port()
    process = start([*app.command], {**env, app.port_setting: str(port)}, log)
    try:
        for _ in range(120):
            found = await asyncio.to_thread(answer, f"http://127.0.0.1:{port}/readyz")
            if found[0]:
                return found
            assert process.poll() is None, log_tail(log)
            await asyncio.sleep(0.5)
        raise AssertionError(f"{app.command} never served:\n{log_tail(log)}")
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 60)


@pytest.mark.parametrize("name", sorted(WEB_APPS))
async def test_a_web_apps_readyz_is_200_when_kafka_and_redis_answer_and_503_naming_redis_when_it_does_not(
        name: str, settings: Settings, tmp_path: Path) -> None:
    app = WEB_APPS[name]
    env = {**os.environ, "ASSIST_DATA_DIR": str(tmp_path),
           "ASSIST_REDIS_URL": urlunsplit(urlsplit(settings.redis_url)._replace(path="/12"))}
    assert await readyz_once_serving(app, env, tmp_path / "up.log") == (
        200, {"status": "ready", "checks": {"kafka": "ok", "redis": "ok"}})
    with socket.socket() as closed:  # a loopback port nothing listens on: bound, never listening
        closed.bind(("127.0.0.1", 0))
        down = {**env, "ASSIST_REDIS_URL": f"redis://127.0.0.1:{closed.getsockname()[1]}/0"}
        status, body = await readyz_once_serving(app, down, tmp_path / "down.log")
    assert status == 503 and body["status"] == "not ready", body
    assert body["checks"]["kafka"] == "ok"
    assert body["checks"]["redis"].startswith("Redis does not answer"), body
