"""Readiness against the real broker and Redis: a consumer is ready once assigned, not ready when records wait and
its position stops moving; Redis that does not answer is named; the raw forwarder's /readyz turns 200 once it
has its partitions."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from services.core.readiness import ConsumerProgress, Readiness, kafka_answers, redis_answers
from services.core.settings import PROJECT_ROOT, Settings
from services.core.topics import NOTIFICATIONS


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


def test_the_raw_forwarders_readyz_is_200_once_it_has_its_partitions(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ASSIST_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "forwarder.log").open("wb")
    forwarder = subprocess.Popen([sys.executable, "-m", "services.intake", "forward-raw", "--health-port", str(port)],
                                 env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        statuses = []
        for _ in range(120):
            statuses.append(get(f"http://127.0.0.1:{port}/readyz"))
            if statuses[-1] == 200:
                break
            assert forwarder.poll() is None, (tmp_path / "forwarder.log").read_text()
            time.sleep(0.5)
        assert statuses[-1] == 200, statuses
        assert get(f"http://127.0.0.1:{port}/healthz") == 200
    finally:
        forwarder.terminate()
        forwarder.wait(timeout=60)
        log.close()
